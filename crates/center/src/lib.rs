//! The center: the one place where events meet alarms. It routes each event, applies every
//! input to a copy of its alarm, appends the input and the actions it derived to the alarm's
//! log in one transaction, and only then hands the actions out to be carried out. It owns no
//! clock and no sockets: `scenario` drives it in virtual time, `serve` in real time.

use std::collections::{BTreeSet, HashMap};
use thiserror::Error;
use watchpost_core::router::{Event, Route, open_spec, route};
use watchpost_core::{Action, Alarm, AlarmKind, Input, Millis, Rejected, Settings};
use watchpost_store::{AlarmId, LogBody, LogEntry, SignalRecord, Store, StoreError, replay};

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

/// What receiving an event did.
#[derive(Debug, Default)]
pub struct Received {
    pub signal: i64,
    pub opened: Vec<AlarmId>,
    pub effects: Vec<Effect>,
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
}

fn drain(alarm: &mut Alarm) -> Vec<Action> {
    std::iter::from_fn(|| alarm.poll_action()).collect()
}

impl<S: Store> Center<S> {
    pub fn new(store: S, settings: Settings) -> Self {
        Center {
            store,
            settings,
            open: HashMap::new(),
            by_account: HashMap::new(),
            timers: BTreeSet::new(),
        }
    }

    /// A center that picks up every open alarm in the store where its log left it.
    pub async fn resume(store: S, settings: Settings) -> Result<Self, CenterError> {
        let mut center = Center::new(store, settings);
        for row in center
            .store
            .alarms(watchpost_store::AlarmState::Open)
            .await?
        {
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

    /// Stores an event received for an account, then opens, joins or acts on its alarms.
    pub async fn receive(
        &mut self,
        now: Millis,
        account: &str,
        source: &str,
        event: Event,
        actor: &str,
    ) -> Result<Received, CenterError> {
        let signal = self
            .store
            .record_signal(&SignalRecord {
                account: account.to_string(),
                received_at: now,
                source: source.to_string(),
                event: event.clone(),
            })
            .await?;
        let Some(enrolled) = self.store.account(account).await? else {
            return Err(CenterError::UnknownAccount(account.to_string()));
        };
        let mut received = Received {
            signal,
            ..Received::default()
        };
        let open = self.by_account.get(account).cloned().unwrap_or_default();
        match route(&event, &open) {
            Route::Open(kind) => {
                let spec = open_spec(&enrolled, kind, &event, now, &self.settings);
                let mut alarm = Alarm::open(spec.clone());
                let actions = drain(&mut alarm);
                let mut entries = vec![LogEntry {
                    seq: 0,
                    at: now,
                    actor: actor.to_string(),
                    body: LogBody::Opened {
                        spec: Box::new(spec.clone()),
                    },
                }];
                entries.extend(action_entries(1, now, &actions));
                let id = self
                    .store
                    .open_alarm(&spec, &entries, alarm.closed())
                    .await?;
                received.opened.push(id);
                received.effects.extend(effects(id, actions));
                if alarm.is_open() {
                    self.track(id, alarm, entries.len() as u32);
                }
            }
            Route::Feed(ids, input) => {
                // A silent alarm must never surface in a conversation with a caller.
                let silent = |id: &AlarmId| self.alarm(*id).is_some_and(Alarm::is_silent);
                let ids: Vec<AlarmId> = match input {
                    Input::Callback { .. } => ids.into_iter().filter(|id| !silent(id)).collect(),
                    _ => ids,
                };
                for id in ids {
                    let done = self.input(now, id, input.clone(), actor).await?;
                    received.effects.extend(done);
                }
            }
            Route::Record => {}
        }
        Ok(received)
    }

    /// Applies one input to an open alarm: logged with its actions, then the actions returned.
    pub async fn input(
        &mut self,
        now: Millis,
        id: AlarmId,
        input: Input,
        actor: &str,
    ) -> Result<Vec<Effect>, CenterError> {
        let live = self.open.get(&id).ok_or(CenterError::NotOpen(id))?;
        let mut next = live.alarm.clone();
        next.handle(now, input.clone())
            .map_err(|e| CenterError::Rejected(id, e))?;
        let actions = drain(&mut next);
        let mut entries = vec![LogEntry {
            seq: live.next_seq,
            at: now,
            actor: actor.to_string(),
            body: LogBody::Input { input },
        }];
        entries.extend(action_entries(live.next_seq + 1, now, &actions));
        self.store.append(id, &entries, next.closed()).await?;
        let next_seq = live.next_seq + entries.len() as u32;
        if next.is_open() {
            self.track(id, next, next_seq);
        } else {
            self.untrack(id);
        }
        Ok(effects(id, actions))
    }

    /// Wakes every alarm whose timer is due at `now`.
    pub async fn fire_due(&mut self, now: Millis) -> Result<Vec<Effect>, CenterError> {
        let mut done = Vec::new();
        while let Some(&(at, id)) = self.timers.first() {
            if at > now {
                break;
            }
            done.extend(self.input(now, id, Input::Timer, "timer").await?);
        }
        Ok(done)
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

fn action_entries(first_seq: u32, now: Millis, actions: &[Action]) -> Vec<LogEntry> {
    actions
        .iter()
        .enumerate()
        .map(|(i, action)| LogEntry {
            seq: first_seq + i as u32,
            at: now,
            actor: "engine".into(),
            body: LogBody::Action {
                action: action.clone(),
            },
        })
        .collect()
}

fn effects(alarm: AlarmId, actions: Vec<Action>) -> Vec<Effect> {
    actions
        .into_iter()
        .map(|action| Effect { alarm, action })
        .collect()
}
