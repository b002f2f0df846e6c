//! An alarm as agents, consoles and tools see it: the scenario report's fields (times in
//! seconds from opening), the absolute times, the people to call, who is working it, and the
//! protocol's next step in words.

use chrono::{DateTime, SecondsFormat};
use serde::Serialize;
use watchpost_core::account::Contact;
use watchpost_core::alarm::{CallId, CallResult, Purpose, Task, TaskKind};
use watchpost_core::report::{AlarmReport, DispatchConfirmation, TimelineReport, alarm_report};
use watchpost_core::{Alarm, AlarmKind, Millis};

#[derive(Debug, Serialize)]
pub struct AlarmView {
    pub id: i64,
    pub account: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
    #[serde(flatten)]
    pub report: AlarmReport,
    pub address: String,
    pub contacts: Vec<Contact>,
    /// The premises' own phone, as when the alarm opened.
    pub premises_phone: Option<String>,
    pub handler: Option<String>,
    /// A silent alarm: never call the premises.
    pub silent: bool,
    /// The number of the call the plan waits on (the `{call}` of the call routes), placed or
    /// not yet; `None` when it waits on no call. A call not yet placed is in no report list.
    pub current_call: Option<CallId>,
    /// Signals from a runaway account counted in the timeline's `grouped` rows instead of
    /// listed one by one (README, "Runaway accounts").
    pub grouped_signals: u64,
    pub next_step: String,
    /// What agents still owe the agencies (a request without its incident number, a
    /// cancellation nobody confirmed telling them), each with `since` in milliseconds since
    /// the epoch; the alarm stays in the queue until there are none (issue 12, finding 5).
    pub tasks: Vec<Task>,
    /// Duress alarms open at this account: nothing from the premises cancels this alarm
    /// while any is (PROTOCOLS.md, Duress 3).
    pub duress_open: Vec<i64>,
    /// The resolution code the handler closed the alarm with.
    pub resolution: Option<String>,
    /// The plan set and version the alarm ran (`ecv v2`), or `built-in` (docs/plans.md).
    pub plan: String,
}

/// An alarm as a list shows it (`GET /api/alarms`): who, what, how urgent, since when, who
/// holds it and what it waits for — without its contacts, calls, dispatches and timeline,
/// which `GET /api/alarms/{id}` gives. A few hundred bytes whatever the alarm's history.
#[derive(Debug, Serialize)]
pub struct AlarmSummary {
    pub id: i64,
    pub account: String,
    pub address: String,
    pub kind: &'static str,
    pub mode: &'static str,
    /// 1 (most urgent) to 4.
    pub priority: u8,
    /// `open`, or `closed` (a closed alarm stays in the open list while it has `tasks`).
    pub state: &'static str,
    pub opened_at: String,
    /// `opened_at` in milliseconds since the epoch.
    pub opened_at_ms: Millis,
    pub closed_at: Option<String>,
    pub disposition: Option<&'static str>,
    pub resolution: Option<String>,
    /// The agent who took it.
    pub handler: Option<String>,
    /// A silent alarm: never call the premises.
    pub silent: bool,
    /// It needs an agent's action (`crate::attention::needs_action`); false when it only
    /// waits (help on the way, a trouble held).
    pub needs_action: bool,
    pub current_call: Option<CallId>,
    pub next_step: String,
    pub tasks: Vec<Task>,
    pub duress_open: Vec<i64>,
    /// The plan set and version it runs (`ecv v2`), or `built-in`.
    pub plan: String,
}

