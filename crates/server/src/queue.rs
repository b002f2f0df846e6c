//! The queue's order, one key per item, and the opaque cursor a page ends with: what needs an
//! agent's action first, among those what nobody has taken yet, then most urgent, then longest
//! waiting. The board keeps its open alarms sorted by this key (`crate::board`), so a page is
//! read from where the last one ended without sorting or copying every open alarm; the
//! console merges unknown-account items into the same order.

use std::fmt;
use watchpost_core::{Alarm, Millis};
use watchpost_store::{AlarmId, UnknownItem};

/// Where an item stands in the queue; smaller comes first. Derived from the item's state
/// alone (never from the clock), so it only changes when the item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueKey {
    /// It only waits (help on the way, a trouble held): after everything that needs an action.
    pub waits: bool,
    /// Someone handles it: after what nobody has taken.
    pub taken: bool,
    /// 1 (most urgent) to 4.
    pub priority: u8,
    /// When it opened (an unknown-account item: its first signal), in ms since the epoch.
    pub at: Millis,
    /// An unknown-account item rather than an alarm (they share the order in the console).
    pub unknown: bool,
    /// The alarm's or the item's id.
    pub id: i64,
}

impl QueueKey {
    /// An open alarm's key.
    pub fn of_alarm(id: AlarmId, alarm: &Alarm) -> QueueKey {
        let spec = alarm.spec();
        QueueKey {
            waits: !crate::attention::needs_action(alarm),
            taken: alarm.handler().is_some(),
            priority: spec.kind.priority(),
            at: spec.opened_at,
            unknown: false,
            id,
        }
    }

    /// An open unknown-account item's key: it always needs an action, and nobody takes it.
    pub fn of_unknown(item: &UnknownItem) -> QueueKey {
        QueueKey {
            waits: false,
            taken: false,
            priority: item.priority,
            at: item.received_at,
            unknown: true,
            id: item.id,
        }
    }

    /// The key a `cursor` parameter names (what `Display` wrote). Error: the reason, for a
    /// 422 naming the parameter.
    pub fn parse(cursor: &str) -> Result<QueueKey, String> {
        let bad = || format!("{cursor:?} is not a cursor this server gave (use `next` as given)");
        let parts: Vec<&str> = cursor.split('.').collect();
        let [waits, taken, priority, at, unknown, id] = parts[..] else {
            return Err(bad());
        };
        let flag = |s: &str| match s {
            "0" => Ok(false),
            "1" => Ok(true),
            _ => Err(bad()),
        };
        Ok(QueueKey {
            waits: flag(waits)?,
            taken: flag(taken)?,
            priority: priority.parse().map_err(|_| bad())?,
            at: at.parse().map_err(|_| bad())?,
            unknown: flag(unknown)?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// The cursor: opaque to clients, `QueueKey::parse` reads it back.
impl fmt::Display for QueueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}.{}.{}",
            u8::from(self.waits),
            u8::from(self.taken),
            self.priority,
            self.at,
            u8::from(self.unknown),
            self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::QueueKey;

    #[test]
    fn a_cursor_reads_back_as_its_key_and_nothing_else_reads() {
        let key = QueueKey {
            waits: false,
            taken: true,
            priority: 2,
            at: 1_700_000_000_123,
            unknown: false,
            id: 42,
        };
        assert_eq!(QueueKey::parse(&key.to_string()), Ok(key));
        for bad in ["", "1.2.3", "0.0.1.5.0.x", "2.0.1.5.0.1", "0.0.1.5.0.1.7"] {
            assert!(QueueKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn what_needs_an_action_and_nobody_took_comes_first() {
        let key = |waits, taken, priority, at| QueueKey {
            waits,
            taken,
            priority,
            at,
            unknown: false,
            id: 1,
        };
        let mut keys = [
            key(true, false, 1, 0),
            key(false, true, 1, 0),
            key(false, false, 3, 0),
            key(false, false, 1, 9),
            key(false, false, 1, 5),
        ];
        keys.sort();
        assert_eq!(
            keys,
            [
                key(false, false, 1, 5),
                key(false, false, 1, 9),
                key(false, false, 3, 0),
                key(false, true, 1, 0),
                key(true, false, 1, 0),
            ]
        );
    }
}
