//! The console's CSRF token (issue 13, item 4): every console request that changes something
//! (any method but GET, HEAD, OPTIONS) must carry the token of the session its cookie opens,
//! as the form field `csrf` (every console form has it) or the `X-CSRF-Token` header, or it is
//! refused (403) before its handler runs. Another site's page can make a browser send the
//! cookie, but cannot read a console page to learn the token.
//!
//! The token is derived from the session token (SHA-256 over a label and the token): nothing is
//! stored, it survives restarts, ends with its session, and the session token (HttpOnly,
//! never in a page) cannot be worked back out of it. Sign-in is exempt (there is no session to
//! bind to yet): it is guarded by the `Origin` / `Sec-Fetch-Site` checks of `crate::api`, which
//! every browser that could be made to send it sends. A request without a session cookie
//! passes: its handler changes nothing and sends it to sign in.

use crate::api::ApiState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use sha2::{Digest, Sha256};

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
/// The header that carries the token (htmx requests, `console.js`).
pub const HEADER: &str = "x-csrf-token";
/// The largest form body read to find the token: axum's own limit for forms.
const FORM_LIMIT: usize = 2 * 1024 * 1024;

tokio::task_local! {
    /// The token of the session of the request being answered, for the forms it renders.
    static TOKEN: String;
}

/// The CSRF token of the session `session`: 64 hex digits.
pub fn token_for(session: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"watchpost console csrf\0");
    hash.update(session.as_bytes());
    hex::encode(hash.finalize())
}

/// The token of the session of the request being answered; empty without one. Read from the
/// request's task (set by `guard`) so that the templates deep inside a page need not pass it.
pub fn current() -> String {
    TOKEN.try_with(String::clone).unwrap_or_default()
}

/// The hidden field every console form that changes something carries.
pub fn field() -> Markup {
    html! { input type="hidden" name=(FIELD) value=(current()); }
}

/// The middleware on every console route: checks the token of a request that changes
/// something, and makes the session's token available to the templates (`current`).
pub async fn guard(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let (parts, mut body) = request.into_parts();
    let expected = state.cookie.read(&parts).map(token_for);
    let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes
        && parts.uri.path() != "/login"
        && let Some(expected) = &expected
    {
        let sent = match parts.headers.get(HEADER) {
            Some(value) => Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            None if is_form(&parts.headers) => {
                let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
                    Ok(bytes) => bytes,
                    Err(_) => {
                        let why = "the form is larger than 2 MiB or was not sent whole";
                        return (StatusCode::PAYLOAD_TOO_LARGE, why).into_response();
                    }
                };
                let sent = form_urlencoded::parse(&bytes)
                    .find(|(name, _)| name == FIELD)
                    .map(|(_, value)| value.into_owned());
                body = Body::from(bytes);
                sent
            }
            None => None,
        };
        if !sent.is_some_and(|sent| same(&sent, expected)) {
            return refused();
        }
    }
    let request = Request::from_parts(parts, body);
    TOKEN
        .scope(expected.unwrap_or_default(), next.run(request))
        .await
}

fn is_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// Equal, in a time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Refused: this form did not carry the console's security token for your session \
         (it came from another site, or from a page opened before you signed in again). \
         Nothing was changed; reload the page and try again.",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_fixed_per_session_and_differs_between_sessions() {
        let a = token_for("session-a");
        assert_eq!(a, token_for("session-a"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, token_for("session-b"));
        assert!(!a.contains("session-a"));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &token_for("session-b")));
        assert!(!same(&a, &a[..63]));
    }
}
