//! An account as an agent looks it up: search by number, contact name, phone or address; its
//! recent alarms and signals; and test mode (the account's `test_until`, the same mechanism
//! account files set: while on test its signals are stored and open `on_test` alarms that
//! call nobody), put on and ended from the console with who and when recorded.

use super::body::Body;
use super::caller::Caller;
use super::params::Path;
use super::{ApiError, ApiState};
use crate::view::rfc3339;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use watchpost_core::account_number::canonical;
use watchpost_core::{Account, AlarmKind, Millis};
use watchpost_store::{AccountEvent, Role, User};

/// How many results a search gives at most.
pub const SEARCH_LIMIT: i64 = 50;
/// How many alarms, signals and events the history shows.
pub const HISTORY_LIMIT: usize = 20;
/// The longest test mode: a week (an account forgotten on test is an account unmonitored).
pub const MAX_TEST_MINUTES: i64 = 7 * 24 * 60;

/// One account found.
#[derive(Debug, Serialize)]
pub struct Found {
    pub number: String,
    pub address: String,
    pub contacts: Vec<String>,
}

/// Accounts whose number, address or contact name holds `q` (case-insensitive), and those with
/// a contact at `q` read as a phone number (any format, like `/api/accounts?phone=`).
/// Error: an empty query (422 `q`).
pub async fn search(state: &ApiState, q: &str) -> Result<Vec<Found>, ApiError> {
    let q = q.trim();
    if q.is_empty() {
        return Err(ApiError::field(
            "q",
            "type a number, name, phone or address",
        ));
    }
    let mut numbers = state.store.search_accounts(q, SEARCH_LIMIT).await?;
    if let Some(phone) = crate::phone::normalise(q, state.lines.region()) {
        numbers.extend(state.store.accounts_with_phone(&phone).await?);
    }
    numbers.sort();
    numbers.dedup();
    let mut found = Vec::new();
    for number in numbers.into_iter().take(SEARCH_LIMIT as usize) {
        if let Some(a) = state.store.account(&number).await? {
            found.push(Found {
                number: a.number,
                address: a.address,
                contacts: a.contacts.into_iter().map(|c| c.name).collect(),
            });
        }
    }
    Ok(found)
}

/// An alarm of the account, as the history lists it.
#[derive(Debug, Serialize)]
pub struct PastAlarm {
    pub id: i64,
    pub kind: String,
    pub opened_at_ms: Millis,
    pub closed_at_ms: Option<Millis>,
    /// The disposition's code (`canceled_by_contact`), null while open.
    pub disposition: Option<String>,
    /// In words: "canceled by contact", or "open".
    pub outcome: String,
}

#[derive(Debug, Serialize)]
pub struct PastSignal {
    pub received_at_ms: Millis,
    pub source: String,
    /// "BA zone 3".
    pub event: String,
    pub raw: String,
    /// The kind of alarm it signals, if any (to leave out a silent kind's signals).
    #[serde(skip)]
    pub kind: Option<AlarmKind>,
}

/// The account's recent history, newest first.
#[derive(Debug, Serialize)]
pub struct History {
    pub number: String,
    pub alarms: Vec<PastAlarm>,
    pub signals: Vec<PastSignal>,
    /// Test mode put on and ended, by whom.
    pub events: Vec<AccountEvent>,
}

/// The account `number` names, in any case (422 `number` when malformed, 404 when not
/// enrolled).
pub async fn enrolled(state: &ApiState, number: &str) -> Result<Account, ApiError> {
    let number = canonical(number.trim())
        .map_err(|e| ApiError::field("number", format!("{number:?} {e}")))?;
    state
        .store
        .account(&number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("account {number:?} is not enrolled")))
}

/// The account (404 when not enrolled) and its recent history.
pub async fn history(state: &ApiState, number: &str) -> Result<(Account, History), ApiError> {
    let account = enrolled(state, number).await?;
    let number = account.number.clone();
    let alarms = state
        .store
        .recent_alarms(&number, HISTORY_LIMIT as i64)
        .await?
        .into_iter()
        .map(|a| PastAlarm {
            id: a.id,
            outcome: a
                .disposition
                .as_deref()
                .map_or_else(|| "open".to_string(), |d| d.replace('_', " ")),
            kind: a.kind,
            opened_at_ms: a.opened_at,
            closed_at_ms: a.closed_at,
            disposition: a.disposition,
        })
        .collect();
    let signals = state
        .store
        .recent_signals(&number, HISTORY_LIMIT as i64)
        .await?
        .into_iter()
        .map(|s| PastSignal {
            kind: match &s.event {
                watchpost_core::router::Event::Panel { class, .. } => class.alarm_kind(),
                _ => None,
            },
            received_at_ms: s.received_at,
            source: s.source,
            event: s.event.describe(),
            raw: s.raw,
        })
        .collect();
    let events = state
        .store
        .account_events(&number, HISTORY_LIMIT as i64)
        .await?;
    let history = History {
        number,
        alarms,
        signals,
        events,
    };
    Ok((account, history))
}

