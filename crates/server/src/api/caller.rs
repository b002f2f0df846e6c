//! Who is calling: the user behind the session token — sent as `Authorization: Bearer
//! <token>` by API clients, or as the console's `wp_session` cookie by a signed-in browser
//! (its EventSource cannot set headers) — and the role a route needs.

use super::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use watchpost_store::{Role, User};

pub struct Caller(pub User);

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
        let token = bearer(parts)
            .or_else(|| session_cookie(parts))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "log in first: Authorization: Bearer <token>",
                )
            })?;
        let user = state
            .auth
            .authenticate(token, crate::now_ms())
            .await
            .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.to_string()))?;
        Ok(Caller(user))
    }
}

impl Caller {
    /// Refuses a caller whose role is below `role` (403).
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        crate::auth::require(&self.0, role)
            .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.to_string()))
    }
}
