//! The alarm screen: where and what, the protocol's next step spelled out, the call in
//! progress with its outcome buttons, the password check (match / no match only), the
//! decision, dispatch records and incident numbers, callbacks, notes, and the full timeline,
//! where each call recording has a player (and recordings saved after the alarm closed are
//! listed below it).
//! The panel re-renders after each action and on each `alarm` event for this alarm.

use super::csrf;
use super::format::{self, clock, words};
use super::layout::{self, Key, key_button};
use super::session::Agent;
use crate::api::{ApiError, ApiState};
use crate::desk;
use crate::resolution::ResolutionCodes;
use crate::view::{actor_words, next_step};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Serialize;
use watchpost_core::account::Account;
use watchpost_core::alarm::{Call, CallId, CallResult, Confirmer, Line, Purpose, TaskKind};
use watchpost_core::{Action, Agency, Alarm, Input, Millis};
use watchpost_store::{AlarmId, LogBody, Recording, Role, User};

pub const KEYS: [Key; 18] = [
    ("t", "take / release"),
    ("l", "dialled"),
    ("a", "answered"),
    ("v", "voicemail"),
    ("o", "it's a person"),
    ("n", "no answer"),
    ("b", "busy"),
    ("j", "agent joined"),
    ("p", "password"),
    ("c", "cancel"),
    ("d", "dispatch"),
    ("e", "end call"),
    ("i", "incident no."),
    ("k", "callback"),
    ("m", "note"),
    ("f", "close"),
    ("r", "refresh"),
    ("q", "queue"),
];

/// Everything the screen shows.
pub struct Screen<'a> {
    pub id: AlarmId,
    pub alarm: &'a Alarm,
    pub account: Option<&'a Account>,
    pub user: &'a User,
    /// The recorded message of the automated call in progress, from the alarm's log.
    pub recorded: Option<String>,
    /// Why the last action was refused.
    pub error: Option<&'a str>,
    /// The time zone clock times are shown in.
    pub tz: chrono_tz::Tz,
    /// The alarm's call recordings, by call.
    pub recordings: Vec<Recording>,
    /// The call of each `recorded` timeline row, in order (from the log's `Recorded` inputs).
    pub recorded_calls: Vec<CallId>,
    /// The center places its calls itself (SIP telephony).
    pub center_dials: bool,
    /// What the handler may close the alarm with.
    pub codes: &'a ResolutionCodes,
}

/// The calls whose recording the timeline lists, in the order of its `recorded` rows.
async fn recorded_calls(state: &ApiState, id: AlarmId) -> Vec<CallId> {
    let Ok(log) = state.store.log(id).await else {
        return Vec::new();
    };
    log.into_iter()
        .filter_map(|entry| match entry.body {
            LogBody::Input {
                input: Input::Recorded { call, .. },
            } => Some(call),
            _ => None,
        })
        .collect()
}

/// What the automated call in progress plays, as the engine asked for it (`PlaceCall`).
async fn recorded_message(state: &ApiState, id: AlarmId, alarm: &Alarm) -> Option<String> {
    let call = alarm
        .current_call()
        .filter(|c| c.purpose == Purpose::Automated)?
        .id;
    let log = state.store.log(id).await.ok()?;
    log.into_iter().rev().find_map(|entry| match entry.body {
        LogBody::Action {
            action:
                Action::PlaceCall {
                    call: placed,
                    message,
                    ..
                },
        } if placed == call => message,
        _ => None,
    })
}

/// The alarm's panel (what htmx swaps), as it now stands.
pub async fn panel(
    state: &ApiState,
    user: &User,
    id: AlarmId,
    error: Option<&str>,
) -> Result<Markup, ApiError> {
    let alarm = desk::load(state, id).await?;
    let account = match state.store.account(&alarm.spec().account).await {
        Ok(account) => account,
        Err(e) => {
            tracing::warn!(account = %alarm.spec().account, "alarm screen: account not read: {e}");
            None
        }
    };
    let recorded = recorded_message(state, id, &alarm).await;
    let recordings = state.recordings.list(id).await.unwrap_or_else(|e| {
        tracing::warn!(alarm = id, "alarm screen: recordings not listed: {e}");
        Vec::new()
    });
    let recorded_calls = if recordings.is_empty() {
        Vec::new()
    } else {
        recorded_calls(state, id).await
    };
    Ok(render(&Screen {
        id,
        alarm: &alarm,
        account: account.as_ref(),
        user,
        recorded,
        error,
        tz: state.timezone,
        recordings,
        recorded_calls,
        center_dials: state.board.center_dials(),
        codes: &state.resolution_codes,
    }))
}

