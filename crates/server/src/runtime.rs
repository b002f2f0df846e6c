//! The runtime: drives the center in real time. Each round it takes every submission that is
//! waiting (and every timer that is due), records and routes the signals, and commits all of
//! it — signals, alarm logs, closings — in one transaction (group commit). Only then are the
//! senders told their signals are stored and the actions handed to the adapters. A
//! retransmission of a signal already stored is acknowledged again and not stored twice.

use crate::board::Board;
use crate::intake::{Command, Fingerprint, Submission};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use watchpost_center::{Center, CenterError, Effect};
use watchpost_core::Millis;
use watchpost_store::{SignalRecord, Store};

/// How long a retransmission is recognised.
const RETRANSMIT_WINDOW_MS: Millis = 5 * 60 * 1000;
const MAX_ROUND: usize = 8192;

/// Transmissions recently stored, by fingerprint. Kept in the store too (in the same commit
/// as their signals), so a panel that resends after a restart is still recognised.
struct Seen {
    at: HashMap<Fingerprint, Millis>,
    pruned_at: Millis,
}

impl Seen {
    async fn load<S: Store>(store: &S, now: Millis) -> Result<Seen, CenterError> {
        let at = store
            .recent_transmissions(now - RETRANSMIT_WINDOW_MS)
            .await?
            .into_iter()
            .map(|(fingerprint, at)| (Fingerprint(fingerprint), at))
            .collect();
        Ok(Seen { at, pruned_at: now })
    }

    fn recent(&self, f: &Fingerprint, now: Millis) -> bool {
        self.at
            .get(f)
            .is_some_and(|at| now - at < RETRANSMIT_WINDOW_MS)
    }

    async fn prune<S: Store>(&mut self, store: &S, now: Millis) -> Result<(), CenterError> {
        if now - self.pruned_at > RETRANSMIT_WINDOW_MS {
            self.at.retain(|_, at| now - *at < RETRANSMIT_WINDOW_MS);
            store
                .forget_transmissions(now - RETRANSMIT_WINDOW_MS)
                .await?;
            self.pruned_at = now;
        }
        Ok(())
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

pub struct Channels {
    pub submissions: mpsc::Receiver<Submission>,
    pub commands: mpsc::Receiver<Command>,
    pub effects: mpsc::UnboundedSender<Vec<Effect>>,
    pub stop: watch::Receiver<bool>,
}

pub async fn run<S: Store>(
    mut center: Center<S>,
    board: Arc<Board>,
    channels: Channels,
) -> Result<(), CenterError> {
    let Channels {
        mut submissions,
        mut commands,
        effects,
        mut stop,
    } = channels;
    board.fill(&center);
    let mut seen = Seen::load(center.store(), crate::now_ms()).await?;
    let mut waiting: Vec<(oneshot::Sender<bool>, Option<Fingerprint>)> = Vec::new();
    let mut stopping = false;
    while !stopping {
        let wake = center
            .next_timer()
            .map(|at| Duration::from_millis((at - crate::now_ms()).max(0) as u64));
        let mut round = Vec::new();
        let mut orders = Vec::new();
        tokio::select! {
            got = submissions.recv() => match got {
                Some(first) => round.push(first),
                None => stopping = true,
            },
            got = commands.recv() => if let Some(first) = got { orders.push(first) },
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
        while orders.len() < MAX_ROUND {
            match commands.try_recv() {
                Ok(more) => orders.push(more),
                Err(_) => break,
            }
        }
        let now = crate::now_ms();
        let mut answered = Vec::new();
        for order in orders {
            match center.input(now, order.alarm, order.input, &order.actor) {
                Ok(()) => answered.push(order.done),
                Err(e @ (CenterError::Rejected(..) | CenterError::NotOpen(_))) => {
                    let _ = order.done.send(Err(e));
                }
                Err(e) => return Err(e),
            }
        }
        let mut in_round = HashSet::new();
        for submission in round {
            let repeat = submission
                .fingerprint
                .as_ref()
                .is_some_and(|f| seen.recent(f, now) || in_round.contains(f));
            if !repeat {
                if let Some(f) = &submission.fingerprint {
                    in_round.insert(f.clone());
                    center.remember_transmission(f.0.clone(), now);
                }
                for signal in submission.signals {
                    take(&mut center, now, signal).await?;
                }
            }
            waiting.push((submission.done, submission.fingerprint));
        }
        center.fire_due(now)?;
        match center.commit_changes().await {
            Ok((done, touched)) => {
                board.update(&center, &touched);
                for (sender, fingerprint) in waiting.drain(..) {
                    if let Some(f) = fingerprint {
                        seen.at.insert(f, now);
                    }
                    let _ = sender.send(true);
                }
                for sender in answered {
                    let _ = sender.send(Ok(()));
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
        seen.prune(center.store(), now).await?;
    }
    Ok(())
}
