//! The runtime: drives the center in real time. It routes committed signals in the order
//! they were stored, wakes alarms when their timers fall due, commits once per round (group
//! commit for the engine's log too), and hands the resulting actions to the adapters.

use crate::intake::Committed;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use watchpost_center::{Center, CenterError, Effect};
use watchpost_store::{SignalRecord, Store};

/// Routes one stored signal; an unknown account or an input an alarm refuses is reported
/// and skipped, a store failure stops the center.
async fn route<S: Store>(
    center: &mut Center<S>,
    id: i64,
    signal: &SignalRecord,
) -> Result<(), CenterError> {
    match center.route(crate::now_ms(), signal, &signal.source).await {
        Ok(_) => {}
        Err(CenterError::UnknownAccount(account)) => {
            tracing::warn!("signal {id} from account {account}, which is not enrolled: stored only");
        }
        Err(CenterError::Rejected(alarm, why)) => {
            tracing::warn!("signal {id}: alarm {alarm} refused it: {why}");
        }
        Err(e) => return Err(e),
    }
    center.routed_upto(id);
    Ok(())
}

/// Routes what was stored but never routed (the center stopped in between).
pub async fn catch_up<S: Store>(center: &mut Center<S>) -> Result<Vec<Effect>, CenterError> {
    let backlog = center.store().unrouted_signals().await?;
    if !backlog.is_empty() {
        tracing::info!("routing {} signals stored before the last stop", backlog.len());
    }
    for (id, signal) in &backlog {
        route(center, *id, signal).await?;
    }
    center.commit().await
}

pub async fn run<S: Store>(
    mut center: Center<S>,
    mut committed: mpsc::UnboundedReceiver<Committed>,
    effects: mpsc::UnboundedSender<Vec<Effect>>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), CenterError> {
    loop {
        let wake = center
            .next_timer()
            .map(|at| Duration::from_millis((at - crate::now_ms()).max(0) as u64));
        tokio::select! {
            batch = committed.recv() => match batch {
                Some(batch) => {
                    for (id, signal) in &batch {
                        route(&mut center, *id, signal).await?;
                    }
                }
                None => break,
            },
            _ = tokio::time::sleep(wake.unwrap_or(Duration::MAX)), if wake.is_some() => {
                center.fire_due(crate::now_ms())?;
            }
            _ = stop.changed() => break,
        }
        // Whatever else arrived meanwhile joins this round's commit.
        while let Ok(batch) = committed.try_recv() {
            for (id, signal) in &batch {
                route(&mut center, *id, signal).await?;
            }
        }
        let done = center.commit().await?;
        if !done.is_empty() {
            let _ = effects.send(done);
        }
    }
    // Route what the intake committed before it stopped, so nothing waits for a restart.
    while let Ok(batch) = committed.try_recv() {
        for (id, signal) in &batch {
            route(&mut center, *id, signal).await?;
        }
    }
    let done = center.commit().await?;
    if !done.is_empty() {
        let _ = effects.send(done);
    }
    Ok(())
}
