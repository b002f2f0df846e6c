//! One automation level played through the real engine in virtual time: a discrete-event
//! queue of telephony, agent and panel happenings; `watchpost_core::Alarm` per alarm (opened
//! with `open_spec` and the built-in plans, fed through `route`); agents as a limited
//! resource that alarms wait for in the priority queue of docs/protocols.md (priority, then age).
//! No store, no clock, no async: the clock jumps to the next event.

use super::arrivals::{Arrival, Arrivals, Person};
use super::config::{Answer, Config, Level};
use super::population::EPOCH;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use watchpost_core::alarm::{CallId, Decision, Purpose};
use watchpost_core::{
    Account, Action, Alarm, AlarmKind, Disposition, Event, Input, Millis, Mode, Route, Settings,
    SignalClass, open_spec, route,
};

/// Queue depth is sampled as its maximum over windows this long.
pub const DEPTH_BUCKET_MS: Millis = 5 * 60_000;

/// What one alarm did, in milliseconds; intervals are from its signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub index: u64,
    pub kind: AlarmKind,
    pub mode: Mode,
    pub disposition: Disposition,
    /// The signal, from the run's start.
    pub signal: Millis,
    pub first_call: Option<Millis>,
    pub reached: Option<Millis>,
    /// The first dispatch request passed on to the agency (phone call done or ASAP sent).
    pub dispatch: Option<Millis>,
    pub closed: Millis,
    /// Until an agent first picked the alarm up; `None` if it never needed one.
    pub queue_wait: Option<Millis>,
    /// Agent time spent on the alarm, pickup and wrap-up included.
    pub agent_ms: Millis,
}

/// Everything one level's run produced.
#[derive(Debug, Clone)]
pub struct LevelRun {
    pub level: Level,
    pub agents: u32,
    /// Every opened alarm, in order of closing.
    pub records: Vec<Record>,
    /// Signals that joined an open alarm of the same kind instead of opening one.
    pub joined: u64,
    /// Agent time used, all agents together.
    pub agent_busy_ms: Millis,
    /// The last event, from the run's start.
    pub end: Millis,
    /// Longest operator queue in each `DEPTH_BUCKET_MS` window.
    pub queue_depth: Vec<u32>,
    /// Discrete events processed (arrivals included).
    pub events: u64,
}

#[derive(Debug, Clone, Copy)]
enum Tel {
    Placed,
    Answered,
    Voicemail,
    NoAnswer,
    Busy,
    /// An automated call's message has played.
    Ended,
    /// The agent's conversation is over: relay what the person said.
    Relay,
    /// A practice-call person pressed 1 for an agent.
    PressOne,
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    Tel {
        slot: u32,
        generation: u32,
        call: CallId,
        what: Tel,
    },
    /// The agent working the alarm finished a task (pickup, a dispatch call).
    TaskDone {
        slot: u32,
        generation: u32,
    },
    /// An agent finished wrap-up and is free.
    AgentFree,
    Disarm {
        account: u32,
    },
    Timer {
        slot: u32,
        generation: u32,
    },
}

struct Entry {
    at: Millis,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Agent work an alarm needs done.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// Dial an agent call and stay on it (manual and voicemail-drop).
    Dial(CallId),
    /// Talk with a person already on the line (auto-dial, practice "press 1").
    Talk(CallId),
    /// Pass a dispatch request on to the agency.
    Dispatch,
    /// Pass a cancellation on to the agency.
    CancelDispatch,
}

struct Live {
    alarm: Alarm,
    id: i64,
    index: u64,
    account: u32,
    signal: Millis,
    people: [Person; 3],
    /// An agent is working the alarm.
    agent: bool,
    /// That agent is in the middle of a task or a call.
    busy: bool,
    on_call: Option<CallId>,
    work: VecDeque<Work>,
    queued: bool,
    need_since: Option<Millis>,
    hung_up: u64,
    engine_closed: Option<Millis>,
    disposition: Disposition,
    session_start: Millis,
    last_work: Millis,
    timer: Option<Millis>,
    record: Record,
}

/// An alarm in the operator queue: priority, signal time, arrival number, slot, generation.
type Waiting = (u8, Millis, u64, u32, u32);

struct Slot {
    generation: u32,
    live: Option<Box<Live>>,
}

struct Sim<'a, F: FnMut(&Alarm, &Record)> {
    config: &'a Config,
    level: Level,
    accounts: &'a [Account],
    settings: Settings,
    arrivals: Arrivals<'a>,
    next_arrival: Option<Arrival>,
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    now: Millis,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    open: Vec<Vec<(i64, AlarmKind)>>,
    queue: BinaryHeap<Reverse<Waiting>>,
    free_agents: u32,
    run: LevelRun,
    progress: Option<&'a AtomicU64>,
    on_close: F,
}

