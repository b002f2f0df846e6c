//! The intake: how receivers hand signals to the runtime and learn that they are stored.
//! A submission is acknowledged only once the runtime's commit that holds it is durable.

use tokio::sync::{mpsc, oneshot};
use watchpost_store::SignalRecord;

/// Identifies a transmission: a panel retransmits with the same account, sequence and data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    pub account: String,
    pub sequence: u16,
    pub data: String,
}

pub struct Submission {
    pub signals: Vec<SignalRecord>,
    pub fingerprint: Option<Fingerprint>,
    pub done: oneshot::Sender<bool>,
}

#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Submission>,
}

impl Intake {
    pub fn new() -> (Intake, mpsc::Receiver<Submission>) {
        let (tx, rx) = mpsc::channel(65_536);
        (Intake { tx }, rx)
    }

    /// Stores `signals`; true once they are durably stored (or were already, for a
    /// retransmission), false if they could not be.
    pub async fn submit(
        &self,
        signals: Vec<SignalRecord>,
        fingerprint: Option<Fingerprint>,
    ) -> bool {
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
