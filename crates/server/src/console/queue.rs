//! The live queue: every open alarm, most urgent first then oldest, with its age ticking, who
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
            (table(&state.board.open_alarms(), &unknown, agent, state.board.center_dials()))
        }
    };
    layout::page("Queue", Some(&agent.user), true, &KEYS, content)
}

pub async fn fragment(State(state): State<ApiState>, agent: Agent) -> Markup {
    let unknown = unknown_items(&state).await;
    table(
        &state.board.open_alarms(),
        &unknown,
        &agent,
        state.board.center_dials(),
    )
}

/// The open unknown-account items; none shown (and the failure logged) if the store fails.
async fn unknown_items(state: &ApiState) -> Vec<UnknownItem> {
    crate::unknown::open_items(state).await.unwrap_or_default()
}

/// The queue's heading and table; `alarms` and `unknown` are each already in queue order, and
/// are merged by priority (an unknown-account item before the alarms of its priority opened
/// after it).
fn table(
    alarms: &[(AlarmId, Alarm)],
    unknown: &[UnknownItem],
    agent: &Agent,
    center_dials: bool,
) -> Markup {
    let now = crate::now_ms();
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
                @for entry in merged(alarms, unknown) {
                    @match entry {
                        Entry::Alarm(id, alarm) => (row(*id, alarm, now, center_dials)),
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

/// Alarms and unknown-account items in one queue order: priority, then age.
fn merged<'a>(alarms: &'a [(AlarmId, Alarm)], unknown: &'a [UnknownItem]) -> Vec<Entry<'a>> {
    let mut all: Vec<(u8, Millis, Entry<'a>)> = alarms
        .iter()
        .map(|(id, a)| {
            let spec = a.spec();
            (spec.kind.priority(), spec.opened_at, Entry::Alarm(id, a))
        })
        .chain(
            unknown
                .iter()
                .map(|u| (u.priority, u.received_at, Entry::Unknown(u))),
        )
        .collect();
    // Stable: each list keeps its own order within a priority and time.
    all.sort_by_key(|(priority, at, _)| (*priority, *at));
    all.into_iter().map(|(_, _, entry)| entry).collect()
}

fn row(id: AlarmId, alarm: &Alarm, now: watchpost_core::Millis, center_dials: bool) -> Markup {
    let spec = alarm.spec();
    let priority = spec.kind.priority();
    let href = format!("/console/alarms/{id}");
    html! {
        tr class={ "p" (priority) @if alarm.is_silent() { " silent" } } data-href=(href) {
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
                (next_step(alarm, center_dials))
            }
        }
    }
}