/// The keys of a closed alarm's screen: it can only be looked at.
pub const CLOSED_KEYS: [Key; 2] = [("r", "refresh"), ("q", "queue")];

/// The whole page around the panel.
pub fn page_with(id: AlarmId, user: &User, panel: Markup) -> Markup {
    page_keys(id, user, panel, &KEYS)
}

/// The whole page around the panel, with the legend of `keys`.
pub fn page_keys(id: AlarmId, user: &User, panel: Markup, keys: &[Key]) -> Markup {
    let content = html! {
        div #panel data-alarm=(id) hx-get=(format!("/console/alarms/{id}/panel"))
            hx-trigger="wp:mine" hx-swap="innerHTML" {
            (panel)
        }
    };
    layout::page(&format!("Alarm {id}"), Some(user), true, keys, content)
}

/// A page saying what went wrong, for an alarm that cannot be shown.
pub fn failure(user: &User, e: &ApiError) -> Response {
    let content = html! {
        h1 { "Cannot show this alarm" }
        p.flash.error role="alert" { (e.message) }
        p { a href="/console" data-key="q" { "Back to the queue " kbd { "q" } } }
    };
    let page = layout::page("Alarm", Some(user), false, &[("q", "queue")], content);
    (e.status, page).into_response()
}

pub async fn page(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
) -> Response {
    match panel(&state, &agent.user, id, None).await {
        // The board holds the open alarms: any other is closed (or does not exist, and
        // `panel` said so).
        Ok(inner) if state.board.get(id).is_none() => {
            page_keys(id, &agent.user, inner, &CLOSED_KEYS).into_response()
        }
        Ok(inner) => page_with(id, &agent.user, inner).into_response(),
        Err(e) => failure(&agent.user, &e),
    }
}

pub async fn fragment(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
) -> Response {
    match panel(&state, &agent.user, id, None).await {
        Ok(inner) => inner.into_response(),
        Err(e) => html! { p.flash.error role="alert" { (e.message) } }.into_response(),
    }
}

/// A form posting to one of the alarm's action routes: htmx swaps the panel with the answer;
/// without JavaScript the browser posts and is sent back to the screen.
fn action(s: &Screen, path: &str, content: Markup) -> Markup {
    if !may_send(s, path) {
        return html! {};
    }
    let url = format!("/console/alarms/{}/{path}", s.id);
    html! {
        form.actions method="post" action=(url) hx-post=(url) hx-target="#panel" hx-swap="innerHTML" {
            (csrf::field())
            (content)
        }
    }
}

/// Like `action`, but the browser asks the agent `question` before sending (htmx
/// `hx-confirm`): for an action that requests help the agent did not ask for by name.
fn confirmed_action(s: &Screen, path: &str, question: &str, content: Markup) -> Markup {
    if !may_send(s, path) {
        return html! {};
    }
    let url = format!("/console/alarms/{}/{path}", s.id);
    html! {
        form.actions method="post" action=(url) hx-post=(url) hx-target="#panel" hx-swap="innerHTML"
            hx-confirm=(question) {
            (csrf::field())
            (content)
        }
    }
}

/// Whether the user may send `path` (an action route under the alarm) now: the desk's rule
/// (`crate::desk`), only the handler acts on an alarm, so nobody is offered a button or a key
/// the center would refuse. Nobody handling it: "take", and a callback (the caller is on the
/// line, and it takes the alarm). Someone else handling it: a supervisor's "take over" and
/// note. Everything else is the handler's.
fn may_send(s: &Screen, path: &str) -> bool {
    let me = s.user.name.as_str();
    let handler = s.alarm.handler();
    let supervisor = s.user.role >= Role::Supervisor;
    match path {
        "take" => handler.is_none(),
        "takeover" => supervisor && handler.is_some_and(|h| h != me),
        "notes" => handler == Some(me) || supervisor,
        "callbacks" => handler.is_none() || handler == Some(me),
        _ => handler == Some(me),
    }
}

