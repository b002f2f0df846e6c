//! Secrets of the center as a whole, stored only sealed under the master key: today the
//! verbal-password pepper. One row per name; the store never sees a secret in clear and
//! never seals or opens one (the server does, `watchpost_server::pepper`).

use crate::Result;
use async_trait::async_trait;

/// The row that holds the verbal-password pepper, sealed.
pub const PEPPER: &str = "verbal_password_pepper";

#[async_trait]
pub trait CenterSecrets: Send + Sync {
    /// The sealed value stored under `name`, if any.
    async fn center_secret(&self, name: &str) -> Result<Option<String>>;

    /// Stores `sealed` under `name` unless a value is stored there already, and returns the
    /// value stored: `sealed`, or the one another process (another node of a shared center)
    /// stored first. The insert and the read are one atomic step as far as `name` goes, so
    /// every node ends up with the same secret.
    async fn keep_center_secret(&self, name: &str, sealed: &str) -> Result<String>;

    /// Replaces the value stored under `name` (a master key rotation seals it anew); does
    /// nothing when none is stored.
    async fn set_center_secret(&self, name: &str, sealed: &str) -> Result<()>;
}
