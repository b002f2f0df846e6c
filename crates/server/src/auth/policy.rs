//! The rules, as numbers: how long a session lives idle and at most, how often activity is
//! written back, how many sign-in attempts from one address are free before each further one
//! must wait, the longest wait, how costly a password hash is.

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
    /// Sign-in attempts from one address for one name (since that address's last success
    /// with it) made without waiting. From the last of them on, that address's next attempt
    /// waits 2 s, then 4 s, 8 s… (attempts inside the wait are refused before the password is
    /// checked; other addresses are not held up).
    pub free_attempts: u32,
    /// The longest wait between two attempts, in ms: nobody is ever locked out for longer.
    pub max_delay: Millis,
    /// The cost of new user password hashes (`Standard` for a live center).
    pub hash_cost: HashCost,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            idle_timeout: 12 * HOUR,
            max_session: 7 * 24 * HOUR,
            touch_every: MINUTE,
            free_attempts: 5,
            max_delay: 5 * MINUTE,
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

    /// The wait after the `attempts`-th attempt in a row from one address for one name (ms; 0
    /// while attempts are free).
    pub fn delay_after(&self, attempts: u32) -> Millis {
        if attempts < self.free_attempts.max(1) {
            return 0;
        }
        let shift = (attempts - self.free_attempts.max(1) + 1).min(30);
        (1000i64 << shift).min(self.max_delay)
    }
}
