//! Webhook events derived from what the engine did (issue 14, item 7): each new log entry of an
//! alarm that a dealer's system cares about becomes an `OutboxEvent` in the same batch. Only
//! facts go out — kind, mode, disposition, agency, call result, contact name — never a verbal
//! password, a key, a hash, a token, a phone number or a recording.

use serde_json::{Value, json};
use watchpost_core::alarm::CallResult;
use watchpost_core::{Account, Action, Alarm, AlarmSpec, Input, Millis};
use watchpost_store::{AlarmId, LogBody, LogEntry, OutboxEvent, SignalRecord};

/// The dealer an account's events belong to; `None`: the center's own.
pub fn dealer_of(account: &Account) -> Option<String> {
    account.dealer.clone()
}

/// `at` (ms since the epoch) in RFC 3339, UTC, to the millisecond.
fn rfc3339(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What every event starts with; the facts of its type follow (by name).
#[derive(serde::Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: String,
    account: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    alarm: Option<AlarmId>,
    #[serde(flatten)]
    facts: Value,
}

/// An event of `kind` with the common fields first and `facts` (an object) after them.
fn event(
    id: String,
    kind: &str,
    at: Millis,
    account: &str,
    dealer: Option<String>,
    alarm: Option<AlarmId>,
    facts: Value,
) -> OutboxEvent {
    let body = Envelope {
        id: &id,
        kind,
        created_at: rfc3339(at),
        account,
        alarm,
        facts,
    };
    let body = serde_json::to_string(&body).expect("an event is plain JSON");
    OutboxEvent {
        id,
        kind: kind.to_string(),
        account: account.to_string(),
        dealer,
        alarm,
        created_at: at,
        body,
    }
}

/// The contact a call went to, by name (never the number); `premises` for the premises
/// phone.
fn contact_name(alarm: &Alarm, call: u32) -> Option<String> {
    let call = alarm.calls().iter().find(|c| c.id == call)?;
    Some(call.to.clone())
}

/// The facts of an opened alarm.
fn opened(spec: &AlarmSpec) -> Value {
    json!({
        "kind": spec.kind.as_str(),
        "mode": spec.mode.as_str(),
        "priority": spec.kind.priority(),
        "trigger": spec.trigger,
        "plan": spec.plan_set.as_ref().map(|p| p.to_string()),
    })
}

/// The event a log entry of alarm `id` reports, if any; `alarm` is the alarm after the entry.
/// Its id is the alarm's and the entry's seq: the same however often it is derived.
pub fn from_entry(
    alarm: &Alarm,
    id: AlarmId,
    dealer: Option<String>,
    entry: &LogEntry,
) -> Option<OutboxEvent> {
    let (kind, facts) = match &entry.body {
        LogBody::Opened { spec } => ("alarm.opened", opened(spec)),
        LogBody::Input { input } => {
            let (call, result) = match input {
                Input::Answered { call } => (*call, CallResult::Answered.as_str()),
                Input::Voicemail { call } => (*call, CallResult::Voicemail.as_str()),
                Input::NoAnswer { call } => (*call, CallResult::NoAnswer.as_str()),
                Input::Busy { call } => (*call, CallResult::Busy.as_str()),
                Input::Decision { call, decision } => {
                    let facts = json!({
                        "call": call,
                        "result": "decision",
                        "decision": decision.as_str(),
                        "contact": contact_name(alarm, *call),
                    });
                    return Some(event(
                        event_id(id, entry.seq),
                        "call.outcome",
                        entry.at,
                        &alarm.spec().account,
                        dealer,
                        Some(id),
                        facts,
                    ));
                }
                _ => return None,
            };
            let purpose = alarm
                .calls()
                .iter()
                .find(|c| c.id == call)
                .map(|c| c.purpose.as_str());
            let facts = json!({
                "call": call,
                "result": result,
                "purpose": purpose,
                "contact": contact_name(alarm, call),
            });
            ("call.outcome", facts)
        }
        LogBody::Action { action } => match action {
            Action::RequestDispatch { agency, kind, .. } => (
                "dispatch.requested",
                json!({ "agency": agency.as_str(), "kind": kind.as_str() }),
            ),
            Action::CancelDispatch { agency } => {
                ("dispatch.canceled", json!({ "agency": agency.as_str() }))
            }
            Action::Close { disposition } => (
                "alarm.closed",
                json!({
                    "kind": alarm.spec().kind.as_str(),
                    "disposition": disposition.as_str(),
                    "resolution": alarm.resolution(),
                }),
            ),
            _ => return None,
        },
    };
    Some(event(
        event_id(id, entry.seq),
        kind,
        entry.at,
        &alarm.spec().account,
        dealer,
        Some(id),
        facts,
    ))
}

/// `evt_<alarm>_<seq>`: an alarm's log entry is reported at most once.
fn event_id(alarm: AlarmId, seq: u32) -> String {
    format!("evt_{alarm}_{seq}")
}

/// The `signal.received` event of a signal from an enrolled account (`opened`: the alarm it
/// opened, if it did). Its id is random, kept with the event in the store.
pub fn from_signal(
    signal: &SignalRecord,
    dealer: Option<String>,
    opened: Option<AlarmId>,
) -> OutboxEvent {
    let id = format!("evt_s{:032x}", rand::random::<u128>());
    let facts = json!({
        "source": signal.source,
        "signal": signal.event,
        "description": signal.event.describe(),
        "received_at": rfc3339(signal.received_at),
    });
    event(
        id,
        "signal.received",
        signal.received_at,
        &signal.account,
        dealer,
        opened,
        facts,
    )
}
