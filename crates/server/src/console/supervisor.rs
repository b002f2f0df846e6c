//! The supervisor's view: queue depth, the oldest open alarm, the unattended ("dead-man")
//! alarms first (the first of each list linked, the rest counted), each agent's load and
//! handling times today (alarms handled now, closed today, time to take and handling time,
//! mean and longest, last activity), and today's
//! response times by kind — signal to first call placed and signal to dispatch requested,
//! median and max — over the alarms opened since midnight in the center's time zone.
//! Refreshes on `alarm` events and every 15 s.

use super::format::{self, words};
use super::layout;
use super::session::Agent;
use crate::api::{ApiError, ApiState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::collections::{BTreeMap, HashSet};
use watchpost_core::alarm::Purpose;
use watchpost_core::{Alarm, AlarmKind, Millis};
use watchpost_store::{AlarmId, AlarmState, LogEntry, Role};

/// One agent's day, from the timelines of the alarms open or closed today.
#[derive(Default)]
struct AgentDay {
    /// Alarms closed today that the agent handled when they closed.
    closed: usize,
    /// Signal to the agent's take, for each alarm the agent took first today.
    to_take: Vec<Millis>,
    /// The agent's first take to the close, for each alarm counted in `closed`.
    handling: Vec<Millis>,
    /// The latest timeline entry the agent caused today.
    last: Option<Millis>,
}

/// Adds one alarm to the agents' day, from its timeline: the `taken` rows name who took it
/// (the first take per agent counts), each row an agent caused today is their activity.
fn record_agents(agents: &mut BTreeMap<String, AgentDay>, alarm: &Alarm, midnight: Millis) {
    let opened = alarm.spec().opened_at;
    let mut takes: Vec<(&str, Millis)> = Vec::new();
    for entry in alarm.timeline() {
        if &*entry.event == "taken" && !takes.iter().any(|(name, _)| *name == &*entry.detail) {
            takes.push((&entry.detail, entry.at));
        }
        if entry.at >= midnight
            && let Some(name) = entry.by.strip_prefix("agent:")
        {
            let day = agents.entry(name.to_string()).or_default();
            day.last = day.last.max(Some(entry.at));
        }
    }
    if let Some((first, at)) = takes.first()
        && *at >= midnight
    {
        let day = agents.entry((*first).to_string()).or_default();
        day.to_take.push(at - opened);
    }
    if let (Some((closed_at, _)), Some(handler)) = (alarm.closed(), alarm.handler())
        && closed_at >= midnight
    {
        let day = agents.entry(handler.to_string()).or_default();
        day.closed += 1;
        if let Some((_, took)) = takes.iter().find(|(name, _)| *name == handler) {
            day.handling.push(closed_at - took);
        }
    }
}

/// Mean and longest, or `None` for no values.
fn mean_max(values: &[Millis]) -> Option<(Millis, Millis)> {
    let max = *values.iter().max()?;
    Some((values.iter().sum::<Millis>() / values.len() as Millis, max))
}

/// Delays from the signal, for one kind of alarm.
#[derive(Default)]
struct Delays {
    alarms: usize,
    first_call: Vec<Millis>,
    dispatch: Vec<Millis>,
}

fn record(delays: &mut Delays, alarm: &Alarm) {
    let opened = alarm.spec().opened_at;
    delays.alarms += 1;
    let first_call = alarm
        .calls()
        .iter()
        .filter(|c| c.purpose != Purpose::Callback)
        .filter_map(|c| c.placed_at)
        .min();
    if let Some(at) = first_call {
        delays.first_call.push(at - opened);
    }
    if let Some(d) = alarm.dispatches().first() {
        delays.dispatch.push(d.requested_at - opened);
    }
}

/// Median and max, or `None` for no values.
fn median_max(values: &mut [Millis]) -> Option<(Millis, Millis)> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    };
    Some((median, values[n - 1]))
}

