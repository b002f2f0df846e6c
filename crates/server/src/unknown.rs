//! Resolving unknown-account items (a signal that would open an alarm, from a number that is
//! not enrolled): assign it to an existing account, route it to the account since enrolled
//! with its number, or call it noise. The same rules for the JSON API and the console.
//!
//! Assign and enrol route the item's latest signal first (as the account's, through the
//! intake: stored and routed like any signal, so the account's plan runs) and only then mark
//! the item resolved. Should another agent resolve it meanwhile, the signal was routed anyway:
//! a second routing of the same alarm joins the alarm the first opened, which is harmless,
//! while the other order could lose the alarm if the center stopped in between.

use crate::api::text::{self, LINE_CHARS};
use crate::api::{ApiError, ApiState};
use axum::http::StatusCode;
use watchpost_core::account_number::canonical;
use watchpost_store::{Outcome, Resolution, UnknownItem, User};

/// What an agent asks for an item.
#[derive(Debug, Clone)]
pub enum Resolve {
    /// Route the signal as this account's (the number as typed; canonicalised here).
    Assign(String),
    /// Route it to the account now enrolled with the item's own number.
    Enrol,
    /// Not a real alarm, for this reason (required).
    Noise(String),
}

/// The open items, most urgent first, then oldest; for the queue.
pub async fn open_items(state: &ApiState) -> Result<Vec<UnknownItem>, ApiError> {
    let mut items = state.store.unknown_items(false).await?;
    items.sort_by_key(|i| (i.priority, i.received_at, i.id));
    Ok(items)
}

/// Resolves item `id` as `agent` asks. Errors: 404 no such item; 409 already resolved, or (enrol)
/// no account enrolled with the number yet; 422 naming `account` or `reason`; 503 the signal
/// could not be stored (nothing resolved).
pub async fn resolve(
    state: &ApiState,
    agent: &User,
    id: i64,
    how: Resolve,
) -> Result<UnknownItem, ApiError> {
    let item =
        state.store.unknown_item(id).await?.ok_or_else(|| {
            ApiError::not_found(format!("unknown-account item {id} does not exist"))
        })?;
    if item.resolution.is_some() {
        return Err(already(id));
    }
    let (outcome, account, reason) = match how {
        Resolve::Assign(number) => {
            let number =
                canonical(number.trim()).map_err(|e| ApiError::field("account", e.to_string()))?;
            if state.store.account(&number).await?.is_none() {
                return Err(ApiError::field(
                    "account",
                    format!("no account {number} is enrolled"),
                ));
            }
            (Outcome::Assigned, Some(number), None)
        }
        Resolve::Enrol => {
            if state.store.account(&item.account).await?.is_none() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "account {} is not enrolled yet: an admin enrols it first \
                         (PUT /api/accounts/{} or `watchpost accounts import`), then resolve it again",
                        item.account, item.account
                    ),
                ));
            }
            (Outcome::Enrolled, Some(item.account.clone()), None)
        }
        Resolve::Noise(reason) => {
            let reason = text::required(
                "reason",
                &reason,
                LINE_CHARS,
                "say why it is noise (required, not empty)",
            )?;
            (Outcome::Noise, None, Some(reason))
        }
    };
    let now = crate::now_ms();
    if let Some(account) = &account
        && !state
            .intake
            .submit(vec![item.signal_for(account, now)], None)
            .await
    {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the signal could not be stored; the item stays open, try again",
        ));
    }
    let resolution = Resolution {
        outcome,
        account,
        reason,
        by: format!("agent:{}", agent.name),
        at: now,
    };
    if !state.store.resolve_unknown(id, &resolution).await? {
        return Err(already(id));
    }
    state.board.unknown_changed();
    Ok(UnknownItem {
        resolution: Some(resolution),
        ..item
    })
}

fn already(id: i64) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("unknown-account item {id} is already resolved"),
    )
}
