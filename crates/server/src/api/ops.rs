//! The routes operations tooling reads (issue 15, items 1 and 2): `GET /metrics` (OpenMetrics
//! text, for Prometheus), `GET /healthz` (the process answers) and `GET /readyz` (this node
//! can do its work, `crate::health`). The health routes need no credentials (load balancers
//! call them) and say nothing but which check fails. `/metrics` is open on a loopback
//! listener; elsewhere it needs the bearer token named by `metrics.token_env`, or, without
//! one, a signed-in supervisor or admin.

use super::{ApiError, ApiState};
use crate::health::readiness;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use watchpost_store::Role;

/// The bearer token `/metrics` asks for; never shown (`Debug` hides it).
#[derive(Clone)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(hidden)")
    }
}

/// Who may read `/metrics`.
#[derive(Debug, Clone)]
pub enum MetricsAccess {
    /// Anyone who reaches the listener (it is on loopback, and no token is set).
    Open,
    /// Whoever sends `Authorization: Bearer <token>`.
    Token(MetricsToken),
    /// A signed-in supervisor or admin.
    Supervisors,
}

impl MetricsAccess {
    /// With a token, the token; without, open on a loopback listener, else supervisors.
    pub fn new(token: Option<MetricsToken>, loopback: bool) -> MetricsAccess {
        match token {
            Some(token) => MetricsAccess::Token(token),
            None if loopback => MetricsAccess::Open,
            None => MetricsAccess::Supervisors,
        }
    }
}

/// Compared as digests: equal lengths, and no early exit that times the token out.
fn same_token(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn metrics(
    State(state): State<ApiState>,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    match &state.metrics_access {
        MetricsAccess::Open => {}
        MetricsAccess::Token(token) => {
            let given = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|given| same_token(given, &token.0)) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Authorization: Bearer with the metrics token (metrics.token_env) is required",
                ));
            }
        }
        MetricsAccess::Supervisors => {
            super::caller::Caller::from_request_parts(&mut parts, &state)
                .await?
                .require(Role::Supervisor)?;
        }
    }
    let text = state
        .metrics
        .encode(&state.board, &state.cluster, crate::now_ms());
    Ok(([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response())
}

/// 200 while the process answers HTTP at all.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "alive": true }))
}

/// 200 when every check passes, else 503; the body names each check's outcome.
pub async fn readyz(State(state): State<ApiState>) -> Response {
    let ready = readiness(&state.health, &state.store, &state.cluster).await;
    let status = if ready.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(ready)).into_response()
}
