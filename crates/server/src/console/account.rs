//! The account page and the account search: search results (from the box in the top bar of
//! every page), and per account its details (zones named, premises instructions and notes,
//! agencies), its contacts, its recent alarms, signals and test-mode changes, and the form to
//! put it on test or end test mode (`crate::api::account_history` holds the rules); for
//! admins, a form to edit the premises details.

use super::csrf;
use super::format::{self, words};
use super::layout;
use super::session::Agent;
use crate::api::account_history::{self, History, MAX_TEST_MINUTES};
use crate::api::{ApiError, ApiState};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use watchpost_core::details::{AccountDetails, AgencyContact, ZoneName};
use watchpost_core::{Account, Agency};
use watchpost_store::Role;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /console/accounts?q=`: the accounts found, each linking to its page.
pub async fn search(
    State(state): State<ApiState>,
    agent: Agent,
    Query(query): Query<SearchQuery>,
) -> Response {
    let found = account_history::search(&state, &query.q).await;
    let content = html! {
        h1 { "Accounts matching “" (query.q) "”" }
        @match &found {
            Err(e) => p.flash.error role="alert" { (e.message) },
            Ok(found) if found.is_empty() => p.muted { "No account matches." },
            Ok(found) => table #search-results {
                thead { tr { th { "Account" } th { "Address" } th { "Contacts" } } }
                tbody {
                    @for a in found {
                        tr {
                            td { a href={ "/console/accounts/" (a.number) } { (a.number) } }
                            td { (a.address) }
                            td { (a.contacts.join(", ")) }
                        }
                    }
                }
            },
        }
    };
    let status = match &found {
        Err(e) => e.status,
        Ok(_) => StatusCode::OK,
    };
    (
        status,
        layout::page("Accounts", Some(&agent.user), false, &[], content),
    )
        .into_response()
}

/// `GET /console/accounts/{number}`.
pub async fn page(
    State(state): State<ApiState>,
    agent: Agent,
    Path(number): Path<String>,
) -> Response {
    render(&state, &agent, &number, None).await
}

async fn render(
    state: &ApiState,
    agent: &Agent,
    number: &str,
    error: Option<&ApiError>,
) -> Response {
    let (account, history) = match account_history::history(state, number).await {
        Ok(found) => found,
        Err(e) => {
            let content = html! {
                h1 { "Account " (number) }
                p.flash.error role="alert" { (e.message) }
                @if e.status == StatusCode::NOT_FOUND {
                    p { "An admin enrols it (" code { "PUT /api/accounts/" (number) } " or "
                        code { "watchpost accounts import" } "); then resolve its unknown-account item "
                        "in the queue with “Enrolled”." }
                }
            };
            let page = layout::page("Account", Some(&agent.user), false, &[], content);
            return (e.status, page).into_response();
        }
    };
    let content = html! {
        @if let Some(e) = error {
            p.flash.error role="alert" {
                @if let Some(field) = &e.field { (field) ": " }
                (e.message)
            }
        }
        h1 { "Account " (account.number) }
        p.where { (account.address) }
        (test_mode(state, &account))
        (details(&account))
        @if agent.user.role >= Role::Admin { (details_form(&account)) }
        (contacts(&account))
        (recent(state, &history))
    };
    let status = error.map_or(StatusCode::OK, |e| e.status);
    let page = layout::page("Account", Some(&agent.user), false, &[], content);
    (status, page).into_response()
}

fn test_mode(state: &ApiState, account: &Account) -> Markup {
    let now = crate::now_ms();
    let action = format!("/console/accounts/{}/test", account.number);
    html! {
        section #test-mode {
            h2 { "Test mode" }
            @match account.test_until.filter(|_| account.on_test_at(now)) {
                Some(until) => {
                    p.banner-test { "ON TEST until " (format::date_time(until, state.timezone))
                        ": signals are stored, nobody is called." }
                    form.inline method="post" action=(action) {
                        (csrf::field())
                        input type="hidden" name="end" value="1";
                        button type="submit" { "End test mode" }
                    }
                }
                None => {
                    form method="post" action=(action) {
                        (csrf::field())
                        label { "For (minutes, at most " (MAX_TEST_MINUTES) ") "
                            input name="minutes" type="number" min="1" max=(MAX_TEST_MINUTES) required; }
                        " "
                        label { "Reason " input name="reason" required; }
                        " " button type="submit" { "Put on test" }
                    }
                }
            }
        }
    }
}

fn details(account: &Account) -> Markup {
    let d = &account.details;
    html! {
        section #details {
            h2 { "Premises" }
            @if d.is_empty() { p.muted { "No zone names, instructions or agencies on file." } }
            @if !d.instructions.is_empty() { p { strong { "Instructions: " } (d.instructions) } }
            @if !d.notes.is_empty() { p { strong { "Notes: " } (d.notes) } }
            @if !d.zone_names.is_empty() {
                table.zone-names {
                    thead { tr { th { "Zone" } th { "Name" } th { "Location" } } }
                    tbody {
                        @for z in &d.zone_names {
                            tr { td.num { (z.zone) } td { (z.name) } td { (z.location) } }
                        }
                    }
                }
            }
            @if !d.agencies.is_empty() {
                table.agencies {
                    thead { tr { th { "Agency" } th { "Name" } th { "Phone" } th { "Permit" } } }
                    tbody {
                        @for a in &d.agencies {
                            tr {
                                td { (words(a.agency.as_str())) } td { (a.name) }
                                td { a href={ "tel:" (a.phone) } { (a.phone) } }
                                td { (a.permit.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn contacts(account: &Account) -> Markup {
    html! {
        section #contacts {
            h2 { "Contacts" }
            ol {
                @for c in &account.contacts {
                    li { (c.name) " " a href={ "tel:" (c.phone) } { (c.phone) } }
                }
            }
        }
    }
}

fn recent(state: &ApiState, h: &History) -> Markup {
    let tz = state.timezone;
    html! {
        section #history {
            h2 { "Recent alarms" }
            @if h.alarms.is_empty() { p.muted { "None." } }
            @else {
                table #recent-alarms {
                    thead { tr { th { "Alarm" } th { "Kind" } th { "Opened" } th { "Disposition" } } }
                    tbody {
                        @for a in &h.alarms {
                            tr {
                                td { a href={ "/console/alarms/" (a.id) } { "#" (a.id) } }
                                td { (words(&a.kind)) }
                                td { (format::date_time(a.opened_at_ms, tz)) }
                                td { (a.outcome) }
                            }
                        }
                    }
                }
            }
            h2 { "Recent signals" }
            @if h.signals.is_empty() { p.muted { "None." } }
            @else {
                table #recent-signals {
                    thead { tr { th { "Received" } th { "Event" } th { "Line" } th { "As received" } } }
                    tbody {
                        @for s in &h.signals {
                            tr {
                                td { (format::date_time(s.received_at_ms, tz)) }
                                td { (s.event) } td { (s.source) } td { code { (s.raw) } }
                            }
                        }
                    }
                }
            }
            @if !h.events.is_empty() {
                h2 { "Account changes" }
                ul #account-events {
                    @for e in &h.events {
                        li { (format::date_time(e.at, tz)) " · " (e.actor) " · " (e.what) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    reason: String,
    /// Present: end test mode.
    end: Option<String>,
}

/// `POST /console/accounts/{number}/test`: puts the account on test, or ends test mode.
pub async fn test(
    State(state): State<ApiState>,
    agent: Agent,
    Path(number): Path<String>,
    form: Result<Form<TestForm>, FormRejection>,
) -> Response {
    let done = match form {
        Err(e) => Err(ApiError::field("form", e.body_text())),
        Ok(Form(f)) if f.end.is_some() => {
            account_history::set_test(&state, &agent.user, &number, None, "").await
        }
        Ok(Form(f)) => match f.minutes.trim().parse::<i64>() {
            Ok(minutes) => {
                account_history::set_test(&state, &agent.user, &number, Some(minutes), &f.reason)
                    .await
            }
            Err(_) => Err(ApiError::field(
                "minutes",
                "a whole number of minutes is required",
            )),
        },
    };
    match done {
        Ok(account) => {
            Redirect::to(&format!("/console/accounts/{}", account.number)).into_response()
        }
        Err(e) => render(&state, &agent, &number, Some(&e)).await,
    }
}

/// The admins' form for the premises details: zone names and agencies one per line, fields
/// separated by `|`.
fn details_form(account: &Account) -> Markup {
    let d = &account.details;
    let zones: Vec<String> = d
        .zone_names
        .iter()
        .map(|z| format!("{} | {} | {}", z.zone, z.name, z.location))
        .collect();
    let agencies: Vec<String> = d
        .agencies
        .iter()
        .map(|a| {
            format!(
                "{} | {} | {} | {}",
                a.agency.as_str(),
                a.name,
                a.phone,
                a.permit.as_deref().unwrap_or("")
            )
        })
        .collect();
    html! {
        details #edit-details {
            summary { "Edit premises details (admin)" }
            form method="post" action={ "/console/accounts/" (account.number) "/details" } {
                (csrf::field())
                label { "Instructions" textarea name="instructions" rows="3" { (d.instructions) } }
                label { "Notes" textarea name="notes" rows="2" { (d.notes) } }
                label { "Zone names — one per line: zone | name | location"
                    textarea name="zone_names" rows="4" { (zones.join("\n")) } }
                label { "Agencies — one per line: police, fire, medical or guard | name | phone | permit"
                    textarea name="agencies" rows="3" { (agencies.join("\n")) } }
                button type="submit" { "Save details" }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct DetailsForm {
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    zone_names: String,
    #[serde(default)]
    agencies: String,
}

/// The details a form describes; phones typed in any format become E.164 (the center's
/// region for national numbers). Error: the field and line at fault (422).
fn parse_details(
    form: DetailsForm,
    region: crate::phone::Region,
) -> Result<AccountDetails, ApiError> {
    let lines = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split('|').map(|p| p.trim().to_string()).collect())
            .collect()
    };
    let mut zone_names = Vec::new();
    for (i, parts) in lines(&form.zone_names).into_iter().enumerate() {
        let field = format!("details.zone_names[{i}]");
        let zone = parts[0].parse::<u32>().map_err(|_| {
            ApiError::field(
                &format!("{field}.zone"),
                format!("{:?} is not a zone number", parts[0]),
            )
        })?;
        zone_names.push(ZoneName {
            zone,
            name: parts.get(1).cloned().unwrap_or_default(),
            location: parts.get(2).cloned().unwrap_or_default(),
        });
    }
    let mut agencies = Vec::new();
    for (i, parts) in lines(&form.agencies).into_iter().enumerate() {
        let field = format!("details.agencies[{i}]");
        let agency: Agency = serde_json::from_value(serde_json::Value::String(
            parts[0].to_lowercase(),
        ))
        .map_err(|_| {
            ApiError::field(
                &format!("{field}.agency"),
                format!("{:?}: use police, fire, medical or guard", parts[0]),
            )
        })?;
        let typed = parts.get(2).cloned().unwrap_or_default();
        let phone = crate::phone::normalise(&typed, region).unwrap_or(typed);
        agencies.push(AgencyContact {
            agency,
            name: parts.get(1).cloned().unwrap_or_default(),
            phone,
            permit: parts.get(3).filter(|p| !p.is_empty()).cloned(),
        });
    }
    let details = AccountDetails {
        zone_names,
        instructions: form.instructions.trim().to_string(),
        notes: form.notes.trim().to_string(),
        agencies,
    };
    details
        .validate("details")
        .map_err(|e| match e.split_once(": ") {
            Some((field, why)) => ApiError::field(field, why),
            None => ApiError::field("details", e),
        })?;
    Ok(details)
}

/// `POST /console/accounts/{number}/details` (admins): replaces the premises details.
pub async fn save_details(
    State(state): State<ApiState>,
    agent: Agent,
    Path(number): Path<String>,
    form: Result<Form<DetailsForm>, FormRejection>,
) -> Response {
    let done = async {
        if agent.user.role < Role::Admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "only admins edit accounts",
            ));
        }
        let Form(form) = form.map_err(|e| ApiError::field("form", e.body_text()))?;
        let details = parse_details(form, state.lines.region())?;
        let mut account = account_history::enrolled(&state, &number).await?;
        account.details = details;
        state.store.put_account(&account).await?;
        Ok(account.number)
    };
    match done.await {
        Ok(number) => Redirect::to(&format!("/console/accounts/{number}")).into_response(),
        Err(e) => render(&state, &agent, &number, Some(&e)).await,
    }
}
