//! Signing in and being locked out: the password is checked (against a dummy hash when the
//! user does not exist, so both answers take as long), failures are counted, the
//! `max_failures`-th in a row locks the user for `lockout`, and a success clears the count.

use super::password::{blocking, check_new_password, hash_user_password_with, verify};
use super::session::Session;
use super::{Auth, AuthError};
use watchpost_core::Millis;
use watchpost_store::{Role, User};

const MAX_NAME_CHARS: usize = 64;

fn check_name(name: &str) -> Result<(), AuthError> {
    let reason = if name.is_empty() {
        "the name is empty"
    } else if name.chars().count() > MAX_NAME_CHARS {
        "the name must be at most 64 characters long"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "the name may not contain spaces or control characters"
    } else {
        return Ok(());
    };
    Err(AuthError::Invalid {
        field: "name",
        reason: reason.into(),
    })
}

impl Auth {
    /// Creates a user; refuses a bad name, a short password or a name already taken.
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
        now: Millis,
    ) -> Result<User, AuthError> {
        check_name(name)?;
        check_new_password(password)?;
        if self.store.user(name).await?.is_some() {
            return Err(AuthError::UserExists(name.to_string()));
        }
        let (password, cost) = (password.to_string(), self.policy.hash_cost);
        let password_hash = blocking(move || hash_user_password_with(&password, cost)).await?;
        let user = User {
            name: name.to_string(),
            role,
            password_hash,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
            phone: None,
        };
        self.store.put_user(&user).await?;
        Ok(user)
    }

    /// Sets (or with `None` clears) the SIP URI of the user's phone, which the center calls to
    /// connect the agent to a contact (README, "Telephony"). Errors: an unknown user
    /// (`Invalid { field: "name" }`), a phone that is not `sip:user@host[:port]`.
    pub async fn set_phone(&self, name: &str, phone: Option<&str>) -> Result<User, AuthError> {
        if let Some(phone) = phone {
            check_phone(phone)?;
        }
        let mut user = self
            .store
            .user(name)
            .await?
            .ok_or_else(|| AuthError::Invalid {
                field: "name",
                reason: format!("no user is called {name:?}"),
            })?;
        user.phone = phone.map(str::to_string);
        self.store.put_user(&user).await?;
        Ok(user)
    }

    /// Signs a user in and opens a session. Unknown user and wrong password give the same
    /// error; a locked user is refused even with the right password.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        now: Millis,
    ) -> Result<Session, AuthError> {
        let user = self.store.user(name).await?;
        if let Some(until) = user.as_ref().and_then(|u| u.locked_until)
            && until > now
        {
            return Err(AuthError::Locked { until });
        }
        let password = password.to_string();
        let Some(user) = user else {
            let (dummy, cost) = (self.dummy_hash.clone(), self.policy.hash_cost);
            blocking(move || {
                let phc = dummy.get_or_init(|| hash_user_password_with("not a password", cost));
                verify(&password, phc)
            })
            .await?;
            return Err(AuthError::InvalidCredentials);
        };
        let phc = user.password_hash.clone();
        if !blocking(move || verify(&password, &phc)).await? {
            let lock_until = now.saturating_add(self.policy.lockout);
            let after = self
                .store
                .record_login_failure(name, self.policy.max_failures, lock_until)
                .await?;
            return match after.and_then(|u| u.locked_until) {
                Some(until) if until > now => Err(AuthError::Locked { until }),
                _ => Err(AuthError::InvalidCredentials),
            };
        }
        if user.failed_logins > 0 || user.locked_until.is_some() {
            self.store.reset_login_failures(name).await?;
        }
        self.open_session(user, now).await
    }
}

/// `sip:user@host[:port]`, the way a desk phone or softphone is reached (RFC 3261 §19.1).
fn check_phone(phone: &str) -> Result<(), AuthError> {
    let invalid = |reason: &str| AuthError::Invalid {
        field: "phone",
        reason: format!("{phone:?} {reason}"),
    };
    let rest = phone
        .strip_prefix("sip:")
        .ok_or_else(|| invalid("is not a SIP URI (sip:user@host[:port])"))?;
    let (user, host) = rest
        .split_once('@')
        .ok_or_else(|| invalid("has no user part (sip:user@host[:port])"))?;
    let host = host.split(';').next().unwrap_or_default();
    let (host, port) = host.rsplit_once(':').unwrap_or((host, "5060"));
    if user.is_empty() || host.is_empty() {
        return Err(invalid("has an empty user or host"));
    }
    if phone
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return Err(invalid("holds spaces or brackets"));
    }
    if port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(invalid("has a bad port"));
    }
    Ok(())
}
