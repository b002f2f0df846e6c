//! The intake: how receivers hand signals to the runtime, and agents their inputs, and learn
//! that they are stored. Each is answered only once the runtime's commit that holds it is
//! durable.

use tokio::sync::{mpsc, oneshot};
use watchpost_store::{SignalRecord, Transmission};

pub struct Submission {
    pub signals: Vec<SignalRecord>,
    /// The DC-09 frame that carried them (or nothing, for a link test), to tell a resend
    /// from a new event; `None` for signals from elsewhere, never taken for resends.
    pub transmission: Option<Transmission>,
    /// The DC-09 receiver number and line prefix the frame was addressed to (`R1 L0`), if it
    /// named them: shown with an unknown account's item.
    pub line: Option<String>,
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

    /// Submissions queued for the runtime, not yet taken into a round.
    pub fn waiting(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Stores `signals` (and the frame that carried them); true once they are durably stored
    /// (or were already, for a retransmission), false if they could not be.
    pub async fn submit(
        &self,
        signals: Vec<SignalRecord>,
        transmission: Option<Transmission>,
    ) -> bool {
        self.submit_on_line(signals, transmission, None).await
    }

    /// `submit`, saying which DC-09 receiver number and line prefix the frame named.
    pub async fn submit_on_line(
        &self,
        signals: Vec<SignalRecord>,
        transmission: Option<Transmission>,
        line: Option<String>,
    ) -> bool {
        let (done, answer) = oneshot::channel();
        let submission = Submission {
            signals,
            transmission,
            line,
            done,
        };
        if self.tx.send(submission).await.is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// An agent's (or an adapter's) input to one alarm.
pub struct Command {
    pub alarm: watchpost_store::AlarmId,
    pub input: watchpost_core::Input,
    pub actor: String,
    pub done: oneshot::Sender<Result<(), watchpost_center::CenterError>>,
}

/// Where agents and adapters send inputs; each is answered once it is committed (or
/// refused).
#[derive(Clone)]
pub struct Commands {
    tx: mpsc::Sender<Command>,
}

impl Commands {
    pub fn new() -> (Commands, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(4096);
        (Commands { tx }, rx)
    }

    /// Inputs queued for the runtime, not yet taken into a round.
    pub fn waiting(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    pub async fn send(
        &self,
        alarm: watchpost_store::AlarmId,
        input: watchpost_core::Input,
        actor: &str,
    ) -> Result<(), watchpost_center::CenterError> {
        let (done, answer) = oneshot::channel();
        let command = Command {
            alarm,
            input,
            actor: actor.to_string(),
            done,
        };
        let stopped = || watchpost_center::CenterError::NotOpen(alarm);
        self.tx.send(command).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
