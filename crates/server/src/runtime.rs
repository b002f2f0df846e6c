//! The runtime: drives the center in real time. Each round it takes every submission that is
//! waiting (and every timer that is due, and every inbox item other nodes posted for the
//! partitions it drives), records and routes the signals, and commits all of it — signals,
//! alarm logs, closings — in one transaction (group commit). The commit does not wait for the
//! disk: the next round is routed and written while one fsync makes the last ones durable
//! (`crate::durable`), and only then are the senders told their signals are stored and the
//! actions handed to the adapters. A retransmission
//! (`crate::retransmit`) is acknowledged again and not stored twice. Between rounds it keeps
//! its leases (`crate::cluster`). A commit the store fails stops the center; a failure of the
//! housekeeping around rounds is waited out, so a node lives through a store outage that
//! nothing was received in (`crate::health` reports it).

use crate::alarm_metrics::AlarmTimings;
use crate::board::Board;
use crate::cluster::Cluster;
use crate::durable::{Owed, Syncs};
use crate::health::Health;
use crate::intake::{Command, Submission};
use crate::metrics::Metrics;
use crate::retransmit::LastFrames;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use watchpost_center::{Center, CenterError, Effect};
use watchpost_core::Millis;
use watchpost_store::{Db, SignalRecord, StoreError, partition_of};

const MAX_ROUND: usize = 8192;
/// How often the inbox is read for items other nodes posted.
const INBOX_EVERY: Duration = Duration::from_millis(100);
/// How often the store's per-connection caches are given back (`Store::release_memory`):
/// after a flood, SQLite's page caches (up to 40 MiB: two writers, four readers) would otherwise stay filled for as
/// long as their connections live. Refilling them from the file cache once a minute costs
/// the commits next to nothing.
const RELEASE_MEMORY_EVERY_MS: i64 = 60_000;
const INBOX_BATCH: i64 = 2000;
/// How often a command posted to another node is checked for its outcome, and for how long.
const OUTCOME_EVERY: Duration = Duration::from_millis(20);
const OUTCOME_WAIT: Duration = Duration::from_secs(30);

