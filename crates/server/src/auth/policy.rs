//! The rules, as numbers: how long a session lives idle and at most, how often activity is
//! written back, how many failures lock a user and for how long, how costly a password hash is.

use watchpost_core::Millis;
use watchpost_core::password::HashCost;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// A session unused this long ends.
    pub idle_timeout: Millis,
    /// A session ends this long after sign-in, however busy.
    pub max_session: Millis,
    /// Activity is written back at most this often (each write is a commit).
    pub touch_every: Millis,
    /// Consecutive failed sign-ins that lock a user.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lockout: Millis,
    /// The cost of new user password hashes (`Standard` for a live center).
    pub hash_cost: HashCost,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            idle_timeout: 12 * HOUR,
            max_session: 7 * 24 * HOUR,
            touch_every: MINUTE,
            max_failures: 5,
            lockout: 15 * MINUTE,
            hash_cost: HashCost::Standard,
        }
    }
}

impl Policy {
    /// When a session made at `created_at` and last used at `last_seen` ends.
    pub fn expires_at(&self, created_at: Millis, last_seen: Millis) -> Millis {
        (last_seen.saturating_add(self.idle_timeout))
            .min(created_at.saturating_add(self.max_session))
    }
}
