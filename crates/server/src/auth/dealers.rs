//! Dealers and their users: adding a dealer, and the rule that a dealer's role
//! (`dealer_admin`, `dealer_viewer`) names an existing dealer while the center's roles name
//! none (issue 14, item 6).

use super::{Auth, AuthError};
use watchpost_core::Millis;
use watchpost_core::dealer::{canonical_id, check_name};
use watchpost_store::{Dealer, Role};

impl Auth {
    /// Adds a dealer, or renames the one of that id. Errors name the field: `id`, `name`.
    pub async fn put_dealer(&self, id: &str, name: &str, now: Millis) -> Result<Dealer, AuthError> {
        let id = canonical_id(id).map_err(|reason| AuthError::Invalid {
            field: "id",
            reason,
        })?;
        check_name(name).map_err(|reason| AuthError::Invalid {
            field: "name",
            reason,
        })?;
        let created_at = match self.store.dealer(&id).await? {
            Some(old) => old.created_at,
            None => now,
        };
        let dealer = Dealer {
            id,
            name: name.trim().to_string(),
            created_at,
        };
        self.store.put_dealer(&dealer).await?;
        Ok(dealer)
    }

    /// The dealer a user of `role` belongs to, checked: a dealer's role needs an existing
    /// dealer (its id folded to upper case), a center role none. Errors name `dealer`.
    pub async fn check_dealer_of(
        &self,
        role: Role,
        dealer: Option<&str>,
    ) -> Result<Option<String>, AuthError> {
        let invalid = |reason: String| AuthError::Invalid {
            field: "dealer",
            reason,
        };
        match (role.is_dealer(), dealer) {
            (false, None) => Ok(None),
            (false, Some(d)) => Err(invalid(format!(
                "{role} is a center role, which belongs to no dealer (leave out {d:?}, or use \
                 the role dealer_admin or dealer_viewer)"
            ))),
            (true, None) => Err(invalid(format!(
                "a {role} must name their dealer (--dealer ID)"
            ))),
            (true, Some(d)) => {
                let id = canonical_id(d).map_err(invalid)?;
                if self.store.dealer(&id).await?.is_none() {
                    return Err(invalid(format!(
                        "no dealer {id:?}; add it with watchpost dealers add"
                    )));
                }
                Ok(Some(id))
            }
        }
    }
}
