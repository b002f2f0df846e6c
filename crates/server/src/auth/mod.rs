//! Who may use the center: users who sign in with a password and get a session token, and
//! account-scoped API keys for devices and apps. Secrets are never stored — passwords as
//! argon2 hashes, tokens and keys as SHA-256 — and the time is always passed in (`now`), so
//! every rule (idle and absolute expiry, lockout after repeated failures) is testable.

mod api_key;
mod error;
mod login;
mod password;
mod policy;
mod role;
mod session;
mod token;

#[cfg(test)]
mod tests;

pub use error::AuthError;
pub use password::{MIN_PASSWORD_CHARS, hash_user_password, hash_user_password_with};
pub use policy::Policy;
pub use role::require;
pub use session::Session;
pub use watchpost_store::{Role, User};

use std::sync::{Arc, OnceLock};
use watchpost_store::Db;

/// The center's gatekeeper over a store. Cheap to clone when the store is.
#[derive(Clone)]
pub struct Auth {
    store: Db,
    policy: Policy,
    /// A hash with the policy's cost, verified against when the user does not exist so that
    /// an unknown name takes as long as a wrong password. Made on first need.
    dummy_hash: Arc<OnceLock<String>>,
}

impl Auth {
    /// With the default policy: 12 h idle, 7 days at most, 5 failures lock for 15 minutes.
    pub fn new(store: Db) -> Self {
        Auth::with_policy(store, Policy::default())
    }

    pub fn with_policy(store: Db, policy: Policy) -> Self {
        Auth {
            store,
            policy,
            dummy_hash: Arc::new(OnceLock::new()),
        }
    }

    pub fn store(&self) -> &Db {
        &self.store
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}
