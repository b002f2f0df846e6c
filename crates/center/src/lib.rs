//! The center: the one place where events meet alarms. It routes each event and applies every
//! input to its alarm, collecting the signal, the input and the actions it derived into a
//! pending batch. `commit` writes the batch in one transaction (group commit) and only then
//! hands the actions out, so nothing is acted on before it is logged. It owns no clock and no
//! sockets: `scenario` drives it in virtual time, `serve` in real time.
//!
//! Among several nodes, a center drives only the partitions whose leases it holds: it routes
//! the signals of their accounts and writes their alarms under each lease's fencing token.
//! Signals for other partitions are stored and posted to the inbox of whoever drives them.

pub mod webhook;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use thiserror::Error;
use watchpost_core::router::{Route, open_spec, route, runaway_spec};
use watchpost_core::runaway::{Pace, Rate};
use watchpost_core::{
    Account, Action, Alarm, AlarmKind, AlarmSpec, Input, Millis, Rejected, Settings,
};
use watchpost_store::{
    AlarmId, AlarmRow, AlarmState, Batch, Db, Inbound, InboxItem, Lease, LogBody, LogEntry,
    Partition, SignalRecord, StoreError, Transmission, UnknownSignal, partition_of, replay,
};

#[derive(Debug, Error)]
pub enum CenterError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("account {0:?} is not enrolled")]
    UnknownAccount(String),
    #[error("alarm {0} is not open")]
    NotOpen(AlarmId),
    #[error("alarm {0}: {1}")]
    Rejected(AlarmId, Rejected),
    #[error("alarm {0} cannot be rebuilt from its log: {1}")]
    Replay(AlarmId, String),
    /// Refused by the node driving the alarm (the reason as it gave it).
    #[error("alarm {0}: {1}")]
    Refused(AlarmId, String),
}

impl CenterError {
    /// How the node driving an alarm answers a command posted to it by another node.
    pub fn outcome(result: &Result<(), CenterError>) -> String {
        match result {
            Ok(()) => "ok".into(),
            Err(CenterError::NotOpen(_)) => "not_open".into(),
            Err(e @ (CenterError::Rejected(..) | CenterError::Refused(..))) => {
                format!(
                    "refused: {}",
                    e.to_string().split_once(": ").map_or("", |(_, why)| why)
                )
            }
            Err(e) => format!("refused: {e}"),
        }
    }

    /// The answer to a posted command, from its outcome.
    pub fn from_outcome(alarm: AlarmId, outcome: &str) -> Result<(), CenterError> {
        match outcome {
            "ok" => Ok(()),
            "not_open" => Err(CenterError::NotOpen(alarm)),
            other => Err(CenterError::Refused(
                alarm,
                other.strip_prefix("refused: ").unwrap_or(other).to_string(),
            )),
        }
    }
}

/// An action an alarm asked for, to be carried out by an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub alarm: AlarmId,
    pub action: Action,
}

/// What routing an event did.
#[derive(Debug, Default)]
pub struct Received {
    pub opened: Vec<AlarmId>,
    /// Another node drives the account's partition: the signal was posted to it.
    pub forwarded: bool,
}

struct Live {
    alarm: Alarm,
    next_seq: u32,
    timer: Option<Millis>,
    /// The dealer its account belonged to when it opened (or was loaded): its webhook events
    /// go to that dealer's endpoints.
    dealer: Option<String>,
}

pub struct Center {
    store: Db,
    settings: Settings,
    /// The partitions this center drives, with their leases; `None`: all of them, unfenced
    /// (a center alone on its store: scenario runs, tests).
    leases: Option<HashMap<Partition, Lease>>,
    open: HashMap<AlarmId, Live>,
    by_account: HashMap<String, Vec<(AlarmId, AlarmKind)>>,
    timers: BTreeSet<(Millis, AlarmId)>,
    /// Alarm ids reserved in the store and not used yet: `next_id..id_end`.
    next_id: AlarmId,
    id_end: AlarmId,
    pending: Batch,
    effects: Vec<Effect>,
    /// Recently read accounts, so a burst of signals does not re-read them each time.
    /// Shared, so a signal's routing does not copy its account.
    accounts: HashMap<String, (Arc<Account>, Millis)>,
    /// The numbers `read_accounts` found not enrolled, and the `now` it was given: taken as
    /// such for that round only.
    absent: Option<(Millis, HashSet<String>)>,
    /// Each account's recent signals, to tell a runaway (`settings.runaway`).
    rates: HashMap<String, Rate>,
    /// When a runaway account is next checked for having calmed down (it may have sent
    /// more since: then it is checked again later).
    calm_checks: BTreeSet<(Millis, String)>,
    /// `rates` is pruned of quiet accounts when it grows past this.
    rates_prune_at: usize,
    /// When `accounts` and `rates` were last rid of what is stale (`Center::forget_stale`).
    forgotten_at: Millis,
    /// Whether webhook events are derived (`report_webhooks_while`); `None`: never.
    webhooks: Option<Arc<AtomicBool>>,
}

