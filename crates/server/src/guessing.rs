//! The limit on verbal-password guessing (issue 13, item 8): at most `MISS_LIMIT` misses per
//! account within `WINDOW_MS`, counted in the store, so the limit holds across alarms, agents,
//! nodes and restarts. From `ALERT_MISSES` misses the account is shown to supervisors
//! (`GET /api/attention`, the console's banner) and a note goes on the alarm.

use crate::api::ApiError;
use axum::http::StatusCode;
use serde::Serialize;
use watchpost_core::Millis;
use watchpost_store::{AlarmId, Miss, MissLimit, Reservation};

/// Misses allowed per account in the window; the next check is refused (429).
pub const MISS_LIMIT: u32 = 5;
/// The sliding window, 15 minutes.
pub const WINDOW_MS: Millis = 15 * 60 * 1000;
/// Misses in the window from which supervisors are alerted.
pub const ALERT_MISSES: usize = 3;

/// The limit as the store takes it.
pub const LIMIT: MissLimit = MissLimit {
    misses: MISS_LIMIT,
    window_ms: WINDOW_MS,
};

/// 429 naming `password`: the account has used its misses; says when to try again.
pub fn refused(account: &str, retry_at: Millis, now: Millis) -> ApiError {
    let wait_s = ((retry_at - now).max(0) + 999) / 1000;
    ApiError {
        field: Some("password".into()),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "the verbal password of account {account} has been wrong {MISS_LIMIT} times in \
                 {} minutes; it can be checked again at {} (in {wait_s} s). Verify the caller \
                 another way, or record dispatch",
                WINDOW_MS / 60_000,
                crate::view::rfc3339(retry_at)
            ),
        )
    }
}

/// The reservation's row, or the refusal.
pub fn granted(reservation: Reservation, account: &str, now: Millis) -> Result<i64, ApiError> {
    match reservation {
        Reservation::Granted(id) => Ok(id),
        Reservation::Refused { retry_at } => Err(refused(account, retry_at, now)),
    }
}

/// An account whose verbal password has been missed repeatedly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guessed {
    pub account: String,
    /// Misses within the window.
    pub misses: usize,
    /// The alarms they were made on, oldest first, each once.
    pub alarms: Vec<AlarmId>,
    /// Checks are refused until then (RFC 3339), when the limit is reached.
    pub refused_until: Option<String>,
}

/// The accounts with at least `ALERT_MISSES` among `misses` (all within the window, oldest
/// first), in account order.
pub fn guessed(misses: &[Miss]) -> Vec<Guessed> {
    let mut by_account: std::collections::BTreeMap<&str, Vec<&Miss>> = Default::default();
    for m in misses {
        by_account.entry(&m.account).or_default().push(m);
    }
    by_account
        .into_iter()
        .filter(|(_, ms)| ms.len() >= ALERT_MISSES)
        .map(|(account, ms)| {
            let mut alarms: Vec<AlarmId> = Vec::new();
            for m in &ms {
                if !alarms.contains(&m.alarm) {
                    alarms.push(m.alarm);
                }
            }
            let newest_first: Vec<Millis> = ms.iter().rev().map(|m| m.at).collect();
            let refused_until = usize::try_from(MISS_LIMIT)
                .ok()
                .and_then(|n| newest_first.get(n.checked_sub(1)?))
                .map(|at| crate::view::rfc3339(at + WINDOW_MS));
            Guessed {
                account: account.to_string(),
                misses: ms.len(),
                alarms,
                refused_until,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn miss(account: &str, alarm: AlarmId, at: Millis) -> Miss {
        Miss {
            account: account.into(),
            alarm,
            at,
        }
    }

    #[test]
    fn accounts_from_the_alert_threshold_are_listed_with_their_alarms() {
        let misses = [
            miss("4F39", 1, 10),
            miss("5A5B", 3, 15),
            miss("4F39", 2, 20),
            miss("4F39", 1, 30),
        ];
        let found = guessed(&misses);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].account, "4F39");
        assert_eq!((found[0].misses, &found[0].alarms[..]), (3, &[1, 2][..]));
        assert_eq!(found[0].refused_until, None);
    }
}
