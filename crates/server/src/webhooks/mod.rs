//! Webhooks to the center's and dealers' own systems (issue 14, item 7; docs/webhooks.md):
//! endpoints and their sealed secrets (`endpoints`), the signature (`signature`), and the
//! background task that posts each outbox event to each endpoint that wants it, in order, at
//! least once (`delivery`).

pub mod delivery;
pub mod endpoints;
pub mod signature;

use std::time::Duration;

/// How deliveries are retried and paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The wait after a first failed attempt; it doubles after each further failure.
    pub first_retry: Duration,
    /// The longest wait between two attempts at one event (retries go on forever).
    pub max_retry: Duration,
    /// How often the task looks for new events and due retries.
    pub poll: Duration,
    /// How long one POST may take before it counts as failed.
    pub timeout: Duration,
    /// Among several nodes, how long the delivering node's lease lasts unless renewed (when
    /// half of it is left); a node that dies is replaced by another within it.
    pub lease: Duration,
}

impl Default for WebhookConfig {
    /// 1 s doubling to 5 min, a look every 200 ms, 10 s per POST, a 30 s lease.
    fn default() -> Self {
        WebhookConfig {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(300),
            poll: Duration::from_millis(200),
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
        }
    }
}

impl WebhookConfig {
    /// The wait before attempt `failed + 1` after `failed` failures (`failed >= 1`):
    /// `first_retry * 2^(failed-1)`, capped at `max_retry`, then a random point between its
    /// half and all of it (jitter, so many endpoints coming back are not all hit at once).
    pub fn backoff(&self, failed: u32) -> Duration {
        let doubled = self
            .first_retry
            .saturating_mul(1u32 << failed.saturating_sub(1).min(30));
        let capped = doubled.min(self.max_retry);
        capped.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::WebhookConfig;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes_with_jitter() {
        let c = WebhookConfig::default();
        for (failed, full) in [(1, 1), (2, 2), (3, 4), (9, 256), (10, 300), (40, 300)] {
            for _ in 0..50 {
                let wait = c.backoff(failed);
                let full = Duration::from_secs(full);
                assert!(wait <= full && wait >= full / 2, "{failed}: {wait:?}");
            }
        }
    }
}