/// SQLite allocates with the C library's malloc, not the process's jemalloc: glibc keeps
/// what its per-thread arenas freed unless asked to return it (`malloc_trim(3)`).
fn give_back_c_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the C heap to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Records and routes one signal; an unknown account or an input an alarm refuses is
/// reported (the signal stays stored; from an unknown account, an alarm or trouble event also
/// makes or joins an unknown-account item in the same commit), a store failure stops the center.
async fn take(
    center: &mut Center,
    now: Millis,
    signal: SignalRecord,
    metrics: &Metrics,
) -> Result<(), CenterError> {
    let actor = signal.source.clone();
    let queued_before = center.pending_unknown();
    match center.receive(now, signal, &actor).await {
        Ok(_) => Ok(()),
        Err(CenterError::UnknownAccount(account)) => {
            metrics.unknown_signals.inc();
            if center.pending_unknown() > queued_before {
                tracing::warn!(%account, "alarm from an account that is not enrolled: queued");
            } else {
                tracing::warn!(
                    %account,
                    "signal from an account that is not enrolled: stored only"
                );
            }
            Ok(())
        }
        Err(CenterError::Rejected(alarm, why)) => {
            tracing::warn!(alarm, "the alarm refused a signal: {why}");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Hands a command for an alarm another node drives to that node, and answers it with the
/// outcome that node gives.
fn forward(store: Db, board: Arc<Board>, order: Command, partition: watchpost_store::Partition) {
    tokio::spawn(async move {
        let alarm = order.alarm;
        let answer = async {
            let id = store
                .post_command(
                    partition,
                    crate::now_ms(),
                    alarm,
                    &order.input,
                    &order.actor,
                )
                .await?;
            let deadline = tokio::time::Instant::now() + OUTCOME_WAIT;
            while tokio::time::Instant::now() < deadline {
                if let Some(outcome) = store.command_outcome(id).await? {
                    return Ok(CenterError::from_outcome(alarm, &outcome));
                }
                tokio::time::sleep(OUTCOME_EVERY).await;
            }
            Ok::<_, StoreError>(Err(CenterError::Refused(
                alarm,
                "the node driving this alarm has not answered yet; the input is queued and \
                 will be applied when it does"
                    .into(),
            )))
        };
        let result = match answer.await {
            Ok(result) => result,
            Err(e) => Err(CenterError::Store(e)),
        };
        if result.is_ok() {
            // Whoever sent it reads the alarm next: show them what their input did.
            board.reload(&store, alarm).await;
        }
        let _ = order.done.send(result);
    });
}

pub struct Channels {
    pub submissions: mpsc::Receiver<Submission>,
    pub commands: mpsc::Receiver<Command>,
    pub effects: mpsc::UnboundedSender<Vec<Effect>>,
    /// Alarms this node took over, for the adapters to carry their calls on.
    pub adopted: mpsc::UnboundedSender<Vec<watchpost_store::AlarmId>>,
    /// The plans new alarms run (`crate::plans::follow`).
    pub plans: watch::Receiver<watchpost_core::plan_book::PlanBook>,
    pub stop: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
    /// Told when rounds start and commits finish, for the watchdog (`crate::health`).
    pub health: Arc<Health>,
}

/// Whether the store failed the housekeeping around rounds (keeping leases, reading the inbox,
/// forgetting old frames): said once when it starts failing and once when it answers again,
/// not every tick.
#[derive(Default)]
struct Housekeeping {
    failing: bool,
}

impl Housekeeping {
    /// A store failure here is waited out (the next tick tries again): nothing accepted rides
    /// on it, and a lease not renewed in time is fenced off at the next commit. Other
    /// failures stop the center.
    fn check<T>(
        &mut self,
        what: &str,
        result: Result<T, CenterError>,
    ) -> Result<Option<T>, CenterError> {
        match result {
            Ok(done) => {
                if std::mem::take(&mut self.failing) {
                    tracing::info!("the store answers again");
                }
                Ok(Some(done))
            }
            Err(CenterError::Store(e)) => {
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::error!("{what} failed, trying again: {e}");
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

pub async fn run(
    mut center: Center,
    board: Arc<Board>,
    cluster: Arc<Cluster>,
    channels: Channels,
) -> Result<(), CenterError> {
    let Channels {
        mut submissions,
        mut commands,
        effects,
        adopted,
        mut plans,
        mut stop,
        metrics,
        health,
    } = channels;
    let _running = health.running();
    let mut timings = AlarmTimings::new(metrics.clone());
    let mut housekeeping = Housekeeping::default();
    let store = center.store().clone();
    let mut last_frames = LastFrames::new(crate::now_ms(), cluster.shared());
    let mut released_at = crate::now_ms();
    let mut waiting: Vec<oneshot::Sender<bool>> = Vec::new();
    let mut syncs = Syncs::new(store.clone());
    let mut leases = tokio::time::interval(cluster.renew_every());
    let mut inbox = tokio::time::interval(INBOX_EVERY);
    let mut stopping = false;
    while !stopping {
        let wake = center
            .next_timer()
            .map(|at| Duration::from_millis((at - crate::now_ms()).max(0) as u64));
        let mut round = Vec::new();
        let mut orders = Vec::new();
        let mut read_inbox = false;
        tokio::select! {
            got = submissions.recv() => match got {
                Some(first) => round.push(first),
                None => stopping = true,
            },
            got = commands.recv() => if let Some(first) = got { orders.push(first) },
            _ = tokio::time::sleep(wake.unwrap_or(Duration::MAX)), if wake.is_some() => {}
            _ = leases.tick() => {
                let kept = cluster.keep_leases(&mut center, crate::now_ms()).await;
                if let Some(taken) = housekeeping.check("keeping leases", kept)? {
                    board.follow_center(&center, &taken);
                    if !taken.is_empty() {
                        let _ = adopted.send(taken);
                    }
                }
                continue;
            }
            _ = inbox.tick() => read_inbox = true,
            Ok(()) = plans.changed() => {
                center.set_plans(plans.borrow_and_update().clone());
                continue;
            }
            durable = syncs.durable() => {
                for round in durable? {
                    deliver(round, &effects, &metrics);
                }
                continue;
            }
            _ = stop.changed() => stopping = true,
        }
        health.round(true);
        // Whatever else is waiting joins this round's commit.
        gather(&mut submissions, &mut round).await;
        while orders.len() < MAX_ROUND {
            match commands.try_recv() {
                Ok(more) => orders.push(more),
                Err(_) => break,
            }
        }
        let now = crate::now_ms();
        let mut answered = Vec::new();
        for order in orders {
            if center.alarm(order.alarm).is_none() {
                match driven_elsewhere(&board, &center, order.alarm) {
                    Some(partition) => forward(store.clone(), board.clone(), order, partition),
                    None => {
                        let _ = order.done.send(Err(CenterError::NotOpen(order.alarm)));
                    }
                }
                continue;
            }
            let noted = AlarmTimings::judge(&center, order.alarm, &order.input, now);
            match center.input(now, order.alarm, order.input, &order.actor) {
                Ok(()) => {
                    timings.note(noted);
                    answered.push((order.alarm, order.done));
                }
                Err(e @ (CenterError::Rejected(..) | CenterError::NotOpen(_))) => {
                    let _ = order.done.send(Err(e));
                }
                Err(e) => return Err(e),
            }
        }
        if read_inbox {
            let partitions: Vec<_> = center.held().iter().map(|l| l.partition).collect();
            let items = store
                .inbox(&partitions, INBOX_BATCH)
                .await
                .map_err(CenterError::from);
            for item in housekeeping
                .check("reading the inbox", items)?
                .unwrap_or_default()
            {
                center.settle(now, item).await?;
            }
        }
        let mut size = answered.len();
        // The round's accounts in one look-up, not one (three statements) each.
        let numbers: Vec<&str> = round
            .iter()
            .flat_map(|s| s.signals.iter().map(|signal| signal.account.as_str()))
            .collect();
        center.read_accounts(&numbers, now).await?;
        let frames = round.iter().filter_map(|s| s.transmission.as_ref());
        let mut frames = last_frames.round(&store, frames, now).await?;
        for submission in round {
            let mut resend = false;
            if let Some(frame) = submission.transmission {
                resend = frames.is_resend(&frame);
                // A resend too: the window runs from the latest time the panel sent it.
                center.remember_transmission(frame);
            }
            if !resend {
                let from = center.pending_unknown();
                size += submission.signals.len();
                for signal in submission.signals {
                    take(&mut center, now, signal, &metrics).await?;
                }
                if let Some(line) = &submission.line {
                    center.label_unknown(from, line);
                }
            }
            waiting.push(submission.done);
        }
        center.fire_due(now)?;
        let unknown = center.pending_unknown() > 0;
        let started = std::time::Instant::now();
        let committed = center.commit_changes_unsynced().await;
        health.round(false);
        match committed {
            Ok((done, touched)) => {
                timings.committed(&center, &done, now);
                board.update(&center, &touched);
                if unknown {
                    board.unknown_changed();
                }
                // The next round's frames are compared with these: written, and durable
                // before anything is acknowledged (a failed sync stops the center).
                last_frames.commit(frames);
                syncs.written(Owed {
                    senders: std::mem::take(&mut waiting),
                    commands: answered,
                    effects: done,
                    size,
                    started,
                });
            }
            Err(CenterError::Store(StoreError::Fenced(partition))) => {
                // Another node took a partition this round wrote to: nothing of the round is
                // stored. Senders are told (panels resend), and the center starts again from
                // what the store holds for the partitions it still drives.
                tracing::warn!("partition {partition} was taken over: round not stored");
                timings.forget();
                for sender in waiting.drain(..) {
                    let _ = sender.send(false);
                }
                for (alarm, sender) in answered {
                    let _ = sender.send(Err(CenterError::Refused(
                        alarm,
                        "the alarm moved to another node meanwhile; try again".into(),
                    )));
                }
                let taken = cluster.start_again(&mut center, crate::now_ms()).await?;
                board.follow_center(&center, &taken);
            }
            Err(e) => {
                // Nothing of this round is stored: nobody is told otherwise, and the center
                // stops, to resume from what the store holds.
                for sender in waiting.drain(..) {
                    let _ = sender.send(false);
                }
                return Err(e);
            }
        }
        let pruned = last_frames
            .prune(&store, now)
            .await
            .map_err(CenterError::from);
        housekeeping.check("forgetting old frames", pruned)?;
        if now - released_at >= RELEASE_MEMORY_EVERY_MS {
            released_at = now;
            let released = store.release_memory().await.map_err(CenterError::from);
            housekeeping.check("giving back cache memory", released)?;
            give_back_c_heap();
        }
    }
    while syncs.owing() {
        for round in syncs.durable().await? {
            deliver(round, &effects, &metrics);
        }
    }
    cluster.leave(&mut center).await?;
    board.follow_center(&center, &[]);
    Ok(())
}

/// Rounds smaller than this let the connections run first (`gather`).
const SMALL_ROUND: usize = 32;

/// How many times a small round lets the connections run before it is routed.
const MAX_YIELDS: usize = 4;

/// Takes every submission waiting into `round`. While the round is small (but not empty: a
/// round of commands alone does not wait) it yields to the runtime's other tasks and takes
/// again, as long as that brought more: a panel connection that has read its frame but not
/// yet submitted it runs first and joins this round, where it would otherwise make the next
/// one. Each round costs a commit, a sync and thread wake-ups whatever its size: at 6,000
/// signals/s paced this took 4–7 % off `serve`'s CPU per signal with no change to the ACK
/// p50 (`scripts/bench-ab.sh`, three rounds); at higher rates rounds are large already and
/// it does nothing.
async fn gather(submissions: &mut mpsc::Receiver<Submission>, round: &mut Vec<Submission>) {
    let mut yields = 0;
    loop {
        let before = round.len();
        while round.len() < MAX_ROUND {
            match submissions.try_recv() {
                Ok(more) => round.push(more),
                Err(_) => break,
            }
        }
        let grew = yields == 0 || round.len() > before;
        if round.is_empty() || round.len() >= SMALL_ROUND || !grew || yields == MAX_YIELDS {
            return;
        }
        yields += 1;
        tokio::task::yield_now().await;
    }
}

/// Answers a round the disk now holds: its senders are told their signals are stored, its
/// commands that they are applied, and its actions go to the adapters.
fn deliver(round: Owed, effects: &mpsc::UnboundedSender<Vec<Effect>>, metrics: &Metrics) {
    if round.size > 0 {
        metrics.commit_size.observe(round.size as f64);
        metrics
            .commit_latency
            .observe(round.started.elapsed().as_secs_f64());
    }
    for sender in round.senders {
        let _ = sender.send(true);
    }
    for (_, sender) in round.commands {
        let _ = sender.send(Ok(()));
    }
    if !round.effects.is_empty() {
        let _ = effects.send(round.effects);
    }
}

/// The partition of an alarm that is open but driven by another node.
fn driven_elsewhere(
    board: &Board,
    center: &Center,
    alarm: watchpost_store::AlarmId,
) -> Option<watchpost_store::Partition> {
    let open = board.get(alarm)?;
    let partition = partition_of(&open.spec().account);
    let here = center.held().iter().any(|l| l.partition == partition);
    (!here).then_some(partition)
}
