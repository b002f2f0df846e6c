//! Plays a scenario through the real center in virtual time: panel and app events arrive at
//! their offsets, simulated people answer as the file says, and a simulated agent relays
//! faithfully what each person says. Nothing sleeps; the clock jumps to the next event.

use super::format::{Answers, Delays, Person, Scenario};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use watchpost_center::{Center, CenterError, Effect};
use watchpost_core::alarm::{CallId, Decision, Purpose};
use watchpost_core::plan_book::PlanBook;
use watchpost_core::{Action, Alarm, Input, Millis, Settings};
use watchpost_store::{AlarmId, Db, LogEntry, SignalRecord, SqliteStore, replay};

/// Arrivals at the same instant apply in this order: what the panel or app sent, then what
/// happened on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Arrival,
    Telephony,
}

#[derive(Debug)]
enum Happening {
    /// The scenario's n-th timed event.
    Arrival(usize),
    /// The scenario's n-th confirmation.
    Confirmation(usize),
    /// Something on a call, as the telephony or the agent reports it.
    OnCall {
        alarm: AlarmId,
        call: CallId,
        input: Input,
        actor: &'static str,
    },
}

/// What a run produced: every alarm it opened, rebuilt from the store's logs.
pub struct Outcome {
    pub alarms: Vec<RunAlarm>,
}

pub struct RunAlarm {
    pub id: AlarmId,
    pub alarm: Alarm,
    pub log: Vec<LogEntry>,
}

/// A run stops with an error only for a fault of the center itself.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Center(#[from] CenterError),
    #[error(transparent)]
    Store(#[from] watchpost_store::StoreError),
    #[error("alarm {0} does not replay from its log: {1}")]
    Replay(AlarmId, String),
    #[error("the scenario did not settle after {0} steps")]
    Runaway(usize),
}

const MAX_STEPS: usize = 100_000;

struct Sim<'a> {
    scenario: &'a Scenario,
    center: Center,
    queue: BinaryHeap<Reverse<(Millis, Class, u64)>>,
    happenings: std::collections::HashMap<u64, Happening>,
    next_seq: u64,
    opened: Vec<AlarmId>,
    /// Alarms whose first call has been placed (only the first waits `dial`).
    dialed: HashSet<AlarmId>,
    hung_up: HashSet<(AlarmId, CallId)>,
    /// Callbacks already being handled by the simulated agent.
    answered_callbacks: HashSet<(AlarmId, CallId)>,
}

/// Plays `scenario` under `plans` (`PlanBook::default()`: the built-in plans).
pub async fn run(scenario: &Scenario, plans: &PlanBook) -> Result<Outcome, RunError> {
    let store: Db = std::sync::Arc::new(SqliteStore::memory().await?);
    run_into(scenario, plans, store).await
}

/// Plays `scenario` into `store`, which keeps what it wrote: its account is enrolled (or
/// replaced), and its alarms take the store's next ids, after those of earlier runs. Data sets
/// for reports are made this way.
pub async fn run_into(
    scenario: &Scenario,
    plans: &PlanBook,
    store: Db,
) -> Result<Outcome, RunError> {
    store.put_account(&scenario.account).await?;
    let settings = Settings {
        follow_up_ms: scenario.delays.follow_up,
        plans: plans.clone(),
        ..Settings::default()
    };
    let mut sim = Sim {
        scenario,
        center: Center::resume(store.clone(), settings).await?,
        queue: BinaryHeap::new(),
        happenings: Default::default(),
        next_seq: 0,
        opened: Vec::new(),
        dialed: HashSet::new(),
        hung_up: HashSet::new(),
        answered_callbacks: HashSet::new(),
    };
    for (i, event) in scenario.events.iter().enumerate() {
        sim.schedule(event.at, Class::Arrival, Happening::Arrival(i));
    }
    for (i, confirmation) in scenario.confirmations.iter().enumerate() {
        sim.schedule(confirmation.at, Class::Arrival, Happening::Confirmation(i));
    }
    sim.run().await?;
    let mut alarms = Vec::new();
    for id in sim.opened {
        let log = store.log(id).await?;
        let alarm = replay(&log).map_err(|e| RunError::Replay(id, e))?;
        alarms.push(RunAlarm { id, alarm, log });
    }
    Ok(Outcome { alarms })
}

