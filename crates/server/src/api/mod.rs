//! The HTTP API (JSON): login, alarms and the agent actions the console uses, calls to the
//! center waiting for an alarm, signals from IP devices and apps, live events. Every route but
//! login, signals (API keys) and the OpenAPI document needs `Authorization: Bearer <token>`
//! (the console's session cookie opens only the event stream and recordings, `caller`); bodies
//! are JSON only (`body`); a request another site's page sends is refused (`origin`). The
//! router also serves the console (`crate::console`).

pub(crate) mod account_history;
pub(crate) mod accounts;
mod alarms;
mod audit;
mod body;
pub(crate) mod caller;
pub use caller::SessionCookie;
mod error;
mod events;
mod headers;
mod lines;
pub(crate) mod login;
mod ops;
mod origin;
mod params;
mod plans;
mod recordings;
mod reports;
pub(crate) mod scope;
mod signals;
pub(crate) mod text;
mod unknown;
mod webhooks;

pub use error::ApiError;
pub use ops::{MetricsAccess, MetricsToken};

use crate::auth::Auth;
use crate::board::Board;
use crate::intake::{Commands, Intake};
use axum::Router;
use axum::routing::{delete, get, post, put};
use std::sync::Arc;
use watchpost_store::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub store: Db,
    pub cluster: Arc<crate::cluster::Cluster>,
    pub board: Arc<Board>,
    pub commands: Commands,
    pub intake: Intake,
    pub auth: Arc<Auth>,
    /// Call recordings, listed and served to signed-in users.
    pub recordings: Arc<crate::recordings::Recordings>,
    /// Calls to the center not yet attached to an alarm.
    pub lines: Arc<crate::lines::Lines>,
    /// The time zone the console shows clock times in.
    pub timezone: chrono_tz::Tz,
    /// What the handler may close an alarm with.
    pub resolution_codes: Arc<crate::resolution::ResolutionCodes>,
    /// The console's attention thresholds.
    pub console: crate::attention::ConsoleConfig,
    /// The master key new DC-09 keys are sealed with.
    pub secrets: crate::secrets::SecretsConfig,
    /// The pepper verbal passwords are hashed with and checked against (`crate::pepper`);
    /// `None` on a center without a master key, which hashes unkeyed.
    pub pepper: Option<Arc<watchpost_core::pepper::Pepper>>,
    /// The session cookie's name and flags (`Secure` and `__Host-` when HTTP speaks TLS).
    pub cookie: SessionCookie,
    /// Held through each verbal-password check, from the engine's rules to the input's commit,
    /// so that parallel checks on one call are judged one after the other: a call's third try
    /// is refused before it is counted against the account (`desk::check_password`).
    pub password_checks: Arc<tokio::sync::Mutex<()>>,
    /// What `/metrics` shows, and what `/readyz` checks.
    pub metrics: Arc<crate::metrics::Metrics>,
    pub health: Arc<crate::health::Health>,
    /// Who may read `/metrics`.
    pub metrics_access: MetricsAccess,
}

const OPENAPI: &str = include_str!("openapi.json");

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/api/openapi.json",
            get(|| async { ([("content-type", "application/json")], OPENAPI) }),
        )
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/api/login", post(login::login))
        .route("/api/logout", post(login::logout))
        .route("/api/alarms", get(alarms::list))
        .route("/api/alarms/{id}", get(alarms::one))
        .route("/api/alarms/{id}/take", post(alarms::take))
        .route("/api/alarms/{id}/release", post(alarms::release))
        .route("/api/alarms/{id}/takeover", post(alarms::take_over))
        .route("/api/alarms/{id}/stand-down", post(alarms::stand_down))
        .route("/api/resolution-codes", get(alarms::resolution_codes))
        .route(
            "/api/alarms/{id}/calls/{call}/outcome",
            post(alarms::outcome),
        )
        .route(
            "/api/alarms/{id}/calls/{call}/password",
            post(alarms::password),
        )
        .route(
            "/api/alarms/{id}/calls/{call}/decision",
            post(alarms::decision),
        )
        .route("/api/alarms/{id}/callbacks", post(alarms::callback))
        .route(
            "/api/alarms/{id}/dispatch/confirm",
            post(alarms::confirm_dispatch),
        )
        .route("/api/alarms/{id}/notes", post(alarms::note))
        .route("/api/alarms/{id}/confirm", post(alarms::confirmation))
        .route("/api/alarms/{id}/recordings", get(recordings::list))
        .route("/api/alarms/{id}/recordings/{call}", get(recordings::one))
        .route("/api/alarms/{id}/close", post(alarms::close))
        .route("/api/lines", get(lines::list))
        .route("/api/lines/{id}/attach", post(lines::attach))
        .route("/api/accounts", get(accounts::list))
        .route(
            "/api/accounts/{number}",
            get(accounts::one)
                .put(accounts::put)
                .delete(accounts::delete),
        )
        .route("/api/accounts/{number}/history", get(account_history::get))
        .route(
            "/api/accounts/{number}/test",
            post(account_history::put_on_test).delete(account_history::end_test),
        )
        .route("/api/signals", post(signals::receive))
        .route("/api/unknown", get(unknown::list))
        .route("/api/unknown/{id}/assign", post(unknown::assign))
        .route("/api/unknown/{id}/enrol", post(unknown::enrol))
        .route("/api/unknown/{id}/noise", post(unknown::noise))
        .route("/api/cluster", get(cluster))
        .route("/api/attention", get(attention))
        .route("/api/audit", get(audit::list))
        .route("/api/plans", get(plans::list))
        .route("/api/plans/{name}", get(plans::one).put(plans::load))
        .route("/api/plans/{name}/rollback", post(plans::rollback))
        .route("/api/plans/{name}/required", put(plans::require))
        .route("/api/plan-assignments", put(plans::assign))
        .route("/api/reports", get(reports::get))
        .route("/api/webhooks", get(webhooks::list).post(webhooks::add))
        .route("/api/webhooks/{id}", delete(webhooks::remove))
        .route("/api/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/api/events", get(events::stream))
        .with_state(state.clone())
        .merge(crate::console::router(state))
        .layer(axum::middleware::from_fn(origin::same_origin))
        .layer(axum::middleware::from_fn(headers::security_headers))
}

/// The unattended ("dead-man") alarms: open alarms nobody has taken within their
/// priority's threshold, and taken ones with no timeline entry for too long
/// (`crate::attention`, thresholds from the `[console]` table).
async fn attention(
    axum::extract::State(state): axum::extract::State<ApiState>,
    _caller: caller::Caller,
) -> axum::Json<crate::attention::Unattended> {
    axum::Json(crate::console::unattended_now(&state).await)
}

/// The nodes sharing this center and which partitions each drives, as this node last saw
/// them.
async fn cluster(
    axum::extract::State(state): axum::extract::State<ApiState>,
    _caller: caller::Caller,
) -> axum::Json<crate::cluster::ClusterView> {
    axum::Json(state.cluster.view())
}
