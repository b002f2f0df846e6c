//! What an agent can do to an alarm: load it, take and release it (a supervisor may take it
//! over), record a call's outcome, check a verbal password, record the caller's decision, a
//! callback (also by attaching a call to the center), the agency's incident number or whom
//! they told to stand down, a note, and close a dispatched alarm with a resolution code. Each
//! action is one input to the engine, committed to the alarm's log before it returns the alarm
//! as it now stands. The JSON API and the console both call these, so both follow the same
//! rules; only the agent handling an alarm acts on it (issue 12, finding 3; the center checks
//! it again when it applies the input, so no race lets another agent through).

use crate::api::text::{self, LINE_CHARS, NOTE_CHARS, PASSWORD_CHARS};
use crate::api::{ApiError, ApiState};
use crate::lines::{LineError, LineId};
use axum::http::StatusCode;
use serde::Deserialize;
use watchpost_core::alarm::{CallId, Confirmer, Decision, Purpose, Rejected};
use watchpost_core::password::VerbalPassword;
use watchpost_core::{Agency, Alarm, Input, Millis};
use watchpost_store::{AlarmId, Role, User, replay};

/// An alarm from the board if open, else rebuilt from its log.
pub async fn load(state: &ApiState, id: AlarmId) -> Result<Alarm, ApiError> {
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

/// Who an agent's inputs are logged as.
pub fn actor(agent: &User) -> String {
    format!("agent:{}", agent.name)
}

fn require_agent(agent: &User) -> Result<(), ApiError> {
    crate::auth::require(agent, Role::Agent)
        .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.to_string()))
}

/// 409, naming the field `alarm`: the agent may not give `input` to alarm `id` now.
fn refused(id: AlarmId, why: Rejected) -> ApiError {
    ApiError {
        field: Some("alarm".into()),
        ..ApiError::new(StatusCode::CONFLICT, format!("alarm {id}: {why}"))
    }
}

/// The alarm, if `agent` may give it `input`: only its handler acts on it (`Alarm::may_act`).
/// Errors: no such alarm (404), not taken or someone else's (409 `alarm`).
async fn handled(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    input: &Input,
) -> Result<Alarm, ApiError> {
    require_agent(agent)?;
    let alarm = load(state, id).await?;
    alarm
        .may_act(&agent.name, input)
        .map_err(|why| refused(id, why))?;
    Ok(alarm)
}

/// Sends one input as `agent` and answers with the alarm after it.
async fn act(state: &ApiState, agent: &User, id: AlarmId, input: Input) -> Result<Alarm, ApiError> {
    handled(state, agent, id, &input).await?;
    send(state, agent, id, input).await
}

async fn send(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    input: Input,
) -> Result<Alarm, ApiError> {
    state
        .commands
        .send(id, input, &actor(agent))
        .await
        .map_err(|e| match e {
            watchpost_center::CenterError::Rejected(
                _,
                why @ (Rejected::NotTaken | Rejected::TakenBy(_)),
            ) => refused(id, why),
            e => e.into(),
        })?;
    load(state, id).await
}

/// The alarm becomes the agent's to work until they release it.
pub async fn take(state: &ApiState, agent: &User, id: AlarmId) -> Result<Alarm, ApiError> {
    let input = Input::Take {
        agent: agent.name.clone(),
    };
    act(state, agent, id, input).await
}

pub async fn release(state: &ApiState, agent: &User, id: AlarmId) -> Result<Alarm, ApiError> {
    let input = Input::Release {
        agent: agent.name.clone(),
    };
    act(state, agent, id, input).await
}

/// A supervisor takes the alarm over from whoever handles it; logged and shown ("sue took
/// over from ann"). Errors: not a supervisor (403), no such alarm (404), closed (409).
pub async fn take_over(state: &ApiState, agent: &User, id: AlarmId) -> Result<Alarm, ApiError> {
    crate::auth::require(agent, Role::Supervisor)
        .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.to_string()))?;
    let input = Input::TakeOver {
        agent: agent.name.clone(),
    };
    act(state, agent, id, input).await
}