/// Today's delays by kind (alarms opened today) and each agent's day (alarms open, or
/// closed today). Open alarms are the board's (nothing read); those closed today are read in
/// a few statements and replayed.
async fn today(
    state: &ApiState,
    now: Millis,
) -> Result<(BTreeMap<AlarmKind, Delays>, BTreeMap<String, AgentDay>), ApiError> {
    let midnight = format::midnight(now, state.timezone);
    let mut by_kind: BTreeMap<AlarmKind, Delays> = BTreeMap::new();
    let mut agents: BTreeMap<String, AgentDay> = BTreeMap::new();
    let mut count = |alarm: &Alarm| {
        if alarm.spec().opened_at >= midnight {
            record(by_kind.entry(alarm.spec().kind).or_default(), alarm);
        }
        record_agents(&mut agents, alarm, midnight);
    };
    let open = state.board.open_alarms();
    for (_, alarm) in &open {
        count(alarm);
    }
    let shown: HashSet<AlarmId> = open.iter().map(|(id, _)| *id).collect();
    let closed: Vec<(AlarmId, u32)> = state
        .store
        .alarms(AlarmState::Closed)
        .await?
        .iter()
        .filter(|row| row.closed_at.is_some_and(|at| at >= midnight) && !shown.contains(&row.id))
        .map(|row| (row.id, 0))
        .collect();
    let mut logs: BTreeMap<AlarmId, Vec<LogEntry>> = BTreeMap::new();
    for (id, entry) in state.store.logs_from(&closed).await? {
        logs.entry(id).or_default().push(entry);
    }
    for log in logs.values() {
        count(&watchpost_store::replay(log).map_err(ApiError::internal)?);
    }
    Ok((by_kind, agents))
}

/// The nodes sharing the center and how many partitions each drives: a node missing from
/// the list has died, and its partitions are being taken over.
fn nodes(state: &ApiState, now: Millis) -> Markup {
    let view = state.cluster.view();
    let mut driven: BTreeMap<&str, usize> =
        view.live_nodes.iter().map(|n| (n.as_str(), 0)).collect();
    let mut unheld = 0;
    for lease in &view.leases {
        match driven.get_mut(lease.node.as_str()) {
            Some(count) if lease.expires_at >= now => *count += 1,
            _ => unheld += 1,
        }
    }
    html! {
        h2 { "Nodes" }
        table #nodes {
            thead { tr { th { "Node" } th.num { "Partitions driven" } } }
            tbody {
                @for (node, count) in &driven {
                    tr {
                        td { (node) @if *node == view.node { " (this one)" } }
                        td.num { (count) }
                    }
                }
                @if unheld > 0 {
                    tr { td.muted { "Being taken over" } td.num { (unheld) } }
                }
            }
        }
    }
}

