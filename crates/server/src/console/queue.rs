//! The live queue, a page at a time: open alarms in queue order (`crate::queue`: those that
//! need an agent's action first, among them those nobody has taken, then most urgent, then
//! oldest), with counts of the whole queue by priority and kind above; each with its age
//! ticking (and its row changing colour once it has waited untaken past its priority's
//! threshold), who handles it and the protocol's next step. Silent (duress) alarms are
//! marked. The table re-fetches its page on each `alarm` event (not while the agent types in
//! one of its fields). Above it, calls to the center waiting for an agent to say which alarm
//! they are about (`super::lines`). Unknown-account items are rows among the alarms
//! (`super::unknown`); the table also re-fetches on each `unknown` event.

use super::format;
use super::layout::{self, Key};
use super::session::Agent;
use crate::api::ApiState;
use crate::queue::QueueKey;
use crate::view::next_step;
use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use watchpost_core::Alarm;
use watchpost_store::{AlarmId, UnknownItem};

const KEYS: [Key; 4] = [
    ("j", "next alarm"),
    ("k", "previous alarm"),
    ("Enter", "open"),
    ("Tab", "move between links and buttons"),
];

/// Rows on one page of the queue: with 10,000 open alarms a page stays some 40 KB.
pub const PAGE: usize = 50;

#[derive(Deserialize)]
pub struct PageQuery {
    /// Where the previous page ended (the "next" link's cursor); the first page without.
    after: Option<String>,
}

impl PageQuery {
    /// The key the page starts after; a cursor this server did not give shows the first page.
    fn after(&self) -> Option<QueueKey> {
        self.after.as_deref().and_then(|c| QueueKey::parse(c).ok())
    }
}

pub async fn page(
    State(state): State<ApiState>,
    agent: Agent,
    Query(query): Query<PageQuery>,
) -> Markup {
    page_at(&state, &agent, query.after(), None).await
}

/// The queue's first page, with a refusal to show above it (a resolution of an
/// unknown-account item that was refused).
pub async fn page_with(state: &ApiState, agent: &Agent, error: Option<&str>) -> Markup {
    page_at(state, agent, None, error).await
}

async fn page_at(
    state: &ApiState,
    agent: &Agent,
    after: Option<QueueKey>,
    error: Option<&str>,
) -> Markup {
    let unknown = unknown_items(state).await;
    let content = html! {
        @if let Some(error) = error { p.flash.error role="alert" { (error) } }
        (super::lines::live(&state.lines.waiting()))
        div #queue-live hx-get=(live_url(after.as_ref())) hx-trigger="sse:alarm, sse:unknown, wp:catchup"
            hx-swap="innerHTML" hx-sync="this:queue last" {
            (table(after.as_ref(), &unknown, agent, state))
        }
    };
    layout::page("Queue", Some(&agent.user), true, &KEYS, content)
}

/// What the page's live refresh fetches: the same page again.
fn live_url(after: Option<&QueueKey>) -> String {
    match after {
        Some(key) => format!("/console/queue?after={key}"),
        None => "/console/queue".into(),
    }
}

pub async fn fragment(
    State(state): State<ApiState>,
    agent: Agent,
    Query(query): Query<PageQuery>,
) -> Markup {
    let unknown = unknown_items(&state).await;
    table(query.after().as_ref(), &unknown, &agent, &state)
}

/// The open unknown-account items; none shown (and the failure logged) if the store fails.
async fn unknown_items(state: &ApiState) -> Vec<UnknownItem> {
    crate::unknown::open_items(state).await.unwrap_or_default()
}

/// What the heading counts, over the whole queue (not just the page shown).
#[derive(Default)]
struct Counts {
    alarms: usize,
    /// Need an action and nobody has taken them.
    untaken: usize,
    /// Only wait (help on the way, a trouble held).
    waiting: usize,
    /// Alarms and unknown-account items by priority 1 to 4.
    by_priority: [usize; 4],
    by_kind: BTreeMap<&'static str, usize>,
    /// The agent's own alarms, in queue order.
    mine: Vec<AlarmId>,
}