/// Takes an alarm nobody handles for `agent`, so that a caller on the line is never kept
/// waiting for a separate "take"; someone else's alarm is refused (409 `alarm`).
async fn take_if_free(state: &ApiState, agent: &User, id: AlarmId) -> Result<(), ApiError> {
    let alarm = load(state, id).await?;
    match alarm.handler() {
        None => {
            let input = Input::Take {
                agent: agent.name.clone(),
            };
            send(state, agent, id, input).await?;
            Ok(())
        }
        Some(h) if h == agent.name => Ok(()),
        Some(h) => Err(refused(id, Rejected::TakenBy(h.to_string()))),
    }
}

/// What the agent saw happen on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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

pub async fn outcome(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    call: CallId,
    outcome: Outcome,
) -> Result<Alarm, ApiError> {
    let input = match outcome {
        Outcome::Placed => Input::CallPlaced { call },
        Outcome::Answered => Input::Answered { call },
        Outcome::Voicemail => Input::Voicemail { call },
        Outcome::NoAnswer => Input::NoAnswer { call },
        Outcome::Busy => Input::Busy { call },
        Outcome::AgentJoined => Input::AgentJoined { call },
        Outcome::Ended => Input::CallEnded { call },
    };
    act(state, agent, id, input).await
}

/// Checks what the caller said against the account's hash and records the result on the
/// call. The agent only ever learns match (`true`) or no match (`false`).
///
/// Only the handler may check, only on a call where they talk with a person who answered,
/// and only while the call has tries left (the engine's rules, tried on a copy of the alarm
/// first): a refused check (409, 422) compares nothing and spends nothing. A check that may
/// be made is counted against the account in the store before the password is compared
/// (`crate::guessing`): past the limit it is refused with 429 naming `password`.
pub async fn check_password(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    call: CallId,
    said: String,
) -> Result<bool, ApiError> {
    // One check at a time: each sees the tries the one before used (`password_checks`).
    let _one_at_a_time = state.password_checks.lock().await;
    // A non-handler must not even learn whether a password matches.
    let input = Input::PasswordChecked {
        call,
        matched: false,
    };
    let alarm = handled(state, agent, id, &input).await?;
    // Too long to be anything a caller said: refused without using up one of the call's tries.
    text::bounded(
        "password",
        &watchpost_core::password::normalise(&said),
        PASSWORD_CHARS,
    )?;
    let now = crate::now_ms();
    // The engine's own rules (answered, in conversation, tries left), on a copy.
    alarm
        .clone()
        .handle(now, input)
        .map_err(|why| refused(id, why))?;
    let number = alarm.spec().account.clone();
    let account = state
        .store
        .account(&number)
        .await?
        .ok_or_else(|| ApiError::not_found("the alarm's account is no longer enrolled"))?;
    // A turn at the hashing gate first, waiting behind sign-ins but never turned away by them.
    let turn = state
        .auth
        .gate()
        .enter_at_work()
        .await
        .map_err(ApiError::from)?;
    // A hash this center cannot check (its pepper not loaded, or another center's) is said
    // before a try is counted against the account.
    account
        .verbal_password
        .check_pepper(state.pepper.as_deref())
        .map_err(|e| {
            tracing::error!(account = %number, "verbal password not checked: {e}");
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("account {number}: {e}"),
            )
        })?;
    let check = watchpost_store::PasswordCheck {
        account: number.clone(),
        alarm: id,
        call,
        agent: agent.name.clone(),
        at: now,
    };
    let reservation = state
        .store
        .reserve_password_check(&check, crate::guessing::LIMIT)
        .await?;
    let row = crate::guessing::granted(reservation, &number, now)?;
    // Argon2 is slow on purpose: off the async workers, within the gate's turn.
    let pepper = state.pepper.clone();
    let stored = account.verbal_password.clone();
    let spoken = said.clone();
    let matched = turn
        .run(move || account.verbal_password.verify(&said, pepper.as_deref()))
        .await
        .map_err(ApiError::from)?
        .map_err(ApiError::internal)?;
    state.store.settle_password_check(row, matched).await?;
    let input = Input::PasswordChecked { call, matched };
    send(state, agent, id, input).await?;
    if matched {
        upgrade_hash(state, number, stored, spoken);
    } else {
        alert_on_misses(state, id, &number, now).await;
    }
    Ok(matched)
}

