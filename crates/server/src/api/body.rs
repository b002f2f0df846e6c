//! Request bodies: JSON whose errors name the field at fault, in the API's error shape. A
//! body must say it is `application/json`: a form or `text/plain` body is what another site's
//! page can make a browser send, so it is refused (415) before it is read (issue 13, item 4).

use super::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_only(req.headers(), false)?;
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::field("body", e.to_string()))?;
        parse(&bytes).map(Body)
    }
}

/// A body whose every field may be left out: no body at all is the same as `{}`.
pub struct OptionalBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_only(req.headers(), true)?;
        let typed = req.headers().contains_key(header::CONTENT_TYPE);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::field("body", e.to_string()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        if !typed {
            return Err(untyped());
        }
        parse(&bytes).map(OptionalBody)
    }
}

/// Refuses (415) a request whose `Content-Type` is not `application/json` (parameters such
/// as `charset` allowed). `none_ok`: a request without any `Content-Type` passes (a body that
/// may be left out, sent without one).
fn json_only(headers: &HeaderMap, none_ok: bool) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return if none_ok { Ok(()) } else { Err(untyped()) };
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    let mut shown: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        shown.push('…');
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("Content-Type {shown:?} is not accepted: send the body as application/json"),
    ))
}

fn untyped() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "the body has no Content-Type: send it as application/json",
    )
}

/// JSON, with an error naming the field at fault (`body` for the whole).
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        let syntax = e.inner().classify() == serde_json::error::Category::Syntax;
        let message = match wrong_kind(bytes, e.path()).filter(|_| syntax) {
            Some(found) => format!("{found} is not one of the accepted names (a string)"),
            None => e.inner().to_string(),
        };
        ApiError::field(&field, message)
    })
}

/// serde_json says only "expected value" when a field that takes one of a set of names (an
/// outcome, a decision, an agency) holds a number, `null`, `true` or a list: the body is
/// valid JSON, so the value at `path` is what is wrong. That value, shortened; `None` for any
/// other error.
fn wrong_kind(bytes: &[u8], path: &serde_path_to_error::Path) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    for segment in path.iter() {
        value = match segment {
            serde_path_to_error::Segment::Map { key } => value.get_mut(key)?.take(),
            serde_path_to_error::Segment::Seq { index } => value.get_mut(*index)?.take(),
            _ => return None,
        };
    }
    if value.is_string() || value.is_object() {
        return None;
    }
    let mut shown = value.to_string();
    if shown.chars().count() > 40 {
        shown = shown.chars().take(40).collect::<String>() + "…";
    }
    Some(shown)
}
