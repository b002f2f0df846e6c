//! Whether this node can do its work (issue 15, item 2): what `/readyz` checks (the store
//! answers, the DC-09 receivers listen, leases are held where several nodes run, the commit
//! loop is not stalled), and the watchdog that notices a stalled commit loop. README,
//! "Operating the center".

use crate::cluster::Cluster;
use crate::intake::{Commands, Intake};
use crate::metrics::Metrics;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use watchpost_store::Db;

/// Work waiting this long with no commit finishing is a stalled commit loop: a commit of a
/// full round takes milliseconds, and panels wait for their ACK some 20 to 30 s before they
/// send again, so 5 s means the store hangs (a lock held elsewhere, a disk or a network that
/// does not answer) well before panels give up. SQLite itself gives up on a lock after 10 s.
pub const STALL_AFTER: Duration = Duration::from_secs(5);
/// How long `/readyz` waits for the store's answer.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one answer of the store serves `/readyz`: the route needs no credentials, and
/// each check takes the writer that intake commits on (SQLite), so a load balancer polling
/// often, or anyone flooding the route, must not queue a check per request in front of
/// intake's commits. Far below any load balancer's interval.
pub const STORE_FRESH: Duration = Duration::from_secs(1);
/// The DC-09 receivers that must listen: TCP and UDP.
const RECEIVERS: usize = 2;
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// What the receivers and the runtime report, and the watchdog concludes.
#[derive(Default)]
pub struct Health {
    receivers: AtomicUsize,
    commits: AtomicU64,
    in_round: AtomicBool,
    stalled: AtomicBool,
    stopped: AtomicBool,
    store_check: StoreCheck,
}

/// The store's last answer to `/readyz` and when it was had: callers that come while it is
/// fresh, or while a check runs, take it instead of checking again.
#[derive(Default)]
struct StoreCheck(tokio::sync::Mutex<Option<(Instant, &'static str)>>);

impl StoreCheck {
    /// The store's state in `/readyz`'s words: the answer of `ping` (run within
    /// `STORE_TIMEOUT`), or one had less than `STORE_FRESH` ago. One check at a time.
    async fn check<F>(&self, ping: F) -> &'static str
    where
        F: std::future::Future<Output = Result<(), watchpost_store::StoreError>>,
    {
        let mut last = self.0.lock().await;
        if let Some((at, said)) = *last
            && at.elapsed() < STORE_FRESH
        {
            return said;
        }
        let said = match tokio::time::timeout(STORE_TIMEOUT, ping).await {
            Ok(Ok(())) => OK,
            Ok(Err(e)) => {
                tracing::debug!("readiness: the store failed: {e}");
                "failed"
            }
            Err(_) => "no answer within 2s",
        };
        *last = Some((Instant::now(), said));
        said
    }
}

/// Held by a receiver's loop while it listens.
pub struct Listening(Arc<Health>);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.receivers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Held by the runtime while it runs: dropped (its task ended, whatever the cause), the
/// commit loop is reported stopped.
pub struct Running(Arc<Health>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Relaxed);
    }
}

impl Health {
    pub fn listening(self: &Arc<Self>) -> Listening {
        self.receivers.fetch_add(1, Ordering::Relaxed);
        Listening(self.clone())
    }

    pub fn running(self: &Arc<Self>) -> Running {
        Running(self.clone())
    }

    /// The runtime took work into a round (true) or finished its commit (false).
    pub fn round(&self, working: bool) {
        if !working {
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
        self.in_round.store(working, Ordering::Relaxed);
    }
}

/// One check's outcome: `ok`, or why not, in fixed words that reveal nothing of the setup.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub store: &'static str,
    pub receivers: &'static str,
    pub leases: &'static str,
    pub commit_loop: &'static str,
}

const OK: &str = "ok";

