//! The alarm engine: one deterministic state machine per alarm that interprets its response
//! plan. Fed inputs with the current time (`handle`), it is asked what to do (`poll_action`)
//! and when it next needs waking (`poll_timeout`). It reads no clock and touches no IO, so
//! replaying an alarm's logged inputs rebuilds it exactly.

mod messages;
mod types;

pub use types::*;

use crate::account::Millis;
use crate::kind::{Agency, Disposition};
use crate::plan::{AfterDispatch, Branches, CancelSource, Contacts, Plan, Step};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// The calling step in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Calling {
    Verify(Branches),
    Notify,
    Automated(Option<Branches>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Running {
    calling: Calling,
    /// Numbers still to call in this step, in order.
    remaining: VecDeque<Dial>,
    call: CallId,
    /// The call before `call` in this step, when it ended on a machine: an agent may still
    /// say a person answered it (`Input::Answered` after `Input::Voicemail`).
    #[serde(default)]
    after_voicemail: Option<CallId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// Shared: fixed once the alarm opens, so the board's copy after every commit costs a
    /// count, not the contacts and plan again.
    spec: Arc<AlarmSpec>,
    agency: Agency,
    pending: VecDeque<Step>,
    running: Option<Running>,
    calls: Vec<Call>,
    dispatches: Vec<Dispatch>,
    /// A persistent vector: a copy of the alarm (the board's, after every commit) shares it
    /// instead of copying it, so an alarm's history never makes a signal cost more. Each row
    /// is shared too: adding a row copies the vector's last chunk (up to 64 rows) while the
    /// board holds the alarm, and dropping the board's older copy drops that chunk; a shared
    /// row makes each of those one count instead of three (its texts): 3.4 % of `serve`'s CPU
    /// at 20,000 signals/s (realistic mix) before, 1.0 % after (README, "What a signal costs").
    timeline: imbl::Vector<Arc<TimelineEntry>>,
    /// Signals counted in groups instead of listed (from a runaway account), in all.
    #[serde(default)]
    grouped: u64,
    /// The group being counted, while it is still the timeline's last row.
    #[serde(default)]
    group: Option<Group>,
    /// A person was reached by some outbound call.
    reached: bool,
    /// A verified person on a deciding call said it was a false alarm.
    contact_canceled: bool,
    /// A cancellation that settled the disposition.
    canceled: Option<Disposition>,
    /// When a dispatched alarm leaves follow-up and closes.
    close_at: Option<Millis>,
    /// A `Step::Wait` holds the plan until then.
    #[serde(default)]
    waiting: Option<Millis>,
    /// A trouble whose plan is done waits for its condition to clear.
    held: bool,
    /// The agent working the alarm, if one took it.
    #[serde(default)]
    handler: Option<String>,
    /// Duress alarms open at this account (ids in the center): while any is, nothing from
    /// the premises cancels this alarm (PROTOCOLS.md, Duress 3).
    #[serde(default)]
    duress: Vec<i64>,
    /// The resolution code the handler closed the alarm with.
    #[serde(default)]
    resolution: Option<String>,
    closed: Option<(Millis, Disposition)>,
    #[serde(skip)]
    actions: VecDeque<Action>,
    /// The actor of the input being handled, for its timeline rows.
    #[serde(skip)]
    actor: Arc<str>,
}

impl Alarm {
    /// Opens an alarm; its first actions are ready to poll.
    pub fn open(spec: AlarmSpec) -> Alarm {
        Alarm::open_by(spec, "")
    }

    /// Opens an alarm whose opening signal came from `by` (the log's actor: `sia`, `cid`,
    /// `center`…), named in the timeline rows the opening writes.
    pub fn open_by(spec: AlarmSpec, by: &str) -> Alarm {
        let plan = spec.plan.clone();
        let agency = plan
            .as_ref()
            .map_or(Agency::Police, |p| p.agency.resolve(spec.responder));
        let now = spec.opened_at;
        let mut alarm = Alarm {
            pending: plan.map(|p| p.steps.into()).unwrap_or_default(),
            agency,
            running: None,
            calls: Vec::new(),
            dispatches: Vec::new(),
            timeline: imbl::Vector::new(),
            grouped: 0,
            group: None,
            reached: false,
            contact_canceled: false,
            canceled: None,
            close_at: None,
            waiting: None,
            held: false,
            handler: None,
            duress: Vec::new(),
            resolution: None,
            closed: None,
            actions: VecDeque::new(),
            actor: Arc::from(by),
            spec: Arc::new(spec),
        };
        alarm.note(now, "signal", alarm.spec.trigger.clone());
        match alarm.spec.unmonitored.clone() {
            Some(why) => {
                alarm.note(now, "not_monitored", why.reason);
                alarm.close(now, why.disposition);
            }
            None => alarm.advance(now),
        }
        alarm.actor = Arc::default();
        alarm
    }

    pub fn spec(&self) -> &AlarmSpec {
        &self.spec
    }

    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    pub fn dispatches(&self) -> &[Dispatch] {
        &self.dispatches
    }

    pub fn timeline(&self) -> &imbl::Vector<Arc<TimelineEntry>> {
        &self.timeline
    }

    /// How many signals this alarm counted in groups instead of listing them.
    pub fn grouped_signals(&self) -> u64 {
        self.grouped
    }

    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    pub fn closed(&self) -> Option<(Millis, Disposition)> {
        self.closed
    }

    /// The call the plan is waiting on, if any.
    pub fn current_call(&self) -> Option<&Call> {
        self.running.as_ref().map(|r| &self.calls[r.call as usize])
    }

    /// The agent working the alarm.
    pub fn handler(&self) -> Option<&str> {
        self.handler.as_deref()
    }

    /// Whether agent `agent` may give `input` (issue 12, finding 3): only the agent handling
    /// an alarm acts on it. Taking it (or a supervisor's takeover, whose role the desk checks)
    /// and notes (the desk decides who may write one) are for anyone. Errors: nobody took it
    /// (`NotTaken`), someone else did (`TakenBy`).
    pub fn may_act(&self, agent: &str, input: &Input) -> Result<(), Rejected> {
        if matches!(
            input,
            Input::Take { .. } | Input::TakeOver { .. } | Input::Note { .. }
        ) {
            return Ok(());
        }
        self.handled_by(agent)
    }

    /// Whether `agent` handles this alarm. Errors: nobody took it (`NotTaken`), someone else
    /// did (`TakenBy`).
    pub fn handled_by(&self, agent: &str) -> Result<(), Rejected> {
        match self.handler.as_deref() {
            None => Err(Rejected::NotTaken),
            Some(h) if h != agent => Err(Rejected::TakenBy(h.to_string())),
            Some(_) => Ok(()),
        }
    }

    /// The duress alarms open at this account (ids in the center).
    pub fn duress_open(&self) -> &[i64] {
        &self.duress
    }

    /// The resolution code the handler closed the alarm with.
    pub fn resolution(&self) -> Option<&str> {
        self.resolution.as_deref()
    }

    /// What agents still owe the agencies on this alarm, oldest dispatch first.
    pub fn open_tasks(&self) -> Vec<Task> {
        self.dispatches
            .iter()
            .filter_map(|d| {
                let (kind, since) = match d.canceled_at {
                    None if d.reference.is_none() && d.waived.is_none() => {
                        (TaskKind::Request, d.requested_at)
                    }
                    Some(at) if d.stood_down.is_none() => (TaskKind::StandDown, at),
                    _ => return None,
                };
                Some(Task {
                    agency: d.agency,
                    kind,
                    since,
                })
            })
            .collect()
    }

    /// Whether the alarm belongs in the queue: open, or closed with tasks still owed.
    pub fn in_queue(&self) -> bool {
        self.closed.is_none() || !self.open_tasks().is_empty()
    }

    pub fn is_silent(&self) -> bool {
        self.plan().is_some_and(|p| p.silent)
    }

    /// Help has been requested (and maybe canceled since).
    /// A trouble waiting for its condition to clear (it waits on the panel, not on a call
    /// or a timer).
    pub fn is_held(&self) -> bool {
        self.held && self.closed.is_none()
    }

    /// The agency this alarm's plan asks for when it dispatches (what a dispatch request,
    /// asked for or implied, goes to).
    pub fn agency(&self) -> Agency {
        self.agency
    }

    pub fn dispatched(&self) -> bool {
        !self.dispatches.is_empty()
    }

    /// The exact message a voicemail drop on this alarm leaves (`Action::LeaveVoicemail`).
    pub fn voicemail_message(&self) -> String {
        messages::voicemail(&self.spec)
    }

    /// Whether an agent (or the detector) may still say that `call`, taken for a person,
    /// reached a machine: the call in progress, answered, and nothing said on it yet (no
    /// password asked, no decision, no agent joined).
    pub fn can_say_voicemail(&self, call: CallId) -> bool {
        self.current(call).is_ok_and(|c| {
            c.result == Some(CallResult::Answered)
                && c.password_attempts == 0
                && c.decision.is_none()
                && !c.agent_joined
        })
    }

    /// Whether an agent may still say that `call`, taken for a machine, reached a person
    /// (`Input::Answered` after `Input::Voicemail`): an agent's call (verify or notify) whose
    /// step has moved on only as far as ringing the next contact. Automated calls are the
    /// detector's alone (README, "Telephony").
    pub fn can_overturn(&self, call: CallId) -> bool {
        let Ok(c) = self.call(call) else { return false };
        let agents_call = matches!(c.purpose, Purpose::Verify | Purpose::Notify);
        let next_unanswered = self.running.as_ref().is_some_and(|r| {
            r.after_voicemail == Some(call) && self.calls[r.call as usize].result.is_none()
        });
        self.closed.is_none()
            && agents_call
            && c.result == Some(CallResult::Voicemail)
            && next_unanswered
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When the alarm must be woken with `Input::Timer`.
    pub fn poll_timeout(&self) -> Option<Millis> {
        match (self.closed, self.running.as_ref()) {
            (None, None) => self.waiting.or(self.close_at),
            _ => None,
        }
    }

    /// Applies one input given by `by` (the log's actor), who is named in the timeline rows
    /// it writes. On `Err` nothing has changed.
    pub fn handle_by(&mut self, now: Millis, by: &str, input: Input) -> Result<(), Rejected> {
        self.actor = Arc::from(by);
        let result = self.handle(now, input);
        self.actor = Arc::default();
        result
    }

    /// Applies one input. On `Err` nothing has changed. A closed alarm takes only what
    /// settles the tasks it still owes (and who handles them).
    pub fn handle(&mut self, now: Millis, input: Input) -> Result<(), Rejected> {
        if self.closed.is_some() {
            let settles = matches!(
                input,
                Input::DispatchConfirmed { .. }
                    | Input::StandDownConfirmed { .. }
                    | Input::Take { .. }
                    | Input::TakeOver { .. }
                    | Input::Release { .. }
            );
            if !settles {
                return Err(Rejected::Closed);
            }
            if self.open_tasks().is_empty() {
                return Err(Rejected::NoTasks);
            }
        }
        match input {
            Input::Signal { detail } => self.note(now, "signal", detail),
            Input::Grouped { detail } => self.group(now, detail),
            Input::Note { text } => self.note(now, "note", text),
            Input::Recorded { call, duration_ms } => {
                self.call(call)?;
                let detail = format!("Call {} recorded ({})", call + 1, spoken(duration_ms));
                self.note(now, "recorded", detail);
            }
            Input::Detected { call, detail } => {
                let to = self.call(call)?.to.clone();
                self.note(now, "detected", format!("{to}: {detail}"));
            }
            Input::ResponderUpdate { text } => self.note(now, "responder_update", text),
            Input::Confirmed { by, text } => self.confirmed(now, by, text),
            Input::Disarm { detail } => {
                self.note(now, "disarm", detail);
                self.cancel(now, CancelSource::Disarm);
            }
            Input::AppCancel => {
                self.note(now, "app_cancel", "cancel pressed in the app".into());
                self.cancel(now, CancelSource::App);
            }
            Input::CallPlaced { call } => {
                let c = self.current(call)?;
                if c.placed_at.is_some() || c.result.is_some() {
                    return Err(Rejected::AlreadyAnswered(call));
                }
                let detail = format!("{} ({})", c.to, c.purpose.as_str());
                self.calls[call as usize].placed_at = Some(now);
                self.note(now, "call_placed", detail);
            }
            Input::Answered { call } => {
                if self.unanswered(call).is_err() && self.can_overturn(call) {
                    self.overturn(now, call);
                    return Ok(());
                }
                self.unanswered(call)?;
                let c = self.outcome(call, CallResult::Answered);
                c.answered_at = Some(now);
                let detail = c.to.clone();
                self.reached = true;
                self.note(now, "answered", detail);
            }
            Input::Voicemail { call } => {
                // Taken for a person, it was a machine: an agent (or the detector) may say so
                // until anything was said on the call (README, "Telephony").
                if self.unanswered(call).is_err() {
                    self.current(call)?;
                    if !self.can_say_voicemail(call) {
                        return Err(Rejected::AlreadyAnswered(call));
                    }
                    self.calls[call as usize].answered_at = None;
                    self.reached = self
                        .calls
                        .iter()
                        .any(|c| c.id != call && c.result == Some(CallResult::Answered));
                }
                let message = messages::voicemail(&self.spec);
                let c = self.outcome(call, CallResult::Voicemail);
                c.voicemail_left = true;
                let (to, purpose) = (c.to.clone(), c.purpose);
                self.actions
                    .push_back(Action::LeaveVoicemail { call, message });
                self.note(now, "voicemail_left", to);
                // An agent leaves the drop to the system and moves on at once; an automated
                // call is itself the message, so it ends when the message has been left.
                if purpose != Purpose::Automated {
                    self.end_call(now, call, None);
                }
            }
            Input::NoAnswer { call } | Input::Busy { call } => {
                self.unanswered(call)?;
                let (result, event) = match input {
                    Input::Busy { .. } => (CallResult::Busy, "busy"),
                    _ => (CallResult::NoAnswer, "no_answer"),
                };
                let to = self.outcome(call, result).to.clone();
                self.note(now, event, to);
                self.end_call(now, call, None);
            }
            Input::AgentJoined { call } => {
                let c = self.current(call)?;
                if c.result != Some(CallResult::Answered) {
                    return Err(Rejected::NotAnswered(call));
                }
                let offers = matches!(
                    self.running.as_ref().map(|r| &r.calling),
                    Some(Calling::Automated(Some(_)))
                );
                if !offers || c.agent_joined {
                    return Err(Rejected::NoAgentOffered(call));
                }
                let to = c.to.clone();
                self.calls[call as usize].agent_joined = true;
                self.note(now, "agent_joined", to);
            }
            Input::PasswordChecked { call, matched } => {
                let c = self.conversation(call)?;
                if c.verified == Some(true) {
                    return Err(Rejected::AlreadyVerified(call));
                }
                if c.password_attempts >= 2 {
                    return Err(Rejected::TooManyAttempts(call));
                }
                let c = &mut self.calls[call as usize];
                c.password_attempts += 1;
                c.verified = Some(matched);
                let detail = if matched {
                    format!("{}: match", c.to)
                } else {
                    format!("{}: no match (attempt {} of 2)", c.to, c.password_attempts)
                };
                self.note(now, "password", detail);
            }
            Input::Decision { call, decision } => {
                let c = self.call(call)?;
                if !c.is_open() {
                    return Err(Rejected::CallEnded(call));
                }
                if c.purpose == Purpose::Notify && c.result == Some(CallResult::Answered) {
                    let detail = format!(
                        "{} said {}; a notification call changes nothing",
                        c.to,
                        decision.as_str()
                    );
                    self.note(now, "decision", detail);
                    self.end_call(now, call, None);
                    return Ok(());
                }
                self.conversation(call)?;
                self.decide(now, call, decision);
            }
            Input::CallEnded { call } => {
                let c = self.call(call)?;
                if !c.is_open() {
                    return Err(Rejected::CallEnded(call));
                }
                match (c.purpose, c.result) {
                    (Purpose::Callback, _) => {
                        let detail = format!("{}: callback ended without a decision", c.to);
                        self.calls[call as usize].ended_at = Some(now);
                        self.note(now, "call_ended", detail);
                    }
                    // A person reached on a deciding call who hangs up without verifying
                    // is treated as asking for help.
                    (Purpose::Verify, Some(CallResult::Answered)) => {
                        self.decide(now, call, Decision::Dispatch)
                    }
                    (Purpose::Automated, Some(CallResult::Answered)) if c.agent_joined => {
                        self.decide(now, call, Decision::Dispatch)
                    }
                    (_, Some(CallResult::Answered | CallResult::Voicemail)) => {
                        let detail = c.to.clone();
                        self.note(now, "call_ended", detail);
                        self.end_call(now, call, None);
                    }
                    _ => return Err(Rejected::NotAnswered(call)),
                }
            }
            Input::Callback { contact } => {
                let Some(person) = self.spec.contacts.get(contact) else {
                    return Err(Rejected::UnknownContact(contact));
                };
                let (to, phone) = (person.name.clone(), person.phone.clone());
                self.calls.push(Call {
                    id: self.calls.len() as CallId,
                    contact,
                    line: Line::Phone,
                    phone,
                    to: to.clone(),
                    purpose: Purpose::Callback,
                    requested_at: now,
                    placed_at: Some(now),
                    answered_at: Some(now),
                    ended_at: None,
                    result: Some(CallResult::Answered),
                    voicemail_left: false,
                    agent_joined: false,
                    password_attempts: 0,
                    verified: None,
                    decision: None,
                });
                self.note(now, "callback", format!("{to} called the center back"));
            }
            Input::DispatchConfirmed { agency, reference } => {
                let Some(d) = self
                    .dispatches
                    .iter_mut()
                    .rev()
                    .find(|d| d.agency == agency)
                else {
                    return Err(Rejected::NoDispatch(agency));
                };
                if d.reference.is_some() && self.closed.is_some() {
                    return Err(Rejected::NoTasks);
                }
                d.reference = Some(reference.clone());
                self.note(now, "dispatch_confirmed", format!("{agency}: {reference}"));
            }
            Input::AgentClose { resolution, reason } => {
                if self.close_at.is_none() || self.running.is_some() {
                    return Err(Rejected::StillRunning);
                }
                let resolution = resolution
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .ok_or(Rejected::NoResolution)?;
                let reason = reason
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty());
                let mut detail = format!("closed by the handler: {resolution}");
                let unconfirmed: Vec<usize> = (0..self.dispatches.len())
                    .filter(|&i| {
                        let d = &self.dispatches[i];
                        d.reference.is_none() && d.canceled_at.is_none()
                    })
                    .collect();
                if let Some(&first) = unconfirmed.first() {
                    let Some(reason) = reason else {
                        return Err(Rejected::Unconfirmed(self.dispatches[first].agency));
                    };
                    for i in unconfirmed {
                        self.dispatches[i].waived = Some(reason.clone());
                        let agency = self.dispatches[i].agency;
                        detail.push_str(&format!("; no {agency} incident number: {reason}"));
                    }
                }
                self.resolution = Some(resolution);
                self.note(now, "agent_close", detail);
                self.close(now, self.disposition());
            }
            Input::StandDownConfirmed { agency, told } => {
                let told = told.trim().to_string();
                let Some(d) = self
                    .dispatches
                    .iter_mut()
                    .rev()
                    .find(|d| d.agency == agency && d.canceled_at.is_some())
                    .filter(|d| d.stood_down.is_none() && !told.is_empty())
                else {
                    return Err(Rejected::NoStandDown(agency));
                };
                d.stood_down = Some(told.clone());
                self.note(
                    now,
                    "stand_down_confirmed",
                    format!("{agency}: told {told}"),
                );
            }
            Input::DuressOpen { alarm } => {
                if !self.duress.contains(&alarm) {
                    self.duress.push(alarm);
                    let detail = format!(
                        "duress alarm {alarm} is open at this account: nothing from the premises \
                         cancels this alarm while it is"
                    );
                    self.note(now, "duress", detail);
                }
            }
            Input::DuressClosed { alarm } => {
                if let Some(i) = self.duress.iter().position(|d| *d == alarm) {
                    self.duress.remove(i);
                    self.note(now, "duress_closed", format!("duress alarm {alarm} closed"));
                }
            }
            Input::TakeOver { agent } => {
                let detail = match self.handler.as_ref().filter(|h| **h != agent) {
                    Some(from) => format!("{agent} took over from {from}"),
                    None => agent.clone(),
                };
                let event = if detail == agent {
                    "taken"
                } else {
                    "taken_over"
                };
                self.note(now, event, detail);
                self.handler = Some(agent);
            }
            Input::Restored { detail } => {
                if !self.held {
                    return Err(Rejected::NotHeld);
                }
                self.note(now, "restored", detail);
                self.close(now, Disposition::Restored);
            }
            Input::Take { agent } => {
                if let Some(other) = self.handler.as_ref().filter(|h| **h != agent) {
                    return Err(Rejected::TakenBy(other.clone()));
                }
                self.note(now, "taken", agent.clone());
                self.handler = Some(agent);
            }
            Input::Release { agent } => {
                if self.handler.as_ref() != Some(&agent) {
                    return Err(Rejected::NotHandling(agent));
                }
                self.note(now, "released", agent);
                self.handler = None;
            }
            Input::Timer => match self.poll_timeout() {
                Some(due) if due <= now && self.waiting.is_some() => {
                    self.waiting = None;
                    self.note(now, "wait_over", "the plan goes on".into());
                    self.advance(now);
                }
                Some(due) if due <= now => self.close(now, self.disposition()),
                _ => return Err(Rejected::NotDue),
            },
        }
        Ok(())
    }

    fn plan(&self) -> Option<&Plan> {
        self.spec.plan.as_ref()
    }

    fn note(&mut self, at: Millis, event: &str, detail: String) {
        self.timeline.push_back(Arc::new(TimelineEntry {
            at,
            event: event.into(),
            detail: detail.into(),
            by: self.actor.clone(),
        }));
    }

    /// Counts a signal in the group that is the timeline's last row, or starts a group after
    /// whatever was listed since the last one.
    fn group(&mut self, now: Millis, detail: String) {
        self.grouped += 1;
        let last = self.timeline.len().checked_sub(1);
        if self.group.as_ref().is_none_or(|g| Some(g.row) != last) {
            self.note(now, "grouped", String::new());
            self.group = Some(Group::at(self.timeline.len() - 1));
        }
        let group = self.group.as_mut().expect("a group was just started");
        group.count(detail);
        let text = group.describe();
        if let Some(row) = self.timeline.back_mut() {
            Arc::make_mut(row).detail = text.into();
        }
    }

    fn call(&self, call: CallId) -> Result<&Call, Rejected> {
        self.calls
            .get(call as usize)
            .ok_or(Rejected::UnknownCall(call))
    }

    /// The outbound call the plan is waiting on.
    fn current(&self, call: CallId) -> Result<&Call, Rejected> {
        let c = self.call(call)?;
        if !c.is_open() {
            return Err(Rejected::CallEnded(call));
        }
        match &self.running {
            Some(r) if r.call == call => Ok(c),
            _ => Err(Rejected::NotCurrent(call)),
        }
    }

    fn unanswered(&self, call: CallId) -> Result<(), Rejected> {
        match self.current(call)?.result {
            None => Ok(()),
            Some(_) => Err(Rejected::AlreadyAnswered(call)),
        }
    }

    fn conversation(&self, call: CallId) -> Result<&Call, Rejected> {
        let c = self.call(call)?;
        if !c.is_open() {
            return Err(Rejected::CallEnded(call));
        }
        if c.in_conversation() {
            Ok(c)
        } else if c.result != Some(CallResult::Answered) {
            Err(Rejected::NotAnswered(call))
        } else {
            Err(Rejected::NoConversation(call))
        }
    }

    /// Records the outcome of a ringing call.
    fn outcome(&mut self, call: CallId, result: CallResult) -> &mut Call {
        let c = &mut self.calls[call as usize];
        c.result = Some(result);
        c.placed_at.get_or_insert(c.requested_at);
        c
    }

    /// A person on a call with an agent decided; only a verified person can cancel.
    fn decide(&mut self, now: Millis, call: CallId, said: Decision) {
        let c = &mut self.calls[call as usize];
        let verified = c.verified == Some(true);
        let duress = self.duress.first().copied();
        let decision = if said == Decision::Cancel && verified && duress.is_none() {
            Decision::Cancel
        } else {
            Decision::Dispatch
        };
        c.verified = Some(verified);
        c.decision = Some(decision);
        let detail = match (said, verified) {
            (Decision::Cancel, true) if let Some(d) = duress => format!(
                "{}: said cancel (verified), refused because duress alarm {d} is open at this \
                 account: treated as a dispatch request",
                c.to
            ),
            (Decision::Cancel, false) => {
                format!(
                    "{}: said cancel but is not verified: treated as a dispatch request",
                    c.to
                )
            }
            _ => format!(
                "{}: {}{}",
                c.to,
                decision.as_str(),
                if verified { " (verified)" } else { "" }
            ),
        };
        let purpose = c.purpose;
        self.note(now, "decision", detail);
        if purpose == Purpose::Callback {
            self.calls[call as usize].ended_at = Some(now);
            self.callback_decision(now, verified, decision);
        } else {
            self.end_call(now, call, Some(decision));
        }
    }

    /// A confirmation from outside the contact list: the plan's `on_confirmation` steps
    /// replace what remained of it (its calls and waits are moot once the alarm is
    /// confirmed); a plan without them only records it.
    fn confirmed(&mut self, now: Millis, by: Confirmer, text: String) {
        let text = text.trim();
        let detail = match text {
            "" => format!("by {}", by.as_str()),
            _ => format!("by {}: {text}", by.as_str()),
        };
        self.note(now, "confirmed", detail);
        let steps = self
            .plan()
            .map(|p| p.on_confirmation.clone())
            .unwrap_or_default();
        if steps.is_empty() {
            let why = "this alarm's plan takes no steps on a confirmation";
            self.note(now, "no_effect", why.into());
            return;
        }
        self.stop_calls(now);
        self.waiting = None;
        self.prepend(steps);
        self.advance(now);
    }

    /// A verified caller can do what a reached contact could do at this point of the plan.
    fn callback_decision(&mut self, now: Millis, verified: bool, decision: Decision) {
        if !verified {
            self.note(
                now,
                "no_effect",
                "an unverified caller cannot change the alarm".into(),
            );
            return;
        }
        match decision {
            Decision::Cancel => self.cancel(now, CancelSource::Callback),
            Decision::Dispatch => {
                let may_decide = !self.dispatched()
                    && self.plan().is_some_and(|p| {
                        p.cancel_before_dispatch.contains(&CancelSource::Callback)
                    });
                if !may_decide {
                    let why = if self.dispatched() {
                        "help has already been requested"
                    } else {
                        "a callback does not change this alarm's plan"
                    };
                    self.note(now, "no_effect", why.into());
                    return;
                }
                let branch = match self.running.as_ref().map(|r| &r.calling) {
                    Some(Calling::Verify(b)) | Some(Calling::Automated(Some(b))) => {
                        b.dispatch.clone()
                    }
                    _ => vec![Step::DISPATCH],
                };
                self.stop_calls(now);
                self.prepend(branch);
                self.advance(now);
            }
        }
    }

    /// Ends an outbound call and moves the plan on. `decision` is set when a person on a
    /// deciding call decided.
    fn end_call(&mut self, now: Millis, call: CallId, decision: Option<Decision>) {
        let c = &mut self.calls[call as usize];
        c.ended_at = Some(now);
        let reached = c.result == Some(CallResult::Answered);
        let machine = c.result == Some(CallResult::Voicemail);
        let Some(mut running) = self.running.take() else {
            return;
        };
        let branch = match (&running.calling, decision) {
            (Calling::Verify(b) | Calling::Automated(Some(b)), Some(d)) => Some(match d {
                Decision::Cancel => {
                    self.contact_canceled = true;
                    b.cancel.clone()
                }
                Decision::Dispatch => b.dispatch.clone(),
            }),
            (Calling::Automated(_), None) if reached => Some(vec![]),
            _ => match running.remaining.pop_front() {
                Some(next) => {
                    running.call = self.place_call(now, next, &running.calling);
                    running.after_voicemail = machine.then_some(call);
                    self.running = Some(running);
                    return;
                }
                None => Some(match &running.calling {
                    Calling::Verify(b) | Calling::Automated(Some(b)) => b.unreached.clone(),
                    _ => vec![],
                }),
            },
        };
        if let Some(steps) = branch {
            self.prepend(steps);
        }
        self.advance(now);
    }

    /// A person answered `call` after all (`can_overturn` holds): the next contact's call is
    /// ended unanswered and that contact goes back to the head of the step, the person's call
    /// is the step's call again, and the center connects them to an agent
    /// (`Action::ConnectAgent`). The person is then a reached contact: the same rules apply
    /// as if the detector had never spoken.
    fn overturn(&mut self, now: Millis, call: CallId) {
        let mut running = self
            .running
            .take()
            .expect("can_overturn: a step is running");
        let next = &mut self.calls[running.call as usize];
        next.ended_at = Some(now);
        if next.placed_at.is_some() {
            next.result = Some(CallResult::NoAnswer);
        }
        let (next_id, next_to) = (next.id, next.to.clone());
        let next_dial = Dial {
            contact: next.contact,
            line: next.line,
        };
        self.actions.push_back(Action::HangUp { call: next_id });
        self.note(now, "hang_up", next_to);
        running.remaining.push_front(next_dial);
        running.call = call;
        running.after_voicemail = None;
        self.running = Some(running);
        let c = &mut self.calls[call as usize];
        c.result = Some(CallResult::Answered);
        c.voicemail_left = false;
        c.ended_at = None;
        c.answered_at = Some(now);
        let detail = format!("{}: a person, not a machine", c.to);
        self.reached = true;
        self.actions.push_back(Action::ConnectAgent { call });
        self.note(now, "answered", detail);
    }

    fn prepend(&mut self, steps: Vec<Step>) {
        for step in steps.into_iter().rev() {
            self.pending.push_front(step);
        }
    }

    /// Runs steps until one waits on a call, or the plan is done.
    fn advance(&mut self, now: Millis) {
        while self.closed.is_none() && self.running.is_none() && self.waiting.is_none() {
            let Some(step) = self.pending.pop_front() else {
                self.plan_done(now);
                return;
            };
            let (contacts, min_calls, calling) = match step {
                Step::Dispatch { agency } => {
                    let agency = agency.map_or(self.agency, |a| a.resolve(self.spec.responder));
                    self.request_dispatch(now, agency);
                    continue;
                }
                Step::Wait { seconds } => {
                    self.waiting = Some(now + Millis::from(seconds) * 1000);
                    let detail = format!("{seconds} s before the next step");
                    self.note(now, "waiting", detail);
                    continue;
                }
                Step::Verify {
                    contacts,
                    min_calls,
                    then,
                } => (contacts, min_calls, Calling::Verify(then)),
                Step::Notify { contacts } => (contacts, None, Calling::Notify),
                Step::Automated { contacts, agent } => (contacts, None, Calling::Automated(agent)),
            };
            if self.is_silent() {
                self.note(now, "silent", "a silent alarm never calls anyone".into());
                continue;
            }
            let mut remaining = self.dial_list(contacts, min_calls);
            match remaining.pop_front() {
                Some(first) => {
                    let call = self.place_call(now, first, &calling);
                    self.running = Some(Running {
                        calling,
                        remaining,
                        call,
                        after_voicemail: None,
                    });
                }
                None => {
                    if let Calling::Verify(b) | Calling::Automated(Some(b)) = calling {
                        self.prepend(b.unreached);
                    }
                }
            }
        }
    }

    /// The numbers a calling step dials, in order: the first number of each contact picked;
    /// when `min_calls` asks for more calls, their second numbers, then the premises phone,
    /// and only then the same list again from its start (docs/plans.md, "Enhanced call
    /// verification").
    fn dial_list(&self, contacts: Contacts, min_calls: Option<u32>) -> VecDeque<Dial> {
        let picked: Vec<usize> = contacts.indexes(self.spec.contacts.len()).collect();
        let first = |&contact: &usize| Dial {
            contact,
            line: Line::Phone,
        };
        let calls = (min_calls.unwrap_or(0) as usize).max(picked.len());
        // A step that picks nobody calls nobody, the premises included.
        if calls == picked.len() || picked.is_empty() {
            return picked.iter().map(first).collect();
        }
        let seconds = picked
            .iter()
            .filter(|&&c| self.spec.contacts[c].phone2.is_some())
            .map(|&contact| Dial {
                contact,
                line: Line::Phone2,
            });
        let premises = self.spec.premises_phone.as_ref().map(|_| Dial {
            contact: self.spec.contacts.len(),
            line: Line::Premises,
        });
        let every: Vec<Dial> = picked
            .iter()
            .map(first)
            .chain(seconds)
            .chain(premises)
            .collect();
        every.iter().copied().cycle().take(calls).collect()
    }

    /// The number `call` dialled; for calls logged before calls recorded it, the contact's
    /// first number (the only one there was).
    pub fn phone_of<'a>(&'a self, call: &'a Call) -> &'a str {
        if !call.phone.is_empty() {
            return &call.phone;
        }
        self.spec
            .contacts
            .get(call.contact)
            .map_or("", |c| c.phone.as_str())
    }

    fn place_call(&mut self, now: Millis, dial: Dial, calling: &Calling) -> CallId {
        let id = self.calls.len() as CallId;
        let (to, phone) = match dial.line {
            Line::Premises => (
                PREMISES.to_string(),
                self.spec.premises_phone.clone().unwrap_or_default(),
            ),
            line => {
                let person = &self.spec.contacts[dial.contact];
                let phone = match line {
                    Line::Phone2 => person.phone2.clone().unwrap_or_default(),
                    _ => person.phone.clone(),
                };
                (person.name.clone(), phone)
            }
        };
        let contact = dial.contact;
        let (purpose, message) = match calling {
            Calling::Verify(_) => (Purpose::Verify, None),
            Calling::Notify => (Purpose::Notify, None),
            Calling::Automated(agent) => (
                Purpose::Automated,
                Some(messages::automated(&self.spec, agent.is_some())),
            ),
        };
        self.actions.push_back(Action::PlaceCall {
            call: id,
            contact,
            to: to.clone(),
            phone: phone.clone(),
            purpose,
            message,
            offers_agent: matches!(calling, Calling::Automated(Some(_))),
        });
        self.calls.push(Call {
            id,
            contact,
            line: dial.line,
            phone,
            to,
            purpose,
            requested_at: now,
            placed_at: None,
            answered_at: None,
            ended_at: None,
            result: None,
            voicemail_left: false,
            agent_joined: false,
            password_attempts: 0,
            verified: None,
            decision: None,
        });
        id
    }

    fn request_dispatch(&mut self, now: Millis, agency: Agency) {
        if self
            .dispatches
            .iter()
            .any(|d| d.agency == agency && d.canceled_at.is_none())
        {
            return;
        }
        self.dispatches.push(Dispatch {
            agency,
            requested_at: now,
            canceled_at: None,
            reference: None,
            stood_down: None,
            waived: None,
        });
        self.actions.push_back(Action::RequestDispatch {
            agency,
            kind: self.spec.kind,
            address: self.spec.address.clone(),
        });
        self.note(now, "dispatch_requested", agency.to_string());
    }

    /// Hangs up the call in progress and drops the rest of the plan.
    fn stop_calls(&mut self, now: Millis) {
        self.pending.clear();
        let Some(running) = self.running.take() else {
            return;
        };
        let c = &mut self.calls[running.call as usize];
        if c.is_open() {
            c.ended_at = Some(now);
            if c.placed_at.is_some() && c.result.is_none() {
                c.result = Some(CallResult::NoAnswer);
            }
            let to = c.to.clone();
            self.actions
                .push_back(Action::HangUp { call: running.call });
            self.note(now, "hang_up", to);
        }
    }

    fn cancel(&mut self, now: Millis, source: CancelSource) {
        if let Some(d) = self.duress.first() {
            let what = match source {
                CancelSource::Disarm => "the disarm",
                CancelSource::App => "the app's cancel",
                CancelSource::Callback => "the caller's cancel",
            };
            let detail = format!(
                "{what} is refused: duress alarm {d} is open at this account; the plan goes on"
            );
            self.note(now, "cancel_refused", detail);
            return;
        }
        let Some(plan) = self.plan() else { return };
        let before = !self.dispatched();
        let (allowed, effect) = if before {
            (plan.cancel_before_dispatch.contains(&source), None)
        } else {
            (
                plan.cancel_after_dispatch.contains(&source)
                    && plan.after_dispatch != AfterDispatch::Ignore,
                Some(plan.after_dispatch),
            )
        };
        if !allowed {
            let detail = format!(
                "does not cancel a {} alarm{}",
                self.spec.kind,
                if before {
                    ""
                } else {
                    " once help is requested"
                }
            );
            self.note(now, "no_effect", detail);
            return;
        }
        self.stop_calls(now);
        let disposition = match effect {
            None => source.disposition(),
            Some(effect) => {
                for d in self
                    .dispatches
                    .iter_mut()
                    .filter(|d| d.canceled_at.is_none())
                {
                    d.canceled_at = Some(now);
                    self.actions
                        .push_back(Action::CancelDispatch { agency: d.agency });
                }
                let (event, disposition) = if effect == AfterDispatch::Cancel {
                    ("dispatch_canceled", Disposition::DispatchCanceled)
                } else {
                    (
                        "dispatch_cancel_requested",
                        Disposition::DispatchCancelRequested,
                    )
                };
                let detail = if effect == AfterDispatch::Cancel {
                    "the agency was told to stand down"
                } else {
                    "cancellation requested; responders may still arrive"
                };
                self.note(now, event, detail.into());
                disposition
            }
        };
        self.canceled = Some(disposition);
        self.close(now, disposition);
    }

    /// No step is left: close now, or hold a dispatched alarm open for follow-up.
    fn plan_done(&mut self, now: Millis) {
        if self.plan().is_some_and(|p| p.hold_until_restored) {
            if !self.held {
                self.held = true;
                self.note(now, "held", "open until the condition clears".into());
            }
            return;
        }
        match self.dispatches.first() {
            Some(first) => {
                let follow_up = self
                    .plan()
                    .and_then(|p| p.follow_up_s)
                    .map_or(self.spec.settings.follow_up_ms, |s| Millis::from(s) * 1000);
                let until = (first.requested_at + follow_up).max(now);
                if until <= now {
                    self.close(now, self.disposition());
                } else if self.close_at.is_none() {
                    self.close_at = Some(until);
                    let detail = format!("open for follow-up for {} s", (until - now) / 1000);
                    self.note(now, "follow_up", detail);
                }
            }
            None => self.close(now, self.disposition()),
        }
    }

    fn disposition(&self) -> Disposition {
        if let Some(canceled) = self.canceled {
            canceled
        } else if self.dispatched() {
            Disposition::Dispatched
        } else if self.contact_canceled {
            Disposition::CanceledByContact
        } else {
            let end = self.plan().map(|p| p.quiet_end);
            match (end, self.reached) {
                (Some(end), true) => end.reached,
                (Some(end), false) => end.unreached,
                (None, _) => Disposition::NotMonitored,
            }
        }
    }

    fn close(&mut self, now: Millis, disposition: Disposition) {
        self.closed = Some((now, disposition));
        self.close_at = None;
        self.waiting = None;
        self.actions.push_back(Action::Close { disposition });
        self.note(now, "closed", disposition.to_string());
    }
}

/// A recording's length as the timeline says it: `42 s`, `1 min 12 s`, `1 h 3 min`
/// (whole seconds, rounded down).
fn spoken(duration_ms: u32) -> String {
    let s = duration_ms / 1000;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, sec) => format!("{sec} s"),
        (0, min, sec) => format!("{min} min {sec} s"),
        (h, min, _) => format!("{h} h {min} min"),
    }
}
