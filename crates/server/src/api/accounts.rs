//! Account administration: read an account (agents), list them (supervisors), enrol, change
//! or remove one (admins); find the accounts of a caller by phone (agents). The same checks as `accounts import`; the verbal password and the
//! DC-09 key go in and never come out.

use super::body::Body;
use super::caller::Caller;
use super::params::{Path, Query};
use super::scope::Scoped;
use super::{ApiError, ApiState};
use crate::enrolment::{refuse_leading_zero_twins, unknown_dealer};
use crate::view::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use watchpost_core::account::{Contact, Zone};
use watchpost_core::account_file::AccountTable;
use watchpost_core::account_number::canonical;
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::{Account, Millis};
use watchpost_store::{AlarmState, Role};

/// An account as the API shows it: everything but secrets.
#[derive(Serialize)]
pub struct AccountView {
    pub number: String,
    pub premises: &'static str,
    pub address: String,
    pub country: String,
    pub region: String,
    pub monitoring: &'static str,
    pub enrolled: String,
    /// The mode now: practice, professional or self.
    pub mode: &'static str,
    pub responder: &'static str,
    pub test_until: Option<String>,
    /// Each with `phone2` when it has a second number.
    pub contacts: Vec<Contact>,
    /// The premises' own phone; `null`: none.
    pub premises_phone: Option<String>,
    pub zones: Vec<Zone>,
    pub supervision_s: Option<Millis>,
    pub dc09_encrypted: bool,
    /// The dealer the account belongs to; `null`: the center's own.
    pub dealer: Option<String>,
    /// `zone_names`, `instructions`, `notes`, `agencies`: as in the account file.
    #[serde(flatten)]
    pub details: watchpost_core::details::AccountDetails,
}

pub(crate) fn view(a: &Account, now: Millis) -> AccountView {
    use watchpost_core::account::{Monitoring, Premises, Responder};
    AccountView {
        number: a.number.clone(),
        premises: match a.premises {
            Premises::Residential => "residential",
            Premises::Commercial => "commercial",
        },
        address: a.address.clone(),
        country: a.country.clone(),
        region: a.region.clone(),
        monitoring: match a.monitoring {
            Monitoring::Professional => "professional",
            Monitoring::SelfMonitored => "self",
        },
        enrolled: rfc3339(a.enrolled_at),
        mode: a.mode_at(now).as_str(),
        responder: match a.responder {
            Responder::Police => "police",
            Responder::Guard => "guard",
        },
        test_until: a.test_until.map(rfc3339),
        contacts: a.contacts.clone(),
        premises_phone: a.premises_phone.clone(),
        zones: a.zones.clone(),
        supervision_s: a.supervision_ms.map(|ms| ms / 1000),
        dc09_encrypted: a.dc09_key.is_some(),
        dealer: a.dealer.clone(),
        details: a.details.clone(),
    }
}

#[derive(Deserialize)]
pub struct Page {
    after: Option<String>,
    limit: Option<i64>,
    /// Search by a contact's phone instead of listing.
    phone: Option<String>,
    /// Search by number, contact name, phone or address (`super::account_history::search`).
    q: Option<String>,
}

/// `GET /api/accounts`: account numbers in order (supervisors), or with `?phone=` the accounts
/// with a contact at that number (agents; `by_phone`), or with `?q=` the accounts whose number,
/// contact name, phone or address match (agents).
///
/// A dealer's user gets their dealer's account numbers; searching (`q`, `phone`) is the
/// center's alone (403).
pub async fn list(
    State(state): State<ApiState>,
    scope: Scoped,
    Query(page): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    if let Some(dealer) = scope.dealer() {
        if page.q.is_some() || page.phone.is_some() {
            scope.center_only("searching accounts (q, phone)")?;
        }
        let limit = page_limit(page.limit)?;
        let numbers = state
            .store
            .dealer_accounts(dealer, page.after.as_deref().unwrap_or(""), limit)
            .await?;
        return Ok(Json(json!({ "accounts": numbers })));
    }
    let caller = Caller(scope.user().clone());
    if let Some(q) = &page.q {
        caller.require(Role::Agent)?;
        let found = super::account_history::search(&state, q).await?;
        return Ok(Json(json!({ "q": q, "accounts": found })));
    }
    if let Some(phone) = &page.phone {
        caller.require(Role::Agent)?;
        return Ok(Json(json!(by_phone(&state, phone).await?)));
    }
    caller.require(Role::Supervisor)?;
    let limit = page_limit(page.limit)?;
    let numbers = state
        .store
        .account_numbers(page.after.as_deref().unwrap_or(""), limit)
        .await?;
    Ok(Json(json!({ "accounts": numbers })))
}

