//! What the runtime owes rounds it has written but the disk may not hold yet. A round is
//! committed without waiting for the disk (`Center::commit_changes_unsynced`); its senders are
//! told "stored", its commands answered and its actions handed on only once a sync that
//! started after its commit has returned (`Store::sync`). One sync runs at a time and covers
//! every round written before it started, so while the disk takes a few rounds the writer
//! goes on with the next: group commit at the disk, the guarantee of an fsync per commit.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use watchpost_center::{CenterError, Effect};
use watchpost_store::{AlarmId, Db, StoreError};

/// One written round's answers.
pub struct Owed {
    /// Each submission's sender: told true once durable, false if the sync failed.
    pub senders: Vec<oneshot::Sender<bool>>,
    /// The commands the round applied, answered `Ok` once durable.
    pub commands: Vec<(AlarmId, oneshot::Sender<Result<(), CenterError>>)>,
    /// The actions the round decided, handed to the adapters once durable.
    pub effects: Vec<Effect>,
    /// Signals and inputs in the round (the commit-size metric).
    pub size: usize,
    /// When the round's commit started (the commit-duration metric counts to its sync).
    pub started: Instant,
}

impl Owed {
    /// Tells everyone waiting on the round that nothing of it can be counted on.
    pub fn fail(self) {
        for sender in self.senders {
            let _ = sender.send(false);
        }
        for (alarm, sender) in self.commands {
            let _ = sender.send(Err(CenterError::Refused(
                alarm,
                "the store failed before the input was on disk; try again".into(),
            )));
        }
    }
}

/// Starts one sync of the store (`Store::sync`).
type Sync = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>> + Send>;

/// A sync running, and the rounds it covers.
struct Flight {
    sync: JoinHandle<Result<(), StoreError>>,
    rounds: Vec<Owed>,
}

/// The rounds written and not yet known durable, and the sync in flight.
pub struct Syncs {
    sync: Sync,
    /// Written after the sync in flight started: the next sync covers them.
    waiting: Vec<Owed>,
    /// The sync in flight and the rounds it covers.
    flight: Option<Flight>,
}

impl Syncs {
    pub fn new(store: Db) -> Syncs {
        Syncs::with(Box::new(move || {
            let store = store.clone();
            Box::pin(async move { store.sync().await })
        }))
    }

    fn with(sync: Sync) -> Syncs {
        Syncs {
            sync,
            waiting: Vec::new(),
            flight: None,
        }
    }

    /// A round was written: it is owed its answers once a sync started from now has returned.
    pub fn written(&mut self, round: Owed) {
        self.waiting.push(round);
        self.start();
    }

    /// Whether any written round is still owed its answers.
    pub fn owing(&self) -> bool {
        self.flight.is_some() || !self.waiting.is_empty()
    }

    fn start(&mut self) {
        if self.flight.is_none() && !self.waiting.is_empty() {
            self.flight = Some(Flight {
                sync: tokio::spawn((self.sync)()),
                rounds: std::mem::take(&mut self.waiting),
            });
        }
    }

    /// The rounds the sync in flight made durable, once it returns (and the next sync, for
    /// rounds written meanwhile, has started); never resolves while none is in flight.
    /// Cancel-safe. On a failed sync, every round still owed is failed here and the error
    /// returned: what the disk holds is unknown, and the center must resume from the store.
    pub async fn durable(&mut self) -> Result<Vec<Owed>, CenterError> {
        let Some(flight) = &mut self.flight else {
            return std::future::pending().await;
        };
        let result = match (&mut flight.sync).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down, and this task with it.
            Err(_) => return std::future::pending().await,
        };
        let rounds = self.flight.take().expect("in flight").rounds;
        let failure = match result {
            Ok(()) => {
                self.start();
                return Ok(rounds);
            }
            Err(e) => CenterError::Store(e),
        };
        for round in rounds.into_iter().chain(self.waiting.drain(..)) {
            round.fail();
        }
        Err(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use watchpost_store::SqliteStore;

    fn round() -> (Owed, oneshot::Receiver<bool>) {
        let (tx, rx) = oneshot::channel();
        let owed = Owed {
            senders: vec![tx],
            commands: Vec::new(),
            effects: Vec::new(),
            size: 1,
            started: Instant::now(),
        };
        (owed, rx)
    }

    #[tokio::test]
    async fn a_round_is_answered_only_by_a_sync_started_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let store: Db = Arc::new(SqliteStore::open(&dir.path().join("c.db")).await.unwrap());
        let mut syncs = Syncs::new(store);
        assert!(!syncs.owing());
        let (first, mut first_told) = round();
        syncs.written(first);
        // Written while the first sync is in flight: that sync does not cover it.
        let (second, mut second_told) = round();
        syncs.written(second);
        let durable = syncs.durable().await.expect("synced");
        assert_eq!(
            durable.len(),
            1,
            "the first sync covers the first round only"
        );
        assert!(
            first_told.try_recv().is_err(),
            "answered by the caller, not here"
        );
        assert!(second_told.try_recv().is_err());
        assert!(
            syncs.owing(),
            "the second round has a sync of its own in flight"
        );
        let durable = syncs.durable().await.expect("synced");
        assert_eq!(durable.len(), 1);
        assert!(!syncs.owing());
    }

    #[tokio::test]
    async fn a_failed_sync_answers_every_owed_round_false() {
        let tries = Arc::new(AtomicUsize::new(0));
        let counted = tries.clone();
        let mut syncs = Syncs::with(Box::new(move || {
            counted.fetch_add(1, Ordering::Relaxed);
            Box::pin(async { Err(StoreError::Corrupt("the disk is gone".into())) })
        }));
        let (first, first_told) = round();
        let (second, second_told) = round();
        syncs.written(first);
        syncs.written(second);
        assert!(syncs.durable().await.is_err());
        assert!(!first_told.await.expect("answered"));
        assert!(!second_told.await.expect("answered"));
        assert!(!syncs.owing());
        assert_eq!(
            tries.load(Ordering::Relaxed),
            1,
            "no sync after a failed one"
        );
    }
}
