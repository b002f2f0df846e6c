//! Calls to the center not yet attached to an alarm (`crate::lines`): `GET /api/lines` lists
//! them; `POST /api/lines/{id}/attach` makes one an alarm's callback.

use super::body::Body;
use super::caller::Caller;
use super::params::Path;
use super::{ApiError, ApiState};
use crate::desk;
use crate::lines::LineId;
use crate::view::alarm_view;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use watchpost_store::{AlarmId, Role};

/// `{"lines": [{id, caller, arrived_at_ms, candidates: [{alarm, contact, name, account}],
/// agent}]}`, oldest first.
pub async fn list(State(state): State<ApiState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Agent)?;
    Ok(Json(json!({ "lines": state.lines.waiting() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachBody {
    alarm: AlarmId,
    /// The caller's index in the alarm's contact list.
    contact: usize,
}

/// `{"line", "call", "alarm": <the alarm as GET /api/alarms/{id}>}`; errors as
/// `desk::attach_line`.
pub async fn attach(
    State(state): State<ApiState>,
    caller: Caller,
    Path(line): Path<LineId>,
    Body(body): Body<AttachBody>,
) -> Result<Json<Value>, ApiError> {
    let (call, alarm) =
        desk::attach_line(&state, &caller.0, line, body.alarm, body.contact).await?;
    Ok(Json(json!({
        "line": line,
        "call": call,
        "alarm": alarm_view(body.alarm, &alarm, state.board.center_dials()),
    })))
}
