//! Who may use the center: users who sign in with a password and get a session token, and
//! account-scoped API keys for devices and apps. Secrets are never stored — passwords as
//! argon2 hashes, tokens and keys as SHA-256 — and the time is always passed in (`now`), so
//! every rule (idle and absolute expiry, delays after repeated attempts from one address) is testable. Password
//! work goes through one bounded gate, and sign-ins through rate limits per source address.

mod access;
mod api_key;
mod attempts;
mod error;
mod gate;
mod limits;
mod login;
mod memory;
mod password;
mod policy;
mod role;
mod session;
mod token;

#[cfg(test)]
mod tests;

pub use api_key::{KeyInfo, key_id};
pub use error::{AuthError, REFUSED};
pub use gate::{Gate, GateConfig};
pub use limits::RateConfig;
pub use memory::return_freed_hash_memory;
pub use password::{MIN_PASSWORD_CHARS, hash_user_password, hash_user_password_with};
pub use policy::Policy;
pub use role::require;
pub use session::Session;
pub use watchpost_store::{Role, User};

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use watchpost_core::Millis;
use watchpost_store::Db;

/// How sign-ins are bounded (the `[login]` table of the configuration file): the hashing
/// gate and the rate limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginConfig {
    pub gate: GateConfig,
    pub rates: RateConfig,
}

/// The center's gatekeeper over a store. Cheap to clone when the store is.
#[derive(Clone)]
pub struct Auth {
    store: Db,
    policy: Policy,
    /// A hash with the policy's cost, verified against when the user does not exist so that
    /// an unknown name takes as long as a wrong password. Made on first need.
    dummy_hash: Arc<OnceLock<String>>,
    gate: Arc<Gate>,
    limits: Arc<limits::Limits>,
    attempts: Arc<attempts::Attempts>,
    hash_time: Arc<login::HashTime>,
    key_uses: Arc<api_key::KeyUses>,
}

impl Auth {
    /// With the default policy: 12 h idle, 7 days at most, 5 free attempts then waits of
    /// 2 s, 4 s… up to 5 minutes; the default gate and rate limits.
    pub fn new(store: Db) -> Self {
        Auth::with_policy(store, Policy::default())
    }

    pub fn with_policy(store: Db, policy: Policy) -> Self {
        Auth::configured(store, policy, LoginConfig::default())
    }

    pub fn configured(store: Db, policy: Policy, login: LoginConfig) -> Self {
        Auth {
            store,
            policy,
            dummy_hash: Arc::new(OnceLock::new()),
            gate: Arc::new(Gate::new(login.gate)),
            limits: Arc::new(limits::Limits::new(login.rates)),
            attempts: Arc::default(),
            hash_time: Arc::default(),
            key_uses: Arc::default(),
        }
    }

    pub fn store(&self) -> &Db {
        &self.store
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The password-hashing gate, which verbal-password checks share with sign-ins.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// A sign-in from the network: the rate limit of `source` first (`TooManyAttempts`), then
    /// [`Auth::login_at`] with its address (IPv6 by its /64), so that its failures delay it
    /// alone.
    pub async fn login_from(
        &self,
        source: IpAddr,
        name: &str,
        password: &str,
        now: Millis,
    ) -> Result<Session, AuthError> {
        self.limits.check(source)?;
        let source = crate::listen::source_of(source);
        self.login_at(Some(source), name, password, now).await
    }
}
