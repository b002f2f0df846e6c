//! `POST /api/signals`: IP devices and apps report with an account-scoped API key
//! (`Authorization: Bearer wp_...`, made with `watchpost keys add`). The answer comes once
//! the signal is stored.

use super::body::Body;
use super::caller::bearer;
use super::{ApiError, ApiState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::Deserialize;
use serde_json::{Value, json};
use watchpost_core::Agency;
use watchpost_core::router::Event;
use watchpost_store::SignalRecord;

/// Exactly one of `sia`, `cid` or `app`, as in scenario files.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalBody {
    sia: Option<String>,
    cid: Option<String>,
    /// `cancel` or `sos`.
    app: Option<String>,
    /// With `app = sos`: police, fire or medical.
    agency: Option<Agency>,
}

fn event(body: &SignalBody) -> Result<(Event, &'static str, String), ApiError> {
    let given = [&body.sia, &body.cid, &body.app]
        .iter()
        .filter(|f| f.is_some())
        .count();
    if given != 1 {
        return Err(ApiError::field(
            "body",
            "needs exactly one of sia, cid or app",
        ));
    }
    if let Some(code) = &body.sia {
        let event = watchpost_core::router::parse_sia(code).ok_or_else(|| {
            ApiError::field(
                "sia",
                format!("{code:?} is not a SIA DCS event like \"BA003\""),
            )
        })?;
        return Ok((event, "sia", code.clone()));
    }
    if let Some(code) = &body.cid {
        let event = watchpost_core::router::parse_cid(code).ok_or_else(|| {
            ApiError::field(
                "cid",
                format!("{code:?} is not a Contact ID event like \"1130 01 003\""),
            )
        })?;
        return Ok((event, "cid", code.clone()));
    }
    let app = body.app.as_deref().unwrap_or_default();
    let event = match (app, body.agency) {
        ("cancel", None) => Event::AppCancel,
        ("sos", agency) => match agency.unwrap_or(Agency::Police) {
            Agency::Guard => {
                return Err(ApiError::field(
                    "agency",
                    "app SOS asks for police, fire or medical",
                ));
            }
            agency => Event::AppSos { agency },
        },
        ("cancel", Some(_)) => {
            return Err(ApiError::field("agency", "goes only with app = \"sos\""));
        }
        (other, _) => {
            return Err(ApiError::field(
                "app",
                format!("{other:?} is not cancel or sos"),
            ));
        }
    };
    Ok((event, "app", app.to_string()))
}

pub async fn receive(
    State(state): State<ApiState>,
    parts: Parts,
    Body(body): Body<SignalBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = bearer(&parts).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "an API key is required: Authorization: Bearer wp_...",
        )
    })?;
    let account = state
        .auth
        .account_for_key(key, crate::now_ms())
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown API key"))?;
    let (event, source, raw) = event(&body)?;
    let signal = SignalRecord {
        account,
        received_at: crate::now_ms(),
        source: source.into(),
        event,
        raw,
    };
    if !state.intake.submit(vec![signal], None).await {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the signal could not be stored; send it again",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "stored": true }))))
}
