//! What a caller may see (issue 14, item 6): the center's users see everything; a dealer's
//! user (`dealer_admin`, `dealer_viewer`) sees only the accounts of their dealer and those
//! accounts' alarms. Only routes that take `Scoped` admit a dealer's user at all; `Caller`
//! refuses them (deny by default). Whatever is not the dealer's answers as if it did not
//! exist (404, the same words), so a dealer never learns another's numbers or alarms.

use super::caller;
use super::{ApiError, ApiState};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use std::collections::HashSet;
use watchpost_core::{Account, Alarm};
use watchpost_store::{AlarmId, Role, User};

/// The signed-in caller of a route that dealers' users may use, and what they may see.
pub enum Scoped {
    Center(User),
    Dealer { user: User, dealer: String },
}

impl FromRequestParts<ApiState> for Scoped {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let user = caller::user(caller::bearer_only(parts, state)?, state).await?;
        Scoped::of(user)
    }
}

/// `Scoped` from the bearer token or, failing that, the console's session cookie: only for
/// the GET routes browser elements load by themselves (`caller::BrowserCaller`).
pub struct ScopedBrowser(pub Scoped);

impl FromRequestParts<ApiState> for ScopedBrowser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let user = caller::user(caller::bearer_or_cookie(parts, state)?, state).await?;
        Scoped::of(user).map(ScopedBrowser)
    }
}

impl Scoped {
    /// What `user` may see; a dealer's role without a dealer is refused rather than shown
    /// everything (the store pairs them).
    fn of(user: User) -> Result<Scoped, ApiError> {
        Ok(match user.dealer.clone() {
            Some(dealer) if user.role.is_dealer() => Scoped::Dealer { user, dealer },
            _ if user.role.is_dealer() => return Err(caller::dealer_refused()),
            _ => Scoped::Center(user),
        })
    }

    pub fn user(&self) -> &User {
        match self {
            Scoped::Center(user) | Scoped::Dealer { user, .. } => user,
        }
    }

    /// The dealer whose data alone the caller sees; `None` for the center's users.
    pub fn dealer(&self) -> Option<&str> {
        match self {
            Scoped::Center(_) => None,
            Scoped::Dealer { dealer, .. } => Some(dealer),
        }
    }

    /// A center user needs `center` at least; a dealer's user `dealer` at least (403).
    pub fn require(&self, center: Role, dealer: Role) -> Result<(), ApiError> {
        let needed = if self.dealer().is_some() {
            dealer
        } else {
            center
        };
        crate::auth::require(self.user(), needed)
            .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.to_string()))
    }

    /// Refuses a dealer's user: the center's users only (403).
    pub fn center_only(&self, what: &str) -> Result<(), ApiError> {
        match self {
            Scoped::Center(_) => Ok(()),
            Scoped::Dealer { .. } => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("{what} is for the center's users only"),
            )),
        }
    }

    /// Whether the caller may see `account`.
    pub fn sees(&self, account: &Account) -> bool {
        match self.dealer() {
            None => true,
            Some(dealer) => account.dealer.as_deref() == Some(dealer),
        }
    }

    /// The account `number` names, if the caller may see it: 404 as for an account that is
    /// not enrolled otherwise (422 `number` when malformed).
    pub async fn account(&self, state: &ApiState, number: &str) -> Result<Account, ApiError> {
        let account = super::account_history::enrolled(state, number).await?;
        if self.sees(&account) {
            Ok(account)
        } else {
            Err(ApiError::not_found(format!(
                "account {:?} is not enrolled",
                account.number
            )))
        }
    }

    /// The numbers of the accounts the caller sees: `None` for all (the center's users).
    pub async fn accounts(&self, state: &ApiState) -> Result<Option<HashSet<String>>, ApiError> {
        match self.dealer() {
            None => Ok(None),
            Some(dealer) => Ok(Some(
                state
                    .store
                    .dealer_accounts(dealer, "", i64::MAX)
                    .await?
                    .into_iter()
                    .collect(),
            )),
        }
    }

    /// Refuses (404, as for an alarm that does not exist) an alarm of an account the caller
    /// does not see. An alarm belongs to the dealer that owns its account now; a silent
    /// (duress) alarm is never shown to a dealer's user.
    pub async fn alarm(
        &self,
        state: &ApiState,
        id: AlarmId,
        alarm: &Alarm,
    ) -> Result<(), ApiError> {
        if self.dealer().is_none() {
            return Ok(());
        }
        match state.store.account(&alarm.spec().account).await? {
            Some(a) if self.sees(&a) && !alarm.is_silent() => Ok(()),
            _ => Err(ApiError::not_found(format!("alarm {id} does not exist"))),
        }
    }
}