/// After a match, off the agent's answer: a hash an import stored below full cost is
/// replaced by a full-cost one of what was said (`VerbalPassword::upgrade`; README,
/// "Importing many accounts"), unless the account's hash changed meanwhile. A failure only
/// leaves the cheaper hash, which still works.
fn upgrade_hash(state: &ApiState, number: String, stored: VerbalPassword, said: String) {
    if !stored.below_full_cost(state.pepper.as_deref()) {
        return;
    }
    let (store, auth, pepper) = (
        state.store.clone(),
        state.auth.clone(),
        state.pepper.clone(),
    );
    tokio::spawn(async move {
        let old = stored.clone();
        let new = auth
            .gate()
            .run(move || old.upgrade(&said, pepper.as_deref()))
            .await;
        let new = match new {
            Ok(Some(new)) => new,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(account = %number, "verbal password hash not upgraded: {e}");
                return;
            }
        };
        match store.upgrade_verbal_password(&number, &stored, &new).await {
            Ok(true) => {
                tracing::info!(account = %number, "verbal password hash upgraded to full cost")
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(account = %number, "verbal password hash not upgraded: {e}"),
        }
    });
}

/// After a miss: when the account's misses in the window reach the alert threshold or the
/// limit, a note on the alarm says so (supervisors see the account in `GET /api/attention`).
async fn alert_on_misses(state: &ApiState, id: AlarmId, account: &str, now: Millis) {
    use crate::guessing::{ALERT_MISSES, MISS_LIMIT, WINDOW_MS};
    let misses = match state
        .store
        .password_misses(Some(account), now - WINDOW_MS + 1)
        .await
    {
        Ok(misses) => misses.len(),
        Err(e) => {
            tracing::warn!(alarm = id, "verbal-password misses not counted: {e}");
            return;
        }
    };
    let text = if misses == MISS_LIMIT as usize {
        format!(
            "verbal password of account {account} wrong {misses} times in {} minutes (all \
             alarms): further checks are refused for now; supervisors alerted",
            WINDOW_MS / 60_000
        )
    } else if misses == ALERT_MISSES {
        format!(
            "verbal password of account {account} wrong {misses} times in {} minutes (all \
             alarms); supervisors alerted",
            WINDOW_MS / 60_000
        )
    } else {
        return;
    };
    if let Err(e) = state
        .commands
        .send(id, Input::Note { text }, "center")
        .await
    {
        tracing::warn!(alarm = id, "verbal-password alert not noted: {e}");
    }
}

/// What the person on the call asked for. A cancel is taken only from a caller whose password
/// matched on this call (issue 12, finding 1): otherwise it is refused (409 `decision`), and the
/// agent records dispatch by name; the API never turns a cancel into a dispatch. (The engine's
/// rule that an unverified cancel is a dispatch request stays for the simulator's callers.)
pub async fn decide(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    call: CallId,
    decision: Decision,
) -> Result<Alarm, ApiError> {
    let input = Input::Decision { call, decision };
    let alarm = handled(state, agent, id, &input).await?;
    if decision == Decision::Cancel
        && let Some(c) = alarm.calls().get(call as usize)
        && c.verified != Some(true)
    {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            ..ApiError::field(
                "decision",
                format!(
                    "call {call}: the password has not matched on this call ({}), so the \
                     caller cannot cancel: check the password, or record dispatch",
                    c.password().replace('_', " ")
                ),
            )
        });
    }
    send(state, agent, id, input).await
}

