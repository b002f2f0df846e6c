//! Who is calling: the user behind the session token, and the role a route needs. The API
//! takes the token only as `Authorization: Bearer <token>` (`Caller`): a header another site
//! cannot make a browser send. The console's `wp_session` cookie, which a browser attaches by
//! itself, opens only the two GETs a browser element must make without a header
//! (`BrowserCaller`: the EventSource of `/api/events`, the `<audio src>` of a recording).

use super::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use watchpost_store::{Role, User};

/// A caller that sent `Authorization: Bearer <token>`.
pub struct Caller(pub User);

/// A caller that sent the bearer token or, failing that, the console's session cookie: only
/// for GET routes that browser elements load by themselves (issue 13, item 4).
pub struct BrowserCaller(pub User);

/// The console's session cookie: the same token as `POST /api/login` gives.
pub const SESSION_COOKIE: &str = "wp_session";

pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// The value of the session cookie, if the request carries one.
pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let Some(token) = bearer(parts) else {
            let message = if session_cookie(parts).is_some() {
                "this route takes only Authorization: Bearer <token>; the console's session \
                 cookie opens only /api/events and recordings"
            } else {
                "log in first: Authorization: Bearer <token>"
            };
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, message));
        };
        user(token, state).await.map(Caller)
    }
}

impl FromRequestParts<ApiState> for BrowserCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let token = bearer(parts)
            .or_else(|| session_cookie(parts))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "log in first: Authorization: Bearer <token>",
                )
            })?;
        user(token, state).await.map(BrowserCaller)
    }
}

/// The user of a live session `token`; 401 otherwise.
async fn user(token: &str, state: &ApiState) -> Result<User, ApiError> {
    state
        .auth
        .authenticate(token, crate::now_ms())
        .await
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()))
}

impl Caller {
    /// Refuses a caller whose role is below `role` (403).
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        crate::auth::require(&self.0, role)
            .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.to_string()))
    }
}
