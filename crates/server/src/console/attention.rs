//! The console's attention fragments, on every signed-in page (`layout::page`): the
//! priority 1 and 2 alarms nobody has taken (console.js plays a sound and changes the tab
//! title for those the agent has not seen in the queue yet), and for supervisors the banner
//! of unattended ("dead-man") alarms (`crate::attention::unattended`) and of accounts whose
//! verbal password is being missed (`crate::guessing`).

use super::session::Agent;
use crate::api::ApiState;
use crate::attention::{Unattended, unattended};
use axum::extract::State;
use maud::{Markup, html};
use watchpost_store::{AlarmId, Role};

/// How many untaken alarms `arrivals` lists at most.
const ARRIVALS: usize = 100;

/// The untaken priority 1 and 2 open alarms, as hidden items console.js reads: id,
/// priority and kind (upper case, for the tab title). Every page fetches this on each alarm
/// event, so in a storm it lists at most `ARRIVALS`: priority 1 first, then the newest (those
/// are the ones not beeped yet).
pub async fn arrivals(State(state): State<ApiState>, _agent: Agent) -> Markup {
    let mut untaken = Vec::new();
    state.board.for_each(|key, alarm| {
        if !key.taken && key.priority <= 2 {
            untaken.push((
                key.priority,
                std::cmp::Reverse(key.at),
                key.id,
                alarm.spec().kind,
            ));
        }
    });
    untaken.sort_unstable();
    untaken.truncate(ARRIVALS);
    html! {
        @for (priority, _, id, kind) in &untaken {
            span data-alarm=(id) data-priority=(priority)
                data-kind=(super::format::words(kind.as_str()).to_uppercase()) {}
        }
    }
}

/// How many alarms a list in the banner links to: in a storm the rest are counted, so the
/// banner (on every page, every few seconds) stays small.
const LISTED: usize = 20;

/// The first `LISTED` alarms as links, and how many more there are.
fn list(ids: &[AlarmId]) -> Markup {
    html! {
        @for (n, id) in ids.iter().take(LISTED).enumerate() {
            @if n > 0 { ", " }
            a href=(format!("/console/alarms/{id}")) { "#" (id) }
        }
        @if ids.len() > LISTED { " and " (ids.len() - LISTED) " more" }
    }
}

/// The unattended alarms in words: what the banner and the supervisor view show.
pub fn described(found: &Unattended) -> Markup {
    html! {
        @if found.untaken > 0 {
            span.untaken {
                (found.untaken) " alarm" @if found.untaken > 1 { "s" } " nobody has taken: "
                (list(&found.untaken_alarms))
            }
        }
        @if found.untaken > 0 && found.idle > 0 { " · " }
        @if found.idle > 0 {
            span.idle {
                (found.idle) " taken alarm" @if found.idle > 1 { "s" } " with no activity: "
                (list(&found.idle_alarms))
            }
        }
        @if found.unresolved > 0 {
            @if found.untaken + found.idle > 0 { " · " }
            span.unresolved {
                (found.unresolved) " unknown-account item" @if found.unresolved > 1 { "s" }
                " nobody has resolved: "
                @for (n, id) in found.unresolved_items.iter().enumerate() {
                    @if n > 0 { ", " }
                    a href=(format!("/console#unknown-{id}")) { "item " (id) }
                }
            }
        }
        @if !found.guessed_passwords.is_empty() {
            @if found.untaken + found.idle + found.unresolved > 0 { " · " }
            span.guessed {
                @for (n, g) in found.guessed_passwords.iter().enumerate() {
                    @if n > 0 { "; " }
                    "verbal password of account "
                    a href=(format!("/console/accounts/{}", g.account)) { (g.account) }
                    " wrong " (g.misses) " times in " (crate::guessing::WINDOW_MS / 60_000)
                    " minutes, on " (list(&g.alarms))
                    @if g.refused_until.is_some() { " (checks refused for now)" }
                }
            }
        }
        @if found.throttled > 0 {
            @if found.untaken + found.idle + found.unresolved + found.guessed_passwords.len() > 0 { " · " }
            span.throttled {
                (found.throttled) " user" @if found.throttled > 1 { "s" }
                " delayed after repeated failed sign-ins: " (found.throttled_users.join(", "))
                " (watchpost users unlock NAME)"
            }
        }
    }
}

/// Whether anything is unattended: the banner and the supervisor view show it.
pub fn any(found: &Unattended) -> bool {
    found.untaken + found.idle + found.unresolved + found.throttled > 0
        || !found.guessed_passwords.is_empty()
}

/// The unattended alarms and unknown-account items now (items only if the store answers:
/// the alarms are shown regardless).
pub async fn now(state: &ApiState) -> Unattended {
    let at = crate::now_ms();
    let mut found = unattended(&state.board, &state.console, at);
    match crate::unknown::open_items(state).await {
        Ok(items) => crate::attention::unresolved(&mut found, &items, &state.console, at),
        Err(e) => tracing::warn!("unattended unknown-account items: {}", e.message),
    }
    let since = at - crate::guessing::WINDOW_MS + 1;
    match state.store.password_misses(None, since).await {
        Ok(misses) => found.guessed_passwords = crate::guessing::guessed(&misses),
        Err(e) => tracing::warn!("verbal-password misses: {e}"),
    }
    match state.store.users().await {
        Ok(users) => crate::attention::throttled(&mut found, &users, at),
        Err(e) => tracing::warn!("users delayed from signing in: {e}"),
    }
    found
}

/// The supervisors' banner (empty for others, and when nothing is unattended).
pub async fn banner(State(state): State<ApiState>, agent: Agent) -> Markup {
    if agent.user.role < Role::Supervisor {
        return html! {};
    }
    let found = now(&state).await;
    html! {
        @if any(&found) {
            div.banner-unattended role="alert" {
                strong { "Unattended: " } (described(&found))
                " · " a href="/console/supervisor" { "supervisor view" }
            }
        }
    }
}
