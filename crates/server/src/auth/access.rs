//! Taking access away and giving it back: disabling and enabling users, new passwords, ending
//! every session of a user, lifting a user's sign-in delay — each written to the audit trail
//! with who did it (`actor`: `cli:<os user>`, `admin:<name>`) and when (issue 13, item 5).

use super::password::{check_new_password, hash_user_password_with};
use super::{Auth, AuthError};
use watchpost_core::Millis;
use watchpost_core::account::Account;
use watchpost_store::{AuditEntry, User};

impl Auth {
    /// Adds a line to the audit trail.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
        now: Millis,
    ) -> Result<(), AuthError> {
        let entry = AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: action.to_string(),
            subject: subject.to_string(),
            detail: detail.to_string(),
        };
        Ok(self.store.put_audit(&entry).await?)
    }

    /// Revokes the API keys of `old` when `new` is another enrolment of its number (its
    /// `enrolled` time differs: a new customer or a new contract), so a key made for one
    /// customer never opens an alarm at the next one's address; an edit that keeps the
    /// enrolment time keeps the keys. Audited as `key.revoke` per key. Returns how many went.
    pub async fn end_keys_of_replaced_enrolment(
        &self,
        old: &Account,
        new: &Account,
        actor: &str,
        now: Millis,
    ) -> Result<usize, AuthError> {
        if old.enrolled_at == new.enrolled_at {
            return Ok(0);
        }
        let keys = self.store.api_keys(Some(&old.number)).await?;
        for key in &keys {
            self.store.delete_api_key(&key.key_hash).await?;
            let info = super::api_key::KeyInfo::from(key);
            let detail = format!("account {} re-enrolled ({})", info.account, info.label);
            self.audit(actor, "key.revoke", &info.id, &detail, now)
                .await?;
        }
        Ok(keys.len())
    }

    async fn existing(&self, name: &str) -> Result<User, AuthError> {
        self.store
            .user(name)
            .await?
            .ok_or_else(|| AuthError::NoSuchUser(name.to_string()))
    }

    /// Disables (`disabled`) or enables a user. Disabling also ends every session of theirs;
    /// a disabled user cannot sign in, and a session of theirs is refused at its next use.
    pub async fn set_disabled(
        &self,
        name: &str,
        disabled: bool,
        actor: &str,
        now: Millis,
    ) -> Result<User, AuthError> {
        let mut user = self.existing(name).await?;
        user.disabled = disabled;
        self.store.put_user(&user).await?;
        let detail = if disabled {
            let ended = self.store.end_sessions(name).await?;
            format!("{ended} session(s) ended")
        } else {
            String::new()
        };
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.audit(actor, action, name, &detail, now).await?;
        Ok(user)
    }

    /// Gives a user a new password (refused like a new user's when too short) and ends every
    /// session of theirs; clears any sign-in delay.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        actor: &str,
        now: Millis,
    ) -> Result<User, AuthError> {
        check_new_password(password)?;
        let mut user = self.existing(name).await?;
        let (password, cost) = (password.to_string(), self.policy.hash_cost);
        user.password_hash = self
            .gate
            .run(move || hash_user_password_with(&password, cost))
            .await?;
        self.store.put_user(&user).await?;
        // Whoever was made to wait was waiting to try the old password.
        self.store.lift_login_waits(name, now).await?;
        self.attempts.forget(name);
        let ended = self.store.end_sessions(name).await?;
        let detail = format!("{ended} session(s) ended");
        self.audit(actor, "user.passwd", name, &detail, now).await?;
        self.existing(name).await
    }

    /// Ends every session of a user ("sign out everywhere"); returns how many there were.
    pub async fn end_sessions(
        &self,
        name: &str,
        actor: &str,
        now: Millis,
    ) -> Result<u64, AuthError> {
        self.existing(name).await?;
        let ended = self.store.end_sessions(name).await?;
        let detail = format!("{ended} session(s) ended");
        self.audit(actor, "user.logout", name, &detail, now).await?;
        Ok(ended)
    }

    /// Forgets a user's failed attempts, from every address: no next sign-in need wait. The
    /// waits are kept in each node's memory; this clears the ones of the node it runs on.
    pub async fn unlock(&self, name: &str, actor: &str, now: Millis) -> Result<User, AuthError> {
        let user = self.existing(name).await?;
        self.store.lift_login_waits(name, now).await?;
        self.attempts.forget(name);
        let detail = format!("{} attempt(s) forgotten", user.failed_logins);
        self.audit(actor, "user.unlock", name, &detail, now).await?;
        self.existing(name).await
    }
}
