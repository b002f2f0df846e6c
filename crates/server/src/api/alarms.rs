//! The alarm routes: the queue, one alarm, and every action an agent takes on it. Each action
//! is an input to the engine, committed to the alarm's log before the answer; the answer is
//! the alarm as it now stands.

use super::body::Body;
use super::caller::Caller;
use super::{ApiError, ApiState};
use crate::view::{AlarmView, alarm_view};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use watchpost_core::alarm::{CallId, Decision, Purpose};
use watchpost_core::{Agency, Alarm, Input, Millis};
use watchpost_store::{AlarmId, AlarmState, Role, Store, replay};

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
}

/// An alarm from the board if open, else rebuilt from its log.
async fn load(state: &ApiState, id: AlarmId) -> Result<Alarm, ApiError> {
    if let Some(alarm) = state.board.get(id) {
        return Ok(alarm);
    }
    let log = match state.store.log(id).await {
        Ok(log) => log,
        Err(watchpost_store::StoreError::NoSuchAlarm(_)) => {
            return Err(ApiError::not_found(format!("alarm {id} does not exist")));
        }
        Err(e) => return Err(e.into()),
    };
    replay(&log).map_err(ApiError::internal)
}

pub async fn list(
    State(state): State<ApiState>,
    _caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let which = match query.state.as_deref().unwrap_or("open") {
        "open" => AlarmState::Open,
        "closed" => AlarmState::Closed,
        "all" => AlarmState::All,
        other => {
            return Err(ApiError::field(
                "state",
                format!("{other:?} is not one of open, closed, all"),
            ));
        }
    };
    let views: Vec<AlarmView> = if which == AlarmState::Open {
        state
            .board
            .open_alarms()
            .iter()
            .map(|(id, a)| alarm_view(*id, a))
            .collect()
    } else {
        let mut views = Vec::new();
        for row in state.store.alarms(which).await? {
            views.push(alarm_view(row.id, &load(&state, row.id).await?));
        }
        views
    };
    Ok(Json(json!({ "alarms": views })))
}

pub async fn one(
    State(state): State<ApiState>,
    _caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    Ok(Json(alarm_view(id, &load(&state, id).await?)))
}

/// Sends one input and answers with the alarm after it.
async fn act(
    state: &ApiState,
    caller: &Caller,
    id: AlarmId,
    input: Input,
) -> Result<Json<AlarmView>, ApiError> {
    caller.require(Role::Agent)?;
    state.commands.send(id, input, &caller.actor()).await?;
    Ok(Json(alarm_view(id, &load(state, id).await?)))
}

pub async fn take(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    let agent = caller.0.name.clone();
    act(&state, &caller, id, Input::Take { agent }).await
}

pub async fn release(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    let agent = caller.0.name.clone();
    act(&state, &caller, id, Input::Release { agent }).await
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The agent dialled.
    Placed,
    Answered,
    Voicemail,
    NoAnswer,
    Busy,
    /// On an automated call, the person asked for an agent who took the call.
    AgentJoined,
    /// The call finished without a decision.
    Ended,
}

#[derive(Deserialize)]
pub struct OutcomeBody {
    outcome: Outcome,
}

pub async fn outcome(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, call)): Path<(AlarmId, CallId)>,
    Body(body): Body<OutcomeBody>,
) -> Result<Json<AlarmView>, ApiError> {
    let input = match body.outcome {
        Outcome::Placed => Input::CallPlaced { call },
        Outcome::Answered => Input::Answered { call },
        Outcome::Voicemail => Input::Voicemail { call },
        Outcome::NoAnswer => Input::NoAnswer { call },
        Outcome::Busy => Input::Busy { call },
        Outcome::AgentJoined => Input::AgentJoined { call },
        Outcome::Ended => Input::CallEnded { call },
    };
    act(&state, &caller, id, input).await
}