async fn stats(state: &ApiState) -> Result<Markup, ApiError> {
    let now = crate::now_ms();
    let open = state.board.open_alarms();
    let oldest = open.iter().map(|(_, a)| a.spec().opened_at).min();
    let mut handling: BTreeMap<&str, Vec<(AlarmId, &Alarm)>> = BTreeMap::new();
    let mut unhandled = 0;
    for (id, alarm) in &open {
        match alarm.handler() {
            Some(agent) => handling.entry(agent).or_default().push((*id, &**alarm)),
            None => unhandled += 1,
        }
    }
    let (mut by_kind, mut agents) = today(state, now).await?;
    for name in handling.keys() {
        agents.entry((*name).to_string()).or_default();
    }
    let found = super::attention::now(state).await;
    let mean = |values: &[Millis]| match mean_max(values) {
        Some((mean, max)) => html! {
            td.num { (format::duration(mean)) } td.num { (format::duration(max)) }
        },
        None => html! { td.num.muted { "—" } td.num.muted { "—" } },
    };
    let cell = |values: &mut Vec<Millis>| match median_max(values) {
        Some((median, max)) => html! {
            td.num { (format::duration(median)) } td.num { (format::duration(max)) }
        },
        None => html! { td.num.muted { "—" } td.num.muted { "—" } },
    };
    let unknown = crate::unknown::open_items(state).await?;
    Ok(html! {
        div.stats {
            div.stat { "Queue depth" b #depth { (open.len()) } }
            div.stat { "Nobody handling" b { (unhandled) } }
            div.stat { "Unknown accounts" b #unknown { (unknown.len()) } }
            div.stat {
                "Oldest open alarm"
                @match oldest {
                    Some(at) => b.age data-since=(at) { (format::age(now - at)) },
                    None => b { "—" },
                }
            }
        }
        h2 { "Unattended alarms" }
        div #unattended-list {
            @if found.untaken + found.idle == 0 && found.guessed_passwords.is_empty() {
                p.muted { "None: every alarm that needs an action is taken and being worked." }
            } @else {
                p.flash.error { (super::attention::described(&found)) }
            }
        }
        h2 { "Unknown accounts" }
        div #unknown-accounts {
            @if unknown.is_empty() {
                p.muted { "None: every signal came from an enrolled account." }
            } @else {
                table {
                    thead { tr { th { "Number" } th { "Kind" } th { "Signal" } th { "Line" } th.num { "Signals" } th { "Waiting" } } }
                    tbody {
                        @for item in &unknown {
                            tr class={ "p" (item.priority) } {
                                td { (item.account) }
                                td { "P" (item.priority) " " (format::words(item.kind.as_str())) }
                                td { code { (item.raw) } }
                                td { (item.source) @if let Some(line) = &item.line { " " (line) } }
                                td.num { (item.count) }
                                td.age data-since=(item.received_at) { (format::age(now - item.received_at)) }
                            }
                        }
                    }
                }
                p.muted { "Agents resolve them from the queue: assign, enrolled, or noise with a reason." }
            }
        }
        h2 { "Agents today" }
        table #agents {
            thead {
                tr {
                    th { "Agent" } th { "Handling now" } th.num { "Closed today" }
                    th.num { "To take, mean" } th.num { "longest" }
                    th.num { "Handling, mean" } th.num { "longest" }
                    th { "Last activity" }
                }
            }
            tbody {
                @for (agent, day) in &agents {
                    tr data-agent=(agent) {
                        td { (agent) }
                        td {
                            @for (n, (id, alarm)) in handling.get(agent.as_str()).into_iter().flatten().enumerate() {
                                @if n > 0 { ", " }
                                a href=(format!("/console/alarms/{id}")) {
                                    "#" (id) " " (words(alarm.spec().kind.as_str()))
                                }
                            }
                        }
                        td.num.closed-today { (day.closed) }
                        (mean(&day.to_take))
                        (mean(&day.handling))
                        td {
                            @match day.last {
                                Some(at) => {
                                    (format::clock(at, state.timezone)) " ("
                                    span.age data-since=(at) { (format::age(now - at)) } " ago)"
                                },
                                None => span.muted { "—" },
                            }
                        }
                    }
                }
                @if agents.is_empty() {
                    tr { td.muted colspan="8" { "No agent has worked an alarm today." } }
                }
            }
        }
        (nodes(state, now))
        h2 { "Today's response times (since 00:00 " (state.timezone.name()) ")" }
        table #response-times {
            thead {
                tr {
                    th { "Kind" } th.num { "Alarms" }
                    th.num { "To first call, median" } th.num { "max" }
                    th.num { "To dispatch, median" } th.num { "max" }
                }
            }
            tbody {
                @for (kind, delays) in by_kind.iter_mut() {
                    tr {
                        td { (words(kind.as_str())) }
                        td.num { (delays.alarms) }
                        (cell(&mut delays.first_call))
                        (cell(&mut delays.dispatch))
                    }
                }
                @if by_kind.is_empty() {
                    tr { td.muted colspan="6" { "No alarms today." } }
                }
            }
        }
    })
}

fn forbidden(agent: &Agent) -> Option<Response> {
    let refused = crate::auth::require(&agent.user, Role::Supervisor).err()?;
    let content = html! {
        h1 { "Supervisors only" }
        p.flash.error role="alert" { (refused.to_string()) }
    };
    let page = layout::page("Supervisor", Some(&agent.user), false, &[], content);
    Some((StatusCode::FORBIDDEN, page).into_response())
}

pub async fn page(State(state): State<ApiState>, agent: Agent) -> Response {
    if let Some(refused) = forbidden(&agent) {
        return refused;
    }
    let inner = match stats(&state).await {
        Ok(inner) => inner,
        Err(e) => html! { p.flash.error role="alert" { (e.message) } },
    };
    let content = html! {
        h1 { "Supervisor" }
        div #stats hx-get="/console/supervisor/stats" hx-trigger="sse:alarm throttle:3s, every 15s"
            hx-swap="innerHTML" hx-sync="this:queue last" {
            (inner)
        }
    };
    layout::page("Supervisor", Some(&agent.user), true, &[], content).into_response()
}

pub async fn fragment(State(state): State<ApiState>, agent: Agent) -> Response {
    if let Some(refused) = forbidden(&agent) {
        return refused;
    }
    match stats(&state).await {
        Ok(inner) => inner.into_response(),
        Err(e) => html! { p.flash.error role="alert" { (e.message) } }.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::{mean_max, median_max};

    #[test]
    fn mean_and_longest() {
        assert_eq!(mean_max(&[]), None);
        assert_eq!(mean_max(&[1_000, 3_000, 8_000]), Some((4_000, 8_000)));
    }

    #[test]
    fn median_and_max() {
        assert_eq!(median_max(&mut []), None);
        assert_eq!(median_max(&mut [5, 1, 3]), Some((3, 5)));
        assert_eq!(median_max(&mut [4, 1, 3, 10]), Some((3, 10)));
    }
}