/// How long an account read from the store is trusted: changes apply within this time.
const ACCOUNT_FRESH_MS: Millis = 5_000;
/// Accounts kept read at most. An account is a few KiB (contacts, zones, details): a burst
/// from one panel reads it once, while a day of periodic tests from every panel keeps no
/// more than this many (past it, the stale ones go, and if all are fresh, all go).
pub const ACCOUNT_CACHE_MAX: usize = 4_096;
/// How often the account cache and the runaway counts are rid of what is stale, whether or
/// not signals come: after a flood from many panels they shrink back within this time.
const FORGET_STALE_EVERY_MS: Millis = 60_000;
/// Alarm ids reserved at a time (a restart leaves the rest of a block unused).
const ID_BLOCK: i64 = 100;
const RATES_PRUNE_MIN: usize = 1024;
/// Who opens and closes runaway items, in their logs.
const CENTER_ACTOR: &str = "center";

/// The alarms a batch writes log entries for, each once, in id order.
fn touched(batch: &Batch) -> Vec<AlarmId> {
    let mut touched: Vec<AlarmId> = batch.entries.iter().map(|(id, _)| *id).collect();
    touched.sort_unstable();
    touched.dedup();
    touched
}

fn drain(alarm: &mut Alarm) -> Vec<Action> {
    std::iter::from_fn(|| alarm.poll_action()).collect()
}

impl Center {
    /// A center alone on its store, driving every alarm: it picks up every open alarm where
    /// its log left it.
    pub async fn resume(store: Db, settings: Settings) -> Result<Self, CenterError> {
        let mut center = Center::new(store, settings);
        center.leases = None;
        center.load(|_| true).await?;
        Ok(center)
    }

    /// A center that drives nothing until it adopts partitions.
    pub fn new(store: Db, settings: Settings) -> Center {
        Center {
            store,
            settings,
            leases: Some(HashMap::new()),
            open: HashMap::new(),
            by_account: HashMap::new(),
            timers: BTreeSet::new(),
            next_id: 0,
            id_end: 0,
            pending: Batch::default(),
            effects: Vec::new(),
            accounts: HashMap::new(),
            absent: None,
            rates: HashMap::new(),
            calm_checks: BTreeSet::new(),
            rates_prune_at: RATES_PRUNE_MIN,
            forgotten_at: 0,
            webhooks: None,
        }
    }

    /// Starts driving partitions under these leases: their open alarms are picked up where
    /// their logs left them. Returns their ids.
    pub async fn adopt(&mut self, taken: &[Lease]) -> Result<Vec<AlarmId>, CenterError> {
        if taken.is_empty() {
            return Ok(vec![]);
        }
        if let Some(leases) = &mut self.leases {
            leases.extend(taken.iter().map(|l| (l.partition, *l)));
        }
        let partitions: std::collections::HashSet<Partition> =
            taken.iter().map(|l| l.partition).collect();
        self.load(|account| partitions.contains(&partition_of(account)))
            .await
    }