/// The step's clocks, ticking in the browser from the server's times: how long the alarm
/// has been at its current step (since its last timeline entry), and how long the
/// follow-up window has left.
fn timers(s: &Screen) -> Markup {
    let now = crate::now_ms();
    let step = crate::attention::last_activity(s.alarm);
    let follow_up = s
        .alarm
        .poll_timeout()
        .filter(|_| s.alarm.dispatched() && s.alarm.current_call().is_none());
    html! {
        p.timers {
            "On this step for " span.age #step-timer data-since=(step) { (format::age(now - step)) }
            @if let Some(until) = follow_up {
                " · follow-up ends in " span.age #follow-up-timer data-until=(until) { (format::age(until - now)) }
            }
        }
    }
}

/// A serde name (`glass_break`) as words.
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => words(&s),
        _ => String::new(),
    }
}

fn tel(phone: &str) -> String {
    format!("tel:{phone}")
}

pub fn render(s: &Screen) -> Markup {
    let alarm = s.alarm;
    let spec = alarm.spec();
    let id = s.id;
    let priority = spec.kind.priority();
    let open = alarm.is_open();
    let mut active: Vec<&Call> = alarm.current_call().into_iter().collect();
    active.extend(
        alarm
            .calls()
            .iter()
            .filter(|c| c.purpose == Purpose::Callback && c.is_open()),
    );
    if !open {
        active.clear();
    }
    // The newest call is selected until the agent selects another (console.js): shortcuts
    // act on the selected call only.
    let newest = active
        .iter()
        .max_by_key(|c| (c.requested_at, c.id))
        .map(|c| c.id);
    html! {
        // A closed alarm that still owes an agency a call keeps its task forms and keys.
        div class={ "screen p" (priority) @if !alarm.in_queue() { " closed" } } {
            @if let Some(error) = s.error {
                p.flash.error role="alert" { (error) }
            }
            p #stale .stale hidden { "This alarm changed while you were typing: press " kbd { "r" } " to refresh." }
            div.alarm-head {
                h1 { span class={ "prio p" (priority) } { "P" (priority) } " " span.kind { (words(spec.kind.as_str())) } }
                span.badge { (spec.mode.as_str()) }
                span.muted {
                    "Alarm #" (id) " · signal at " (format::date_time(spec.opened_at, s.tz))
                    @if let Some((at, _)) = alarm.closed() {
                        " · closed at " (clock(at, s.tz))
                        @if let Some(code) = alarm.resolution() {
                            " · resolution: " strong.resolution { (s.codes.text(code).unwrap_or(code)) }
                        }
                    } @else {
                        " · open for " span.age data-since=(spec.opened_at) { (format::age(crate::now_ms() - spec.opened_at)) }
                    }
                }
                button type="button" hx-get=(format!("/console/alarms/{id}/panel")) hx-target="#panel"
                    hx-swap="innerHTML" data-key="r" { "Refresh " kbd { "r" } }
                a href="/console" data-key="q" { "Queue " kbd { "q" } }
            }
            p.where { "Account " (spec.account) " · " (spec.address) }
            p.muted {
                @if let Some(account) = s.account {
                    (name_of(&account.premises)) " premises, " (account.region) " " (account.country) " · "
                }
                "signal " (spec.trigger)
            }
            @if alarm.is_silent() {
                div.banner-silent role="alert" { "SILENT — never call the premises. Never discuss this alarm with a caller." }
            }
            @for duress in alarm.duress_open() {
                div.banner-duress role="alert" {
                    "DURESS alarm " a href=(format!("/console/alarms/{duress}")) { "#" (duress) }
                    " is open at this account: nobody at the premises can cancel this alarm — a disarm, \
                     the app or a caller saying cancel (even with the right password) is refused, \
                     and the plan goes on to dispatch."
                }
            }
            div.next-step #next-step { (next_step(alarm, s.center_dials)) }
            @if open { (timers(s)) }
            div.grid {
                div {
                    @if alarm.in_queue() { (handler(s)) }
                    @for (n, call) in active.iter().enumerate() {
                        (call_card(s, call, n + 1, active.len(), newest == Some(call.id)))
                    }
                    (voicemails(s))
                    (dispatch_forms(s))
                    @if open && alarm.dispatched() && alarm.current_call().is_none() {
                        (close_form(s))
                    }
                    @if open { (confirm_form(s)) }
                    @if open {
                        (action(s, "notes", html! {
                            label for="note" { "Note " kbd { "m" } }
                            textarea #note name="text" rows="2" data-key="m" required {}
                            button type="submit" { "Add note" }
                        }))
                    }
                }
                div {
                    (account_block(s))
                    (contacts(s))
                    (zones(s))
                }
            }
            (calls_table(s))
            (dispatch_table(s))
            (timeline(s))
            (late_recordings(s))
        }
    }
}