/// Puts the account on test for `minutes` (1 to a week; 422 `minutes` otherwise) for
/// `reason` (422 `reason` when empty), or ends test mode (`minutes` None). Recorded with who
/// and when. Signals already routed are not changed; the center reads the change within
/// seconds (its account cache).
pub async fn set_test(
    state: &ApiState,
    user: &User,
    number: &str,
    minutes: Option<i64>,
    reason: &str,
) -> Result<Account, ApiError> {
    let mut account = enrolled(state, number).await?;
    let now = crate::now_ms();
    let what = match minutes {
        Some(minutes) => {
            if minutes <= 0 || minutes > MAX_TEST_MINUTES {
                return Err(ApiError::field(
                    "minutes",
                    format!(
                        "{minutes} is not a test duration: 1 to {MAX_TEST_MINUTES} minutes (7 days)"
                    ),
                ));
            }
            let reason = super::text::required(
                "reason",
                reason,
                super::text::LINE_CHARS,
                "say why the account goes on test",
            )?;
            let until = now + minutes * 60_000;
            account.test_until = Some(until);
            format!("on test until {}: {reason}", rfc3339(until))
        }
        None => {
            account.test_until = None;
            "test mode ended".to_string()
        }
    };
    let event = AccountEvent {
        account: account.number.clone(),
        at: now,
        actor: format!("agent:{}", user.name),
        what,
    };
    // Only test_until is written: an admin's edit of the account meanwhile is kept.
    if !state
        .store
        .set_test_until(&event, account.test_until)
        .await?
    {
        return Err(ApiError::not_found(format!(
            "account {number} is not enrolled"
        )));
    }
    Ok(account)
}

/// `GET /api/accounts/{number}/history` (agents; a dealer's users, of their accounts).
pub async fn get(
    State(state): State<ApiState>,
    scope: super::scope::Scoped,
    Path(number): Path<String>,
) -> Result<Json<History>, ApiError> {
    scope.require(Role::Agent, Role::DealerViewer)?;
    scope.account(&state, &number).await?;
    let mut history = history(&state, &number).await?.1;
    if scope.dealer().is_some() {
        hide_silent(&state, &mut history).await?;
    }
    Ok(Json(history))
}

/// A silent (duress) alarm is the center's alone (PROTOCOLS.md, Duress): a dealer's user reads
/// the history without the silent alarms and without the signals of their kinds.
async fn hide_silent(state: &ApiState, history: &mut History) -> Result<(), ApiError> {
    let mut silent_kinds = vec![AlarmKind::Duress.as_str().to_string()];
    let mut shown = Vec::with_capacity(history.alarms.len());
    for alarm in std::mem::take(&mut history.alarms) {
        if crate::desk::load(state, alarm.id).await?.is_silent() {
            silent_kinds.push(alarm.kind.clone());
        } else {
            shown.push(alarm);
        }
    }
    history.alarms = shown;
    history.signals.retain(|s| {
        s.kind
            .is_none_or(|k| !silent_kinds.iter().any(|silent| silent == k.as_str()))
    });
    Ok(())
}

#[derive(Deserialize)]
pub struct TestBody {
    /// Required; 1 to 10080.
    minutes: Option<i64>,
    #[serde(default)]
    reason: String,
}

/// `POST /api/accounts/{number}/test {"minutes": 120, "reason": "installer visit"}` (agents):
/// the account as it now is.
pub async fn put_on_test(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
    Body(body): Body<TestBody>,
) -> Result<Json<super::accounts::AccountView>, ApiError> {
    caller.require(Role::Agent)?;
    let minutes = body
        .minutes
        .ok_or_else(|| ApiError::field("minutes", "is required"))?;
    let account = set_test(&state, &caller.0, &number, Some(minutes), &body.reason).await?;
    Ok(Json(super::accounts::view(&account, crate::now_ms())))
}

/// `DELETE /api/accounts/{number}/test` (agents): ends test mode.
pub async fn end_test(
    State(state): State<ApiState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<super::accounts::AccountView>, ApiError> {
    caller.require(Role::Agent)?;
    let account = set_test(&state, &caller.0, &number, None, "").await?;
    Ok(Json(super::accounts::view(&account, crate::now_ms())))
}
