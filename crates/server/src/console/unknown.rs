//! Unknown-account items in the queue: a row among the alarms (at its kind's priority) marked
//! "unknown account", with the number as sent, the kind, the raw event and the receiver line,
//! and the three resolutions as plain forms (`crate::unknown` holds the rules). A resolution
//! answers with a redirect to the queue, or the queue again with the refusal in words.

use super::csrf;
use super::format;
use super::session::Agent;
use crate::api::{ApiError, ApiState};
use crate::unknown::{self, Resolve};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use watchpost_core::Millis;
use watchpost_store::UnknownItem;

/// One queue row for an open item.
pub fn row(item: &UnknownItem, now: Millis) -> Markup {
    let id = item.id;
    html! {
        tr class={ "p" (item.priority) " unknown" } id={ "unknown-" (id) } {
            td { span.badge { "unknown account" } }
            td.prio { "P" (item.priority) }
            td { (format::words(item.kind.as_str())) }
            td { (item.account) }
            td {
                code { (item.raw) }
                " · line " (item.source)
                @if let Some(line) = &item.line { " " (line) }
                @if item.count > 1 { " · " (item.count) " signals" }
            }
            td.age data-since=(item.received_at) { (format::age(now - item.received_at)) }
            td.muted { "nobody" }
            td.next {
                form.inline method="post" action={ "/console/unknown/" (id) "/assign" } {
                    (csrf::field())
                    label { "Account " input name="account" size="8" required; }
                    " " button type="submit" { "Assign" }
                }
                " "
                form.inline method="post" action={ "/console/unknown/" (id) "/enrol" } {
                    (csrf::field())
                    button type="submit"
                        title={ "Once an admin has enrolled account " (item.account) } {
                        "Enrolled"
                    }
                }
                " "
                a href={ "/console/accounts/" (item.account) } { "account " (item.account) }
                " "
                form.inline method="post" action={ "/console/unknown/" (id) "/noise" } {
                    (csrf::field())
                    label { "Reason " input name="reason" size="12" required; }
                    " " button type="submit" { "Noise" }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    account: String,
}

#[derive(Deserialize)]
pub struct NoiseForm {
    #[serde(default)]
    reason: String,
}

pub async fn assign(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<i64>,
    form: Result<Form<AssignForm>, FormRejection>,
) -> Response {
    let how = form
        .map(|Form(f)| Resolve::Assign(f.account))
        .map_err(|e| ApiError::field("form", e.body_text()));
    answer(&state, &agent, id, how).await
}

pub async fn enrol(State(state): State<ApiState>, agent: Agent, Path(id): Path<i64>) -> Response {
    answer(&state, &agent, id, Ok(Resolve::Enrol)).await
}

pub async fn noise(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<i64>,
    form: Result<Form<NoiseForm>, FormRejection>,
) -> Response {
    let how = form
        .map(|Form(f)| Resolve::Noise(f.reason))
        .map_err(|e| ApiError::field("form", e.body_text()));
    answer(&state, &agent, id, how).await
}

/// Back to the queue when done; the queue with the refusal otherwise.
async fn answer(
    state: &ApiState,
    agent: &Agent,
    id: i64,
    how: Result<Resolve, ApiError>,
) -> Response {
    let done = match how {
        Ok(how) => unknown::resolve(state, &agent.user, id, how)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Redirect::to("/console").into_response(),
        Err(e) => {
            let what = match &e.field {
                Some(field) => format!("Item {id}: {field}: {}", e.message),
                None => format!("Item {id}: {}", e.message),
            };
            (
                e.status,
                super::queue::page_with(state, agent, Some(&what)).await,
            )
                .into_response()
        }
    }
}
