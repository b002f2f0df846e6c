//! `POST /api/login` and `POST /api/logout`. Every refused sign-in gets the same 401 and
//! message (`auth::REFUSED`); a sign-in the center cannot take now gets 503 (the hashing gate
//! is full) or 429 (too many from this address), both with `Retry-After`.

use super::body::Body;
use super::caller::bearer;
use super::{ApiError, ApiState};
use crate::auth::AuthError;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

#[derive(Deserialize)]
pub struct Login {
    name: String,
    password: String,
}

/// The address a request came from, as the listener saw it (`ConnectInfo`); the unspecified
/// address when the listener gives none (then every caller shares one rate limit).
pub(crate) fn source(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// The status a refused sign-in gets: 401 for every refusal of the person, 503 and 429 (with
/// `Retry-After`) for the center's own limits, 500 for its faults.
pub(crate) fn refusal_status(e: &AuthError) -> StatusCode {
    match e {
        AuthError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AuthError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        e if e.is_internal() => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    }
}

/// `Retry-After: N` (seconds) for a refusal that says when to come back.
pub(crate) fn retry_after(e: &AuthError) -> Option<(header::HeaderName, HeaderValue)> {
    e.retry_after_s()
        .map(|s| (header::RETRY_AFTER, HeaderValue::from(s)))
}

pub async fn login(
    State(state): State<ApiState>,
    parts: Parts,
    Body(body): Body<Login>,
) -> Response {
    let from = source(&parts);
    match state
        .auth
        .login_from(from, &body.name, &body.password, crate::now_ms())
        .await
    {
        Ok(session) => Json(json!({
            "token": session.token,
            "name": session.user.name,
            "role": session.user.role.as_str(),
            "dealer": session.user.dealer,
        }))
        .into_response(),
        Err(e) if e.is_internal() => ApiError::internal(e).into_response(),
        Err(e) => {
            if matches!(e, AuthError::InvalidCredentials) {
                state.metrics.login_failures.inc();
            }
            let mut answer = ApiError::new(refusal_status(&e), e.to_string()).into_response();
            if let Some((name, value)) = retry_after(&e) {
                answer.headers_mut().insert(name, value);
            }
            answer
        }
    }
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