/// Recording a confirmation from outside the contact list (a guard's report, video, audio):
/// asked twice, since under a plan with `on_confirmation` steps it may request help.
fn confirm_form(s: &Screen) -> Markup {
    let question = "Record this confirmation? The plan's confirmation steps run now (they may request the police).";
    confirmed_action(
        s,
        "confirm",
        question,
        html! {
            label for="confirm-by" { "Confirmed by" }
            select #confirm-by name="by" {
                @for by in Confirmer::ALL {
                    option value=(by.as_str()) { (words(by.as_str())) }
                }
            }
            label for="confirm-text" { "What they report" }
            input #confirm-text type="text" name="text" autocomplete="off"
                placeholder="e.g. back door forced, someone inside";
            button type="submit" { "Record confirmation" }
        },
    )
}

fn handler(s: &Screen) -> Markup {
    let me = s.user.name.as_str();
    html! {
        div.actions {
            @match s.alarm.handler() {
                Some(agent) if agent == me => {
                    strong { "You are handling this alarm." }
                    (action(s, "release", key_button("t", "Release", "", None)))
                },
                Some(agent) => {
                    "Handled by " strong { (agent) } "." span.muted { " Only they act on it." }
                    @if s.user.role >= Role::Supervisor {
                        (action(s, "takeover", key_button("t", "Take over", "", None)))
                    }
                },
                None => {
                    span.muted { "Nobody is handling this alarm: take it to act on it." }
                    (action(s, "take", key_button("t", "Take", "primary", None)))
                },
            }
        }
    }
}

fn purpose(call: &Call) -> &'static str {
    match call.purpose {
        Purpose::Verify => "Verification call to",
        Purpose::Notify => "Notification call to",
        Purpose::Automated => "Automated call to",
        Purpose::Callback => "Callback from",
    }
}

/// The call in progress (or a callback being handled) and what the agent can record on it.
/// What ending an answered deciding call without a decision asks for, in words: the
/// protocol treats it as a request for the plan's agency.
fn agency_words(agency: Agency) -> &'static str {
    match agency {
        Agency::Police => "police",
        Agency::Fire => "the fire department",
        Agency::Medical => "an ambulance",
        Agency::Guard => "the guard service",
    }
}

