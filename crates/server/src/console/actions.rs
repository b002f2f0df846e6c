//! The alarm screen's forms: each posts to a route here, which calls the desk
//! (`crate::desk`, the same rules as the JSON API) and answers htmx with the re-rendered
//! panel, or a plain browser with a redirect back to the screen. A refused action is shown
//! on the panel, in words.

use super::alarm;
use super::session::Agent;
use crate::api::{ApiError, ApiState};
use crate::desk::{self, Outcome};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use watchpost_core::Agency;
use watchpost_core::alarm::{CallId, Decision};
use watchpost_store::AlarmId;

/// The answer to an action on alarm `id` that succeeded or was refused.
async fn answer(
    state: &ApiState,
    agent: &Agent,
    id: AlarmId,
    done: Result<(), ApiError>,
) -> Response {
    if done.is_ok() && !agent.htmx {
        return Redirect::to(&format!("/console/alarms/{id}")).into_response();
    }
    let error = done.as_ref().err().map(|e| e.message.as_str());
    let panel = match alarm::panel(state, &agent.user, id, error).await {
        Ok(panel) => panel,
        Err(e) if agent.htmx => {
            return html! { p.flash.error role="alert" { (e.message) } }.into_response();
        }
        Err(e) => return alarm::failure(&agent.user, &e),
    };
    match done {
        // htmx swaps only successful answers: a refusal is shown on the panel.
        _ if agent.htmx => panel.into_response(),
        Ok(()) => panel.into_response(),
        Err(e) => (e.status, alarm::page_with(id, &agent.user, panel)).into_response(),
    }
}

/// A form body, or the reason it is not acceptable.
fn body<T>(form: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    form.map(|Form(body)| body)
        .map_err(|e| ApiError::field("form", e.body_text()))
}

pub async fn take(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
) -> Response {
    let done = desk::take(&state, &agent.user, id).await.map(drop);
    answer(&state, &agent, id, done).await
}

pub async fn release(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
) -> Response {
    let done = desk::release(&state, &agent.user, id).await.map(drop);
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    outcome: Outcome,
}

pub async fn outcome(
    State(state): State<ApiState>,
    agent: Agent,
    Path((id, call)): Path<(AlarmId, CallId)>,
    form: Result<Form<OutcomeForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::outcome(&state, &agent.user, id, call, f.outcome)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// The panel shows the result on the call: match or no match, never what was typed.
pub async fn password(
    State(state): State<ApiState>,
    agent: Agent,
    Path((id, call)): Path<(AlarmId, CallId)>,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) if f.password.trim().is_empty() => Err(ApiError::field(
            "password",
            "type what the caller says first",
        )),
        Ok(f) => desk::check_password(&state, &agent.user, id, call, f.password)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: Decision,
}

pub async fn decision(
    State(state): State<ApiState>,
    agent: Agent,
    Path((id, call)): Path<(AlarmId, CallId)>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::decide(&state, &agent.user, id, call, f.decision)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct CallbackForm {
    contact: String,
}

pub async fn callback(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
    form: Result<Form<CallbackForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::callback(&state, &agent.user, id, &f.contact)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    agency: Agency,
    reference: String,
}

pub async fn confirm_dispatch(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::confirm_dispatch(&state, &agent.user, id, f.agency, &f.reference)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct NoteForm {
    text: String,
}

pub async fn note(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
    form: Result<Form<NoteForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::note(&state, &agent.user, id, &f.text).await.map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct ConfirmationForm {
    by: String,
    #[serde(default)]
    text: String,
}

/// A guard's (video's, audio's) confirmation, as `POST /api/alarms/{id}/confirm`.
pub async fn confirmation(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
    form: Result<Form<ConfirmationForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::confirm(&state, &agent.user, id, &f.by, Some(&f.text))
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    reason: String,
}

pub async fn close(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
    form: Result<Form<CloseForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::close(
            &state,
            &agent.user,
            id,
            Some(&f.resolution),
            Some(&f.reason),
        )
        .await
        .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}

pub async fn take_over(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
) -> Response {
    let done = desk::take_over(&state, &agent.user, id).await.map(drop);
    answer(&state, &agent, id, done).await
}

#[derive(Deserialize)]
pub struct StandDownForm {
    agency: Agency,
    told: String,
}

pub async fn stand_down(
    State(state): State<ApiState>,
    agent: Agent,
    Path(id): Path<AlarmId>,
    form: Result<Form<StandDownForm>, FormRejection>,
) -> Response {
    let done = match body(form) {
        Ok(f) => desk::stand_down(&state, &agent.user, id, f.agency, &f.told)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&state, &agent, id, done).await
}
