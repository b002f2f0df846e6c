//! The alarm routes: the queue (a page at a time, in queue order, each alarm summed up), one
//! alarm, and every action an agent takes on it, as JSON.
//! The actions themselves are the desk's (`crate::desk`); each is committed to the alarm's
//! log before the answer, and the answer is the alarm as it now stands.

use super::body::{Body, OptionalBody};
use super::caller::Caller;
use super::params::{Path, Query};
use super::scope::Scoped;
use super::{ApiError, ApiState};
use crate::desk::{self, Outcome};
use crate::queue::QueueKey;
use crate::view::{AlarmView, alarm_summary, alarm_view};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use watchpost_core::alarm::{CallId, Decision};
use watchpost_core::{Agency, Alarm};
use watchpost_store::{AlarmId, AlarmState};

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    /// At most this many alarms in the answer (`DEFAULT_LIMIT`, 1 to `MAX_LIMIT`).
    limit: Option<usize>,
    /// Where the previous page ended: its `next`, as given.
    cursor: Option<String>,
    /// `summary` (the default) or `full` (each alarm as `GET /api/alarms/{id}` gives it).
    view: Option<String>,
}

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// An alarm in a list: its summary, or the whole alarm when the caller asks for it.
fn listed(id: AlarmId, alarm: &Alarm, full: bool, center_dials: bool, dealer: bool) -> Value {
    let shown = match (full, dealer) {
        (true, false) => serde_json::to_value(alarm_view(id, alarm, center_dials)),
        (true, true) => serde_json::to_value(alarm_view(id, alarm, center_dials).for_dealer()),
        (false, false) => serde_json::to_value(alarm_summary(id, alarm, center_dials)),
        (false, true) => serde_json::to_value(alarm_summary(id, alarm, center_dials).for_dealer()),
    };
    shown.expect("an alarm's view is JSON")
}

/// The queue or a listing, a page at a time: `{"alarms", "next"}` (`next`: the `cursor` of
/// the following page, null on the last), with `"total"` and `"unknown"` (the first page
/// only) for open ones. A dealer's user gets only the alarms of their accounts, never a
/// silent one, and no unknown-account items (those are the center's). Errors: 422 naming
/// `state`, `limit`, `cursor` or `view`.
pub async fn list(
    State(state): State<ApiState>,
    scope: Scoped,
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
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be 1 to {MAX_LIMIT}"),
        ));
    }
    let full = match query.view.as_deref().unwrap_or("summary") {
        "summary" => false,
        "full" => true,
        other => {
            return Err(ApiError::field(
                "view",
                format!("{other:?} is not one of summary, full"),
            ));
        }
    };
    let theirs = scope.accounts(&state).await?;
    let dealer = scope.dealer().is_some();
    // A silent (duress) alarm is the center's alone.
    let sees = |alarm: &Alarm| {
        theirs
            .as_ref()
            .is_none_or(|t| t.contains(&alarm.spec().account))
            && !(dealer && alarm.is_silent())
    };
    let dials = state.board.center_dials();
    if which == AlarmState::Open {
        let after = match &query.cursor {
            Some(cursor) => {
                Some(QueueKey::parse(cursor).map_err(|why| ApiError::field("cursor", why))?)
            }
            None => None,
        };
        let (page, more) = state
            .board
            .page(after.as_ref(), limit, |_, alarm| sees(alarm));
        let mut total = 0;
        state
            .board
            .for_each(|_, alarm| total += usize::from(sees(alarm)));
        let next = more.then(|| page.last().map(|(key, _)| key.to_string()));
        let alarms: Vec<Value> = page
            .iter()
            .map(|(key, alarm)| listed(key.id, alarm, full, dials, dealer))
            .collect();
        // The queue holds unknown-account items too (issue 12, finding 6): listed beside the
        // alarms on the first page, in the shape of `GET /api/unknown`.
        let unknown = if dealer || after.is_some() {
            Vec::new()
        } else {
            crate::unknown::open_items(&state).await?
        };
        return Ok(Json(json!({
            "alarms": alarms,
            "total": total,
            "next": next.flatten(),
            "unknown": unknown,
        })));
    }
    // Closed and all: newest first by page, each page oldest first (as before paging), each
    // alarm rebuilt from its log; the cursor is the id the next page ends before.
    let before = match &query.cursor {
        Some(cursor) => Some(cursor.parse::<AlarmId>().map_err(|_| {
            ApiError::field(
                "cursor",
                format!("{cursor:?} is not a cursor this server gave (use `next` as given)"),
            )
        })?),
        None => None,
    };
    let mut rows = state.store.alarms(which).await?;
    rows.retain(|row| {
        before.is_none_or(|b| row.id < b)
            && theirs.as_ref().is_none_or(|t| t.contains(&row.account))
    });
    let from = rows.len().saturating_sub(limit);
    let mut alarms = Vec::new();
    for row in &rows[from..] {
        let alarm = desk::load(&state, row.id).await?;
        if sees(&alarm) {
            alarms.push(listed(row.id, &alarm, full, dials, dealer));
        }
    }
    let next = (from > 0).then(|| rows[from].id.to_string());
    Ok(Json(json!({ "alarms": alarms, "next": next })))
}

