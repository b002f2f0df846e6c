//! The queue's "Calls to the center": calls that matched several open alarms or none, waiting
//! for an agent to say which alarm they are about. Each candidate alarm is a button that
//! attaches the call and opens the alarm; a call with no candidate gets a search by phone
//! (prefilled with the caller's number) listing the accounts and their open alarms. The
//! section re-fetches itself on each `line` event. Silent alarms are never offered.

use super::csrf;
use super::format;
use super::layout;
use super::session::Agent;
use crate::api::ApiState;
use crate::api::accounts::{PhoneSearch, by_phone};
use crate::desk;
use crate::lines::{Line, LineId};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use watchpost_store::AlarmId;

/// The live section for the queue page: empty while no call waits.
pub fn live(lines: &[Line]) -> Markup {
    html! {
        div #lines-live hx-get="/console/lines" hx-trigger="sse:line" hx-swap="innerHTML"
            hx-sync="this:queue last" {
            (section(lines))
        }
    }
}

pub async fn fragment(State(state): State<ApiState>, _agent: Agent) -> Markup {
    section(&state.lines.waiting())
}

fn section(lines: &[Line]) -> Markup {
    let now = crate::now_ms();
    html! {
        @if !lines.is_empty() {
            section #lines aria-label="Calls to the center" {
                h2 { "Calls to the center: " (lines.len()) }
                @for line in lines {
                    (one(line, now))
                }
            }
        }
    }
}

fn one(line: &Line, now: watchpost_core::Millis) -> Markup {
    let id = line.id;
    html! {
        div.line #{"line-" (id)} {
            p {
                strong { @match &line.caller { Some(n) => (n), None => "withheld" } }
                " · waiting " span.age data-since=(line.arrived_at_ms) {
                    (format::age(now - line.arrived_at_ms))
                }
                " · "
                @match &line.agent {
                    Some(agent) => { "on " (agent) "'s phone" },
                    None => span.muted { "no agent's phone yet" },
                }
            }
            @if line.candidates.is_empty() {
                // Kept across the section's refreshes, with what the agent typed and found.
                div #{"line-" (id) "-search"} hx-preserve {
                    form method="get" action=(format!("/console/lines/{id}/search"))
                        hx-get=(format!("/console/lines/{id}/search"))
                        hx-target=(format!("#line-{id}-found")) {
                        label {
                            "Search accounts by phone "
                            input type="tel" name="phone"
                                value=(line.caller.clone().unwrap_or_default());
                        }
                        " " button type="submit" { "Search" }
                    }
                    div #{"line-" (id) "-found"} {}
                }
            } @else {
                p.muted { "Which alarm is this call about?" }
                @for c in &line.candidates {
                    (attach_button(id, c.alarm, c.contact, &c.name, &c.account))
                }
            }
        }
    }
}

fn attach_button(
    line: LineId,
    alarm: AlarmId,
    contact: usize,
    name: &str,
    account: &str,
) -> Markup {
    html! {
        form.attach method="post" action=(format!("/console/lines/{line}/attach")) {
            (csrf::field())
            input type="hidden" name="alarm" value=(alarm);
            input type="hidden" name="contact" value=(contact);
            button.primary type="submit" {
                "About alarm #" (alarm) " — " (name) " (" (account) ")"
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    phone: String,
}

/// The accounts with a contact at the number typed, and an attach button for each open
/// alarm of theirs with that contact.
pub async fn search(
    State(state): State<ApiState>,
    _agent: Agent,
    Path(line): Path<LineId>,
    Query(query): Query<SearchQuery>,
) -> Markup {
    match by_phone(&state, &query.phone).await {
        Ok(found) => results(line, &found),
        Err(e) => html! { p.flash.error role="alert" { (e.message) } },
    }
}

fn results(line: LineId, found: &PhoneSearch) -> Markup {
    html! {
        @if found.accounts.is_empty() {
            p.muted { "No account has a contact at " (found.phone) "." }
        }
        @for account in &found.accounts {
            div.found {
                p {
                    strong { (account.number) } " · " (account.address) " · "
                    @for (i, c) in account.contacts.iter().enumerate() {
                        @if i > 0 { ", " }
                        (c.name)
                    }
                }
                @if account.open_alarms.is_empty() {
                    p.muted { "No open alarm." }
                }
                @for alarm in &account.open_alarms {
                    @for c in &alarm.contacts {
                        (attach_button(line, alarm.id, c.index, &c.name, &account.number))
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct AttachForm {
    alarm: AlarmId,
    contact: usize,
}

/// Attaches the call, then opens the alarm; a refusal is a page saying why.
pub async fn attach(
    State(state): State<ApiState>,
    agent: Agent,
    Path(line): Path<LineId>,
    form: Result<Form<AttachForm>, FormRejection>,
) -> Response {
    let done = match form {
        Ok(Form(f)) => desk::attach_line(&state, &agent.user, line, f.alarm, f.contact)
            .await
            .map(|_| f.alarm),
        Err(e) => Err(crate::api::ApiError::field("form", e.body_text())),
    };
    match done {
        Ok(alarm) => Redirect::to(&format!("/console/alarms/{alarm}")).into_response(),
        Err(e) => {
            let content = html! {
                h1 { "The call was not attached" }
                p.flash.error role="alert" { (e.message) }
                p { a href="/console" data-key="q" { "Back to the queue " kbd { "q" } } }
            };
            let keys = [("q", "queue")];
            let page = layout::page(
                "Call to the center",
                Some(&agent.user),
                false,
                &keys,
                content,
            );
            (e.status, page).into_response()
        }
    }
}
