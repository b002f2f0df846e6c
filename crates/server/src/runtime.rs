//! The runtime: drives the center in real time. Each round it takes every submission that is
//! waiting (and every timer that is due), records and routes the signals, and commits all of
//! it — signals, alarm logs, closings — in one transaction (group commit). Only then are the
//! senders told their signals are stored and the actions handed to the adapters. A
//! retransmission of a signal already stored is acknowledged again and not stored twice.

use crate::intake::{Fingerprint, Submission};
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use watchpost_center::{Center, CenterError, Effect};
use watchpost_core::Millis;
use watchpost_store::{SignalRecord, Store};

/// How long a retransmission is recognised.
const RETRANSMIT_WINDOW_MS: Millis = 5 * 60 * 1000;
const MAX_ROUND: usize = 8192;

/// Retransmissions recently stored, by fingerprint.
#[derive(Default)]
struct Seen {
    at: HashMap<Fingerprint, Millis>,
    pruned_at: Millis,
}

impl Seen {
    fn recent(&self, f: &Fingerprint, now: Millis) -> bool {
        self.at
            .get(f)
            .is_some_and(|at| now - at < RETRANSMIT_WINDOW_MS)
    }

    fn prune(&mut self, now: Millis) {
        if now - self.pruned_at > RETRANSMIT_WINDOW_MS {
            self.at.retain(|_, at| now - *at < RETRANSMIT_WINDOW_MS);
            self.pruned_at = now;
        }
    }
}

/// Records and routes one signal; an unknown account or an input an alarm refuses is
/// reported (the signal stays stored), a store failure stops the center.
async fn take<S: Store>(
    center: &mut Center<S>,
    now: Millis,
    signal: SignalRecord,
) -> Result<(), CenterError> {
    let actor = signal.source.clone();
    match center.receive(now, signal, &actor).await {
        Ok(_) => Ok(()),
        Err(CenterError::UnknownAccount(account)) => {
            tracing::warn!("signal from account {account}, which is not enrolled: stored only");
            Ok(())
        }
        Err(CenterError::Rejected(alarm, why)) => {
            tracing::warn!("alarm {alarm} refused a signal: {why}");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

pub async fn run<S: Store>(
    mut center: Center<S>,
    mut submissions: mpsc::Receiver<Submission>,
    effects: mpsc::UnboundedSender<Vec<Effect>>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CenterError> {
    let mut seen = Seen::default();
    let mut waiting: Vec<(oneshot::Sender<bool>, Option<Fingerprint>)> = Vec::new();
    let mut stopping = false;
    while !stopping {
        let wake = center
            .next_timer()
            .map(|at| Duration::from_millis((at - crate::now_ms()).max(0) as u64));
        let mut round = Vec::new();
        tokio::select! {
            got = submissions.recv() => match got {
                Some(first) => round.push(first),
                None => stopping = true,
            },
            _ = tokio::time::sleep(wake.unwrap_or(Duration::MAX)), if wake.is_some() => {}
            _ = stop.changed() => stopping = true,
        }
        // Whatever else is waiting joins this round's commit.
        while round.len() < MAX_ROUND {
            match submissions.try_recv() {
                Ok(more) => round.push(more),
                Err(_) => break,
            }
        }
        let now = crate::now_ms();
        let mut in_round = HashSet::new();
        for submission in round {
            let repeat = submission
                .fingerprint
                .as_ref()
                .is_some_and(|f| seen.recent(f, now) || in_round.contains(f));
            if !repeat {
                if let Some(f) = &submission.fingerprint {
                    in_round.insert(f.clone());
                }
                for signal in submission.signals {
                    take(&mut center, now, signal).await?;
                }
            }
            waiting.push((submission.done, submission.fingerprint));
        }
        center.fire_due(now)?;
        match center.commit().await {
            Ok(done) => {
                for (sender, fingerprint) in waiting.drain(..) {
                    if let Some(f) = fingerprint {
                        seen.at.insert(f, now);
                    }
                    let _ = sender.send(true);
                }
                if !done.is_empty() {
                    let _ = effects.send(done);
                }
            }
            Err(e) => {
                // Nothing of this round is stored: nobody is told otherwise, and the center
                // stops, to resume from what the store holds.
                for (sender, _) in waiting.drain(..) {
                    let _ = sender.send(false);
                }
                return Err(e);
            }
        }
        seen.prune(now);
    }
    Ok(())
}
