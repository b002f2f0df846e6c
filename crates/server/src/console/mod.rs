//! The agent console: server-rendered HTML (maud) made live by htmx and the server-sent
//! events of `/api/events`; its few assets are embedded in the binary. Pages need the
//! session cookie set at sign-in, and every form that changes something the session's
//! CSRF token (`csrf`); every action goes through the desk (`crate::desk`), like the JSON
//! API's.

mod account;
mod actions;
mod alarm;
pub(crate) mod assets;
mod attention;
mod csrf;
mod dealer;
mod format;
mod layout;
mod lines;
mod login;
mod queue;
mod session;
mod supervisor;
mod unknown;

use crate::api::ApiState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

/// The console's routes, with their state; merged into the API's router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/console", get(queue::page))
        .route("/console/dealer", get(dealer::page))
        .route("/console/queue", get(queue::fragment))
        .route("/console/lines", get(lines::fragment))
        .route("/console/lines/{id}/search", get(lines::search))
        .route("/console/lines/{id}/attach", post(lines::attach))
        .route("/console/arrivals", get(attention::arrivals))
        .route("/console/unattended", get(attention::banner))
        .route("/console/supervisor", get(supervisor::page))
        .route("/console/supervisor/stats", get(supervisor::fragment))
        .route("/console/alarms/{id}", get(alarm::page))
        .route("/console/alarms/{id}/panel", get(alarm::fragment))
        .route("/console/alarms/{id}/take", post(actions::take))
        .route("/console/alarms/{id}/release", post(actions::release))
        .route("/console/alarms/{id}/takeover", post(actions::take_over))
        .route("/console/alarms/{id}/stand-down", post(actions::stand_down))
        .route(
            "/console/alarms/{id}/calls/{call}/outcome",
            post(actions::outcome),
        )
        .route(
            "/console/alarms/{id}/calls/{call}/password",
            post(actions::password),
        )
        .route(
            "/console/alarms/{id}/calls/{call}/decision",
            post(actions::decision),
        )
        .route("/console/alarms/{id}/callbacks", post(actions::callback))
        .route(
            "/console/alarms/{id}/dispatch/confirm",
            post(actions::confirm_dispatch),
        )
        .route("/console/alarms/{id}/notes", post(actions::note))
        .route("/console/alarms/{id}/confirm", post(actions::confirmation))
        .route("/console/alarms/{id}/close", post(actions::close))
        .route("/console/accounts", get(account::search))
        .route("/console/accounts/{number}", get(account::page))
        .route("/console/accounts/{number}/test", post(account::test))
        .route(
            "/console/accounts/{number}/details",
            post(account::save_details),
        )
        .route("/console/unknown/{id}/assign", post(unknown::assign))
        .route("/console/unknown/{id}/enrol", post(unknown::enrol))
        .route("/console/unknown/{id}/noise", post(unknown::noise))
        .route("/console/assets/{file}", get(assets::serve))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ))
        .with_state(state)
}

/// The unattended alarms and unknown-account items now, as `GET /api/attention` gives them.
pub async fn unattended_now(state: &ApiState) -> crate::attention::Unattended {
    attention::now(state).await
}
