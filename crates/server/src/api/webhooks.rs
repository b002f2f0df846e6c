//! A dealer's webhooks through the API (issue 14, item 7): list, add and remove its endpoints
//! and read each one's delivery log. The center's admins manage every endpoint; a
//! `dealer_admin` only its own dealer's, a `dealer_viewer` reads them. Another dealer's
//! endpoint answers as one that does not exist (404). The signing secret is in the answer
//! that creates the endpoint and in no other (as `watchpost webhooks add`).

use super::body::Body;
use super::params::{Path, Query};
use super::scope::Scoped;
use super::{ApiError, ApiState};
use crate::view::rfc3339;
use crate::webhooks::endpoints::{NewEndpoint, new_endpoint};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use watchpost_store::{Endpoint, Role};

/// An endpoint as the API shows it: never its secret.
fn view(e: &Endpoint, pending: i64) -> Value {
    json!({
        "id": e.id,
        "url": e.url,
        "events": e.events,
        "dealer": e.dealer,
        "created_at": rfc3339(e.created_at),
        "pending": pending,
    })
}

/// The endpoints the caller sees: all for the center's users, its dealer's for a dealer's.
async fn visible(state: &ApiState, scope: &Scoped) -> Result<Vec<Endpoint>, ApiError> {
    let all = state.store.endpoints().await?;
    Ok(match scope.dealer() {
        None => all,
        Some(d) => all
            .into_iter()
            .filter(|e| e.dealer.as_deref() == Some(d))
            .collect(),
    })
}

/// The endpoint `id`, if the caller sees it; 404 alike for one of another dealer.
async fn endpoint(state: &ApiState, scope: &Scoped, id: &str) -> Result<Endpoint, ApiError> {
    visible(state, scope)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no webhook {id:?}")))
}

/// `GET /api/webhooks`: `{"webhooks": [{"id", "url", "events", "dealer", "created_at",
/// "pending"}]}`, `pending` being how many deliveries it is still owed.
pub async fn list(State(state): State<ApiState>, scope: Scoped) -> Result<Json<Value>, ApiError> {
    scope.require(Role::Admin, Role::DealerViewer)?;
    let owed = state.store.pending_counts().await?;
    let webhooks: Vec<Value> = visible(&state, &scope)
        .await?
        .iter()
        .map(|e| {
            let pending = owed.iter().find(|(id, _)| *id == e.id).map_or(0, |o| o.1);
            view(e, pending)
        })
        .collect();
    Ok(Json(json!({ "webhooks": webhooks })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBody {
    url: String,
    /// Absent: every alarm event type.
    events: Option<Vec<String>>,
    /// Opt in to `signal.received`.
    #[serde(default)]
    signals: bool,
    /// The dealer whose accounts it gets; absent: the center's (every account). A dealer's
    /// admin may name only their own, and gets it when they name none.
    dealer: Option<String>,
}

/// `POST /api/webhooks`: 201 with the endpoint and its `secret`, shown this once. Errors
/// name the field (`url`, `events`, `dealer`; `secrets.master_key_file` when the center has
/// no master key to seal the secret with).
pub async fn add(
    State(state): State<ApiState>,
    scope: Scoped,
    Body(body): Body<NewBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    scope.require(Role::Admin, Role::DealerAdmin)?;
    let dealer = match (scope.dealer(), body.dealer) {
        (Some(own), None) => Some(own.to_string()),
        (Some(own), Some(named)) if named.trim().eq_ignore_ascii_case(own) => Some(own.to_string()),
        (Some(_), Some(_)) => {
            return Err(ApiError {
                status: StatusCode::FORBIDDEN,
                field: Some("dealer".into()),
                message: "a dealer's webhooks are for its own accounts only".into(),
            });
        }
        (None, Some(named)) => {
            let id = watchpost_core::dealer::canonical_id(&named)
                .map_err(|e| ApiError::field("dealer", e.to_string()))?;
            if state.store.dealer(&id).await?.is_none() {
                return Err(ApiError::field("dealer", format!("no dealer {id:?}")));
            }
            Some(id)
        }
        (None, None) => None,
    };
    let new = NewEndpoint {
        url: body.url,
        dealer,
        events: body.events,
        signals: body.signals,
    };
    let now = crate::now_ms();
    let (endpoint, secret) =
        new_endpoint(state.secrets.master_key.as_deref(), &new, now).map_err(|e| {
            match e.split_once(": ") {
                Some((field, reason)) => ApiError::field(field, reason),
                None => ApiError::field("body", e),
            }
        })?;
    state.store.put_endpoint(&endpoint).await?;
    let whose = endpoint
        .dealer
        .as_deref()
        .map_or("every account".to_string(), |d| format!("dealer {d}"));
    let detail = format!("{} ({whose}; {})", endpoint.url, endpoint.events.join(","));
    audit(&state, &scope, "webhook.add", &endpoint.id, &detail).await;
    let mut answer = view(&endpoint, 0);
    answer["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `DELETE /api/webhooks/{id}`: 204; the endpoint and what it was still owed are gone.
pub async fn remove(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    scope.require(Role::Admin, Role::DealerAdmin)?;
    let endpoint = endpoint(&state, &scope, &id).await?;
    if !state.store.delete_endpoint(&endpoint.id).await? {
        return Err(ApiError::not_found(format!("no webhook {id:?}")));
    }
    let detail = "removed with what it was still owed";
    audit(&state, &scope, "webhook.remove", &endpoint.id, detail).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// `GET /api/webhooks/{id}/deliveries?limit=N` (1–1000, default 100): the endpoint's delivery
/// log, newest first: `{"deliveries": [{"event", "kind", "at", "attempt", "status", "error",
/// "delivered"}]}`.
pub async fn deliveries(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(id): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<Value>, ApiError> {
    scope.require(Role::Admin, Role::DealerViewer)?;
    if !(1..=1000).contains(&query.limit) {
        return Err(ApiError::field(
            "limit",
            format!("{} is not within 1-1000", query.limit),
        ));
    }
    let endpoint = endpoint(&state, &scope, &id).await?;
    let attempts = state.store.attempts(&endpoint.id, query.limit).await?;
    let deliveries: Vec<Value> = attempts
        .iter()
        .map(|a| {
            json!({
                "event": a.event,
                "kind": a.kind,
                "at": rfc3339(a.at),
                "attempt": a.attempt,
                "status": a.status,
                "error": a.error,
                "delivered": a.delivered,
            })
        })
        .collect();
    Ok(Json(json!({ "deliveries": deliveries })))
}

async fn audit(state: &ApiState, scope: &Scoped, action: &str, subject: &str, detail: &str) {
    let actor = format!("{}:{}", scope.user().role, scope.user().name);
    let now = crate::now_ms();
    if let Err(e) = state.auth.audit(&actor, action, subject, detail, now).await {
        tracing::error!("audit: {e}");
    }
}
