//! Signing in: a turn at the hashing gate, then the attempt is counted (in the store, before
//! the password is checked, so parallel guesses cannot all be tried), then the password is
//! checked (against a dummy hash when the user does not exist, so both answers take as long).
//! From the policy's last free attempt on, each further attempt for that name must wait 2 s,
//! 4 s, 8 s… up to `max_delay`; attempts inside the wait are refused without hashing — for
//! names nobody has too, so a refusal never tells whether a name exists. A success clears the
//! count. Every refusal is the same `AuthError::InvalidCredentials`.

use super::password::{check_new_password, hash_user_password_with, verify};
use super::session::Session;
use super::{Auth, AuthError};
use std::collections::HashMap;
use std::sync::Mutex;
use watchpost_core::Millis;
use watchpost_store::{AuditEntry, Role, User};

/// Names nobody has are remembered at most this many at a time; past that the oldest
/// memory is dropped (an attacker spraying names only spends their own rate limit).
const GHOSTS_KEPT: usize = 10_000;

/// Attempts on names no user has, kept in memory with the store's rule for real names, so
/// that an unknown name is delayed exactly as a real one would be.
#[derive(Default)]
pub(super) struct Ghosts(Mutex<HashMap<String, (u32, Millis)>>);

impl Ghosts {
    /// Counts an attempt at `now`; false when it falls inside the name's wait.
    pub(super) fn claim(&self, name: &str, now: Millis, policy: &super::Policy) -> bool {
        let mut names = self.0.lock().expect("ghosts lock");
        if names.len() >= GHOSTS_KEPT && !names.contains_key(name) {
            names.retain(|_, (_, until)| *until > now);
            if names.len() >= GHOSTS_KEPT {
                names.clear();
            }
        }
        let (attempts, until) = names.entry(name.to_string()).or_insert((0, 0));
        if *until > now {
            return false;
        }
        *attempts += 1;
        let delay = policy.delay_after(*attempts);
        if delay > 0 {
            *until = now + delay;
        }
        true
    }
}

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
        let password_hash = self
            .gate
            .run(move || hash_user_password_with(&password, cost))
            .await?;
        let user = User {
            name: name.to_string(),
            role,
            password_hash,
            failed_logins: 0,
            locked_until: None,
            disabled: false,
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

    /// Signs a user in and opens a session. Every refusal — unknown name, wrong password, an
    /// attempt inside the name's wait, a disabled user — is `InvalidCredentials`; `Busy` when
    /// the hashing gate is full (nothing was counted then).
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        now: Millis,
    ) -> Result<Session, AuthError> {
        // No user can have a longer name: refused before anything is kept or hashed for it.
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AuthError::InvalidCredentials);
        }
        let turn = self.gate.enter().await?;
        let password = password.to_string();
        let Some(user) = self.store.user(name).await? else {
            if !self.ghosts.claim(name, now, &self.policy) {
                return Err(AuthError::InvalidCredentials);
            }
            self.limits.check_unknown_name()?;
            let (dummy, cost) = (self.dummy_hash.clone(), self.policy.hash_cost);
            turn.run(move || {
                let phc = dummy.get_or_init(|| hash_user_password_with("not a password", cost));
                verify(&password, phc)
            })
            .await?;
            return Err(AuthError::InvalidCredentials);
        };
        // Counted before the check: of many parallel guesses, only the free attempts left
        // (and then one per wait) get as far as the password.
        let claimed = self
            .store
            .claim_login_attempt(
                &user.name,
                now,
                self.policy.free_attempts,
                self.policy.max_delay,
            )
            .await?;
        let Some(user) = claimed else {
            return Err(AuthError::InvalidCredentials);
        };
        if let Some(until) = user.locked_until.filter(|u| *u > now)
            && user.failed_logins >= self.policy.free_attempts
        {
            self.throttled(&user, until, now).await;
        }
        let phc = user.password_hash.clone();
        if !turn.run(move || verify(&password, &phc)).await? || user.disabled {
            return Err(AuthError::InvalidCredentials);
        }
        self.store.reset_login_failures(&user.name).await?;
        self.open_session(user, now).await
    }

    /// A name is being delayed: said in the log and the audit trail, where supervisors see it
    /// (the attention view lists users whose next attempt must wait).
    async fn throttled(&self, user: &User, until: Millis, now: Millis) {
        let detail = format!(
            "{} sign-in attempts without success; the next one waits {} s",
            user.failed_logins,
            (until - now + 999) / 1000
        );
        tracing::warn!("sign-in for user {:?} delayed: {detail}", user.name);
        let entry = AuditEntry {
            at: now,
            actor: "login".into(),
            action: "login.throttled".into(),
            subject: user.name.clone(),
            detail,
        };
        if let Err(e) = self.store.put_audit(&entry).await {
            tracing::error!("audit: {e}");
        }
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
