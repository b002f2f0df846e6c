//! The recording routes: an alarm's call recordings as a list, and one as a WAV file (with
//! HTTP range requests, so a browser's `<audio>` can seek). Only for a signed-in user; each
//! listening is logged with who it was (target `audit`).

use super::caller::{BrowserCaller, Caller};
use super::params::Path;
use super::{ApiError, ApiState};
use crate::view::rfc3339;
use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower::ServiceExt;
use tower_http::services::ServeFile;
use watchpost_core::alarm::CallId;
use watchpost_store::AlarmId;

/// `GET /api/alarms/{id}/recordings`: `{"recordings": [{call, started_at, started_at_ms,
/// duration_ms, bytes, href}]}`, by call; 404 when the alarm does not exist.
pub async fn list(
    State(state): State<ApiState>,
    _caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<Value>, ApiError> {
    let recordings = state.recordings.list(id).await?;
    if recordings.is_empty() {
        crate::desk::load(&state, id).await?;
    }
    let listed: Vec<Value> = recordings
        .iter()
        .map(|r| {
            json!({
                "call": r.call,
                "started_at": rfc3339(r.started_at),
                "started_at_ms": r.started_at,
                "duration_ms": r.duration_ms,
                "bytes": r.bytes,
                "href": format!("/api/alarms/{id}/recordings/{}", r.call),
            })
        })
        .collect();
    Ok(Json(json!({ "recordings": listed })))
}

/// `GET /api/alarms/{id}/recordings/{call}`: the WAV file (`audio/wav`), whole or the range
/// asked for (RFC 9110 §14); 404 when that call has no recording. The console's `<audio>`
/// cannot send a header, so this route also takes the session cookie.
pub async fn one(
    State(state): State<ApiState>,
    caller: BrowserCaller,
    Path((id, call)): Path<(AlarmId, CallId)>,
    request: Request,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found(format!("alarm {id} has no recording of call {call}"));
    let path = state.recordings.open(id, call).await?.ok_or_else(missing)?;
    let range = request.headers().get(header::RANGE).cloned();
    // A player asks for many ranges of one file; its first request is the listening.
    let starts = range
        .as_ref()
        .and_then(|r| r.to_str().ok())
        .is_none_or(|r| r.starts_with("bytes=0-"));
    let response = ServeFile::new(&path)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?;
    if response.status() == axum::http::StatusCode::NOT_FOUND {
        tracing::warn!(
            "recording of alarm {id} call {call} is listed but its file {path:?} is gone"
        );
        return Err(missing());
    }
    if starts {
        tracing::info!(target: "audit", user = %caller.0.name, alarm = id, call, "call recording played");
    }
    let audio = response.status().is_success();
    let mut response = response.map(Body::new).into_response();
    let headers = response.headers_mut();
    if audio {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}