/// A page's `limit`: 1 to 1000, 100 when not given.
fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be 1 to 1000"));
    }
    Ok(limit)
}

/// The account number in the path, in canonical form (`5a5b` is `5A5B`).
fn path_number(number: &str) -> Result<String, ApiError> {
    canonical(number).map_err(|reason| ApiError::field("number", format!("{number:?} {reason}")))
}

/// One account (agents; a dealer's users, of their dealer: 404 for any other).
pub async fn one(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(number): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    scope.require(Role::Agent, Role::DealerViewer)?;
    let number = path_number(&number)?;
    let account = scope.account(&state, &number).await?;
    Ok(Json(view(&account, crate::now_ms())))
}

/// Enrols or replaces the account; the body is the `[account]` table of an account file, as
/// JSON. Every enrolment rule applies; a refusal names the field. Admins; a dealer_admin for
/// their dealer (`dealer_put`).
pub async fn put(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(number): Path<String>,
    Body(mut table): Body<AccountTable>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    scope.require(Role::Admin, Role::DealerAdmin)?;
    let number = path_number(&number)?;
    dealer_put(&state, &scope, &number, &mut table).await?;
    if canonical(&table.number).as_ref() != Ok(&number) {
        return Err(ApiError::field(
            "number",
            format!(
                "{:?} differs from the account in the path, {number:?}",
                table.number
            ),
        ));
    }
    if let Err(refusal) = refuse_leading_zero_twins(&*state.store, &[&number]).await? {
        return Err(ApiError::field(
            "number",
            refusal.to_string().replacen("account.number: ", "", 1),
        ));
    }
    let now = crate::now_ms();
    let old = state.store.account(&number).await?;
    // The field that gave the DC-09 key, should it be refused.
    let key_field = if table.dc09_key_ascii.is_some() {
        "account.dc09_key_ascii"
    } else {
        "account.dc09_key_hex"
    };
    // Argon2 is slow on purpose: off the async workers, through the gate sign-ins use. Keyed
    // with the center's pepper when it has one (`VerbalPassword::hash_with`).
    let pepper = state.pepper.clone();
    let mut account = state
        .auth
        .gate()
        .run(move || {
            table.into_account_with("account", now, |spoken| {
                VerbalPassword::hash_with(spoken, HashCost::Standard, pepper.as_deref())
            })
        })
        .await
        .map_err(ApiError::from)?
        .map_err(|reason| match reason.split_once(": ") {
            Some((field, why)) => ApiError::field(field, why),
            None => ApiError::field("account", reason),
        })?;
    if let Some((_, reason)) = unknown_dealer(&*state.store, &[&account]).await? {
        return Err(ApiError::field("account.dealer", reason));
    }
    crate::secrets::seal_account(state.secrets.master_key.as_deref(), &mut account, key_field)
        .map_err(|reason| match reason.split_once(": ") {
            Some((field, why)) => ApiError::field(field, why),
            None => ApiError::field(key_field, reason),
        })?;
    state.store.put_account(&account).await?;
    if let Some(old) = &old {
        let actor = format!("{}:{}", scope.user().role, scope.user().name);
        state
            .auth
            .end_keys_of_replaced_enrolment(old, &account, &actor, now)
            .await
            .map_err(ApiError::internal)?;
    }
    let status = if old.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view(&account, now))))
}

/// Removes an account (admins; a dealer_admin, of their dealer: 404 for any other).
pub async fn delete(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(number): Path<String>,
) -> Result<StatusCode, ApiError> {
    scope.require(Role::Admin, Role::DealerAdmin)?;
    let number = path_number(&number)?;
    if scope.dealer().is_some() {
        scope.account(&state, &number).await?;
    }
    let open = state.store.alarms(AlarmState::Open).await?;
    if open.iter().any(|a| a.account == number) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the account has open alarms; close them first",
        ));
    }
    // Its API keys go in the same transaction: a key never outlives its enrolment.
    if state.store.delete_account(&number).await? {
        let actor = format!("{}:{}", scope.user().role, scope.user().name);
        let detail = "deleted with its API keys";
        if let Err(e) = state
            .auth
            .audit(&actor, "account.delete", &number, detail, crate::now_ms())
            .await
        {
            tracing::error!("audit: {e}");
        }
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "account {number:?} is not enrolled"
        )))
    }
}