fn counts(state: &ApiState, unknown: &[UnknownItem], agent: &str) -> Counts {
    let mut counts = Counts::default();
    let mut count = |priority: u8, kind: &'static str| {
        counts.by_priority[usize::from(priority.clamp(1, 4)) - 1] += 1;
        *counts.by_kind.entry(kind).or_default() += 1;
    };
    for item in unknown {
        count(item.priority, item.kind.as_str());
    }
    let mut alarms = 0;
    let mut untaken = 0;
    let mut waiting = 0;
    let mut mine = Vec::new();
    state.board.for_each(|key, alarm| {
        alarms += 1;
        untaken += usize::from(!key.waits && !key.taken);
        waiting += usize::from(key.waits);
        if alarm.handler() == Some(agent) {
            mine.push(key.id);
        }
        count(key.priority, alarm.spec().kind.as_str());
    });
    Counts {
        alarms,
        untaken,
        waiting,
        mine,
        ..counts
    }
}

/// How many of the agent's own alarms the heading links to.
const MINE_LINKED: usize = 10;

/// The queue's heading, counts and one page of its table: alarms and unknown-account items
/// in one queue order (`crate::queue`), from just after `after`.
fn table(
    after: Option<&QueueKey>,
    unknown: &[UnknownItem],
    agent: &Agent,
    state: &ApiState,
) -> Markup {
    let now = crate::now_ms();
    let center_dials = state.board.center_dials();
    let counts = counts(state, unknown, &agent.user.name);
    let (entries, more) = merged(state, after, unknown);
    let next = more.then(|| entries.last().map(Entry::key)).flatten();
    html! {
        h1 {
            "Open alarms: " (counts.alarms)
            @if !counts.mine.is_empty() {
                span.muted {
                    " · " (counts.mine.len()) " yours: "
                    @for (n, id) in counts.mine.iter().take(MINE_LINKED).enumerate() {
                        @if n > 0 { ", " }
                        a href=(format!("/console/alarms/{id}")) { "#" (id) }
                    }
                    @if counts.mine.len() > MINE_LINKED { " …" }
                }
            }
            @if !unknown.is_empty() {
                span.muted { " · " (unknown.len()) " from unknown accounts" }
            }
        }
        @if counts.alarms + unknown.len() > 0 {
            p.counts #queue-counts {
                (counts.untaken) " need an action and nobody has taken them"
                @if counts.waiting > 0 { " · " (counts.waiting) " only wait" }
                " · "
                @for (n, count) in counts.by_priority.iter().enumerate() {
                    @if n > 0 { ", " }
                    span class={ "p" (n + 1) } { "P" (n + 1) " " (count) }
                }
                " · "
                @for (n, (kind, count)) in counts.by_kind.iter().enumerate() {
                    @if n > 0 { ", " }
                    (format::words(kind)) " " (count)
                }
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
                @if entries.is_empty() && after.is_none() {
                    tr { td.muted colspan="8" { "No open alarms." } }
                } @else if entries.is_empty() {
                    tr { td.muted colspan="8" { "Nothing after the previous page now." } }
                }
                @for entry in &entries {
                    @match entry {
                        Entry::Alarm(key, alarm) => (row(key.id, alarm, now, center_dials, &state.console)),
                        Entry::Unknown(_, item) => (super::unknown::row(item, now)),
                    }
                }
            }
        }
        @if after.is_some() || next.is_some() {
            nav.pages #queue-pages {
                @if after.is_some() { a href="/console" { "First page" } }
                @if let Some(key) = next {
                    @if after.is_some() { " · " }
                    a href=(format!("/console?after={key}")) { "Next " (PAGE) " →" }
                }
            }
        }
    }
}

enum Entry<'a> {
    Alarm(QueueKey, Arc<Alarm>),
    Unknown(QueueKey, &'a UnknownItem),
}

impl Entry<'_> {
    fn key(&self) -> QueueKey {
        match self {
            Entry::Alarm(key, _) | Entry::Unknown(key, _) => *key,
        }
    }
}

/// One page of alarms and unknown-account items in one queue order (an unknown-account item
/// always needs an action and nobody takes it), from just after `after`; and whether more
/// follow. Reads a page of the board, never the whole queue.
fn merged<'a>(
    state: &ApiState,
    after: Option<&QueueKey>,
    unknown: &'a [UnknownItem],
) -> (Vec<Entry<'a>>, bool) {
    let (alarms, more_alarms) = state.board.page(after, PAGE, |_, _| true);
    let mut all: Vec<Entry<'a>> = alarms
        .into_iter()
        .map(|(key, alarm)| Entry::Alarm(key, alarm))
        .chain(
            unknown
                .iter()
                .map(|item| Entry::Unknown(QueueKey::of_unknown(item), item))
                .filter(|entry| after.is_none_or(|a| entry.key() > *a)),
        )
        .collect();
    all.sort_by_key(Entry::key);
    let more = more_alarms || all.len() > PAGE;
    all.truncate(PAGE);
    (all, more)
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
