//! The dealer page (issue 14, item 6): what a dealer's user (`dealer_admin`, `dealer_viewer`)
//! sees of the console: their dealer's accounts and those accounts' open and recent alarms,
//! read-only, refreshed every 30 seconds. A silent (duress) alarm is never shown. Nothing else
//! of the console opens for them (`elsewhere`), and a center user asking for this page is sent
//! to the queue.

use super::format::{date_time, words};
use super::session::signed_in;
use super::{csrf, layout};
use crate::api::ApiState;
use crate::api::scope::Scoped;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use watchpost_store::{AlarmState, User};

/// How many closed alarms the page lists, newest first.
const RECENT: usize = 50;

/// What a dealer's user gets from any other console route: a page sends them to their dealer
/// page; htmx requests and anything that would change something are refused (403).
pub fn elsewhere(parts: &Parts, htmx: bool) -> Response {
    if parts.method == Method::GET && !htmx {
        Redirect::to("/console/dealer").into_response()
    } else {
        (
            StatusCode::FORBIDDEN,
            "a dealer's user may use only the dealer page, /console/dealer",
        )
            .into_response()
    }
}

/// The signed-in user of the dealer page and their dealer.
pub struct DealerUser {
    user: User,
    dealer: String,
}

impl FromRequestParts<ApiState> for DealerUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        let user = signed_in(parts, state).await?;
        if !user.role.is_dealer() {
            return Err(Redirect::to("/console").into_response());
        }
        match user.dealer.clone() {
            Some(dealer) => Ok(DealerUser { user, dealer }),
            None => Err(StatusCode::FORBIDDEN.into_response()),
        }
    }
}

/// `GET /console/dealer`.
pub async fn page(State(state): State<ApiState>, who: DealerUser) -> Response {
    match content(&state, &who).await {
        Ok(content) => layout::page("Dealer", None, false, &[], content).into_response(),
        Err(e) => (e.status, e.message).into_response(),
    }
}

async fn content(state: &ApiState, who: &DealerUser) -> Result<Markup, crate::api::ApiError> {
    let scope = Scoped::Dealer {
        user: who.user.clone(),
        dealer: who.dealer.clone(),
    };
    let tz = state.timezone;
    let now = crate::now_ms();
    let numbers = state
        .store
        .dealer_accounts(&who.dealer, "", i64::MAX)
        .await?;
    let mut accounts = Vec::new();
    for number in &numbers {
        if let Some(account) = state.store.account(number).await? {
            accounts.push(account);
        }
    }
    let theirs: std::collections::HashSet<&str> = numbers.iter().map(String::as_str).collect();
    let open: Vec<_> = state
        .board
        .open_alarms()
        .into_iter()
        .filter(|(_, a)| theirs.contains(a.spec().account.as_str()) && !a.is_silent())
        .collect();
    let mut recent = Vec::new();
    let closed = state.store.alarms(AlarmState::Closed).await?;
    for row in closed
        .iter()
        .rev()
        .filter(|r| theirs.contains(r.account.as_str()))
    {
        if recent.len() == RECENT {
            break;
        }
        let alarm = crate::desk::load(state, row.id).await?;
        if scope.alarm(state, row.id, &alarm).await.is_ok() {
            recent.push(row.clone());
        }
    }
    let dealer = state.store.dealer(&who.dealer).await?;
    let name = dealer.map_or_else(|| who.dealer.clone(), |d| d.name);
    Ok(html! {
        meta http-equiv="refresh" content="30";
        header.top {
            span.brand { "WATCHPOST" }
            span { "Dealer " (who.dealer) ": " (name) }
            span.who { (who.user.name) " (" (who.user.role) ")" }
            form.inline method="post" action="/logout" {
                (csrf::field())
                button type="submit" { "Sign out" }
            }
        }
        h1 { "Open alarms" }
        @if open.is_empty() { p.muted #dealer-open { "No open alarm." } } @else {
            table #dealer-open {
                thead { tr { th { "Alarm" } th { "Account" } th { "Kind" } th { "Opened" } th { "Handled by" } } }
                tbody {
                    @for (id, a) in &open {
                        tr {
                            td { (id) }
                            td { (a.spec().account) }
                            td { (words(a.spec().kind.as_str())) }
                            td { (date_time(a.spec().opened_at, tz)) }
                            td { (a.handler().unwrap_or("waiting")) }
                        }
                    }
                }
            }
        }
        h1 { "Recent alarms" }
        @if recent.is_empty() { p.muted #dealer-recent { "No closed alarm." } } @else {
            table #dealer-recent {
                thead { tr { th { "Alarm" } th { "Account" } th { "Kind" } th { "Opened" } th { "Closed" } th { "Outcome" } } }
                tbody {
                    @for row in &recent {
                        tr {
                            td { (row.id) }
                            td { (row.account) }
                            td { (words(&row.kind)) }
                            td { (date_time(row.opened_at, tz)) }
                            td { (row.closed_at.map(|c| date_time(c, tz)).unwrap_or_default()) }
                            td { (row.disposition.as_deref().map(words).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        h1 { "Accounts (" (accounts.len()) ")" }
        table #dealer-accounts {
            thead { tr { th { "Account" } th { "Address" } th { "Mode" } th { "On test until" } th { "Contacts" } } }
            tbody {
                @for a in &accounts {
                    tr {
                        td { (a.number) }
                        td { (a.address) }
                        td { (a.mode_at(now).as_str()) }
                        td { (a.test_until.filter(|t| *t > now).map(|t| date_time(t, tz)).unwrap_or_default()) }
                        td { (a.contacts.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
    })
}
