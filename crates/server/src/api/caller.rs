//! Who is calling: the user behind the bearer token, and the role a route needs.

use super::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use watchpost_store::{Role, User};

pub struct Caller(pub User);

pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| {
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
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        crate::auth::require(&self.0, role)
            .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.to_string()))
    }

    pub fn actor(&self) -> String {
        format!("agent:{}", self.0.name)
    }
}
