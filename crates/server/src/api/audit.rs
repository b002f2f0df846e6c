//! `GET /api/audit`: the audit trail for admins — who disabled, enabled or signed out a user,
//! gave a new password, lifted sign-in waits, made or revoked a key, and every sign-in wait the
//! center set (`login.throttled`, naming the address). Newest first.

use super::caller::Caller;
use super::params::Query;
use super::{ApiError, ApiState};
use crate::view::rfc3339;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use watchpost_store::Role;

const DEFAULT_LIMIT: i64 = 200;
const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize)]
pub struct AuditQuery {
    /// At most this many lines, the newest (1 to 1000; 200).
    limit: Option<i64>,
}

/// One line as the API shows it: `at` in RFC 3339 (UTC, ms).
#[derive(Serialize)]
pub struct AuditLine {
    at: String,
    actor: String,
    action: String,
    subject: String,
    detail: String,
}

/// Admins only (403 below); `limit` outside 1–1000 is a 422 naming it.
pub async fn list(
    State(state): State<ApiState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditLine>>, ApiError> {
    caller.require(Role::Admin)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ));
    }
    let lines = state.store.audit(limit).await?;
    Ok(Json(
        lines
            .into_iter()
            .map(|e| AuditLine {
                at: rfc3339(e.at),
                actor: e.actor,
                action: e.action,
                subject: e.subject,
                detail: e.detail,
            })
            .collect(),
    ))
}
