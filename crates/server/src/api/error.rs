//! API errors: a status and a JSON body that names the field (when one is at fault) and the
//! reason. Nothing is written when a request is refused.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use watchpost_center::CenterError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub field: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            field: None,
            message: message.into(),
        }
    }

    /// 422: a field's value is not acceptable.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, what)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("API: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the server log",
        )
    }
}

impl From<CenterError> for ApiError {
    fn from(e: CenterError) -> Self {
        match e {
            CenterError::NotOpen(id) => {
                ApiError::new(StatusCode::CONFLICT, format!("alarm {id} is not open"))
            }
            CenterError::Rejected(_, why) => ApiError::new(StatusCode::CONFLICT, why.to_string()),
            CenterError::UnknownAccount(a) => {
                ApiError::field("account", format!("{a:?} is not enrolled"))
            }
            other => ApiError::internal(other),
        }
    }
}

/// A password check the gate refused (503, "try again in N s"), or the center's fault.
impl From<crate::auth::AuthError> for ApiError {
    fn from(e: crate::auth::AuthError) -> Self {
        match e {
            crate::auth::AuthError::Busy { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
            e if e.is_internal() => ApiError::internal(e),
            e => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        }
    }
}

impl From<watchpost_store::StoreError> for ApiError {
    fn from(e: watchpost_store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.message, "field": self.field});
        (self.status, Json(body)).into_response()
    }
}