#[derive(Deserialize)]
pub struct PasswordBody {
    password: String,
}

/// Attempts allowed per alarm in the window, across all its calls (the engine also allows
/// only two per call).
const ATTEMPTS_PER_WINDOW: usize = 6;
const ATTEMPT_WINDOW_MS: Millis = 10 * 60 * 1000;

/// Checks what the caller said against the account's hash; the agent only ever learns
/// match or no match.
pub async fn password(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, call)): Path<(AlarmId, CallId)>,
    Body(body): Body<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Agent)?;
    let now = crate::now_ms();
    {
        let mut attempts = state.attempts.lock().expect("attempts lock");
        let recent = attempts.entry(id).or_default();
        recent.retain(|at| now - at < ATTEMPT_WINDOW_MS);
        if recent.len() >= ATTEMPTS_PER_WINDOW {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many password attempts on this alarm; wait before trying again",
            ));
        }
        recent.push(now);
    }
    let alarm = load(&state, id).await?;
    let account = state
        .store
        .account(&alarm.spec().account)
        .await?
        .ok_or_else(|| ApiError::not_found("the alarm's account is no longer enrolled"))?;
    let said = body.password;
    // Argon2 is slow on purpose; keep it off the async workers.
    let matched = tokio::task::spawn_blocking(move || account.verbal_password.matches(&said))
        .await
        .map_err(ApiError::internal)?;
    state
        .commands
        .send(
            id,
            Input::PasswordChecked { call, matched },
            &caller.actor(),
        )
        .await?;
    Ok(Json(json!({ "matched": matched })))
}

#[derive(Deserialize)]
pub struct DecisionBody {
    decision: Decision,
}

pub async fn decision(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, call)): Path<(AlarmId, CallId)>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<AlarmView>, ApiError> {
    let decision = body.decision;
    act(&state, &caller, id, Input::Decision { call, decision }).await
}

#[derive(Deserialize)]
pub struct CallbackBody {
    /// The contact's name as on the account.
    contact: String,
}

pub async fn callback(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
    Body(body): Body<CallbackBody>,
) -> Result<Json<Value>, ApiError> {
    let alarm = load(&state, id).await?;
    if alarm.is_silent() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "a silent alarm is never discussed with a caller",
        ));
    }
    let contact = alarm
        .spec()
        .contacts
        .iter()
        .position(|c| c.name == body.contact)
        .ok_or_else(|| {
            ApiError::field(
                "contact",
                format!("{:?} is not on this account's contact list", body.contact),
            )
        })?;
    let view = act(&state, &caller, id, Input::Callback { contact }).await?;
    let call = load(&state, id)
        .await?
        .calls()
        .iter()
        .rev()
        .find(|c| c.purpose == Purpose::Callback)
        .map(|c| c.id);
    Ok(Json(json!({ "call": call, "alarm": view.0 })))
}

#[derive(Deserialize)]
pub struct ConfirmBody {
    agency: Agency,
    reference: String,
}

pub async fn confirm_dispatch(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
    Body(body): Body<ConfirmBody>,
) -> Result<Json<AlarmView>, ApiError> {
    if body.reference.trim().is_empty() {
        return Err(ApiError::field(
            "reference",
            "the agency's incident number is required",
        ));
    }
    let input = Input::DispatchConfirmed {
        agency: body.agency,
        reference: body.reference.trim().to_string(),
    };
    act(&state, &caller, id, input).await
}

#[derive(Deserialize)]
pub struct NoteBody {
    text: String,
}

pub async fn note(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
    Body(body): Body<NoteBody>,
) -> Result<Json<AlarmView>, ApiError> {
    if body.text.trim().is_empty() {
        return Err(ApiError::field("text", "a note needs some text"));
    }
    let text = body.text.trim().to_string();
    act(&state, &caller, id, Input::Note { text }).await
}

pub async fn close(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    act(&state, &caller, id, Input::AgentClose).await
}
