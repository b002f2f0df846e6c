//! The retention sweep (issue 15, item 5): how long signals, alarms with their logs, call
//! recordings and resolved unknown-account items are kept, and the task that removes expired
//! ones in small batches with a pause between them, so that intake, which shares the store's
//! writer, never waits long. README, "Retention".
//!
//! Every node of a multi-node center sweeps: the deletes are idempotent and each counts only
//! the rows it removed, so two nodes sweeping at once remove each record once and their
//! counts add up (no lease needed for a task that is hourly and harmless to repeat).

use crate::recordings::{RecordingError, Recordings};
use prometheus_client::metrics::counter::Counter;
use std::sync::Arc;
use std::time::Duration;
use watchpost_core::Millis;
use watchpost_store::{Db, StoreError};

/// 400 days: listing bodies (UL 827, EN 50518) want a central station's records kept at
/// least a year; a margin on top.
pub const DEFAULT_KEEP: Duration = Duration::from_secs(400 * 24 * 3600);

/// How long each kind of record is kept, and how the sweep paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Signals received longer ago than this are removed (`None`: kept for ever), except an
    /// account's while it has an open alarm.
    pub signals: Option<Duration>,
    /// Alarms closed longer ago than this are removed with their log, recordings and
    /// verbal-password checks, and so are unknown-account items resolved longer ago (`None`:
    /// kept for ever). An open alarm is never removed.
    pub alarms: Option<Duration>,
    /// Rows removed per transaction.
    pub batch: i64,
    /// The pause after each full batch, during which intake has the writer to itself.
    pub pause: Duration,
    /// How often the sweep runs (also once when the center starts).
    pub every: Duration,
}

impl Default for RetentionConfig {
    fn default() -> RetentionConfig {
        RetentionConfig {
            signals: Some(DEFAULT_KEEP),
            alarms: Some(DEFAULT_KEEP),
            batch: 500,
            pause: Duration::from_millis(50),
            every: Duration::from_secs(3600),
        }
    }
}

/// What the sweeps of this process removed since it started: the counters of
/// `watchpost_retention_removed_total` (`crate::metrics::Metrics::retention`).
#[derive(Debug, Default)]
pub struct RetentionCounts {
    pub signals: Counter,
    pub alarms: Counter,
    pub recordings: Counter,
    pub unknown_items: Counter,
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub signals: u64,
    pub alarms: u64,
    pub recordings: u64,
    pub unknown_items: u64,
}

/// The sweep of one node.
pub struct Retention {
    store: Db,
    recordings: Arc<Recordings>,
    config: RetentionConfig,
    counts: Arc<RetentionCounts>,
}

impl Retention {
    pub fn new(store: Db, recordings: Arc<Recordings>, config: RetentionConfig) -> Retention {
        Retention {
            store,
            recordings,
            config,
            counts: Arc::default(),
        }
    }

    /// Counts into `counts` (the metrics' counters) instead of its own.
    pub fn with_counts(self, counts: Arc<RetentionCounts>) -> Retention {
        Retention { counts, ..self }
    }

    /// The running totals, shared.
    pub fn counts(&self) -> Arc<RetentionCounts> {
        self.counts.clone()
    }

    /// Removes what expired by `now` (ms): recordings first (a file never outlives its row,
    /// nor an alarm its recordings' files), then alarms, unknown-account items and signals,
    /// each in batches of `batch` rows with `pause` after each full one. Adds what it removed
    /// to the counts as it goes. A part that fails does not stop the others (an alarm whose
    /// recording could not be deleted simply stays); the first failure is returned after all
    /// were tried.
    pub async fn sweep(&self, now: Millis) -> Result<Swept, RecordingError> {
        let alarms_before = cut(now, self.config.alarms);
        let signals_before = cut(now, self.config.signals);
        let (batch, pause) = (self.config.batch, self.config.pause);
        let counts = &self.counts;
        let store = &self.store;
        let mut failure = None;
        let mut tally = |done: Result<u64, RecordingError>| {
            done.unwrap_or_else(|e| {
                failure.get_or_insert(e);
                0
            })
        };
        let swept = Swept {
            recordings: tally(
                self.recordings
                    .sweep(now, alarms_before, batch, pause, &counts.recordings)
                    .await,
            ),
            alarms: tally(
                batches(batch, pause, &counts.alarms, || {
                    store.expire_alarms(alarms_before, batch)
                })
                .await,
            ),
            unknown_items: tally(
                batches(batch, pause, &counts.unknown_items, || {
                    store.expire_unknown_items(alarms_before, batch)
                })
                .await,
            ),
            signals: tally(
                batches(batch, pause, &counts.signals, || {
                    store.expire_signals(signals_before, batch)
                })
                .await,
            ),
        };
        failure.map_or(Ok(swept), Err)
    }

    /// Sweeps now and every `every` until `stop` changes, logging each sweep's totals.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let started = std::time::Instant::now();
            match self.sweep(crate::now_ms()).await {
                Ok(s) => tracing::info!(
                    signals = s.signals,
                    alarms = s.alarms,
                    recordings = s.recordings,
                    unknown_items = s.unknown_items,
                    "retention sweep removed {} signals, {} alarms, {} call recordings, {} \
                     unknown-account items in {:.1?}",
                    s.signals,
                    s.alarms,
                    s.recordings,
                    s.unknown_items,
                    started.elapsed()
                ),
                Err(e) => tracing::warn!("retention sweep: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.every) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// The time before which records kept `keep` are expired at `now`; nothing is before it when
/// they are kept for ever.
pub fn cut(now: Millis, keep: Option<Duration>) -> Millis {
    match keep {
        Some(keep) => now.saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX)),
        None => Millis::MIN,
    }
}

/// Runs `step` (which removes at most `batch` rows and says how many) until it removes fewer,
/// pausing `pause` after each full batch and adding each to `count`. Returns the total.
pub(crate) async fn batches<F, Fut>(
    batch: i64,
    pause: Duration,
    count: &Counter,
    mut step: F,
) -> Result<u64, RecordingError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let removed = step().await?;
        total += removed;
        count.inc_by(removed);
        if removed < batch.max(1) as u64 {
            return Ok(total);
        }
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forever_cuts_nothing() {
        assert_eq!(cut(1_000_000, None), Millis::MIN);
        assert_eq!(cut(90_000, Some(Duration::from_secs(60))), 30_000);
    }

    #[tokio::test]
    async fn batches_stop_at_the_first_short_one_and_count_each() {
        let mut left = [500u64, 500, 120, 0].into_iter();
        let count = Counter::default();
        count.inc_by(7);
        let total = batches(500, Duration::ZERO, &count, || {
            let n = left.next().unwrap();
            async move { Ok(n) }
        })
        .await
        .unwrap();
        assert_eq!(total, 1120);
        assert_eq!(count.get(), 1127);
        assert_eq!(left.next(), Some(0), "no batch after a short one");
    }
}
