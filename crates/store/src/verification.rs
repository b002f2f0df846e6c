//! Verbal-password checks kept in the store (issue 13, item 8): the limit on wrong passwords
//! is per account, shared by every alarm, agent and node of the center, and survives
//! restarts. A check is reserved (written) before the password is compared, so checks made in
//! parallel cannot exceed the limit.

use crate::{AlarmId, Result};
use async_trait::async_trait;
use watchpost_core::Millis;

/// One verbal-password check about to be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordCheck {
    /// The account whose password is checked.
    pub account: String,
    pub alarm: AlarmId,
    pub call: u32,
    /// The agent checking it (user name).
    pub agent: String,
    /// When, in milliseconds since the epoch.
    pub at: Millis,
}

/// The per-account limit: at most `misses` misses within `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissLimit {
    pub misses: u32,
    pub window_ms: Millis,
}

/// The answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The check may be made; settle row `id` with its result.
    Granted(i64),
    /// The account has used its misses: no check before `retry_at` (ms since the epoch).
    Refused { retry_at: Millis },
}

/// A miss (or a check still being compared) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Miss {
    pub account: String,
    pub alarm: AlarmId,
    pub at: Millis,
}

/// Verbal-password checks, in the store.
#[async_trait]
pub trait Verification: Send + Sync {
    /// Records `check` as a miss, atomically with counting the account's misses since
    /// `check.at - limit.window_ms`, unless there already are `limit.misses` of them. A check
    /// not yet settled counts as a miss. Refused: nothing is written.
    async fn reserve_password_check(
        &self,
        check: &PasswordCheck,
        limit: MissLimit,
    ) -> Result<Reservation>;
    /// Records the result of a granted check (`matched`: the password matched).
    async fn settle_password_check(&self, id: i64, matched: bool) -> Result<()>;
    /// Misses (and unsettled checks) at or after `since`, oldest first; of one account, or of
    /// every account (`None`).
    async fn password_misses(&self, account: Option<&str>, since: Millis) -> Result<Vec<Miss>>;
}

/// When an account with these misses in the window (their times, newest first) may be
/// checked again: when the `limit.misses`-th newest leaves the window.
pub(crate) fn retry_at(newest_first: &[Millis], limit: MissLimit) -> Option<Millis> {
    let n = usize::try_from(limit.misses).ok()?.checked_sub(1)?;
    newest_first.get(n).map(|at| at + limit.window_ms)
}

#[cfg(test)]
mod tests {
    use super::{MissLimit, retry_at};

    #[test]
    fn the_limit_th_newest_miss_sets_the_retry_time() {
        let limit = MissLimit {
            misses: 2,
            window_ms: 100,
        };
        assert_eq!(retry_at(&[50], limit), None);
        assert_eq!(retry_at(&[50, 40, 10], limit), Some(140));
    }
}