/// Plays one level with `agents` agents.
pub fn run_level(config: &Config, accounts: &[Account], level: Level, agents: u32) -> LevelRun {
    run_level_observed(config, accounts, level, agents, None, |_, _| {})
}

/// `run_level`, counting closed alarms in `progress` and showing each closed alarm (the
/// engine's own record of it, and what the simulator measured) to `on_close`.
pub fn run_level_observed<F: FnMut(&Alarm, &Record)>(
    config: &Config,
    accounts: &[Account],
    level: Level,
    agents: u32,
    progress: Option<&AtomicU64>,
    on_close: F,
) -> LevelRun {
    let mut arrivals = Arrivals::new(config);
    let next_arrival = arrivals.next();
    let mut sim = Sim {
        config,
        level,
        accounts,
        settings: Settings {
            follow_up_ms: config.timing.follow_up,
            ..Settings::default()
        },
        arrivals,
        next_arrival,
        heap: BinaryHeap::new(),
        seq: 0,
        now: 0,
        slots: Vec::new(),
        free_slots: Vec::new(),
        open: vec![Vec::new(); accounts.len()],
        queue: BinaryHeap::new(),
        free_agents: agents,
        run: LevelRun {
            level,
            agents,
            records: Vec::new(),
            joined: 0,
            agent_busy_ms: 0,
            end: 0,
            queue_depth: Vec::new(),
            events: 0,
        },
        progress,
        on_close,
    };
    sim.run();
    sim.run.end = sim.now;
    sim.run
}

fn sia_code(kind: AlarmKind) -> &'static str {
    match kind {
        AlarmKind::Burglary => "BA",
        AlarmKind::Fire => "FA",
        AlarmKind::CarbonMonoxide => "GA",
        AlarmKind::Panic => "PA",
        AlarmKind::Duress => "HA",
        AlarmKind::Medical => "MA",
        AlarmKind::Water => "WA",
        AlarmKind::Freeze => "ZA",
        AlarmKind::CommFailure => "YC",
        // No panel code: the center raises it (the simulator never generates one).
        AlarmKind::RunawayAccount => "",
    }
}

