//! `POST /api/login` and `POST /api/logout`.

use super::body::Body;
use super::caller::bearer;
use super::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
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

pub async fn logout(State(state): State<ApiState>, parts: Parts) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer(&parts) {
        state.auth.logout(token).await.map_err(ApiError::internal)?;
    }
    Ok(StatusCode::NO_CONTENT)
}