/// `center_dials`: as for `alarm_view`.
pub fn alarm_summary(id: i64, alarm: &Alarm, center_dials: bool) -> AlarmSummary {
    let spec = alarm.spec();
    AlarmSummary {
        id,
        account: spec.account.clone(),
        address: spec.address.clone(),
        kind: spec.kind.as_str(),
        mode: spec.mode.as_str(),
        priority: spec.kind.priority(),
        state: if alarm.closed().is_some() {
            "closed"
        } else {
            "open"
        },
        opened_at: rfc3339(spec.opened_at),
        opened_at_ms: spec.opened_at,
        closed_at: alarm.closed().map(|(at, _)| rfc3339(at)),
        disposition: alarm.closed().map(|(_, d)| d.as_str()),
        resolution: alarm.resolution().map(str::to_string),
        handler: alarm.handler().map(str::to_string),
        silent: alarm.is_silent(),
        needs_action: crate::attention::needs_action(alarm),
        current_call: alarm.current_call().map(|call| call.id),
        next_step: next_step(alarm, center_dials),
        tasks: alarm.open_tasks(),
        duress_open: alarm.duress_open().to_vec(),
        plan: plan(alarm),
    }
}

/// Whether a timeline row names a duress alarm: the row it opened with at this alarm, its
/// closing, or a cancel refused because of it.
fn names_duress(row: &TimelineReport) -> bool {
    matches!(&*row.event, "duress" | "duress_closed") || row.detail.contains("duress alarm")
}

impl AlarmView {
    /// What a dealer's user may read of the alarm: a silent (duress) alarm is the center's
    /// alone (PROTOCOLS.md, Duress), and so is its mark on the account's other alarms — which
    /// duress alarms are open, and the timeline rows that name one.
    pub fn for_dealer(mut self) -> Self {
        self.duress_open.clear();
        self.report.timeline.retain(|row| !names_duress(row));
        self
    }
}

impl AlarmSummary {
    /// `AlarmView::for_dealer` for a list's row.
    pub fn for_dealer(mut self) -> Self {
        self.duress_open.clear();
        self
    }
}

/// The plan set and version the alarm runs, or `built-in`.
fn plan(alarm: &Alarm) -> String {
    alarm
        .spec()
        .plan_set
        .as_ref()
        .map_or("built-in".into(), ToString::to_string)
}

/// Who caused a timeline row, in words, from the log's actor: `agent ann`, `panel`, `app`,
/// `telephony`, `dispatch interface`, `system`.
pub fn actor_words(actor: &str) -> String {
    if let Some(name) = actor.strip_prefix("agent:") {
        return format!("agent {name}");
    }
    match actor {
        "sia" | "cid" | "panel" => "panel",
        "app" => "app",
        "telephony" => "telephony",
        "dispatch" => "dispatch interface",
        "supervision" => "system (supervision)",
        "" | "timer" | "engine" | "center" => "system",
        other => other,
    }
    .to_string()
}