/// What a dealer_admin may put: an account of their dealer only. The `dealer` of the body is
/// theirs or left out (then it becomes theirs; any other is 403 `account.dealer`), and a
/// number enrolled for another dealer or for the center is 404, as if it were not enrolled
/// — but it is not free either, so it cannot be taken over. The center's users: unchanged.
async fn dealer_put(
    state: &ApiState,
    scope: &Scoped,
    number: &str,
    table: &mut AccountTable,
) -> Result<(), ApiError> {
    let Some(dealer) = scope.dealer() else {
        return Ok(());
    };
    match table
        .dealer
        .as_deref()
        .map(watchpost_core::dealer::canonical_id)
    {
        None => table.dealer = Some(dealer.to_string()),
        Some(Ok(named)) if named == dealer => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "account.dealer: you may write only accounts of your dealer, {dealer:?} \
                     (leave it out, or give {dealer:?})"
                ),
            ));
        }
    }
    if let Some(old) = state.store.account(number).await?
        && !scope.sees(&old)
    {
        return Err(ApiError::not_found(format!(
            "account {number:?} is not enrolled"
        )));
    }
    Ok(())
}

/// The accounts a phone number belongs to, for an agent with a caller on the line.
#[derive(Serialize)]
pub struct PhoneSearch {
    /// The number searched for, in E.164.
    pub phone: String,
    pub accounts: Vec<PhoneMatch>,
}

#[derive(Serialize)]
pub struct PhoneMatch {
    pub number: String,
    pub address: String,
    /// The account's contacts at that number (first or second), with their index in its
    /// contact list.
    pub contacts: Vec<IndexedContact>,
    /// The number is the premises' own phone.
    pub premises: bool,
    /// The account's open alarms, never a silent one (a silent alarm is never discussed
    /// with a caller).
    pub open_alarms: Vec<OpenAlarm>,
}

#[derive(Serialize)]
pub struct IndexedContact {
    pub index: usize,
    pub name: String,
}

#[derive(Serialize)]
pub struct OpenAlarm {
    pub id: watchpost_store::AlarmId,
    pub kind: &'static str,
    pub opened_at_ms: Millis,
    pub handler: Option<String>,
    /// The caller's entries in this alarm's contact list (its list as when it opened).
    pub contacts: Vec<IndexedContact>,
}

/// The accounts with a contact at `typed` (anything a phone shows, like `(555) 555-0101`;
/// national numbers are of the center's region). Error: not a phone number (422 `phone`).
pub async fn by_phone(state: &ApiState, typed: &str) -> Result<PhoneSearch, ApiError> {
    let phone = crate::phone::normalise(typed.trim(), state.lines.region())
        .ok_or_else(|| ApiError::field("phone", format!("{typed:?} is not a phone number")))?;
    let at_phone = |contacts: &[Contact]| -> Vec<IndexedContact> {
        contacts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.phone == phone || c.phone2.as_deref() == Some(&phone))
            .map(|(index, c)| IndexedContact {
                index,
                name: c.name.clone(),
            })
            .collect()
    };
    let open = state.board.open_alarms();
    let mut accounts = Vec::new();
    for number in state.store.accounts_with_phone(&phone).await? {
        // Removed since the lookup: nothing to show.
        let Some(account) = state.store.account(&number).await? else {
            continue;
        };
        let open_alarms = open
            .iter()
            .filter(|(_, a)| a.spec().account == number && !a.is_silent())
            .map(|(id, a)| OpenAlarm {
                id: *id,
                kind: a.spec().kind.as_str(),
                opened_at_ms: a.spec().opened_at,
                handler: a.handler().map(str::to_string),
                contacts: at_phone(&a.spec().contacts),
            })
            .collect();
        accounts.push(PhoneMatch {
            contacts: at_phone(&account.contacts),
            premises: account.premises_phone.as_deref() == Some(&phone),
            number,
            address: account.address,
            open_alarms,
        });
    }
    Ok(PhoneSearch { phone, accounts })
}
