//! Who is calling: the user behind the session token, and the role a route needs. The API
//! takes the token only as `Authorization: Bearer <token>` (`Caller`): a header another site
//! cannot make a browser send. The console's session cookie (`wp_session`, or
//! `__Host-wp_session` over TLS), which a browser attaches by itself, opens only the two GETs a
//! browser element must make without a header (`BrowserCaller`: the EventSource of
//! `/api/events`, the `<audio src>` of a recording).

use super::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use watchpost_store::{Role, User};

/// A center user (agent, supervisor, admin) that sent `Authorization: Bearer <token>`. A
/// dealer's user is refused (403): routes open to them take `super::scope::Scoped` instead.
pub struct Caller(pub User);

/// A caller that sent the bearer token or, failing that, the console's session cookie: only
/// for GET routes that browser elements load by themselves (issue 13, item 4). A dealer's
/// user is refused (403), as by `Caller`.
pub struct BrowserCaller(pub User);

/// The console's session cookie, which holds the same token as `POST /api/login` gives. Its
/// name and flags depend on the listener: over TLS it is `Secure` and named with the
/// `__Host-` prefix, so the browser never sends it in clear nor lets another host or a
/// plain-HTTP page set it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCookie {
    /// HTTP speaks TLS.
    pub secure: bool,
}

impl SessionCookie {
    /// `__Host-wp_session` over TLS, else `wp_session`.
    pub fn name(self) -> &'static str {
        if self.secure {
            "__Host-wp_session"
        } else {
            "wp_session"
        }
    }

    /// The attributes after the value: HttpOnly, SameSite=Strict, Path=/, and Secure over
    /// TLS.
    fn attributes(self) -> &'static str {
        if self.secure {
            "HttpOnly; SameSite=Strict; Path=/; Secure"
        } else {
            "HttpOnly; SameSite=Strict; Path=/"
        }
    }

    /// The value of the session cookie, if the request carries one.
    pub fn read(self, parts: &Parts) -> Option<&str> {
        let name = self.name();
        parts
            .headers
            .get_all("cookie")
            .iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value)
    }

    /// `Set-Cookie` for a new session holding `token`.
    pub fn set(self, token: &str) -> (header::HeaderName, String) {
        (
            header::SET_COOKIE,
            format!("{}={token}; {}", self.name(), self.attributes()),
        )
    }

    /// `Set-Cookie` that forgets the session.
    pub fn clear(self) -> (header::HeaderName, String) {
        (
            header::SET_COOKIE,
            format!("{}=; {}; Max-Age=0", self.name(), self.attributes()),
        )
    }
}

/// The bearer token of a route that takes no cookie: 401 without one, saying so when the
/// request carries the console's cookie instead.
pub fn bearer_only<'a>(parts: &'a Parts, state: &ApiState) -> Result<&'a str, ApiError> {
    bearer(parts).ok_or_else(|| {
        let message = if state.cookie.read(parts).is_some() {
            "this route takes only Authorization: Bearer <token>; the console's session cookie \
             opens only /api/events and recordings"
        } else {
            "log in first: Authorization: Bearer <token>"
        };
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    })
}

/// The bearer token or, failing that, the console's session cookie: 401 without either.
pub fn bearer_or_cookie<'a>(parts: &'a Parts, state: &ApiState) -> Result<&'a str, ApiError> {
    bearer(parts)
        .or_else(|| state.cookie.read(parts))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "log in first: Authorization: Bearer <token>",
            )
        })
}

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
        center_user(bearer_only(parts, state)?, state)
            .await
            .map(Caller)
    }
}

impl FromRequestParts<ApiState> for BrowserCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        center_user(bearer_or_cookie(parts, state)?, state)
            .await
            .map(BrowserCaller)
    }
}

/// The 403 a dealer's user gets from every route not open to dealers.
pub fn dealer_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "a dealer's user may not use this route: it is for the center's users \
         (docs/api.md, Dealers)",
    )
}

/// The center user of a live session `token`: 401 without one, 403 for a dealer's user.
async fn center_user(token: &str, state: &ApiState) -> Result<User, ApiError> {
    let user = user(token, state).await?;
    if user.role.is_dealer() || user.dealer.is_some() {
        return Err(dealer_refused());
    }
    Ok(user)
}

/// The user of a live session `token`; 401 otherwise.
pub(super) async fn user(token: &str, state: &ApiState) -> Result<User, ApiError> {
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