/// A contact (named as on the account) called the center back; returns the new call, handled
/// by the agent like any conversation, and the alarm. A silent alarm is never discussed.
pub async fn callback(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    contact: &str,
) -> Result<(Option<CallId>, Alarm), ApiError> {
    require_agent(agent)?;
    let alarm = discussable(state, id).await?;
    let index = alarm
        .spec()
        .contacts
        .iter()
        .position(|c| c.name == contact)
        .ok_or_else(|| {
            ApiError::field(
                "contact",
                format!("{contact:?} is not on this account's contact list"),
            )
        })?;
    let (call, alarm) = callback_from(state, agent, id, index).await?;
    Ok((Some(call), alarm))
}

/// The alarm, unless it is silent: a silent alarm is never discussed with a caller (409).
async fn discussable(state: &ApiState, id: AlarmId) -> Result<Alarm, ApiError> {
    let alarm = load(state, id).await?;
    if alarm.is_silent() {
        return Err(ApiError {
            field: Some("alarm".into()),
            ..ApiError::new(
                StatusCode::CONFLICT,
                "a silent alarm is never discussed with a caller",
            )
        });
    }
    Ok(alarm)
}

/// Contact `index` of the alarm's contact list called the center back; returns the new call
/// and the alarm. Errors: no such alarm (404), a silent one (409), no such contact (422
/// `contact`), a closed alarm (409).
async fn callback_from(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    index: usize,
) -> Result<(CallId, Alarm), ApiError> {
    let contacts = discussable(state, id).await?.spec().contacts.len();
    if index >= contacts {
        return Err(ApiError::field(
            "contact",
            format!(
                "alarm {id} has {contacts} contacts (0 to {}); {index} is not one",
                contacts.saturating_sub(1)
            ),
        ));
    }
    take_if_free(state, agent, id).await?;
    let alarm = act(state, agent, id, Input::Callback { contact: index }).await?;
    // The callback's call is the one the input just added: the last.
    let call = alarm
        .calls()
        .last()
        .filter(|c| c.purpose == Purpose::Callback)
        .map(|c| c.id)
        .ok_or_else(|| ApiError::internal(format!("alarm {id}: a callback added no call")))?;
    Ok((call, alarm))
}

/// The call to the center on `line` is about this alarm: contact `contact` (an index into
/// its contact list) is calling. The alarm gets a callback, as `callback`, and the call its
/// call: its end and its recording are the alarm's from then on. Errors, each naming the
/// field: no such line or its call ended (404), another agent attaching it or it is attached
/// (409), no such alarm (422 `alarm`), a silent alarm (409 `alarm`), no such contact (422
/// `contact`), a closed alarm (409).
pub async fn attach_line(
    state: &ApiState,
    agent: &User,
    line: LineId,
    id: AlarmId,
    contact: usize,
) -> Result<(CallId, Alarm), ApiError> {
    require_agent(agent)?;
    let claim = state.lines.claim(line).map_err(|e| match e {
        LineError::Unknown(_) => ApiError::not_found(e.to_string()),
        LineError::Busy(_) | LineError::Attached(..) => {
            ApiError::new(StatusCode::CONFLICT, e.to_string())
        }
    })?;
    let (call, alarm) = callback_from(state, agent, id, contact)
        .await
        .map_err(|e| match e.status {
            StatusCode::NOT_FOUND => ApiError::field("alarm", e.message),
            _ => e,
        })?;
    if claim.attach(id, call).is_err() {
        // The caller hung up while the callback was being committed: it ended too.
        state
            .commands
            .send(id, Input::CallEnded { call }, &actor(agent))
            .await?;
        return Err(ApiError::not_found(format!(
            "line {line}: the caller hung up before the call was attached"
        )));
    }
    tracing::info!(line, alarm = id, call, agent = %agent.name, "call to the center attached");
    Ok((call, alarm))
}