/// One alarm; a dealer's user only one of their accounts, never a silent one (404
/// otherwise).
pub async fn one(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = desk::load(&state, id).await?;
    scope.alarm(&state, id, &alarm).await?;
    let view = alarm_view(id, &alarm, state.board.center_dials());
    Ok(Json(if scope.dealer().is_some() {
        view.for_dealer()
    } else {
        view
    }))
}

pub async fn take(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = desk::take(&state, &caller.0, id).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
}

/// A supervisor takes the alarm over from its handler.
pub async fn take_over(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = desk::take_over(&state, &caller.0, id).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
}

pub async fn release(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = desk::release(&state, &caller.0, id).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
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
    let alarm = desk::outcome(&state, &caller.0, id, call, body.outcome).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
}

#[derive(Deserialize)]
pub struct PasswordBody {
    password: String,
}

/// The agent only ever learns match or no match.
pub async fn password(
    State(state): State<ApiState>,
    caller: Caller,
    Path((id, call)): Path<(AlarmId, CallId)>,
    Body(body): Body<PasswordBody>,
) -> Result<Json<Value>, ApiError> {
    let matched = desk::check_password(&state, &caller.0, id, call, body.password).await?;
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
    let alarm = desk::decide(&state, &caller.0, id, call, body.decision).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
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
    let (call, alarm) = desk::callback(&state, &caller.0, id, &body.contact).await?;
    Ok(Json(
        json!({ "call": call, "alarm": alarm_view(id, &alarm, state.board.center_dials()) }),
    ))
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
    let alarm = desk::confirm_dispatch(&state, &caller.0, id, body.agency, &body.reference).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
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
    let alarm = desk::note(&state, &caller.0, id, &body.text).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationBody {
    /// `guard`, `video` or `audio`.
    by: String,
    text: Option<String>,
}

/// `POST /api/alarms/{id}/confirm`: someone other than a contact confirmed the alarm; the
/// plan's `on_confirmation` steps run (`desk::confirm`).
pub async fn confirmation(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
    Body(body): Body<ConfirmationBody>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = desk::confirm(&state, &caller.0, id, &body.by, body.text.as_deref()).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
}

#[derive(Deserialize)]
pub struct StandDownBody {
    agency: Agency,
    told: String,
}

/// Whom the agent told at the agency to stand down.
pub async fn stand_down(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
    Body(body): Body<StandDownBody>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = desk::stand_down(&state, &caller.0, id, body.agency, &body.told).await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct CloseBody {
    /// A code from `GET /api/resolution-codes`.
    resolution: Option<String>,
    /// Required when a dispatch has no incident number.
    reason: Option<String>,
}

pub async fn close(
    State(state): State<ApiState>,
    caller: Caller,
    Path(id): Path<AlarmId>,
    OptionalBody(body): OptionalBody<CloseBody>,
) -> Result<Json<AlarmView>, ApiError> {
    let alarm = desk::close(
        &state,
        &caller.0,
        id,
        body.resolution.as_deref(),
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(alarm_view(id, &alarm, state.board.center_dials())))
}

/// The center's resolution codes, in the order the console offers them.
pub async fn resolution_codes(State(state): State<ApiState>, _caller: Caller) -> Json<Value> {
    Json(json!({ "codes": state.resolution_codes.all() }))
}