impl Sim<'_> {
    fn schedule(&mut self, at: Millis, class: Class, happening: Happening) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Reverse((at, class, seq)));
        self.happenings.insert(seq, happening);
    }

    fn person(&self, name: &str) -> &Person {
        self.scenario
            .people
            .get(name)
            .unwrap_or(&Person::UNREACHABLE)
    }

    /// Who answers a call to `phone`: contact `contact` (`to`) at their first or second
    /// number, or whoever is at the premises (`[people.premises]`).
    fn answering(&self, contact: usize, to: &str, phone: &str) -> Person {
        let person = self.person(to);
        let second = self
            .scenario
            .account
            .contacts
            .get(contact)
            .is_some_and(|c| c.phone != phone && c.phone2.as_deref() == Some(phone));
        if second {
            person.at_phone2()
        } else {
            person.clone()
        }
    }

    fn delays(&self) -> Delays {
        self.scenario.delays
    }

    async fn run(&mut self) -> Result<(), RunError> {
        for _ in 0..MAX_STEPS {
            let next_event = self.queue.peek().map(|Reverse((at, _, _))| *at);
            let now = match (next_event, self.center.next_timer()) {
                (None, None) => return Ok(()),
                (Some(at), Some(timer)) if timer < at => {
                    self.center.fire_due(timer)?;
                    timer
                }
                (None, Some(timer)) => {
                    self.center.fire_due(timer)?;
                    timer
                }
                _ => {
                    let Reverse((at, _, seq)) = self.queue.pop().expect("peeked");
                    let happening = self.happenings.remove(&seq).expect("scheduled");
                    self.happen(at, happening).await?;
                    at
                }
            };
            let effects = self.center.commit().await?;
            self.carry_out(now, effects);
            self.answer_callbacks(now);
        }
        Err(RunError::Runaway(MAX_STEPS))
    }

    async fn happen(&mut self, now: Millis, happening: Happening) -> Result<(), RunError> {
        match happening {
            Happening::Arrival(i) => {
                let event = &self.scenario.events[i];
                let actor = if event.source == "phone" {
                    "agent"
                } else {
                    "panel"
                };
                let signal = SignalRecord {
                    account: self.scenario.account.number.clone(),
                    received_at: now,
                    source: event.source.to_string(),
                    event: event.event.clone(),
                    raw: event.raw.clone(),
                };
                let received = self.center.receive(now, signal, actor).await?;
                self.opened.extend(&received.opened);
                Ok(())
            }
            Happening::Confirmation(i) => {
                let c = &self.scenario.confirmations[i];
                let open = self
                    .center
                    .open_alarms()
                    .map(|(id, _)| id)
                    .collect::<HashSet<_>>();
                // The account's newest open alarm; with none open it is recorded nowhere.
                let Some(&alarm) = self.opened.iter().rev().find(|id| open.contains(id)) else {
                    return Ok(());
                };
                let input = Input::Confirmed {
                    by: c.by,
                    text: c.text.clone(),
                };
                self.center.input(now, alarm, input, "agent")?;
                Ok(())
            }
            Happening::OnCall {
                alarm,
                call,
                input,
                actor,
            } => {
                if self.hung_up.contains(&(alarm, call)) {
                    return Ok(());
                }
                match self.center.input(now, alarm, input, actor) {
                    // The alarm closed while the call was still going (a disarm, say).
                    Ok(()) | Err(CenterError::NotOpen(_)) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// The simulated agent picks up every new callback and, after a conversation, relays
    /// what the caller says.
    fn answer_callbacks(&mut self, now: Millis) {
        let mut fresh = Vec::new();
        for (id, alarm) in self.center.open_alarms() {
            for call in alarm.calls() {
                let key = (id, call.id);
                if call.purpose == Purpose::Callback
                    && call.is_open()
                    && !self.answered_callbacks.contains(&key)
                {
                    fresh.push((key, call.to.clone()));
                }
            }
        }
        fresh.sort();
        for ((alarm, call), name) in fresh {
            self.answered_callbacks.insert((alarm, call));
            let done = now + self.delays().conversation;
            let person = self.person(&name).clone();
            self.relay_conversation(alarm, call, &person, done);
        }
    }

    /// Password attempts (two at most) and the decision, at the end of a conversation.
    fn relay_conversation(&mut self, alarm: AlarmId, call: CallId, person: &Person, at: Millis) {
        if let Some(said) = &person.password {
            let matched = self.scenario.account.verbal_password.matches(said);
            let attempts = if matched { 1 } else { 2 };
            for _ in 0..attempts {
                self.on_call(
                    at,
                    alarm,
                    call,
                    Input::PasswordChecked { call, matched },
                    "agent",
                );
            }
        }
        let decision = person.says.unwrap_or(Decision::Dispatch);
        self.on_call(at, alarm, call, Input::Decision { call, decision }, "agent");
    }

    fn on_call(
        &mut self,
        at: Millis,
        alarm: AlarmId,
        call: CallId,
        input: Input,
        actor: &'static str,
    ) {
        self.schedule(
            at,
            Class::Telephony,
            Happening::OnCall {
                alarm,
                call,
                input,
                actor,
            },
        );
    }

    fn carry_out(&mut self, now: Millis, effects: Vec<Effect>) {
        for Effect { alarm, action } in effects {
            match action {
                Action::PlaceCall {
                    call,
                    contact,
                    to,
                    phone,
                    purpose,
                    offers_agent,
                    ..
                } => {
                    let person = self.answering(contact, &to, &phone);
                    self.ring(now, alarm, call, &person, purpose, offers_agent)
                }
                Action::HangUp { call } => {
                    self.hung_up.insert((alarm, call));
                }
                // Dispatch requests, voicemail drops and reconnections need no answer in a
                // scenario; the alarm's log already records them.
                Action::LeaveVoicemail { .. }
                | Action::ConnectAgent { .. }
                | Action::RequestDispatch { .. }
                | Action::CancelDispatch { .. }
                | Action::Close { .. } => {}
            }
        }
    }

    /// What happens on an outbound call to `person`, from the moment it is requested.
    fn ring(
        &mut self,
        now: Millis,
        alarm: AlarmId,
        call: CallId,
        person: &Person,
        purpose: Purpose,
        offers_agent: bool,
    ) {
        let d = self.delays();
        let placed = now + if self.dialed.insert(alarm) { d.dial } else { 0 };
        self.on_call(placed, alarm, call, Input::CallPlaced { call }, "telephony");
        let picks_up = |after: Millis| after < d.ring_timeout;
        match person.answers {
            Answers::Human if picks_up(d.answer_after) => {
                let answered = placed + d.answer_after;
                self.on_call(answered, alarm, call, Input::Answered { call }, "telephony");
                match purpose {
                    Purpose::Verify => {
                        self.relay_conversation(alarm, call, person, answered + d.conversation)
                    }
                    Purpose::Automated if offers_agent && person.wants_agent => {
                        let joined = answered + d.message;
                        self.on_call(
                            joined,
                            alarm,
                            call,
                            Input::AgentJoined { call },
                            "telephony",
                        );
                        self.relay_conversation(alarm, call, person, joined + d.conversation);
                    }
                    Purpose::Automated => {
                        let ended = answered + d.message;
                        self.on_call(ended, alarm, call, Input::CallEnded { call }, "telephony");
                    }
                    // What a person says on a call that only tells is recorded; it changes nothing.
                    Purpose::Notify | Purpose::Callback => {
                        let ended = answered + d.conversation;
                        let input = match person.says {
                            Some(decision) => Input::Decision { call, decision },
                            None => Input::CallEnded { call },
                        };
                        self.on_call(ended, alarm, call, input, "agent");
                    }
                }
            }
            Answers::Voicemail if picks_up(d.voicemail_after) => {
                let detected = placed + d.voicemail_after + d.detect_voicemail;
                self.on_call(
                    detected,
                    alarm,
                    call,
                    Input::Voicemail { call },
                    "telephony",
                );
                if purpose == Purpose::Automated {
                    let left = detected + d.message;
                    self.on_call(left, alarm, call, Input::CallEnded { call }, "telephony");
                }
            }
            Answers::Busy => self.on_call(
                placed + d.busy_after,
                alarm,
                call,
                Input::Busy { call },
                "telephony",
            ),
            _ => {
                let timeout = placed + d.ring_timeout;
                self.on_call(timeout, alarm, call, Input::NoAnswer { call }, "telephony");
            }
        }
    }
}
