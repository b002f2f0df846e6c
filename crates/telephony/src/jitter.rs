//! How late each 20 ms RTP send was against its schedule, in microseconds: the pacing
//! benchmark's numbers (`watchpost bench calls`).

use std::sync::Mutex;
use std::time::Duration;

/// Every lateness seen, kept as a histogram of 100 µs buckets up to 100 ms.
pub struct Jitter {
    buckets: Mutex<Vec<u64>>,
}

const BUCKET_US: u64 = 100;
const BUCKETS: usize = 1000;

impl Default for Jitter {
    fn default() -> Jitter {
        Jitter {
            buckets: Mutex::new(vec![0; BUCKETS + 1]),
        }
    }
}

impl Jitter {
    pub fn record(&self, late: Duration) {
        let bucket = ((late.as_micros() as u64) / BUCKET_US).min(BUCKETS as u64) as usize;
        self.buckets.lock().unwrap()[bucket] += 1;
    }

    /// Sends recorded so far.
    pub fn count(&self) -> u64 {
        self.buckets.lock().unwrap().iter().sum()
    }

    /// Sends so far per 100 µs bucket of lateness, the last bucket holding 100 ms and later:
    /// subtracting two snapshots gives one window's sends (the steady state of `watchpost
    /// bench calls`).
    pub fn buckets(&self) -> Vec<u64> {
        self.buckets.lock().unwrap().clone()
    }

    /// The lateness below which `share` (0..=1) of the sends were, rounded up to 100 µs.
    pub fn quantile(&self, share: f64) -> Duration {
        let buckets = self.buckets.lock().unwrap();
        let total: u64 = buckets.iter().sum();
        let wanted = (total as f64 * share).ceil() as u64;
        let mut seen = 0;
        for (i, n) in buckets.iter().enumerate() {
            seen += n;
            if seen >= wanted && total > 0 {
                return Duration::from_micros((i as u64 + 1) * BUCKET_US);
            }
        }
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_what_was_recorded() {
        let j = Jitter::default();
        for _ in 0..99 {
            j.record(Duration::from_micros(50));
        }
        j.record(Duration::from_millis(7));
        assert_eq!(j.count(), 100);
        assert_eq!(j.quantile(0.5), Duration::from_micros(100));
        assert_eq!(j.quantile(1.0), Duration::from_micros(7100));
    }
}
