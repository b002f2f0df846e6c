//! The center: the one place where events meet alarms. It routes each event and applies every
//! input to its alarm, collecting the signal, the input and the actions it derived into a
//! pending batch. `commit` writes the batch in one transaction (group commit) and only then
//! hands the actions out, so nothing is acted on before it is logged. It owns no clock and no
//! sockets: `scenario` drives it in virtual time, `serve` in real time.

use std::collections::{BTreeSet, HashMap};
use thiserror::Error;
use watchpost_core::router::{Route, open_spec, route};
use watchpost_core::{Account, Action, Alarm, AlarmKind, Input, Millis, Rejected, Settings};
use watchpost_store::{
    AlarmId, AlarmState, Batch, LogBody, LogEntry, SignalRecord, Store, StoreError, replay,
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
}

struct Live {
    alarm: Alarm,
    next_seq: u32,
    timer: Option<Millis>,
}

pub struct Center<S> {
    store: S,
    settings: Settings,
    open: HashMap<AlarmId, Live>,
    by_account: HashMap<String, Vec<(AlarmId, AlarmKind)>>,
    timers: BTreeSet<(Millis, AlarmId)>,
    last_id: AlarmId,
    pending: Batch,
    effects: Vec<Effect>,
    /// Recently read accounts, so a burst of signals does not re-read them each time.
    accounts: HashMap<String, (Account, Millis)>,
}

/// How long an account read from the store is trusted: changes apply within this time.
const ACCOUNT_FRESH_MS: Millis = 5_000;
const ACCOUNT_CACHE_MAX: usize = 100_000;

fn drain(alarm: &mut Alarm) -> Vec<Action> {
    std::iter::from_fn(|| alarm.poll_action()).collect()
}