/// Runs every check; the store's within `STORE_TIMEOUT`, at most once per `STORE_FRESH`.
pub async fn readiness(health: &Health, store: &Db, cluster: &Cluster) -> Readiness {
    let store = health.store_check.check(store.ping()).await;
    let receivers = if health.receivers.load(Ordering::Relaxed) >= RECEIVERS {
        OK
    } else {
        "not listening"
    };
    let leases = if holds_leases(cluster) || alone(cluster) {
        OK
    } else {
        "none held"
    };
    let commit_loop = if health.stopped.load(Ordering::Relaxed) {
        "stopped"
    } else if health.stalled.load(Ordering::Relaxed) {
        "stalled"
    } else {
        OK
    };
    Readiness {
        ready: [store, receivers, leases, commit_loop]
            .iter()
            .all(|c| *c == OK),
        store,
        receivers,
        leases,
        commit_loop,
    }
}

/// A node alone on a SQLite file drives every account whatever its leases say. Not a second
/// node started on the same file: it drives nothing until the first one stops.
fn alone(cluster: &Cluster) -> bool {
    !cluster.shared()
        && cluster
            .view()
            .live_nodes
            .iter()
            .all(|node| node == cluster.name())
}

fn holds_leases(cluster: &Cluster) -> bool {
    let view = cluster.view();
    let now = crate::now_ms();
    view.leases
        .iter()
        .any(|l| l.node == cluster.name() && l.expires_at >= now)
}

/// The watchdog: every second, whether work has been waiting (submissions or inputs queued,
/// or a round taken and not committed) for `STALL_AFTER` with no commit finishing. Says so in
/// the log once when the loop stalls and once when it recovers.
pub async fn watch_commits(
    health: Arc<Health>,
    intake: Intake,
    commands: Commands,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut waiting_since: Option<Instant> = None;
    let mut commits = health.commits.load(Ordering::Relaxed);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(WATCH_EVERY) => {}
            _ = stop.changed() => return,
        }
        let now = Instant::now();
        let done = health.commits.load(Ordering::Relaxed);
        let busy = health.in_round.load(Ordering::Relaxed)
            || intake.waiting() > 0
            || commands.waiting() > 0;
        waiting_since = match (busy, done != commits) {
            (false, _) => None,
            // A commit finished since the last look: the wait starts again now.
            (true, true) => Some(now),
            (true, false) => Some(waiting_since.unwrap_or(now)),
        };
        commits = done;
        let stalled = waiting_since.is_some_and(|since| now - since >= STALL_AFTER);
        if stalled != health.stalled.swap(stalled, Ordering::Relaxed) {
            if stalled {
                tracing::error!(
                    "commit loop stalled: work has waited {}s and no commit finished",
                    STALL_AFTER.as_secs()
                );
            } else {
                tracing::info!("commit loop recovered: commits finish again");
            }
        }
        metrics.commit_stalled.set(i64::from(stalled));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    async fn counted(pings: Arc<AtomicU32>) -> Result<(), watchpost_store::StoreError> {
        pings.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }

    #[tokio::test]
    async fn a_flood_of_readiness_checks_asks_the_store_once_a_second() {
        let check = Arc::new(StoreCheck::default());
        let pings = Arc::new(AtomicU32::new(0));
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let (check, pings) = (check.clone(), pings.clone());
            callers.spawn(async move { check.check(counted(pings)).await });
        }
        while let Some(answer) = callers.join_next().await {
            assert_eq!(answer.unwrap(), OK);
        }
        assert_eq!(
            pings.load(Ordering::Relaxed),
            1,
            "one check for 100 callers"
        );
        tokio::time::sleep(STORE_FRESH).await;
        assert_eq!(check.check(counted(pings.clone())).await, OK);
        assert_eq!(
            pings.load(Ordering::Relaxed),
            2,
            "a stale answer is checked again"
        );
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_is_said_so_and_checked_again_later() {
        let check = StoreCheck::default();
        let hung = std::future::pending::<Result<(), watchpost_store::StoreError>>();
        assert_eq!(check.check(hung).await, "no answer within 2s");
        let pings = Arc::new(AtomicU32::new(0));
        tokio::time::sleep(STORE_FRESH).await;
        assert_eq!(
            check.check(counted(pings.clone())).await,
            OK,
            "it came back"
        );
        assert_eq!(pings.load(Ordering::Relaxed), 1);
    }
}
