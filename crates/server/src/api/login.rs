//! `POST /api/login` and `POST /api/logout`.

use super::body::Body;
use super::caller::bearer;
use super::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct Login {
    name: String,
    password: String,
}

pub async fn login(
    State(state): State<ApiState>,
    Body(body): Body<Login>,
) -> Result<Json<Value>, ApiError> {
    let session = state
        .auth
        .login(&body.name, &body.password, crate::now_ms())
        .await
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()))?;
    Ok(Json(json!({
        "token": session.token,
        "name": session.user.name,
        "role": session.user.role.as_str(),
    })))
}

/// Ends the caller's session, whether it came as the bearer token or as the console's cookie
/// (both, when both came), and clears the cookie.
pub async fn logout(State(state): State<ApiState>, parts: Parts) -> Result<Response, ApiError> {
    for token in [bearer(&parts), state.cookie.read(&parts)]
        .into_iter()
        .flatten()
    {
        state.auth.logout(token).await.map_err(ApiError::internal)?;
    }
    Ok((StatusCode::NO_CONTENT, [state.cookie.clear()]).into_response())
}