/// Records the agency's incident number for its dispatch.
pub async fn confirm_dispatch(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    agency: Agency,
    reference: &str,
) -> Result<Alarm, ApiError> {
    let reference = text::required(
        "reference",
        reference,
        LINE_CHARS,
        "the agency's incident number is required",
    )?;
    let input = Input::DispatchConfirmed { agency, reference };
    act(state, agent, id, input).await
}

/// Records whom the agent told at the agency to stand down, after a cancellation (issue 12,
/// finding 5). Errors: `told` empty (422), no such canceled dispatch or already confirmed (409).
pub async fn stand_down(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    agency: Agency,
    told: &str,
) -> Result<Alarm, ApiError> {
    let told = text::required(
        "told",
        told,
        LINE_CHARS,
        "name whom you told at the agency to stand down",
    )?;
    let input = Input::StandDownConfirmed { agency, told };
    act(state, agent, id, input).await
}

/// Someone other than a contact confirmed the alarm (`by`: `guard`, `video` or `audio`;
/// `text`: what they reported, optional), as the handler records it: the plan's
/// `on_confirmation` steps run (docs/plans.md, "Confirmations"). Errors: `by` not one of
/// them or `text` too long (422 naming it), not the handler (409), the alarm closed (409).
pub async fn confirm(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    by: &str,
    text: Option<&str>,
) -> Result<Alarm, ApiError> {
    let by = Confirmer::parse(by.trim()).ok_or_else(|| {
        ApiError::field(
            "by",
            format!("{by:?} is not who can confirm an alarm: guard, video or audio"),
        )
    })?;
    let text = text::optional("text", text, NOTE_CHARS)?.unwrap_or_default();
    act(state, agent, id, Input::Confirmed { by, text }).await
}

/// A note, by the handler or a supervisor (who need not take the alarm over to annotate it).
pub async fn note(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    text: &str,
) -> Result<Alarm, ApiError> {
    let text = text::required("text", text, NOTE_CHARS, "a note needs some text")?;
    let input = Input::Note { text };
    require_agent(agent)?;
    if agent.role < Role::Supervisor {
        load(state, id)
            .await?
            .handled_by(&agent.name)
            .map_err(|why| refused(id, why))?;
    }
    send(state, agent, id, input).await
}

/// Closes a dispatched alarm before its follow-up window ends: the handler only, with a
/// resolution code from the center's list, and with a reason when a dispatch has no incident
/// number (issue 12, finding 3). Errors: `resolution` missing or not on the list (422), a
/// dispatch unconfirmed and no `reason` (422 `reason`), not the handler (409 `alarm`), the plan
/// still running (409).
pub async fn close(
    state: &ApiState,
    agent: &User,
    id: AlarmId,
    resolution: Option<&str>,
    reason: Option<&str>,
) -> Result<Alarm, ApiError> {
    // Whose alarm it is comes first: a non-handler learns nothing more.
    let probe = Input::AgentClose {
        resolution: None,
        reason: None,
    };
    let alarm = handled(state, agent, id, &probe).await?;
    let codes = &state.resolution_codes;
    let resolution = resolution.map(str::trim).unwrap_or_default();
    if resolution.is_empty() {
        return Err(ApiError::field(
            "resolution",
            format!("closing needs a resolution code: one of {}", codes.listed()),
        ));
    }
    if codes.text(resolution).is_none() {
        return Err(ApiError::field(
            "resolution",
            format!("{resolution:?} is not one of {}", codes.listed()),
        ));
    }
    let reason = text::optional("reason", reason, LINE_CHARS)?;
    let input = Input::AgentClose {
        resolution: Some(resolution.to_string()),
        reason: reason.clone(),
    };
    let unconfirmed = alarm
        .dispatches()
        .iter()
        .find(|d| d.reference.is_none() && d.canceled_at.is_none());
    if let (Some(d), None) = (unconfirmed, reason) {
        return Err(ApiError::field(
            "reason",
            format!(
                "the {} dispatch has no incident number: record it first, or give the reason \
                 to close without it",
                d.agency
            ),
        ));
    }
    send(state, agent, id, input).await
}