impl<F: FnMut(&Alarm, &Record)> Sim<'_, F> {
    fn run(&mut self) {
        loop {
            let heap_at = self.heap.peek().map(|Reverse(e)| e.at);
            let arrival_at = self.next_arrival.as_ref().map(|a| a.at);
            self.run.events += 1;
            match (arrival_at, heap_at) {
                (None, None) => break,
                (Some(a), h) if h.is_none_or(|h| a <= h) => {
                    let arrival = self.next_arrival.take().expect("peeked");
                    self.next_arrival = self.arrivals.next();
                    self.now = a;
                    self.arrive(arrival);
                }
                _ => {
                    let Reverse(entry) = self.heap.pop().expect("peeked");
                    self.now = entry.at;
                    self.happen(entry.ev);
                }
            }
        }
        self.run.events -= 1;
    }

    fn schedule(&mut self, at: Millis, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            ev,
        }));
    }

    fn live(&mut self, slot: u32, generation: u32) -> Option<&mut Live> {
        let s = &mut self.slots[slot as usize];
        if s.generation != generation {
            return None;
        }
        s.live.as_deref_mut()
    }

    fn slot_of(id: i64) -> (u32, u32) {
        (id as u32, (id >> 32) as u32)
    }

    fn arrive(&mut self, arrival: Arrival) {
        let now = self.now;
        let account = &self.accounts[arrival.account as usize];
        let event = Event::Panel {
            class: SignalClass::Alarm(arrival.kind),
            code: sia_code(arrival.kind).into(),
            zone: Some(1),
        };
        match route(&event, &self.open[arrival.account as usize]) {
            Route::Open(kind) => {
                let spec = open_spec(account, kind, &event, EPOCH + now, &self.settings);
                let alarm = Alarm::open(spec);
                let slot = self.free_slots.pop().unwrap_or_else(|| {
                    self.slots.push(Slot {
                        generation: 0,
                        live: None,
                    });
                    (self.slots.len() - 1) as u32
                });
                let s = &mut self.slots[slot as usize];
                s.generation = s.generation.wrapping_add(1);
                let generation = s.generation;
                let id = ((generation as i64) << 32) | slot as i64;
                let mode = alarm.spec().mode;
                s.live = Some(Box::new(Live {
                    alarm,
                    id,
                    index: arrival.index,
                    account: arrival.account,
                    signal: now,
                    people: arrival.people,
                    agent: false,
                    busy: false,
                    on_call: None,
                    work: VecDeque::new(),
                    queued: false,
                    need_since: None,
                    hung_up: 0,
                    engine_closed: None,
                    disposition: Disposition::NotMonitored,
                    session_start: 0,
                    last_work: now,
                    timer: None,
                    record: Record {
                        index: arrival.index,
                        kind,
                        mode,
                        disposition: Disposition::NotMonitored,
                        signal: now,
                        first_call: None,
                        reached: None,
                        dispatch: None,
                        closed: 0,
                        queue_wait: None,
                        agent_ms: 0,
                    },
                }));
                self.open[arrival.account as usize].push((id, kind));
                self.pump(slot, generation);
            }
            Route::Feed(ids, input) => {
                self.run.joined += 1;
                self.feed(&ids, input);
            }
            Route::Record => {}
        }
        if let Some(after) = arrival.disarm_after {
            self.schedule(
                now + after,
                Ev::Disarm {
                    account: arrival.account,
                },
            );
        }
    }

    fn feed(&mut self, ids: &[i64], input: Input) {
        let now = EPOCH + self.now;
        for &id in ids {
            let (slot, generation) = Self::slot_of(id);
            if let Some(live) = self.live(slot, generation) {
                let _ = live.alarm.handle(now, input.clone());
                self.pump(slot, generation);
            }
        }
    }

    fn happen(&mut self, ev: Ev) {
        match ev {
            Ev::Tel {
                slot,
                generation,
                call,
                what,
            } => self.telephony(slot, generation, call, what),
            Ev::TaskDone { slot, generation } => {
                if let Some(live) = self.live(slot, generation) {
                    live.busy = false;
                    self.pump(slot, generation);
                }
            }
            Ev::AgentFree => {
                self.free_agents += 1;
                self.assign();
            }
            Ev::Disarm { account } => {
                let event = Event::Panel {
                    class: SignalClass::Disarm,
                    code: "OP".into(),
                    zone: Some(1),
                };
                if let Route::Feed(ids, input) = route(&event, &self.open[account as usize]) {
                    self.feed(&ids, input);
                }
            }
            Ev::Timer { slot, generation } => {
                let now = EPOCH + self.now;
                if let Some(live) = self.live(slot, generation) {
                    live.timer = None;
                    let _ = live.alarm.handle(now, Input::Timer);
                    self.pump(slot, generation);
                }
            }
        }
    }

    fn telephony(&mut self, slot: u32, generation: u32, call: CallId, what: Tel) {
        let rel = self.now;
        let now = EPOCH + rel;
        let auto_dial = self.level.auto_dial();
        let Some(live) = self.live(slot, generation) else {
            return;
        };
        if live.hung_up & (1u64 << (call % 64)) != 0 || live.engine_closed.is_some() {
            return;
        }
        let c = &live.alarm.calls()[call as usize];
        let (purpose, person) = (c.purpose, live.people[c.contact.min(2)]);
        let alarm = &mut live.alarm;
        let _ = match what {
            Tel::Placed => {
                live.record.first_call.get_or_insert(rel - live.signal);
                alarm.handle(now, Input::CallPlaced { call })
            }
            Tel::Answered => {
                live.record.reached.get_or_insert(rel - live.signal);
                if auto_dial && matches!(purpose, Purpose::Verify | Purpose::Notify) {
                    live.work.push_back(Work::Talk(call));
                }
                alarm.handle(now, Input::Answered { call })
            }
            Tel::Voicemail => alarm.handle(now, Input::Voicemail { call }),
            Tel::NoAnswer => alarm.handle(now, Input::NoAnswer { call }),
            Tel::Busy => alarm.handle(now, Input::Busy { call }),
            Tel::Ended => alarm.handle(now, Input::CallEnded { call }),
            Tel::PressOne => {
                live.work.push_back(Work::Talk(call));
                Ok(())
            }
            Tel::Relay => match purpose {
                Purpose::Notify => alarm.handle(now, Input::CallEnded { call }),
                _ => {
                    if person.knows_password {
                        let _ = alarm.handle(
                            now,
                            Input::PasswordChecked {
                                call,
                                matched: true,
                            },
                        );
                    }
                    let decision = if person.says_cancel {
                        Decision::Cancel
                    } else {
                        Decision::Dispatch
                    };
                    alarm.handle(now, Input::Decision { call, decision })
                }
            },
        };
        self.pump(slot, generation);
    }

    /// What happens on a call from the moment it is placed; `attended`: an agent dialed it
    /// and is on the line.
    #[allow(clippy::too_many_arguments)]
    fn ring(
        &mut self,
        slot: u32,
        generation: u32,
        person: Person,
        placed: Millis,
        call: CallId,
        purpose: Purpose,
        offers_agent: bool,
        attended: bool,
    ) {
        let t = self.config.timing;
        let tel = |what| Ev::Tel {
            slot,
            generation,
            call,
            what,
        };
        self.schedule(placed, tel(Tel::Placed));
        match person.answers {
            Answer::Human if person.answer_ms < t.ring_timeout => {
                let answered = placed + person.answer_ms;
                self.schedule(answered, tel(Tel::Answered));
                match purpose {
                    Purpose::Automated if offers_agent && person.wants_agent => {
                        self.schedule(answered + t.message, tel(Tel::PressOne))
                    }
                    Purpose::Automated => self.schedule(answered + t.message, tel(Tel::Ended)),
                    _ if attended => self.schedule(answered + person.talk_ms, tel(Tel::Relay)),
                    // Auto-dial: the answer queues the alarm for an agent to talk.
                    _ => {}
                }
            }
            Answer::Voicemail if t.voicemail_after < t.ring_timeout => {
                let detected = placed + t.voicemail_after + t.detect_voicemail;
                if purpose == Purpose::Automated {
                    self.schedule(detected, tel(Tel::Voicemail));
                    self.schedule(detected + t.message, tel(Tel::Ended));
                } else if attended && !self.level.voicemail_drop() {
                    // Manual: the agent stays on the line and leaves the message.
                    self.schedule(detected + t.message, tel(Tel::Voicemail));
                } else {
                    self.schedule(detected, tel(Tel::Voicemail));
                }
            }
            Answer::Busy => self.schedule(placed + t.busy_after, tel(Tel::Busy)),
            _ => self.schedule(placed + t.ring_timeout, tel(Tel::NoAnswer)),
        }
    }

    /// Carries out the alarm's actions, moves its agent on, queues it for one, and retires
    /// it once the engine closed it and no agent work is left.
    fn pump(&mut self, slot: u32, generation: u32) {
        let rel = self.now;
        let t = self.config.timing;
        let level = self.level;
        let mut rings = Vec::new();
        let mut closed_now = None;
        let Some(live) = self.live(slot, generation) else {
            return;
        };
        while let Some(action) = live.alarm.poll_action() {
            match action {
                Action::PlaceCall {
                    call,
                    contact,
                    purpose,
                    offers_agent,
                    ..
                } => {
                    let person = live.people[contact.min(2)];
                    if purpose == Purpose::Automated || level.auto_dial() {
                        rings.push((person, rel + t.dial, call, purpose, offers_agent, false));
                    } else {
                        live.work.push_back(Work::Dial(call));
                    }
                }
                Action::RequestDispatch { .. } => live.work.push_back(Work::Dispatch),
                Action::CancelDispatch { .. } => live.work.push_back(Work::CancelDispatch),
                Action::HangUp { call } => {
                    live.hung_up |= 1u64 << (call % 64);
                    if live.on_call == Some(call) {
                        live.on_call = None;
                        live.busy = false;
                    }
                }
                // Simulated agents never overturn the detector, so nobody is reconnected.
                Action::LeaveVoicemail { .. } | Action::ConnectAgent { .. } => {}
                Action::Close { disposition } => {
                    live.engine_closed = Some(rel);
                    live.disposition = disposition;
                    closed_now = Some((live.account, live.id));
                }
            }
        }
        if let Some(call) = live.on_call
            && !live.alarm.calls()[call as usize].is_open()
        {
            live.on_call = None;
            live.busy = false;
        }
        let dispatch_cost = if level.electronic_dispatch() {
            t.asap
        } else {
            t.dispatch_hold + t.dispatch_talk
        };
        let mut task_done = None;
        let mut agent_free = None;
        while live.agent && !live.busy {
            match live.work.pop_front() {
                Some(Work::Dial(call)) => {
                    if !live.alarm.calls()[call as usize].is_open() {
                        continue;
                    }
                    let c = &live.alarm.calls()[call as usize];
                    let person = live.people[c.contact.min(2)];
                    live.busy = true;
                    live.on_call = Some(call);
                    rings.push((person, rel + t.dial, call, c.purpose, false, true));
                }
                Some(Work::Talk(call)) => {
                    let c = &live.alarm.calls()[call as usize];
                    if !c.is_open() {
                        continue;
                    }
                    let (purpose, person) = (c.purpose, live.people[c.contact.min(2)]);
                    live.busy = true;
                    live.on_call = Some(call);
                    if purpose == Purpose::Automated {
                        let _ = live.alarm.handle(EPOCH + rel, Input::AgentJoined { call });
                    }
                    task_done = Some((rel + person.talk_ms, Some(call)));
                }
                Some(Work::Dispatch) => {
                    live.busy = true;
                    live.record
                        .dispatch
                        .get_or_insert(rel + dispatch_cost - live.signal);
                    task_done = Some((rel + dispatch_cost, None));
                }
                Some(Work::CancelDispatch) => {
                    live.busy = true;
                    task_done = Some((rel + dispatch_cost, None));
                }
                None => {
                    live.agent = false;
                    live.last_work = rel;
                    let session = rel + t.wrap_up - live.session_start;
                    live.record.agent_ms += session;
                    agent_free = Some((rel + t.wrap_up, session));
                }
            }
        }
        let mut queue = None;
        if !live.agent && !live.queued && !live.work.is_empty() {
            live.queued = true;
            live.need_since.get_or_insert(rel);
            queue = Some((
                live.record.kind.priority(),
                live.signal,
                live.index,
                slot,
                generation,
            ));
        }
        let timer = live
            .alarm
            .poll_timeout()
            .filter(|&due| live.timer != Some(due));
        if let Some(due) = timer {
            live.timer = Some(due);
        }
        let retire =
            live.engine_closed.is_some() && !live.agent && !live.queued && live.work.is_empty();
        if let Some((account, id)) = closed_now {
            // A closed alarm is no longer open at its account: a new signal opens another.
            self.open[account as usize].retain(|(open, _)| *open != id);
        }
        for (person, placed, call, purpose, offers_agent, attended) in rings {
            self.ring(
                slot,
                generation,
                person,
                placed,
                call,
                purpose,
                offers_agent,
                attended,
            );
        }
        match task_done {
            Some((at, Some(call))) => self.schedule(
                at,
                Ev::Tel {
                    slot,
                    generation,
                    call,
                    what: Tel::Relay,
                },
            ),
            Some((at, None)) => self.schedule(at, Ev::TaskDone { slot, generation }),
            None => {}
        }
        if let Some((at, session)) = agent_free {
            self.run.agent_busy_ms += session;
            self.schedule(at, Ev::AgentFree);
        }
        if let Some(due) = timer {
            self.schedule((due - EPOCH).max(rel), Ev::Timer { slot, generation });
        }
        if let Some(entry) = queue {
            self.queue.push(Reverse(entry));
            self.note_depth();
            self.assign();
        }
        if retire {
            self.retire(slot);
        }
    }

    /// Free agents take the most urgent, oldest waiting alarms.
    fn assign(&mut self) {
        let rel = self.now;
        let pickup = self.config.timing.pickup;
        while self.free_agents > 0 {
            let Some(Reverse((_, _, _, slot, generation))) = self.queue.pop() else {
                break;
            };
            let Some(live) = self.live(slot, generation) else {
                continue;
            };
            live.queued = false;
            live.agent = true;
            live.busy = true;
            live.session_start = rel;
            let since = live.need_since.unwrap_or(rel);
            live.record.queue_wait.get_or_insert(rel - since);
            self.free_agents -= 1;
            // Time until the agent is free again is counted at wrap-up; the pickup is part of it.
            self.schedule(rel + pickup, Ev::TaskDone { slot, generation });
        }
        self.note_depth();
    }

    fn note_depth(&mut self) {
        let bucket = (self.now / DEPTH_BUCKET_MS) as usize;
        if self.run.queue_depth.len() <= bucket {
            self.run.queue_depth.resize(bucket + 1, 0);
        }
        let depth = &mut self.run.queue_depth[bucket];
        *depth = (*depth).max(self.queue.len() as u32);
    }

    fn retire(&mut self, slot: u32) {
        let live = self.slots[slot as usize].live.take().expect("live");
        self.free_slots.push(slot);
        let Live {
            alarm,
            signal,
            engine_closed,
            disposition,
            last_work,
            mut record,
            ..
        } = *live;
        let closed = engine_closed.unwrap_or(signal).max(last_work);
        record.disposition = disposition;
        record.closed = closed - signal;
        (self.on_close)(&alarm, &record);
        if let Some(p) = self.progress {
            p.fetch_add(1, AtomicOrdering::Relaxed);
        }
        self.run.records.push(record);
    }
}