    async fn load(&mut self, wanted: impl Fn(&str) -> bool) -> Result<Vec<AlarmId>, CenterError> {
        let mut loaded = Vec::new();
        // When each account's alarms were last written to: a runaway's count resumes there.
        let mut last_at: HashMap<String, Millis> = HashMap::new();
        let mut runaways = Vec::new();
        let rows: Vec<AlarmRow> = self
            .store
            .alarms(AlarmState::Open)
            .await?
            .into_iter()
            .filter(|row| wanted(&row.account))
            .collect();
        // One read for all their logs and one for their dealers, however many are open.
        let ids: Vec<AlarmId> = rows.iter().map(|row| row.id).collect();
        let mut logs = self.store.logs(&ids).await?;
        let numbers: Vec<String> = rows
            .iter()
            .map(|row| row.account.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let dealers = self.store.account_dealers(&numbers).await?;
        for row in rows {
            let log = logs.remove(&row.id).unwrap_or_default();
            let alarm = replay(&log).map_err(|e| CenterError::Replay(row.id, e))?;
            let next_seq = log.last().map_or(0, |e| e.seq + 1);
            let at = last_at.entry(row.account.clone()).or_insert(Millis::MIN);
            *at = (*at).max(log.last().map_or(Millis::MIN, |e| e.at));
            if alarm.spec().kind == AlarmKind::RunawayAccount {
                runaways.push(row.account.clone());
            }
            let dealer = dealers.get(&row.account).cloned();
            self.track(row.id, alarm, next_seq, dealer);
            loaded.push(row.id);
        }
        if let Some(limit) = self.settings.runaway {
            for account in runaways {
                let rate = Rate::runaway_since(last_at[&account]);
                if let Some(at) = rate.calm_at(limit) {
                    self.calm_checks.insert((at, account.clone()));
                }
                self.rates.insert(account, rate);
            }
        }
        Ok(loaded)
    }

    /// Stops driving a partition (its lease was lost or given up): its alarms are forgotten
    /// here, to be driven by whoever takes it. Call it between commits. Returns their ids.
    pub fn give_up(&mut self, partition: Partition) -> Vec<AlarmId> {
        if let Some(leases) = &mut self.leases {
            leases.remove(&partition);
        }
        let ids: Vec<AlarmId> = self
            .open
            .iter()
            .filter(|(_, live)| partition_of(&live.alarm.spec().account) == partition)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            self.untrack(*id);
        }
        self.rates
            .retain(|account, _| partition_of(account) != partition);
        self.calm_checks
            .retain(|(_, account)| partition_of(account) != partition);
        ids
    }

    /// Forgets everything not committed and every alarm in memory, after a commit was refused:
    /// returns the leases held, for the caller to check and adopt again.
    pub fn reset(&mut self) -> Vec<Lease> {
        self.pending = Batch::default();
        self.effects.clear();
        let held = self.held();
        let partitions: Vec<Partition> = held.iter().map(|l| l.partition).collect();
        for partition in partitions {
            self.give_up(partition);
        }
        held
    }

    /// The leases this center drives under, by partition.
    pub fn held(&self) -> Vec<Lease> {
        let mut held: Vec<Lease> = self
            .leases
            .iter()
            .flat_map(|leases| leases.values().copied())
            .collect();
        held.sort_unstable();
        held
    }

    /// Whether the partition has open alarms here.
    pub fn drives_alarms_in(&self, partition: Partition) -> bool {
        self.open
            .values()
            .any(|live| partition_of(&live.alarm.spec().account) == partition)
    }

    /// The lease an account's alarms are driven under here: `Ok(None)` when this center drives
    /// everything unfenced, `Err(partition)` when another node drives them.
    fn lease_for(&self, account: &str) -> Result<Option<Lease>, Partition> {
        match &self.leases {
            None => Ok(None),
            Some(leases) => {
                let partition = partition_of(account);
                leases.get(&partition).copied().map(Some).ok_or(partition)
            }
        }
    }

    /// Notes that an alarm's entries in the pending batch are written under its lease.
    fn fence(&mut self, id: AlarmId, lease: Option<Lease>) {
        if let Some(lease) = lease {
            self.pending.fences.insert(id, lease.token);
            self.pending.leases.push(lease);
        }
    }

    async fn new_alarm_id(&mut self) -> Result<AlarmId, CenterError> {
        if self.next_id >= self.id_end {
            self.next_id = self.store.allocate_alarm_ids(ID_BLOCK).await?;
            self.id_end = self.next_id + ID_BLOCK;
        }
        self.next_id += 1;
        Ok(self.next_id - 1)
    }

    /// How many accounts are kept read (at most [`ACCOUNT_CACHE_MAX`]).
    pub fn cached_accounts(&self) -> usize {
        self.accounts.len()
    }

    /// How many accounts have a runaway count kept (`Settings::runaway`).
    pub fn counted_accounts(&self) -> usize {
        self.rates.len()
    }