/// `n` of `of` calls on screen; `selected`: the one the shortcuts act on.
fn call_card(s: &Screen, call: &Call, n: usize, of: usize, selected: bool) -> Markup {
    let phone = s.alarm.phone_of(call);
    let path = format!("calls/{}", call.id);
    let outcome = |key: &str, label: &str, class: &str, value: &str| {
        key_button(key, label, class, Some(("outcome", value)))
    };
    let since = call
        .answered_at
        .or(call.placed_at)
        .unwrap_or(call.requested_at);
    html! {
        div class={ "card current call" @if selected { " selected" } } data-call=(call.id) {
            h3 {
                @if of > 1 { kbd.select title="select this call" { (n) } " " }
                (purpose(call)) " " (call.to)
                " " span.muted.timer { "(" span.age data-since=(since) { (format::age(crate::now_ms() - since)) } ")" }
            }
            p {
                a.phone href=(tel(phone)) { (phone) }
                " "
                span.muted {
                    @match (call.result, call.placed_at) {
                        (None, None) => "not dialled yet",
                        (None, Some(_)) => "ringing",
                        (Some(result), _) => (words(result.as_str())),
                    }
                }
            }
            @if call.result.is_none() {
                (action(s, &format!("{path}/outcome"), html! {
                    @if call.placed_at.is_none() {
                        (outcome("l", "Dialled", "primary", "placed"))
                    }
                    (outcome("a", "Answered", "good", "answered"))
                    (outcome("v", "Voicemail", "", "voicemail"))
                    (outcome("n", "No answer", "", "no_answer"))
                    (outcome("b", "Busy", "", "busy"))
                }))
                @if call.purpose != Purpose::Automated {
                    p.muted { "If you reach voicemail, leave exactly this message:" }
                    p.message { (s.alarm.voicemail_message()) }
                } @else if let Some(message) = &s.recorded {
                    p.muted { "The recorded message:" }
                    p.message { (message) }
                }
            } @else if call.result == Some(CallResult::Answered) {
                @if call.purpose != Purpose::Automated && s.alarm.can_say_voicemail(call.id) {
                    (action(s, &format!("{path}/outcome"), html! {
                        (outcome("v", "It's voicemail", "", "voicemail"))
                        span.muted { "(a machine after all: it gets the message, you call the next contact)" }
                    }))
                }
                @if call.purpose == Purpose::Automated && !call.agent_joined {
                    p { "The person is hearing the recorded message." }
                    @if let Some(message) = &s.recorded {
                        p.message { (message) }
                    }
                    (action(s, &format!("{path}/outcome"), html! {
                        (outcome("j", "Agent joined", "primary", "agent_joined"))
                        (outcome("e", "Message played: end call", "", "ended"))
                    }))
                } @else if call.purpose == Purpose::Notify {
                    p { "Tell them about the alarm; what they say changes nothing." }
                    (action(s, &format!("{path}/outcome"), outcome("e", "Told them: end call", "primary", "ended")))
                } @else {
                    (password(s, call))
                    // Cancel only once the password matched on this call: an unverified
                    // cancel would be a dispatch request the agent did not ask for.
                    // Under an open duress the cancel is refused and becomes a dispatch request
                    // (PROTOCOLS.md, Duress 3): the agent is told so before it is sent.
                    @let duress = s.alarm.duress_open().first();
                    @if let (Some(true), Some(duress)) = (call.verified, duress) {
                        (confirmed_action(s, &format!("{path}/decision"),
                            &format!("Duress alarm #{duress} is open at this account: a cancel is refused and requests {}. Record the caller's cancel?",
                                agency_words(s.alarm.agency())),
                            key_button("c", "Cancel (refused: duress)", "", Some(("decision", "cancel")))))
                    }
                    (action(s, &format!("{path}/decision"), html! {
                        @if call.verified == Some(true) && duress.is_none() {
                            (key_button("c", "Cancel — false alarm", "good", Some(("decision", "cancel"))))
                        }
                        (key_button("d", "Dispatch", "danger", Some(("decision", "dispatch"))))
                    }))
                    @if call.purpose == Purpose::Callback {
                        (action(s, &format!("{path}/outcome"), outcome("e", "Hung up without deciding", "", "ended")))
                    } @else {
                        (confirmed_action(s, &format!("{path}/outcome"),
                            &format!("Ending this call now requests {}. End the call?", agency_words(s.alarm.agency())),
                            html! {
                                (outcome("e", "Hung up without deciding", "", "ended"))
                                span.muted { "(requests " (agency_words(s.alarm.agency())) ")" }
                            }))
                    }
                }
            }
        }
    }
}

/// The password check: only ever "match" or "no match".
fn password(s: &Screen, call: &Call) -> Markup {
    let input = format!("pw-{}", call.id);
    html! {
        p #(format!("password-{}", call.id)) {
            "Verbal password: "
            @match call.verified {
                Some(true) => span.result.match { "match" },
                _ if call.password_attempts == 0 => span.muted { "not checked yet" },
                Some(false) => {
                    span.result.nomatch { "no match" }
                    " " span.muted { "(" (call.password_attempts) " of 2 tries)" }
                },
                None => span.muted { "not checked yet" },
            }
        }
        @if call.verified != Some(true) && call.password_attempts < 2 {
            (action(s, &format!("calls/{}/password", call.id), html! {
                label for=(input) { "What the caller says " kbd { "p" } }
                input #(input) type="text" name="password" autocomplete="off" autocapitalize="none"
                    spellcheck="false" data-key="p" required;
                button type="submit" { "Check password" }
            }))
        }
    }
}

