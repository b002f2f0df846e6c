//! The console's session: the session cookie (`SessionCookie`: `wp_session`, or
//! `__Host-wp_session` and Secure over TLS) holds the token a sign-in opened (HttpOnly,
//! SameSite=Strict), and `Agent` is the signed-in center user of a console request. Without a
//! live session a page redirects to `/login` (an htmx request is told to, with `HX-Redirect`).
//! A dealer's user opens none of the agents' console: a page sends them to their dealer page
//! (`super::dealer`), anything else is refused (403).

use crate::api::ApiState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use watchpost_store::User;

/// The signed-in user, and whether the request came from htmx (it wants a fragment back).
pub struct Agent {
    pub user: User,
    pub htmx: bool,
}

pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Where a request without a live session goes.
pub fn to_login(htmx: bool) -> Response {
    if htmx {
        (StatusCode::OK, [("hx-redirect", "/login")]).into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

/// The user of the console's session cookie, whatever their role; without a live session,
/// where to sign in (`to_login`).
pub async fn signed_in(parts: &Parts, state: &ApiState) -> Result<User, Response> {
    let htmx = is_htmx(&parts.headers);
    let Some(token) = state.cookie.read(parts) else {
        return Err(to_login(htmx));
    };
    match state.auth.authenticate(token, crate::now_ms()).await {
        Ok(user) => Ok(user),
        Err(e) if e.is_internal() => {
            tracing::error!("console session: {e}");
            Err((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
        Err(_) => Err(to_login(htmx)),
    }
}

impl FromRequestParts<ApiState> for Agent {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        let htmx = is_htmx(&parts.headers);
        let user = signed_in(parts, state).await?;
        if user.role.is_dealer() || user.dealer.is_some() {
            return Err(super::dealer::elsewhere(parts, htmx));
        }
        Ok(Agent { user, htmx })
    }
}
