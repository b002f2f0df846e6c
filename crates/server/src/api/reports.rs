//! `GET /api/reports`: the report of a period (README "Reports", `crate::report`) as JSON,
//! CSV or an HTML page with charts. The center's users may ask for the whole center, any
//! dealer or any account; a dealer's user for their dealer's accounts only (another dealer's
//! or the center's answer 404, as if they did not exist), and never sees a silent alarm.
//! The session cookie opens it too, so that a browser can show the page (`ScopedBrowser`).

use super::params::Query;
use super::scope::{Scoped, ScopedBrowser};
use super::{ApiError, ApiState};
use crate::report::{self, Format, Period, Styles};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use watchpost_core::account_number::canonical;
use watchpost_core::period_report::Audience;
use watchpost_store::{ReportScope, Role};

#[derive(Deserialize)]
pub struct ReportParams {
    /// A date (`2026-11-01`, UTC) or an RFC 3339 time; required.
    from: Option<String>,
    /// A date (included) or the time the period ends before; required.
    to: Option<String>,
    dealer: Option<String>,
    account: Option<String>,
    /// `json` (the default), `csv` or `html`.
    format: Option<String>,
}

/// Errors: 422 naming `from`, `to`, `format`, `account` (malformed, or given with `dealer`);
/// 404 for a dealer or account the caller may not see or that does not exist.
pub async fn get(
    State(state): State<ApiState>,
    ScopedBrowser(caller): ScopedBrowser,
    Query(params): Query<ReportParams>,
) -> Result<Response, ApiError> {
    caller.require(Role::Agent, Role::DealerViewer)?;
    let required = |value: Option<String>, field| {
        value.ok_or_else(|| ApiError::field(field, "is required: a date (2026-11-01) or time"))
    };
    let (from, to) = (required(params.from, "from")?, required(params.to, "to")?);
    let period = Period::parse(&from, &to, state.timezone)
        .map_err(|(field, why)| ApiError::field(field, why))?;
    let format = Format::parse(params.format.as_deref().unwrap_or("json"))
        .map_err(|why| ApiError::field("format", why))?;
    let scope = scope(&state, &caller, params.dealer, params.account).await?;
    let audience = match caller {
        Scoped::Center(_) => Audience::Center,
        Scoped::Dealer { .. } => Audience::Dealer,
    };
    let built = report::build(state.store.as_ref(), period, scope, audience).await?;
    Ok(match format {
        Format::Json => Json(built).into_response(),
        Format::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"report.csv\"",
                ),
            ],
            report::to_csv(&built).map_err(ApiError::internal)?,
        )
            .into_response(),
        Format::Html => {
            let styles = Styles::Linked(crate::console::assets::url("report.css"));
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                report::to_html(&built, &styles),
            )
                .into_response()
        }
    })
}

/// Whose alarms the caller asked for, if they may see them.
async fn scope(
    state: &ApiState,
    caller: &Scoped,
    dealer: Option<String>,
    account: Option<String>,
) -> Result<ReportScope, ApiError> {
    let no_dealer = |id: &str| ApiError::not_found(format!("dealer {id:?} does not exist"));
    match (dealer, account) {
        (Some(_), Some(_)) => Err(ApiError::field(
            "account",
            "give a dealer or an account, not both",
        )),
        (None, Some(number)) => {
            let number = canonical(number.trim())
                .map_err(|e| ApiError::field("account", format!("{number:?} {e}")))?;
            if caller.dealer().is_some() {
                caller.account(state, &number).await?;
            } else if !report::known_account(state.store.as_ref(), &number).await? {
                return Err(ApiError::not_found(format!(
                    "account {number:?} is not enrolled and has no alarm"
                )));
            }
            Ok(ReportScope::Account(number))
        }
        (Some(id), None) => match caller.dealer() {
            Some(own) if own != id => Err(no_dealer(&id)),
            Some(_) => Ok(ReportScope::Dealer(id)),
            None if state.store.dealer(&id).await?.is_none() => Err(no_dealer(&id)),
            None => Ok(ReportScope::Dealer(id)),
        },
        (None, None) => Ok(match caller.dealer() {
            Some(own) => ReportScope::Dealer(own.to_string()),
            None => ReportScope::Center,
        }),
    }
}