fn voicemails(s: &Screen) -> Markup {
    let left: Vec<&Call> = s
        .alarm
        .calls()
        .iter()
        .filter(|c| c.voicemail_left)
        .collect();
    html! {
        @if !left.is_empty() {
            div.card {
                h3 { "Voicemail left" }
                p {
                    @for (n, call) in left.iter().rev().enumerate() {
                        @if n > 0 { ", " }
                        strong { (call.to) }
                        @if let Some(at) = call.ended_at.or(call.placed_at) { " at " (clock(at, s.tz)) }
                    }
                    ". The message:"
                }
                p.message #voicemail-message { (s.alarm.voicemail_message()) }
                @for call in left.iter().filter(|c| s.alarm.is_open() && s.alarm.can_overturn(c.id)) {
                    (action(s, &format!("calls/{}/outcome", call.id), html! {
                        (key_button("o", &format!("It's a person: {}", call.to), "good", Some(("outcome", "answered"))))
                        span.muted { "(the center stops the message and connects them to you)" }
                    }))
                }
            }
        }
    }
}

/// A card for each task owed to an agency (issue 12, finding 5), timed since it arose: the
/// incident number of a request, whom the agent told of a cancellation. Shown while the alarm
/// is in the queue, closed or not.
fn dispatch_forms(s: &Screen) -> Markup {
    html! {
        @for task in s.alarm.open_tasks() {
            div.card.task {
                @match task.kind {
                    TaskKind::Request => {
                        h3 {
                            "Request " (name_of(&task.agency)) " — requested at " (clock(task.since, s.tz))
                            ", unconfirmed for " span.age.unconfirmed data-since=(task.since) { (format::age(crate::now_ms() - task.since)) }
                        }
                        (action(s, "dispatch/confirm", html! {
                            input type="hidden" name="agency" value=(task.agency.as_str());
                            label for=(format!("ref-{}", task.agency)) { "Agency's incident number " kbd { "i" } }
                            input #(format!("ref-{}", task.agency)) type="text" name="reference" autocomplete="off"
                                data-key="i" required;
                            button type="submit" { "Record" }
                        }))
                    },
                    TaskKind::StandDown => {
                        h3 {
                            "Tell " (name_of(&task.agency)) " to stand down — canceled at " (clock(task.since, s.tz))
                            ", not told for " span.age data-since=(task.since) { (format::age(crate::now_ms() - task.since)) }
                        }
                        (action(s, "stand-down", html! {
                            input type="hidden" name="agency" value=(task.agency.as_str());
                            label for=(format!("told-{}", task.agency)) { "Whom you told " kbd { "i" } }
                            input #(format!("told-{}", task.agency)) type="text" name="told" autocomplete="off"
                                data-key="i" required placeholder="e.g. dispatcher Ray, badge 412";
                            button type="submit" { "Told them" }
                        }))
                    },
                }
            }
        }
    }
}

/// Closing a dispatched alarm in follow-up: a resolution code from the center's list, and the
/// reason to close without the incident number when a request has none.
fn close_form(s: &Screen) -> Markup {
    let unconfirmed = s
        .alarm
        .open_tasks()
        .iter()
        .any(|t| t.kind == TaskKind::Request);
    html! {
        (action(s, "close", html! {
            label for="resolution" { "Resolution " kbd { "f" } }
            select #resolution name="resolution" data-key="f" required {
                option value="" { "— choose —" }
                @for code in s.codes.all() {
                    option value=(code.code) { (code.text) }
                }
            }
            @if unconfirmed {
                label for="close-reason" { "Why close without the incident number" }
                input #close-reason type="text" name="reason" autocomplete="off" required;
            }
            button type="submit" { "Close (follow-up done)" }
        }))
    }
}

