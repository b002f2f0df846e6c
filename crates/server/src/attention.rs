//! What needs an agent's attention, and for how long it has waited: which open alarms need
//! an action (and sort first in the console's queue), when a waiting alarm changes colour,
//! and the unattended ("dead-man") alarms the supervisors are alerted to. The thresholds
//! come from the `[console]` table of the configuration file (README, "Configuration").

use crate::board::Board;
use serde::Serialize;
use watchpost_core::{Alarm, Millis};
use watchpost_store::{AlarmId, UnknownItem};

/// The console's attention thresholds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// An untaken alarm of priority `n` changes colour in the queue after `waiting_ms[n - 1]`.
    pub waiting_ms: [Millis; 4],
    /// An alarm of priority `n` nobody has taken after `untaken_ms[n - 1]` alerts the
    /// supervisors.
    pub untaken_ms: [Millis; 4],
    /// A taken alarm that needs an action and has had no timeline entry for this long
    /// alerts the supervisors.
    pub idle_ms: Millis,
}

impl Default for ConsoleConfig {
    /// Colour after 30 s (P1), 60 s (P2), 2 min (P3), 5 min (P4); untaken alert after 30 s
    /// (P1) or 60 s (others); idle alert after 5 min.
    fn default() -> Self {
        ConsoleConfig {
            waiting_ms: [30_000, 60_000, 120_000, 300_000],
            untaken_ms: [30_000, 60_000, 60_000, 60_000],
            idle_ms: 300_000,
        }
    }
}

/// The threshold of `priority` (1–4; others count as 4) in a per-priority table.
fn of(table: &[Millis; 4], priority: u8) -> Millis {
    table[usize::from(priority.clamp(1, 4)) - 1]
}

impl ConsoleConfig {
    /// When an untaken alarm opened at `opened_at` changes colour.
    pub fn late_at(&self, alarm: &Alarm) -> Millis {
        alarm.spec().opened_at + of(&self.waiting_ms, alarm.spec().kind.priority())
    }
}

/// Whether an alarm in the queue needs something from an agent. A task owed to an agency
/// (a request without its incident number, a cancellation nobody confirmed telling them)
/// always does, even on a closed alarm. Otherwise it only waits when it is closed, when it is
/// a trouble held until its panel is heard again, or when help is on the way: no call is in
/// progress or to be made. Everything else (a call to make or to record, a callback on the
/// line) needs an action.
pub fn needs_action(alarm: &Alarm) -> bool {
    if !alarm.open_tasks().is_empty() {
        return true;
    }
    if !alarm.is_open() || alarm.is_held() {
        return false;
    }
    let calls = alarm.current_call().is_some() || alarm.calls().iter().any(|c| c.is_open());
    calls || !alarm.dispatched()
}

/// The last thing that happened on the alarm: its latest timeline entry, or its opening.
pub fn last_activity(alarm: &Alarm) -> Millis {
    alarm
        .timeline()
        .last()
        .map_or(alarm.spec().opened_at, |e| e.at)
        .max(alarm.spec().opened_at)
}

/// The unattended alarms, as `GET /api/attention` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unattended {
    /// How many alarms need an action, nobody has taken them, and they have waited longer
    /// than their priority's `untaken_ms`.
    pub untaken: usize,
    /// How many taken alarms need an action and have had no timeline entry for `idle_ms`.
    pub idle: usize,
    pub untaken_alarms: Vec<AlarmId>,
    pub idle_alarms: Vec<AlarmId>,
    /// How many unknown-account items (a fire, a burglary… from a number that is not
    /// enrolled) nobody has resolved within their priority's `untaken_ms`, counted from their
    /// first signal: an alarm nobody took, as far as the premises are concerned.
    pub unresolved: usize,
    /// Those items' ids (`/api/unknown/{id}`).
    pub unresolved_items: Vec<i64>,
    /// Accounts whose verbal password has been wrong at least `guessing::ALERT_MISSES` times
    /// within `guessing::WINDOW_MS`, across alarms (someone may be guessing it).
    pub guessed_passwords: Vec<crate::guessing::Guessed>,
    /// How many users must wait before their next sign-in attempt (repeated failures: someone
    /// forgot their password, or someone is guessing it; `watchpost users unlock` lifts it).
    pub throttled: usize,
    /// Those users' names.
    pub throttled_users: Vec<String>,
}

/// The unattended alarms on the board at `now`, in queue order (`crate::queue`). Reads each
/// open alarm's queue key and, for a taken one, its latest timeline entry; copies none.
pub fn unattended(board: &Board, config: &ConsoleConfig, now: Millis) -> Unattended {
    let mut found = Unattended::default();
    board.for_each(|key, alarm| {
        if key.waits {
            return;
        }
        if !key.taken {
            if now - key.at >= of(&config.untaken_ms, key.priority) {
                found.untaken_alarms.push(key.id);
            }
        } else if now - last_activity(alarm) >= config.idle_ms {
            found.idle_alarms.push(key.id);
        }
    });
    found.untaken = found.untaken_alarms.len();
    found.idle = found.idle_alarms.len();
    found
}

/// Adds to `found` the users among `users` whose next sign-in attempt must wait at `now`.
pub fn throttled(found: &mut Unattended, users: &[watchpost_store::User], now: Millis) {
    found.throttled_users = users
        .iter()
        .filter(|u| u.locked_until.is_some_and(|until| until > now))
        .map(|u| u.name.clone())
        .collect();
    found.throttled = found.throttled_users.len();
}

/// Adds to `found` the open unknown-account items among `items` that have waited past their
/// priority's `untaken_ms` at `now`, in the order given.
pub fn unresolved(
    found: &mut Unattended,
    items: &[UnknownItem],
    config: &ConsoleConfig,
    now: Millis,
) {
    found.unresolved_items = items
        .iter()
        .filter(|i| i.resolution.is_none())
        .filter(|i| now - i.received_at >= of(&config.untaken_ms, i.priority))
        .map(|i| i.id)
        .collect();
    found.unresolved = found.unresolved_items.len();
}

#[cfg(test)]
mod tests {
    use super::of;

    #[test]
    fn priorities_outside_1_to_4_take_the_nearest() {
        let table = [1, 2, 3, 4];
        assert_eq!(of(&table, 0), 1);
        assert_eq!(of(&table, 2), 2);
        assert_eq!(of(&table, 9), 4);
    }
}
