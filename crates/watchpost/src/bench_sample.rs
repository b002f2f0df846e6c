//! What `bench intake` samples of the receiver's process while it loads it and after: resident
//! memory (at the start of the measured window, its peak, at the end, after an idle spell) and
//! CPU time (as a share of one core, during the load and during the idle spell). Memory that
//! a load takes and never gives back, or a center that keeps a core busy doing nothing, shows
//! here.

use crate::bench_proc::{cpu_time, rss_bytes};
use serde::Serialize;
use std::time::Duration;
use tokio::time::{Instant, sleep_until};

/// How often resident memory is read during the load, for its peak.
const EVERY: Duration = Duration::from_millis(200);

/// The receiver process's memory (MB, 10^6 bytes) and CPU (% of one core).
#[derive(Debug, Clone, Serialize)]
pub struct ProcessSamples {
    pub pid: u32,
    /// When the measured window starts (after the warm-up).
    pub rss_start_mb: f64,
    /// The highest reading during the measured window (read every 200 ms).
    pub rss_peak_mb: f64,
    /// When the load ends.
    pub rss_end_mb: f64,
    /// CPU time during the measured window over its length.
    pub cpu_load_pct: f64,
    /// How long the process was watched idle after the load (`--after`), s.
    pub after_s: f64,
    /// At the end of the idle spell; absent without one.
    pub rss_after_mb: Option<f64>,
    /// CPU time during the idle spell over its length; absent without one.
    pub cpu_after_pct: Option<f64>,
}

/// Samples process `pid` from `from` to `end` (the measured window), then for `after` more.
/// Errors when the process cannot be read (gone, or another user's).
pub async fn sample(
    pid: u32,
    from: Instant,
    end: Instant,
    after: Duration,
) -> anyhow::Result<ProcessSamples> {
    sleep_until(from).await;
    let (cpu_start, rss_start) = (cpu_time(Some(pid))?, rss_bytes(pid)?);
    let mut peak = rss_start;
    let mut next = Instant::now() + EVERY;
    while next < end {
        sleep_until(next).await;
        peak = peak.max(rss_bytes(pid)?);
        next += EVERY;
    }
    sleep_until(end).await;
    let measured = Instant::now() - from;
    let (cpu_end, rss_end) = (cpu_time(Some(pid))?, rss_bytes(pid)?);
    let mut samples = ProcessSamples {
        pid,
        rss_start_mb: mb(rss_start),
        rss_peak_mb: mb(peak.max(rss_end)),
        rss_end_mb: mb(rss_end),
        cpu_load_pct: share(cpu_end - cpu_start, measured),
        after_s: after.as_secs_f64(),
        rss_after_mb: None,
        cpu_after_pct: None,
    };
    if !after.is_zero() {
        let idle_from = Instant::now();
        sleep_until(idle_from + after).await;
        let idle = Instant::now() - idle_from;
        samples.rss_after_mb = Some(mb(rss_bytes(pid)?));
        samples.cpu_after_pct = Some(share(cpu_time(Some(pid))? - cpu_end, idle));
    }
    Ok(samples)
}

fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e5).round() / 10.0
}

/// `used` as a percentage of one core over `over`, to 0.1 %.
fn share(used: Duration, over: Duration) -> f64 {
    let pct = 100.0 * used.as_secs_f64() / over.as_secs_f64().max(1e-9);
    (pct * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_megabytes_round_to_a_tenth() {
        assert_eq!(
            share(Duration::from_millis(250), Duration::from_secs(1)),
            25.0
        );
        assert_eq!(
            share(Duration::from_millis(1500), Duration::from_secs(1)),
            150.0
        );
        assert_eq!(mb(123_456_789), 123.5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_busy_process_shows_its_cpu_and_memory() {
        // This process, kept busy by a spinning thread for the measured window.
        let start = Instant::now();
        let (from, end) = (start, start + Duration::from_millis(600));
        let spin = std::thread::spawn(move || {
            let mut x = 0u64;
            while Instant::now() < end {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        });
        let pid = std::process::id();
        let samples = sample(pid, from, end, Duration::from_millis(300))
            .await
            .expect("this process can be read");
        spin.join().unwrap();
        // Well under a full core: the machine may be busy with other work.
        assert!(samples.cpu_load_pct > 10.0, "{samples:?}");
        assert!(samples.rss_peak_mb >= samples.rss_start_mb, "{samples:?}");
        assert!(samples.rss_start_mb > 0.0, "{samples:?}");
        assert!(samples.rss_after_mb.is_some(), "{samples:?}");
        assert!(samples.cpu_after_pct.is_some(), "{samples:?}");
    }
}
