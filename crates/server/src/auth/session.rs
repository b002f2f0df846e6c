//! Sessions: a random token handed to the client once, kept as its SHA-256. A session ends
//! after `idle_timeout` without use or `max_session` after sign-in, whichever comes first;
//! each use pushes the idle end back (written at most every `touch_every`).

use super::token::{is_token, new_token, sha256_hex};
use super::{Auth, AuthError};
use std::fmt;
use watchpost_core::Millis;
use watchpost_store::{SessionRecord, User};

/// What a successful sign-in gives the client. The token is shown here and nowhere else.
#[derive(Clone)]
pub struct Session {
    /// 64 hex digits; the client sends it as `Authorization: Bearer <token>`.
    pub token: String,
    pub user: User,
    pub expires_at: Millis,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"<hidden>")
            .field("user", &self.user)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl Auth {
    pub(super) async fn open_session(&self, user: User, now: Millis) -> Result<Session, AuthError> {
        let token = new_token();
        let record = SessionRecord {
            token_hash: sha256_hex(&token),
            user: user.name.clone(),
            created_at: now,
            expires_at: self.policy.expires_at(now, now),
            last_seen: now,
        };
        self.store.put_session(&record).await?;
        Ok(Session {
            token,
            user,
            expires_at: record.expires_at,
        })
    }

    /// The user behind a session token, if the session is still alive; records the activity.
    pub async fn authenticate(&self, token: &str, now: Millis) -> Result<User, AuthError> {
        if !is_token(token) {
            return Err(AuthError::NotSignedIn);
        }
        let hash = sha256_hex(token);
        let session = self
            .store
            .session(&hash)
            .await?
            .ok_or(AuthError::NotSignedIn)?;
        if now >= session.expires_at {
            self.store.delete_session(&hash).await?;
            return Err(AuthError::SessionExpired);
        }
        // Read on every request, so disabling a user stops their sessions at once.
        let Some(user) = self
            .store
            .user(&session.user)
            .await?
            .filter(|u| !u.disabled)
        else {
            self.store.delete_session(&hash).await?;
            return Err(AuthError::NotSignedIn);
        };
        if now.saturating_sub(session.last_seen) >= self.policy.touch_every {
            let expires_at = self.policy.expires_at(session.created_at, now);
            self.store.touch_session(&hash, now, expires_at).await?;
        }
        Ok(user)
    }

    /// Ends a session. Ending one that does not exist is not an error.
    pub async fn logout(&self, token: &str) -> Result<(), AuthError> {
        if is_token(token) {
            self.store.delete_session(&sha256_hex(token)).await?;
        }
        Ok(())
    }

    /// Forgets every session that has ended; returns how many. For a periodic sweep.
    pub async fn purge_expired(&self, now: Millis) -> Result<u64, AuthError> {
        Ok(self.store.delete_expired_sessions(now).await?)
    }
}