fn contacts(s: &Screen) -> Markup {
    let spec = s.alarm.spec();
    html! {
        h2 { "Contacts" }
        table {
            thead { tr { th { "#" } th { "Name" } th { "Phone" } th { "Calls" } } }
            tbody {
                @for (n, contact) in spec.contacts.iter().enumerate() {
                    tr {
                        td.num { (n + 1) }
                        td { (contact.name) }
                        td {
                            a href=(tel(&contact.phone)) { (contact.phone) }
                            @if let Some(phone2) = &contact.phone2 {
                                br; a href=(tel(phone2)) { (phone2) }
                            }
                        }
                        td { (calls_to(s, n)) }
                    }
                }
                @if let Some(phone) = &spec.premises_phone {
                    tr {
                        td.num { "—" }
                        td { "Premises" }
                        td { a href=(tel(phone)) { (phone) } }
                        td { (calls_to(s, spec.contacts.len())) }
                    }
                }
                @if spec.contacts.is_empty() {
                    tr { td.muted colspan="4" { "No contacts on this account." } }
                }
            }
        }
        @if s.alarm.is_open() && !s.alarm.is_silent() && !spec.contacts.is_empty() {
            (action(s, "callbacks", html! {
                label for="callback" { "Called back " kbd { "k" } }
                select #callback name="contact" data-key="k" {
                    @for contact in &spec.contacts {
                        option value=(contact.name) { (contact.name) }
                    }
                }
                button type="submit" { "Take the callback" }
            }))
        }
    }
}

/// The state of every call to contact `n` (the premises: the contact list's length), with
/// the number dialled when it was not the first.
fn calls_to(s: &Screen, n: usize) -> String {
    let states: Vec<String> = s
        .alarm
        .calls()
        .iter()
        .filter(|c| c.contact == n)
        .map(|c| match c.line {
            Line::Phone2 => format!("{} ({})", call_state(c), c.phone),
            _ => call_state(c),
        })
        .collect();
    states.join(", ")
}

fn call_state(call: &Call) -> String {
    match (call.result, call.placed_at) {
        (Some(result), _) => words(result.as_str()),
        (None, Some(_)) => "ringing".into(),
        (None, None) => "to call".into(),
    }
}