    pub fn store(&self) -> &Db {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The plans alarms opened from now on run (`Settings::plans`); open alarms keep theirs.
    pub fn set_plans(&mut self, plans: watchpost_core::plan_book::PlanBook) {
        self.settings.plans = plans;
    }

    /// An open alarm.
    pub fn alarm(&self, id: AlarmId) -> Option<&Alarm> {
        self.open.get(&id).map(|live| &live.alarm)
    }

    pub fn open_alarms(&self) -> impl Iterator<Item = (AlarmId, &Alarm)> {
        self.open.iter().map(|(id, live)| (*id, &live.alarm))
    }

    /// The seq an open alarm's next log entry will have (its log's length).
    pub fn next_seq(&self, id: AlarmId) -> Option<u32> {
        self.open.get(&id).map(|live| live.next_seq)
    }

    /// The earliest time an open alarm needs waking, or a runaway account checking.
    pub fn next_timer(&self) -> Option<Millis> {
        let alarm = self.timers.first().map(|(at, _)| *at);
        let calm = self.calm_checks.first().map(|(at, _)| *at);
        alarm.into_iter().chain(calm).min()
    }

    /// How many unknown-account signals the pending commit holds (see `label_unknown`).
    pub fn pending_unknown(&self) -> usize {
        self.pending.unknown.len()
    }

    /// Gives the unknown-account signals pending from index `from` on the DC-09 receiver
    /// number and line prefix their frame was addressed to.
    pub fn label_unknown(&mut self, from: usize, line: &str) {
        for unknown in self.pending.unknown.iter_mut().skip(from) {
            unknown.line = Some(line.to_string());
        }
    }

    /// Writes everything routed and applied since the last commit in one transaction, then
    /// returns the actions to carry out. On error nothing may be acted on: the caller must
    /// stop and resume from the store, which holds the truth.
    pub async fn commit(&mut self) -> Result<Vec<Effect>, CenterError> {
        Ok(self.commit_changes().await?.0)
    }

    /// Like `commit`, and also says which alarms the commit changed (opened, fed, closed).
    pub async fn commit_changes(&mut self) -> Result<(Vec<Effect>, Vec<AlarmId>), CenterError> {
        self.commit_with(false).await
    }

    /// `commit_changes`, durable only once `store().sync()`, called after it, returns
    /// (`Store::write_unsynced`): until then nothing of it may be acted on or acknowledged.
    /// Lets one fsync cover several commits while the next round is routed and written.
    pub async fn commit_changes_unsynced(
        &mut self,
    ) -> Result<(Vec<Effect>, Vec<AlarmId>), CenterError> {
        self.commit_with(true).await
    }

    async fn commit_with(
        &mut self,
        unsynced: bool,
    ) -> Result<(Vec<Effect>, Vec<AlarmId>), CenterError> {
        let mut batch = std::mem::take(&mut self.pending);
        batch.leases.sort_unstable();
        batch.leases.dedup();
        if unsynced {
            // Shared, not copied: the store may write it on a thread of its own.
            let batch = std::sync::Arc::new(batch);
            self.store.write_unsynced(batch.clone()).await?;
            Ok((std::mem::take(&mut self.effects), touched(&batch)))
        } else {
            self.store.write(&batch).await?;
            Ok((std::mem::take(&mut self.effects), touched(&batch)))
        }
    }

    /// Records an event received for an account (in the pending batch) and routes it, or
    /// posts it to the node that drives the account's partition.
    pub async fn receive(
        &mut self,
        now: Millis,
        signal: SignalRecord,
        actor: &str,
    ) -> Result<Received, CenterError> {
        if let Err(partition) = self.lease_for(&signal.account) {
            // Reported here, where it was received and stored, not where it is routed.
            if self.reporting()
                && let Ok(account) = self.account(&signal.account, now).await
            {
                let dealer = webhook::dealer_of(&account);
                let event = webhook::from_signal(&signal, dealer, None);
                self.pending.outbox.push(event);
            }
            self.pending.forwarded.push((partition, signal.clone()));
            self.pending.signals.push(signal);
            return Ok(Received {
                forwarded: true,
                ..Received::default()
            });
        }
        // The signal is reported before what it made the alarms do.
        let mark = self.pending.outbox.len();
        let routed = self.route(now, &signal, actor).await;
        self.note_unknown(&routed, &signal);
        if self.reporting()
            && let Ok(received) = &routed
            && let Some((account, _)) = self.accounts.get(&signal.account)
        {
            let dealer = webhook::dealer_of(account);
            let event = webhook::from_signal(&signal, dealer, received.opened.first().copied());
            self.pending.outbox.insert(mark, event);
        }
        self.pending.signals.push(signal);
        routed
    }

    /// A signal from an account that is not enrolled which would open an alarm becomes an
    /// unknown-account item in the same commit as the signal (README, "Unknown accounts").
    /// Restores, openings, closings and other events from such an account are stored only.
    fn note_unknown(&mut self, routed: &Result<Received, CenterError>, signal: &SignalRecord) {
        if let Err(CenterError::UnknownAccount(_)) = routed
            && let Some(kind) = signal.event.alarm_kind()
        {
            self.pending.unknown.push(UnknownSignal {
                signal: signal.clone(),
                kind,
                line: None,
            });
        }
    }

    /// Acts on an inbox item of a partition this center drives: routes a signal another node
    /// stored, or applies a command another node's agent gave, answering with its outcome.
    /// Items of partitions not driven here are left for their driver. Routing refusals are
    /// the item's outcome; only a store failure is an error.
    pub async fn settle(&mut self, now: Millis, item: InboxItem) -> Result<(), CenterError> {
        let Some(leases) = &self.leases else {
            return Ok(());
        };
        let Some(&lease) = leases.get(&item.partition) else {
            return Ok(());
        };
        let outcome = match item.inbound {
            Inbound::Signal { signal } => {
                let routed = self.route(now, &signal, &signal.source).await;
                self.note_unknown(&routed, &signal);
                match routed {
                    Err(CenterError::Store(e)) => return Err(CenterError::Store(e)),
                    Err(e) => tracing::warn!(account = %signal.account, "signal posted: {e}"),
                    Ok(_) => {}
                }
                None
            }
            Inbound::Command {
                alarm,
                input,
                actor,
            } => {
                let result = self.input(now, alarm, input, &actor);
                if let Err(CenterError::Store(e)) = result {
                    return Err(CenterError::Store(e));
                }
                Some(CenterError::outcome(&result))
            }
        };
        self.pending.settled.push((item.id, outcome));
        self.pending.leases.push(lease);
        Ok(())
    }

    /// Opens, joins or acts on the account's alarms for a signal (use `receive`, which also
    /// records it in the same commit).
    async fn route(
        &mut self,
        now: Millis,
        signal: &SignalRecord,
        actor: &str,
    ) -> Result<Received, CenterError> {
        let lease = self.lease_for(&signal.account).ok().flatten();
        let enrolled = self.account(&signal.account, now).await?;
        let pace = self.pace(&signal.account, now);
        let event = &signal.event;
        let mut received = Received::default();
        let open = self
            .by_account
            .get(&signal.account)
            .cloned()
            .unwrap_or_default();
        match route(event, &open) {
            Route::Open(kind) => {
                let spec = open_spec(&enrolled, kind, event, now, &self.settings);
                received
                    .opened
                    .push(self.open(now, spec, actor, lease).await?);
            }
            Route::Feed(ids, input) => {
                // A silent alarm must never surface in a conversation with a caller.
                let silent = |id: &AlarmId| self.alarm(*id).is_some_and(Alarm::is_silent);
                let ids: Vec<AlarmId> = match input {
                    Input::Callback { .. } => ids.into_iter().filter(|id| !silent(id)).collect(),
                    _ => ids,
                };
                // A runaway account's signals that change nothing are counted, not listed.
                let input = match input {
                    Input::Signal { detail } if pace != Pace::Normal => Input::Grouped { detail },
                    other => other,
                };
                for id in ids {
                    self.input(now, id, input.clone(), actor)?;
                }
            }
            Route::Record => {}
        }
        if pace == Pace::RanAway
            && let Some(limit) = self.settings.runaway
            && !open.iter().any(|(_, k)| *k == AlarmKind::RunawayAccount)
        {
            let spec = runaway_spec(&enrolled, limit, now, &self.settings);
            received
                .opened
                .push(self.open(now, spec, CENTER_ACTOR, lease).await?);
        }
        Ok(received)
    }

    /// Opens an alarm (in the pending batch) and drives it if it stays open.
    async fn open(
        &mut self,
        now: Millis,
        spec: AlarmSpec,
        actor: &str,
        lease: Option<Lease>,
    ) -> Result<AlarmId, CenterError> {
        let mut alarm = Alarm::open_by(spec.clone(), actor);
        let actions = drain(&mut alarm);
        let id = self.new_alarm_id().await?;
        self.fence(id, lease);
        let dealer = self
            .accounts
            .get(&spec.account)
            .and_then(|(account, _)| webhook::dealer_of(account));
        let mark = self.pending.entries.len();
        let opened = LogEntry {
            seq: 0,
            at: now,
            actor: actor.to_string(),
            body: LogBody::Opened {
                spec: Box::new(spec.clone()),
            },
        };
        self.pending.opened.push((id, spec));
        self.pending.entries.push((id, opened));
        let next_seq = self.log_actions(id, 1, now, actions);
        self.report(mark, id, &alarm, &dealer);
        if let Some((at, disposition)) = alarm.closed() {
            self.pending.closed.push((id, at, disposition));
        } else {
            let (account, kind) = (alarm.spec().account.clone(), alarm.spec().kind);
            self.track(id, alarm, next_seq, dealer);
            self.spread_duress(now, id, &account, kind)?;
        }
        Ok(id)
    }

    /// PROTOCOLS.md, Duress 3: an alarm that just opened at `account` learns of the duress
    /// alarms open there, or, if it is one, every other open alarm there learns of it.
    fn spread_duress(
        &mut self,
        now: Millis,
        id: AlarmId,
        account: &str,
        kind: AlarmKind,
    ) -> Result<(), CenterError> {
        let others: Vec<(AlarmId, AlarmKind)> = self
            .by_account
            .get(account)
            .into_iter()
            .flatten()
            .filter(|(other, _)| *other != id)
            .copied()
            .collect();
        for (other, other_kind) in others {
            if kind == AlarmKind::Duress {
                self.input(now, other, Input::DuressOpen { alarm: id }, CENTER_ACTOR)?;
            } else if other_kind == AlarmKind::Duress {
                self.input(now, id, Input::DuressOpen { alarm: other }, CENTER_ACTOR)?;
            }
        }
        Ok(())
    }

    /// Counts a signal from `account` against the runaway limit.
    fn pace(&mut self, account: &str, now: Millis) -> Pace {
        let Some(limit) = self.settings.runaway else {
            return Pace::Normal;
        };
        if self.rates.len() >= self.rates_prune_at {
            // Quiet accounts need no count: one signal cannot take them over the limit.
            self.rates.retain(|_, rate| {
                rate.is_runaway() || rate.last().is_some_and(|at| now - at < limit.window_ms)
            });
            self.rates_prune_at = (self.rates.len() * 2).max(RATES_PRUNE_MIN);
        }
        let rate = match self.rates.get_mut(account) {
            Some(rate) => rate,
            None => self
                .rates
                .entry(account.to_string())
                .or_insert_with(|| Rate::new(now)),
        };
        let pace = rate.record(now, limit);
        if pace == Pace::RanAway
            && let Some(at) = rate.calm_at(limit)
        {
            self.calm_checks.insert((at, account.to_string()));
        }
        pace
    }

    /// Closes the runaway items of accounts that have calmed down by `now`; those that have
    /// not are checked again when they may have.
    fn calm_due(&mut self, now: Millis) -> Result<(), CenterError> {
        let Some(limit) = self.settings.runaway else {
            return Ok(());
        };
        while let Some((at, _)) = self.calm_checks.first()
            && *at <= now
        {
            let (_, account) = self.calm_checks.pop_first().expect("a first check");
            let Some(rate) = self.rates.get_mut(&account) else {
                continue;
            };
            if !rate.calm(now, limit) {
                if let Some(later) = rate.calm_at(limit) {
                    self.calm_checks.insert((later, account));
                }
                continue;
            }
            let items: Vec<AlarmId> = self
                .by_account
                .get(&account)
                .into_iter()
                .flatten()
                .filter(|(_, kind)| *kind == AlarmKind::RunawayAccount)
                .map(|(id, _)| *id)
                .collect();
            let detail = format!(
                "calm again: at most {} signals within {} s",
                limit.signals / 2,
                limit.window_ms as f64 / 1000.0
            );
            for id in items {
                let input = Input::Restored {
                    detail: detail.clone(),
                };
                self.input(now, id, input, CENTER_ACTOR)?;
            }
        }
        Ok(())
    }

    async fn account(&mut self, number: &str, now: Millis) -> Result<Arc<Account>, CenterError> {
        if let Some((account, read_at)) = self.accounts.get(number)
            && now - read_at < ACCOUNT_FRESH_MS
        {
            return Ok(Arc::clone(account));
        }
        if self
            .absent
            .as_ref()
            .is_some_and(|(at, absent)| *at == now && absent.contains(number))
        {
            return Err(CenterError::UnknownAccount(number.to_string()));
        }
        let Some(account) = self.store.account(number).await? else {
            return Err(CenterError::UnknownAccount(number.to_string()));
        };
        let account = Arc::new(account);
        self.keep_account(Arc::clone(&account), now);
        Ok(account)
    }

    /// Keeps `account` read at `now`, within [`ACCOUNT_CACHE_MAX`].
    fn keep_account(&mut self, account: Arc<Account>, now: Millis) {
        if self.accounts.len() >= ACCOUNT_CACHE_MAX {
            self.accounts
                .retain(|_, (_, read_at)| now - *read_at < ACCOUNT_FRESH_MS);
            if self.accounts.len() >= ACCOUNT_CACHE_MAX / 2 {
                self.accounts = HashMap::new();
            }
        }
        self.accounts.insert(account.number.clone(), (account, now));
    }

    /// Reads, in one look-up (`Store::accounts`), those of `numbers` that `receive` at `now`
    /// would read one at a time: not read in the last [`ACCOUNT_FRESH_MS`]. A round calls it
    /// with its signals' accounts before receiving them. Numbers found not enrolled are
    /// taken as such by `receive` at this same `now` only; a later round asks again.
    /// At most [`ACCOUNT_CACHE_MAX`] / 2 are read ahead: past that, `receive` reads the rest.
    pub async fn read_accounts(
        &mut self,
        numbers: &[&str],
        now: Millis,
    ) -> Result<(), CenterError> {
        self.absent = None;
        let mut wanted: Vec<String> = numbers
            .iter()
            .copied()
            .filter(|number| {
                self.accounts
                    .get(*number)
                    .is_none_or(|(_, read_at)| now - read_at >= ACCOUNT_FRESH_MS)
            })
            .map(str::to_string)
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        // More than the cache keeps would only be read to be dropped again.
        wanted.truncate(ACCOUNT_CACHE_MAX / 2);
        if wanted.is_empty() {
            return Ok(());
        }
        let found = self.store.accounts(&wanted).await?;
        let mut absent: HashSet<String> = wanted.into_iter().collect();
        for account in found {
            absent.remove(&account.number);
            self.keep_account(Arc::new(account), now);
        }
        self.absent = Some((now, absent));
        Ok(())
    }

    /// Records, in the pending commit, a DC-09 frame as its account's most recent one.
    pub fn remember_transmission(&mut self, frame: Transmission) {
        self.pending.transmissions.push(frame);
    }

    /// Applies one input to an open alarm; its log entries join the pending batch.
    pub fn input(
        &mut self,
        now: Millis,
        id: AlarmId,
        input: Input,
        actor: &str,
    ) -> Result<(), CenterError> {
        let live = self.open.get_mut(&id).ok_or(CenterError::NotOpen(id))?;
        // Issue 12, finding 3: only the agent handling an alarm acts on it.
        if let Some(agent) = actor.strip_prefix("agent:") {
            live.alarm
                .may_act(agent, &input)
                .map_err(|e| CenterError::Rejected(id, e))?;
        }
        let was_open = live.alarm.is_open();
        live.alarm
            .handle_by(now, actor, input.clone())
            .map_err(|e| match e {
                // Kept only for the tasks it owes: to everything else it is closed.
                Rejected::Closed => CenterError::NotOpen(id),
                e => CenterError::Rejected(id, e),
            })?;
        let actions = drain(&mut live.alarm);
        let account = live.alarm.spec().account.clone();
        let seq = live.next_seq;
        self.fence(id, self.lease_for(&account).ok().flatten());
        let mark = self.pending.entries.len();
        self.pending.entries.push((
            id,
            LogEntry {
                seq,
                at: now,
                actor: actor.to_string(),
                body: LogBody::Input { input },
            },
        ));
        let next_seq = self.log_actions(id, seq + 1, now, actions);
        let live = self.open.remove(&id).expect("still tracked");
        self.report(mark, id, &live.alarm, &live.dealer);
        // `track` finds the old timer only on a tracked alarm: drop it here.
        if let Some(at) = live.timer {
            self.timers.remove(&(at, id));
        }
        let closed_duress =
            was_open && !live.alarm.is_open() && live.alarm.spec().kind == AlarmKind::Duress;
        match live.alarm.closed() {
            // Closed and owing no agency anything: it leaves. Tasks still owed keep it here
            // (and open in the store) until agents confirm them (issue 12, finding 5).
            Some((at, disposition)) if !live.alarm.in_queue() => {
                self.pending.closed.push((id, at, disposition));
                self.open.insert(id, live);
                self.untrack(id);
            }
            _ => self.track(id, live.alarm, next_seq, live.dealer),
        }
        if closed_duress {
            let others: Vec<AlarmId> = self
                .by_account
                .get(&account)
                .into_iter()
                .flatten()
                .map(|(other, _)| *other)
                .collect();
            for other in others {
                self.input(now, other, Input::DuressClosed { alarm: id }, CENTER_ACTOR)?;
            }
        }
        Ok(())
    }

    /// Wakes every alarm whose timer is due at `now`, and closes the runaway items of
    /// accounts that have calmed down.
    pub fn fire_due(&mut self, now: Millis) -> Result<(), CenterError> {
        while let Some(&(at, id)) = self.timers.first() {
            if at > now {
                break;
            }
            self.input(now, id, Input::Timer, "timer")?;
        }
        self.calm_due(now)?;
        self.forget_stale(now);
        Ok(())
    }

    /// Once every [`FORGET_STALE_EVERY_MS`]: forgets accounts read longer ago than they are
    /// trusted (they would be read again anyway) and the runaway counts of accounts quiet
    /// for a whole window (one signal cannot take them over the limit), and gives back the
    /// tables' room. Without it both stay as large as the last flood made them: they were
    /// only pruned when they grew, that is, while signals came.
    fn forget_stale(&mut self, now: Millis) {
        if now - self.forgotten_at < FORGET_STALE_EVERY_MS {
            return;
        }
        self.forgotten_at = now;
        self.accounts
            .retain(|_, (_, read_at)| now - *read_at < ACCOUNT_FRESH_MS);
        self.accounts.shrink_to_fit();
        if let Some(limit) = self.settings.runaway {
            self.rates.retain(|_, rate| {
                rate.is_runaway() || rate.last().is_some_and(|at| now - at < limit.window_ms)
            });
        } else {
            self.rates.clear();
        }
        self.rates.shrink_to_fit();
        self.rates_prune_at = (self.rates.len() * 2).max(RATES_PRUNE_MIN);
    }

    /// Logs actions from `seq` on and queues them as effects; returns the next free seq.
    fn log_actions(&mut self, id: AlarmId, seq: u32, now: Millis, actions: Vec<Action>) -> u32 {
        let next = seq + actions.len() as u32;
        for (i, action) in actions.into_iter().enumerate() {
            self.pending.entries.push((
                id,
                LogEntry {
                    seq: seq + i as u32,
                    at: now,
                    actor: "engine".into(),
                    body: LogBody::Action {
                        action: action.clone(),
                    },
                },
            ));
            self.effects.push(Effect { alarm: id, action });
        }
        next
    }

    /// Adds to the pending outbox the webhook events of alarm `id`'s entries pending from
    /// index `from` on (`alarm`: as it is after them).
    fn report(&mut self, from: usize, id: AlarmId, alarm: &Alarm, dealer: &Option<String>) {
        if !self.reporting() {
            return;
        }
        let events: Vec<_> = self.pending.entries[from..]
            .iter()
            .filter(|(alarm_id, _)| *alarm_id == id)
            .filter_map(|(_, entry)| webhook::from_entry(alarm, id, dealer.clone(), entry))
            .collect();
        self.pending.outbox.extend(events);
    }

    /// Derives webhook events while `wanted` is true (the server keeps it true while some
    /// endpoint exists); without it, none are.
    pub fn report_webhooks_while(&mut self, wanted: Arc<AtomicBool>) {
        self.webhooks = Some(wanted);
    }

    fn reporting(&self) -> bool {
        self.webhooks
            .as_ref()
            .is_some_and(|wanted| wanted.load(Ordering::Relaxed))
    }

    /// Starts or updates the bookkeeping of an open alarm.
    fn track(&mut self, id: AlarmId, alarm: Alarm, next_seq: u32, dealer: Option<String>) {
        if let Some(old) = self.open.get(&id).and_then(|live| live.timer) {
            self.timers.remove(&(old, id));
        }
        let timer = alarm.poll_timeout();
        if let Some(at) = timer {
            self.timers.insert((at, id));
        }
        // Signals route only to open alarms; a closed one that still owes tasks is not one.
        let account = self
            .by_account
            .entry(alarm.spec().account.clone())
            .or_default();
        if !alarm.is_open() {
            account.retain(|(a, _)| *a != id);
            if account.is_empty() {
                self.by_account.remove(&alarm.spec().account);
            }
        } else if !account.iter().any(|(a, _)| *a == id) {
            account.push((id, alarm.spec().kind));
        }
        self.open.insert(
            id,
            Live {
                alarm,
                next_seq,
                timer,
                dealer,
            },
        );
    }

    fn untrack(&mut self, id: AlarmId) {
        let Some(live) = self.open.remove(&id) else {
            return;
        };
        if let Some(at) = live.timer {
            self.timers.remove(&(at, id));
        }
        let account = &live.alarm.spec().account;
        if let Some(list) = self.by_account.get_mut(account) {
            list.retain(|(a, _)| *a != id);
            if list.is_empty() {
                self.by_account.remove(account);
            }
        }
    }
}
