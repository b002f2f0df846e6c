//! The live queue: every open alarm — those that need an agent's action first
//! (`crate::attention::needs_action`), then most urgent, then oldest — with its age ticking
//! (and its row changing colour once it has waited untaken past its priority's threshold), who
//! handles it and the protocol's next step. Silent (duress) alarms are marked. The table
//! re-fetches itself on each `alarm` event. Above it, calls to the center waiting for an
//! agent to say which alarm they are about (`super::lines`). Unknown-account items are rows
//! among the alarms (`super::unknown`); the table also re-fetches on each `unknown` event.

use super::format;
use super::layout::{self, Key};
use super::session::Agent;
use crate::api::ApiState;
use crate::view::next_step;
use axum::extract::State;
use maud::{Markup, html};
use watchpost_core::{Alarm, Millis};
use watchpost_store::{AlarmId, UnknownItem};

const KEYS: [Key; 4] = [
    ("j", "next alarm"),
    ("k", "previous alarm"),
    ("Enter", "open"),
    ("Tab", "move between links and buttons"),
];

pub async fn page(State(state): State<ApiState>, agent: Agent) -> Markup {
    page_with(&state, &agent, None).await
}

/// The queue page, with a refusal to show above it (a resolution of an unknown-account item
/// that was refused).
pub async fn page_with(state: &ApiState, agent: &Agent, error: Option<&str>) -> Markup {
    let unknown = unknown_items(state).await;
    let content = html! {
        @if let Some(error) = error { p.flash.error role="alert" { (error) } }
        (super::lines::live(&state.lines.waiting()))
        div #queue-live hx-get="/console/queue" hx-trigger="sse:alarm, sse:unknown"
            hx-swap="innerHTML" hx-sync="this:queue last" {
            (table(&state.board.open_alarms(), &unknown, agent, state))
        }
    };
    layout::page("Queue", Some(&agent.user), true, &KEYS, content)
}

pub async fn fragment(State(state): State<ApiState>, agent: Agent) -> Markup {
    let unknown = unknown_items(&state).await;
    table(&state.board.open_alarms(), &unknown, &agent, &state)
}

/// The open unknown-account items; none shown (and the failure logged) if the store fails.
async fn unknown_items(state: &ApiState) -> Vec<UnknownItem> {
    crate::unknown::open_items(state).await.unwrap_or_default()
}

/// The queue's heading and table: alarms and unknown-account items in one queue order
/// (`merged`).
fn table(
    alarms: &[(AlarmId, Alarm)],
    unknown: &[UnknownItem],
    agent: &Agent,
    state: &ApiState,
) -> Markup {
    let now = crate::now_ms();
    let center_dials = state.board.center_dials();
    let mut alarms = alarms.to_vec();
    crate::attention::queue_order(&mut alarms);
    let mine = alarms
        .iter()
        .filter(|(_, a)| a.handler() == Some(agent.user.name.as_str()))
        .count();
    html! {
        h1 {
            "Open alarms: " (alarms.len())
            @if mine > 0 { span.muted { " · " (mine) " yours" } }
            @if !unknown.is_empty() {
                span.muted { " · " (unknown.len()) " from unknown accounts" }
            }
        }
        table #queue-table {
            thead {
                tr {
                    th { "Alarm" } th { "Priority" } th { "Kind" } th { "Account" }
                    th { "Address" } th { "Age" } th { "Handled by" } th { "Next step" }
                }
            }
            tbody {
                @if alarms.is_empty() && unknown.is_empty() {
                    tr { td.muted colspan="8" { "No open alarms." } }
                }
                @for entry in merged(&alarms, unknown) {
                    @match entry {
                        Entry::Alarm(id, alarm) => (row(*id, alarm, now, center_dials, &state.console)),
                        Entry::Unknown(item) => (super::unknown::row(item, now)),
                    }
                }
            }
        }
    }
}

enum Entry<'a> {
    Alarm(&'a AlarmId, &'a Alarm),
    Unknown(&'a UnknownItem),
}

/// Alarms and unknown-account items in one queue order: what needs an agent's action first
/// (an unknown-account item always does), then priority, then age.
fn merged<'a>(alarms: &'a [(AlarmId, Alarm)], unknown: &'a [UnknownItem]) -> Vec<Entry<'a>> {
    let mut all: Vec<(bool, u8, Millis, Entry<'a>)> = alarms
        .iter()
        .map(|(id, a)| {
            let spec = a.spec();
            let waits = !crate::attention::needs_action(a);
            (
                waits,
                spec.kind.priority(),
                spec.opened_at,
                Entry::Alarm(id, a),
            )
        })
        .chain(
            unknown
                .iter()
                .map(|u| (false, u.priority, u.received_at, Entry::Unknown(u))),
        )
        .collect();
    // Stable: each list keeps its own order within the same key.
    all.sort_by_key(|(waits, priority, at, _)| (*waits, *priority, *at));
    all.into_iter().map(|(_, _, _, entry)| entry).collect()
}

fn row(
    id: AlarmId,
    alarm: &Alarm,
    now: watchpost_core::Millis,
    center_dials: bool,
    console: &crate::attention::ConsoleConfig,
) -> Markup {
    let spec = alarm.spec();
    let priority = spec.kind.priority();
    let href = format!("/console/alarms/{id}");
    let waits = !crate::attention::needs_action(alarm);
    // Only an untaken alarm that needs an action turns "late": console.js adds the class
    // when `data-late-at` passes, the server when it already has.
    let late_at = (!waits && alarm.handler().is_none()).then(|| console.late_at(alarm));
    let late = late_at.is_some_and(|at| now >= at);
    html! {
        tr class={ "p" (priority) @if alarm.is_silent() { " silent" } @if waits { " waits" } @if late { " late" } }
            data-href=(href) data-late-at=[late_at] {
            td { a.open href=(href) data-row { "#" (id) } }
            td.prio { "P" (priority) }
            td {
                (format::words(spec.kind.as_str()))
                @if spec.mode.as_str() != "professional" {
                    " " span.badge { (spec.mode.as_str()) }
                }
            }
            td { (spec.account) }
            td { (spec.address) }
            td.age data-since=(spec.opened_at) { (format::age(now - spec.opened_at)) }
            td {
                @match alarm.handler() {
                    Some(agent) => { (agent) },
                    None => span.muted { "nobody" },
                }
            }
            td.next {
                @if alarm.is_silent() {
                    span.silent-tag { "SILENT — never call the premises" } " "
                }
                @if !alarm.duress_open().is_empty() {
                    span.silent-tag { "DURESS open at this account: no cancel" } " "
                }
                (next_step(alarm, center_dials))
            }
        }
    }
}