/// The account's zones; those the alarm's signals named are marked.
fn zones(s: &Screen) -> Markup {
    let Some(account) = s.account else {
        return html! {};
    };
    let tripped: Vec<u32> = s
        .alarm
        .timeline()
        .iter()
        .filter(|e| &*e.event == "signal")
        .filter_map(|e| e.detail.split("zone ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect();
    html! {
        @if !account.zones.is_empty() {
            h2 { "Zones" }
            table {
                thead { tr { th { "Zone" } th { "Device" } th {} } }
                tbody {
                    @for zone in &account.zones {
                        tr class=[tripped.contains(&zone.zone).then_some("tripped")] {
                            td.num { (zone.zone) }
                            td { (name_of(&zone.device)) }
                            td { @if tripped.contains(&zone.zone) { "signalled" } }
                        }
                    }
                }
            }
        }
    }
}

/// The account's details for the agent: the zone that triggered, named ("zone 3 – back door
/// (ground floor rear)", from the trigger "BA zone 3"), the premises instructions and notes,
/// and the agencies with their phones and permit numbers. Nothing when the account has none.
fn account_block(s: &Screen) -> Markup {
    let Some(details) = s.account.map(|a| &a.details) else {
        return html! {};
    };
    let trigger = &s.alarm.spec().trigger;
    let zone: Option<u32> = trigger
        .split("zone ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok());
    let named = zone.and_then(|z| details.zone(z));
    html! {
        @if !details.is_empty() {
            section.account-details #account-details {
                h2 { "Premises" }
                @if let Some(z) = named {
                    p.zone-named {
                        strong { "zone " (z.zone) " – " (z.name) }
                        @if !z.location.is_empty() { " (" (z.location) ")" }
                    }
                }
                @if !details.instructions.is_empty() {
                    p.instructions { strong { "Instructions: " } (details.instructions) }
                }
                @if !details.notes.is_empty() {
                    p.notes { strong { "Notes: " } (details.notes) }
                }
                @if !details.agencies.is_empty() {
                    table.agencies {
                        thead { tr { th { "Agency" } th { "Name" } th { "Phone" } th { "Permit" } } }
                        tbody {
                            @for a in &details.agencies {
                                tr {
                                    td { (words(a.agency.as_str())) }
                                    td { (a.name) }
                                    td { a href=(tel(&a.phone)) { (a.phone) } }
                                    td { (a.permit.as_deref().unwrap_or("—")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn time_cell(s: &Screen, opened: Millis, at: Option<Millis>) -> Markup {
    html! {
        @if let Some(at) = at {
            span.clock { (clock(at, s.tz)) } " " span.muted { (format::offset(opened, at)) }
        }
    }
}

/// The calls table's password column: "not checked" when no attempt was made on an
/// answered call (an unverified decision is not a failed check), never "no match" then.
fn password_cell(call: &Call) -> &'static str {
    match call.verified {
        Some(true) => "match",
        _ if call.password_attempts > 0 => "no match",
        _ if call.result == Some(CallResult::Answered) => "not checked",
        _ => "",
    }
}

fn calls_table(s: &Screen) -> Markup {
    let opened = s.alarm.spec().opened_at;
    html! {
        @if !s.alarm.calls().is_empty() {
            h2 { "Calls" }
            table {
                thead {
                    tr {
                        th { "#" } th { "To" } th { "Purpose" } th { "Placed" } th { "Answered" }
                        th { "Ended" } th { "Result" } th { "Password" } th { "Decision" }
                    }
                }
                tbody {
                    @for call in s.alarm.calls() {
                        tr {
                            td.num { (call.id + 1) }
                            td { (call.to) }
                            td { (call.purpose.as_str()) }
                            td { (time_cell(s, opened, call.placed_at)) }
                            td { (time_cell(s, opened, call.answered_at)) }
                            td { (time_cell(s, opened, call.ended_at)) }
                            td { (call_state(call)) @if call.voicemail_left { " (message left)" } }
                            td { (password_cell(call)) }
                            td { (call.decision.map_or("", |d| d.as_str())) }
                        }
                    }
                }
            }
        }
    }
}

fn dispatch_table(s: &Screen) -> Markup {
    let opened = s.alarm.spec().opened_at;
    html! {
        @if s.alarm.dispatched() {
            h2 { "Dispatch" }
            table {
                thead { tr { th { "Agency" } th { "Requested" } th { "Incident number" } th { "Canceled" } } }
                tbody {
                    @for d in s.alarm.dispatches() {
                        tr {
                            td { (name_of(&d.agency)) }
                            td { (time_cell(s, opened, Some(d.requested_at))) }
                            td {
                                @match &d.reference {
                                    Some(reference) => strong { (reference) },
                                    None => span.muted { "not confirmed" },
                                }
                            }
                            td { (time_cell(s, opened, d.canceled_at)) }
                        }
                    }
                }
            }
        }
    }
}

fn timeline(s: &Screen) -> Markup {
    let opened = s.alarm.spec().opened_at;
    let mut recorded = s.recorded_calls.iter();
    html! {
        h2 { "Timeline" }
        table.timeline {
            thead { tr { th { "Time (UTC)" } th { "What" } th { "By" } th { "Detail" } } }
            tbody {
                @for entry in s.alarm.timeline() {
                    tr {
                        td { (time_cell(s, opened, Some(entry.at))) }
                        td { (words(&entry.event)) }
                        td.by { (actor_words(&entry.by)) }
                        td {
                            // A disposition in words, as everywhere on screen.
                            @if &*entry.event == "closed" { (words(&entry.detail)) } @else { (entry.detail) }
                            @if &*entry.event == "recorded"
                                && let Some(call) = recorded.next()
                                && s.recordings.iter().any(|r| r.call == *call) {
                                " " (player(s.id, *call))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A player for one call's recording; the browser fetches it with the session cookie.
fn player(id: AlarmId, call: CallId) -> Markup {
    html! {
        audio.recording controls preload="none"
            src=(format!("/api/alarms/{id}/recordings/{call}"))
            aria-label=(format!("Recording of call {}", call + 1)) {}
    }
}

/// Recordings the timeline does not list: saved after their alarm closed.
fn late_recordings(s: &Screen) -> Markup {
    let late: Vec<&Recording> = s
        .recordings
        .iter()
        .filter(|r| !s.recorded_calls.contains(&r.call))
        .collect();
    let opened = s.alarm.spec().opened_at;
    html! {
        @if !late.is_empty() {
            h2 { "Recordings" }
            table.recordings {
                thead { tr { th { "#" } th { "Started" } th { "Length" } th { "Play" } } }
                tbody {
                    @for r in late {
                        tr {
                            td.num { (r.call + 1) }
                            td { (time_cell(s, opened, Some(r.started_at))) }
                            td { (format::age(i64::from(r.duration_ms))) }
                            td { (player(s.id, r.call)) }
                        }
                    }
                }
            }
        }
    }
}
