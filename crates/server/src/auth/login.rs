//! Signing in: a turn at the hashing gate, then the attempt is counted for its source address
//! and name (`attempts`, before the password is checked, so parallel guesses cannot all be
//! tried), then the password is checked (against a dummy hash when the user does not exist,
//! so both answers take as long). A failure is also counted on the user in the store, where
//! supervisors see it. Every refusal is the same `AuthError::InvalidCredentials`.

use super::attempts::{Claim, Source};
use super::password::{check_new_password, hash_user_password_with, verify};
use super::session::Session;
use super::{Auth, AuthError};
use watchpost_core::Millis;
use watchpost_store::{AuditEntry, Role, User};

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
            waits_lifted_at: None,
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

    /// Signs a user in from this machine (the command line) and opens a session: as
    /// [`Auth::login_at`] with no source address.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        now: Millis,
    ) -> Result<Session, AuthError> {
        self.login_at(None, name, password, now).await
    }

    /// Signs a user in and opens a session. `source` is the address (or IPv6 /64) the attempt
    /// came from: the wait after repeated failures is kept per source and name, so failures
    /// from one address never hold up the user elsewhere. Every refusal — unknown name, wrong
    /// password, an attempt inside its wait, a disabled user, a made-up name past the center's
    /// bucket for them — is `InvalidCredentials`; `Busy` when the hashing gate is full
    /// (nothing was counted then).
    pub(super) async fn login_at(
        &self,
        source: Source,
        name: &str,
        password: &str,
        now: Millis,
    ) -> Result<Session, AuthError> {
        // No user can have a longer name: refused before anything is kept or hashed for it.
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AuthError::InvalidCredentials);
        }
        let turn = self.gate.enter().await?;
        let user = self.store.user(name).await?;
        let lifted_at = user.as_ref().and_then(|u| u.waits_lifted_at);
        let claim = self
            .attempts
            .claim(source, name, now, &self.policy, lifted_at);
        let Claim::Counted { wait_until } = claim else {
            return Err(AuthError::InvalidCredentials);
        };
        let password = password.to_string();
        let Some(user) = user else {
            // Made-up names spend the center's bucket; past it they are not hashed, but the
            // answer takes as long as a check and reads the same, so that neither a 429 nor
            // a quick 401 tells that the name is no user.
            let typical = self.hash_time.typical();
            match (self.limits.check_unknown_name(), typical) {
                (Err(_), Some(typical)) => {
                    drop(turn);
                    tokio::time::sleep(typical).await;
                }
                _ => {
                    let (dummy, cost) = (self.dummy_hash.clone(), self.policy.hash_cost);
                    let started = std::time::Instant::now();
                    turn.run(move || {
                        let phc =
                            dummy.get_or_init(|| hash_user_password_with("not a password", cost));
                        verify(&password, phc)
                    })
                    .await?;
                    self.hash_time.record(started.elapsed());
                }
            }
            // The same write a real name's failure makes (it finds no row): as long, too.
            self.store.record_login_failure(name, wait_until).await?;
            return Err(AuthError::InvalidCredentials);
        };
        let phc = user.password_hash.clone();
        let started = std::time::Instant::now();
        let matched = turn.run(move || verify(&password, &phc)).await?;
        self.hash_time.record(started.elapsed());
        if !matched || user.disabled {
            let failed = self.store.record_login_failure(name, wait_until).await?;
            if let (Some(user), Some(until)) = (failed, wait_until) {
                self.throttled(&user, source, until, now).await;
            }
            return Err(AuthError::InvalidCredentials);
        }
        self.attempts.succeeded(source, name);
        self.store.reset_login_failures(&user.name).await?;
        self.open_session(user, now).await
    }

    /// Sign-ins for a user from one address are being delayed: said in the log and the audit
    /// trail, where supervisors see it (the attention view lists users with such a wait).
    async fn throttled(&self, user: &User, source: Source, until: Millis, now: Millis) {
        let from = source.map_or_else(|| "this machine".to_string(), |ip| ip.to_string());
        let detail = format!(
            "{} sign-in attempts without success; the next one from {from} waits {} s",
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

/// How long a password check takes here, as a moving average: what an unknown name past the
/// center's bucket waits instead of being hashed.
#[derive(Default)]
pub(super) struct HashTime(std::sync::atomic::AtomicU64);

impl HashTime {
    /// Adds one check's duration (weight 1/8).
    fn record(&self, took: std::time::Duration) {
        use std::sync::atomic::Ordering;
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |average| {
                Some(if average == 0 {
                    micros
                } else {
                    average - average / 8 + micros / 8
                })
            });
    }

    /// `None` until a check has been timed.
    fn typical(&self) -> Option<std::time::Duration> {
        let micros = self.0.load(std::sync::atomic::Ordering::Acquire);
        (micros > 0).then(|| std::time::Duration::from_micros(micros))
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

#[cfg(test)]
mod hash_time_tests {
    use super::HashTime;
    use std::time::Duration;

    #[test]
    fn the_typical_check_follows_recent_ones() {
        let time = HashTime::default();
        assert_eq!(time.typical(), None);
        time.record(Duration::from_millis(40));
        assert_eq!(time.typical(), Some(Duration::from_millis(40)));
        for _ in 0..40 {
            time.record(Duration::from_millis(80));
        }
        let typical = time.typical().unwrap();
        assert!(typical > Duration::from_millis(75) && typical <= Duration::from_millis(80));
    }
}
