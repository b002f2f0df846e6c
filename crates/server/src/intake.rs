//! The intake: every received signal is committed to the store before its sender is told it
//! was accepted. Submissions queue up and are written in batches, one transaction each (group
//! commit), so one fsync acknowledges many panels. A retransmission of a signal already
//! committed is acknowledged again and not stored twice.

use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use watchpost_core::Millis;
use watchpost_store::{Batch, SignalRecord, Store};

/// Identifies a transmission: a panel retransmits with the same account, sequence and data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub account: String,
    pub sequence: u16,
    pub data: String,
}

struct Submission {
    signals: Vec<SignalRecord>,
    fingerprint: Option<Fingerprint>,
    done: oneshot::Sender<bool>,
}

/// Signals as committed, with their ids, for the runtime to route.
pub type Committed = Vec<(i64, SignalRecord)>;

#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Submission>,
}

/// How long a retransmission is recognised.
const RETRANSMIT_WINDOW_MS: Millis = 5 * 60 * 1000;
const MAX_BATCH: usize = 4096;

impl Intake {
    /// Starts the writer; committed signals are sent on `routed`.
    pub fn start<S: Store + 'static>(
        store: S,
        routed: mpsc::UnboundedSender<Committed>,
    ) -> (Intake, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(65_536);
        let task = tokio::spawn(write_loop(store, rx, routed));
        (Intake { tx }, task)
    }

    /// Commits `signals`; true once they are durably stored (or were already, for a
    /// retransmission), false if they could not be stored.
    pub async fn submit(&self, signals: Vec<SignalRecord>, fingerprint: Option<Fingerprint>) -> bool {
        let (done, answer) = oneshot::channel();
        let submission = Submission {
            signals,
            fingerprint,
            done,
        };
        if self.tx.send(submission).await.is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

async fn write_loop<S: Store>(
    store: S,
    mut rx: mpsc::Receiver<Submission>,
    routed: mpsc::UnboundedSender<Committed>,
) {
    let mut seen: HashMap<Fingerprint, Millis> = HashMap::new();
    let mut pruned_at = crate::now_ms();
    while let Some(first) = rx.recv().await {
        let mut queue = vec![first];
        while queue.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => queue.push(more),
                Err(_) => break,
            }
        }
        let now = crate::now_ms();
        let mut signals = Vec::new();
        let mut waiting = Vec::with_capacity(queue.len());
        let mut in_batch = std::collections::HashSet::new();
        for submission in queue {
            let repeat = submission.fingerprint.as_ref().is_some_and(|f| {
                seen.get(f).is_some_and(|at| now - at < RETRANSMIT_WINDOW_MS) || in_batch.contains(f)
            });
            if repeat {
                // Stored already, or stored by this very batch: acknowledge with it.
                waiting.push((submission.done, None));
                continue;
            }
            if let Some(f) = &submission.fingerprint {
                in_batch.insert(f.clone());
            }
            signals.extend(submission.signals);
            waiting.push((submission.done, submission.fingerprint));
        }
        let batch = Batch {
            signals,
            ..Batch::default()
        };
        match store.write(&batch).await {
            Ok(ids) => {
                for (done, fingerprint) in waiting {
                    if let Some(f) = fingerprint {
                        seen.insert(f, now);
                    }
                    let _ = done.send(true);
                }
                if !ids.is_empty() {
                    let _ = routed.send(ids.into_iter().zip(batch.signals).collect());
                }
            }
            Err(e) => {
                tracing::error!("signals could not be stored, not acknowledged: {e}");
                for (done, _) in waiting {
                    let _ = done.send(false);
                }
            }
        }
        if now - pruned_at > RETRANSMIT_WINDOW_MS {
            seen.retain(|_, at| now - *at < RETRANSMIT_WINDOW_MS);
            pruned_at = now;
        }
    }
}
