//! Role checks: admin may do what a supervisor may, who may do what an agent may.

use super::AuthError;
use watchpost_store::{Role, User};

/// Refuses a user whose role is below `at_least`.
pub fn require(user: &User, at_least: Role) -> Result<(), AuthError> {
    if user.role >= at_least {
        Ok(())
    } else {
        Err(AuthError::Forbidden {
            needed: at_least,
            have: user.role,
        })
    }
}
