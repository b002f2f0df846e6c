//! Unknown-account items (`crate::unknown`): list them, and resolve one — assign it to an
//! account, route it to the account since enrolled with its number, or call it noise. Agents
//! and up.

use super::body::Body;
use super::caller::Caller;
use super::params::{Path, Query};
use super::{ApiError, ApiState};
use crate::unknown::{self, Resolve};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use watchpost_store::{Role, UnknownItem};

#[derive(Deserialize)]
pub struct Listing {
    /// `all`: resolved items too, oldest first; otherwise the open ones, most urgent first.
    state: Option<String>,
}

/// `GET /api/unknown`: the open items (most urgent first, then oldest), or with `?state=all`
/// every item, oldest first.
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    Query(listing): Query<Listing>,
) -> Result<Json<Vec<UnknownItem>>, ApiError> {
    caller.require(Role::Agent)?;
    match listing.state.as_deref() {
        None | Some("open") => Ok(Json(unknown::open_items(&state).await?)),
        Some("all") => Ok(Json(state.store.unknown_items(true).await?)),
        Some(other) => Err(ApiError::field(
            "state",
            format!("{other:?} is not a state: use open or all"),
        )),
    }
}

#[derive(Deserialize)]
pub struct AssignBody {
    #[serde(default)]
    account: String,
}

/// `POST /api/unknown/{id}/assign {"account": "..."}`.
pub async fn assign(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(body): Body<AssignBody>,
) -> Result<Json<UnknownItem>, ApiError> {
    caller.require(Role::Agent)?;
    let item = unknown::resolve(&state, &caller.0, id, Resolve::Assign(body.account)).await?;
    Ok(Json(item))
}

/// `POST /api/unknown/{id}/enrol`: the number is enrolled now; route the signal to it.
pub async fn enrol(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<UnknownItem>, ApiError> {
    caller.require(Role::Agent)?;
    Ok(Json(
        unknown::resolve(&state, &caller.0, id, Resolve::Enrol).await?,
    ))
}

#[derive(Deserialize)]
pub struct NoiseBody {
    #[serde(default)]
    reason: String,
}

/// `POST /api/unknown/{id}/noise {"reason": "..."}`.
pub async fn noise(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<i64>,
    Body(body): Body<NoiseBody>,
) -> Result<Json<UnknownItem>, ApiError> {
    caller.require(Role::Agent)?;
    let item = unknown::resolve(&state, &caller.0, id, Resolve::Noise(body.reason)).await?;
    Ok(Json(item))
}