pub fn rfc3339(at: Millis) -> String {
    DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// `center_dials`: the center places calls itself (SIP telephony), and the next step says so.
pub fn alarm_view(id: i64, alarm: &Alarm, center_dials: bool) -> AlarmView {
    let spec = alarm.spec();
    let mut report = alarm_report(spec.opened_at, alarm);
    for (row, entry) in report.timeline.iter_mut().zip(alarm.timeline()) {
        row.by = Some(actor_words(&entry.by));
    }
    // The report's calls are the outbound ones that were placed, in order; callbacks apart.
    let (callbacks, outbound): (Vec<_>, Vec<_>) = alarm
        .calls()
        .iter()
        .partition(|c| c.purpose == Purpose::Callback);
    let placed = outbound.iter().filter(|c| c.placed_at.is_some());
    for (row, call) in report.calls.iter_mut().zip(placed) {
        row.password = Some(call.password());
    }
    for (row, call) in report.callbacks.iter_mut().zip(callbacks) {
        row.password = Some(call.password());
    }
    for (row, d) in report.dispatch.iter_mut().zip(alarm.dispatches()) {
        row.confirmed = Some(DispatchConfirmation {
            reference: d.reference.clone(),
            stood_down: d.stood_down.clone(),
            waived: d.waived.clone(),
        });
    }
    AlarmView {
        id,
        account: spec.account.clone(),
        opened_at: rfc3339(spec.opened_at),
        closed_at: alarm.closed().map(|(at, _)| rfc3339(at)),
        report,
        address: spec.address.clone(),
        contacts: spec.contacts.clone(),
        premises_phone: spec.premises_phone.clone(),
        handler: alarm.handler().map(str::to_string),
        silent: alarm.is_silent(),
        current_call: alarm.current_call().map(|call| call.id),
        grouped_signals: alarm.grouped_signals(),
        next_step: next_step(alarm, center_dials),
        tasks: alarm.open_tasks(),
        duress_open: alarm.duress_open().to_vec(),
        resolution: alarm.resolution().map(str::to_string),
        plan: plan(alarm),
    }
}

/// What the plan waits for, in the words an agent needs at 3 a.m.
pub fn next_step(alarm: &Alarm, center_dials: bool) -> String {
    let spec = alarm.spec();
    if let Some(task) = alarm.open_tasks().first()
        && alarm.closed().is_some()
    {
        return match task.kind {
            TaskKind::StandDown => format!(
                "Closed, but {} has not been told to stand down: call them, then record whom you told.",
                task.agency
            ),
            TaskKind::Request => format!(
                "Closed, but the {} request has no incident number: record it.",
                task.agency
            ),
        };
    }
    if let Some((_, disposition)) = alarm.closed() {
        return format!("Closed: {}.", disposition.as_str().replace('_', " "));
    }
    let unconfirmed = alarm
        .dispatches()
        .iter()
        .find(|d| d.reference.is_none() && d.canceled_at.is_none());
    if let Some(d) = unconfirmed
        && alarm.current_call().is_none()
    {
        return format!(
            "Request {} at {} and record the incident number.",
            d.agency, spec.address
        );
    }
    if let Some(call) = alarm.current_call() {
        let phone = alarm.phone_of(call);
        let who = format!("{} ({phone})", call.to);
        return match (call.purpose, call.result, call.placed_at) {
            (Purpose::Automated, None, _) => {
                format!("Automated call to {who}: wait for its outcome.")
            }
            (Purpose::Automated, Some(CallResult::Answered), _) if !call.agent_joined => {
                format!("{who} is hearing the recorded message.")
            }
            (_, None, None) if center_dials => format!(
                "The center calls {who} once an agent has the alarm, ringing that agent's phone \
                 first: take it, then {}.",
                if call.purpose == Purpose::Notify {
                    "tell them about the alarm"
                } else {
                    "ask for the verbal password and record cancel or dispatch"
                }
            ),
            (_, None, Some(_)) if center_dials => format!(
                "The center is calling {who} and records the outcome itself (a machine gets the \
                 message and frees you); record voicemail only if the detector took a machine for \
                 a person."
            ),
            (_, None, None) => format!(
                "Call {who} to {}.",
                if call.purpose == Purpose::Notify {
                    "tell them about the alarm"
                } else {
                    "verify: ask for the verbal password, then cancel or dispatch"
                }
            ),
            (_, None, Some(_)) => format!(
                "Calling {who}: record answered, voicemail (the message is left for you), no answer or busy."
            ),
            (Purpose::Notify, _, _) => {
                format!("Tell {who} about the alarm, then end the call.")
            }
            _ => format!(
                "Talking with {who}: check the verbal password (two tries), then record cancel or dispatch."
            ),
        };
    }
    if alarm.is_held() && spec.kind == AlarmKind::RunawayAccount {
        return "The panel floods the center: its signals are stored and acted on, and those that \
                only repeat are counted on its alarms. Have its installer service it; this closes \
                by itself once the account calms down."
            .into();
    }
    if alarm.is_held() {
        return "Wait for the panel to be heard again.".into();
    }
    if alarm.dispatched() {
        return "Help is on the way: open for follow-up (disarms, callbacks, responder updates)."
            .into();
    }
    "Nothing to do.".into()
}
