//! Role checks: admin may do what a supervisor may, who may do what an agent may; a
//! dealer_admin what a dealer_viewer may. A dealer's role never passes for a center role, nor
//! the other way round.

use super::AuthError;
use watchpost_store::{Role, User};

/// Refuses a user whose role is below `at_least`, or on the other side (center or dealer).
pub fn require(user: &User, at_least: Role) -> Result<(), AuthError> {
    if user.role.is_dealer() == at_least.is_dealer() && user.role >= at_least {
        Ok(())
    } else {
        Err(AuthError::Forbidden {
            needed: at_least,
            have: user.role,
        })
    }
}
