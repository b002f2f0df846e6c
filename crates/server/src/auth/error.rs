//! What can go wrong when someone signs in or presents a token, in words a person can act on.

use watchpost_store::{Role, StoreError};

/// The one answer to every refused sign-in (issue 13, item 3): an unknown name, a wrong
/// password, a name whose next attempt must wait, and a disabled user all get it, so the
/// answer never tells which names exist or what state they are in.
pub const REFUSED: &str = "sign-in refused: wrong user name or password, too many recent \
     attempts (wait a few minutes), or the user is disabled";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Every refused sign-in, whatever the reason (see [`REFUSED`]).
    #[error("{}", REFUSED)]
    InvalidCredentials,
    /// The password-hashing gate and its queue are full: nothing was checked or counted.
    #[error("the center is busy checking other sign-ins; try again in {retry_after_s} s")]
    Busy { retry_after_s: u64 },
    /// Too many sign-ins from one address, or from everywhere at once.
    #[error("too many sign-ins from this address; try again in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: u64 },
    #[error("not signed in (unknown or ended session): sign in again")]
    NotSignedIn,
    #[error("the session has expired: sign in again")]
    SessionExpired,
    #[error("this needs the {needed} role; you are signed in as {have}")]
    Forbidden { needed: Role, have: Role },
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("no user is called {0:?}")]
    NoSuchUser(String),
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

    /// For a refusal to try later (`Busy`, `TooManyAttempts`): after how many seconds, as
    /// the `Retry-After` header says it.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            AuthError::Busy { retry_after_s } | AuthError::TooManyAttempts { retry_after_s } => {
                Some(*retry_after_s)
            }
            _ => None,
        }
    }
}