impl<S: Store> Center<S> {
    /// A center that picks up every open alarm in the store where its log left it.
    pub async fn resume(store: S, settings: Settings) -> Result<Self, CenterError> {
        let last_id = store.last_alarm_id().await?;
        let mut center = Center {
            store,
            settings,
            open: HashMap::new(),
            by_account: HashMap::new(),
            timers: BTreeSet::new(),
            last_id,
            pending: Batch::default(),
            effects: Vec::new(),
            accounts: HashMap::new(),
        };
        for row in center.store.alarms(AlarmState::Open).await? {
            let log = center.store.log(row.id).await?;
            let alarm = replay(&log).map_err(|e| CenterError::Replay(row.id, e))?;
            let next_seq = log.last().map_or(0, |e| e.seq + 1);
            center.track(row.id, alarm, next_seq);
        }
        Ok(center)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// An open alarm.
    pub fn alarm(&self, id: AlarmId) -> Option<&Alarm> {
        self.open.get(&id).map(|live| &live.alarm)
    }

    pub fn open_alarms(&self) -> impl Iterator<Item = (AlarmId, &Alarm)> {
        self.open.iter().map(|(id, live)| (*id, &live.alarm))
    }

    /// The earliest time an open alarm needs waking.
    pub fn next_timer(&self) -> Option<Millis> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// Writes everything routed and applied since the last commit in one transaction, then
    /// returns the actions to carry out. On error nothing may be acted on: the caller must
    /// stop and resume from the store, which holds the truth.
    pub async fn commit(&mut self) -> Result<Vec<Effect>, CenterError> {
        Ok(self.commit_changes().await?.0)
    }

    /// Like `commit`, and also says which alarms the commit changed (opened, fed, closed).
    pub async fn commit_changes(&mut self) -> Result<(Vec<Effect>, Vec<AlarmId>), CenterError> {
        let batch = std::mem::take(&mut self.pending);
        self.store.write(&batch).await?;
        let mut touched: Vec<AlarmId> = batch.entries.iter().map(|(id, _)| *id).collect();
        touched.sort_unstable();
        touched.dedup();
        Ok((std::mem::take(&mut self.effects), touched))
    }

    /// Records an event received for an account (in the pending batch) and routes it.
    pub async fn receive(
        &mut self,
        now: Millis,
        signal: SignalRecord,
        actor: &str,
    ) -> Result<Received, CenterError> {
        let routed = self.route(now, &signal, actor).await;
        self.pending.signals.push(signal);
        routed
    }

    /// Opens, joins or acts on the account's alarms for a signal (use `receive`, which also
    /// records it in the same commit).
    async fn route(
        &mut self,
        now: Millis,
        signal: &SignalRecord,
        actor: &str,
    ) -> Result<Received, CenterError> {
        let enrolled = self.account(&signal.account, now).await?;
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
                let mut alarm = Alarm::open(spec.clone());
                let actions = drain(&mut alarm);
                self.last_id += 1;
                let id = self.last_id;
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
                if let Some((at, disposition)) = alarm.closed() {
                    self.pending.closed.push((id, at, disposition));
                } else {
                    self.track(id, alarm, next_seq);
                }
                received.opened.push(id);
            }
            Route::Feed(ids, input) => {
                // A silent alarm must never surface in a conversation with a caller.
                let silent = |id: &AlarmId| self.alarm(*id).is_some_and(Alarm::is_silent);
                let ids: Vec<AlarmId> = match input {
                    Input::Callback { .. } => ids.into_iter().filter(|id| !silent(id)).collect(),
                    _ => ids,
                };
                for id in ids {
                    self.input(now, id, input.clone(), actor)?;
                }
            }
            Route::Record => {}
        }
        Ok(received)
    }

    async fn account(&mut self, number: &str, now: Millis) -> Result<Account, CenterError> {
        if let Some((account, read_at)) = self.accounts.get(number)
            && now - read_at < ACCOUNT_FRESH_MS
        {
            return Ok(account.clone());
        }
        let Some(account) = self.store.account(number).await? else {
            return Err(CenterError::UnknownAccount(number.to_string()));
        };
        if self.accounts.len() >= ACCOUNT_CACHE_MAX {
            self.accounts.clear();
        }
        self.accounts
            .insert(number.to_string(), (account.clone(), now));
        Ok(account)
    }

    /// Remembers, in the pending commit, that a transmission's signals were stored.
    pub fn remember_transmission(&mut self, fingerprint: String, at: Millis) {
        self.pending.transmissions.push((fingerprint, at));
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
        live.alarm
            .handle(now, input.clone())
            .map_err(|e| CenterError::Rejected(id, e))?;
        let actions = drain(&mut live.alarm);
        let seq = live.next_seq;
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
        if let Some((at, disposition)) = live.alarm.closed() {
            self.pending.closed.push((id, at, disposition));
            self.open.insert(id, live);
            self.untrack(id);
        } else {
            self.track(id, live.alarm, next_seq);
        }
        Ok(())
    }

    /// Wakes every alarm whose timer is due at `now`.
    pub fn fire_due(&mut self, now: Millis) -> Result<(), CenterError> {
        while let Some(&(at, id)) = self.timers.first() {
            if at > now {
                break;
            }
            self.input(now, id, Input::Timer, "timer")?;
        }
        Ok(())
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

    /// Starts or updates the bookkeeping of an open alarm.
    fn track(&mut self, id: AlarmId, alarm: Alarm, next_seq: u32) {
        if let Some(old) = self.open.get(&id).and_then(|live| live.timer) {
            self.timers.remove(&(old, id));
        }
        let timer = alarm.poll_timeout();
        if let Some(at) = timer {
            self.timers.insert((at, id));
        }
        let account = self
            .by_account
            .entry(alarm.spec().account.clone())
            .or_default();
        if !account.iter().any(|(a, _)| *a == id) {
            account.push((id, alarm.spec().kind));
        }
        self.open.insert(
            id,
            Live {
                alarm,
                next_seq,
                timer,
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
