//! Path and query parameters whose errors are the API's: a 422 in the JSON error shape naming
//! the parameter at fault (`{"error": "…", "field": "id"}` for `/api/alarms/abc`), where
//! axum's own extractors answer a plain-text 400 that names nothing a client can act on.

use super::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// The route's `{…}` parameters, as `axum::extract::Path` reads them.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let e = match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => return Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => e,
            Err(e) => return Err(ApiError::internal(e.body_text())),
        };
        // A one-value or tuple `T` names its parameter by position: the route's names.
        let names: Vec<String> = RawPathParams::from_request_parts(parts, state)
            .await
            .map(|raw| raw.iter().map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        let name = |at: usize| names.get(at).map_or("path", String::as_str).to_string();
        let (field, value, expected) = match e.kind() {
            ErrorKind::ParseErrorAtKey {
                key,
                value,
                expected_type,
            } => (key.clone(), value, *expected_type),
            ErrorKind::ParseErrorAtIndex {
                index,
                value,
                expected_type,
            } => (name(*index), value, *expected_type),
            ErrorKind::ParseError {
                value,
                expected_type,
            } => (name(0), value, *expected_type),
            ErrorKind::InvalidUtf8InPathParam { key } => {
                return Err(ApiError::field(key, "is not valid UTF-8"));
            }
            _ => return Err(ApiError::field("path", e.body_text())),
        };
        Err(ApiError::field(
            &field,
            format!("{value:?} is not {}", kind(expected)),
        ))
    }
}

/// A Rust type's name in words: `i64` and `u32` are numbers.
fn kind(expected_type: &str) -> &'static str {
    match expected_type.rsplit("::").next().unwrap_or(expected_type) {
        "i64" | "i32" | "u64" | "u32" | "usize" => "a whole number",
        _ => "of the right form",
    }
}

/// The query string, deserialized as `axum::extract::Query` would, with the error naming the
/// parameter at fault (`query` when it is the whole).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." { "query" } else { path.as_str() };
                ApiError::field(field, e.inner().to_string())
            })
    }
}
