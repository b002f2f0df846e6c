//! What can go wrong when someone signs in or presents a token, in words a person can act on.

use watchpost_core::Millis;
use watchpost_store::{Role, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown user and wrong password alike: the answer never tells which names exist.
    #[error("wrong user name or password")]
    InvalidCredentials,
    #[error("too many failed sign-ins: this user is locked until {}", time(*until))]
    Locked { until: Millis },
    #[error("not signed in (unknown or ended session): sign in again")]
    NotSignedIn,
    #[error("the session has expired: sign in again")]
    SessionExpired,
    #[error("this needs the {needed} role; you are signed in as {have}")]
    Forbidden { needed: Role, have: Role },
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("account {0:?} is not enrolled")]
    NoSuchAccount(String),
    /// A value refused before anything is written; `field` names it.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthError {
    /// True when the fault is the center's (store, hashing), not the caller's.
    pub fn is_internal(&self) -> bool {
        matches!(self, AuthError::Store(_) | AuthError::Internal(_))
    }
}

/// RFC 3339 in UTC, to the second.
fn time(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("{ms} ms"))
}
