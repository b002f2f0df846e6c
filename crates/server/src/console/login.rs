//! Signing in and out of the console: the sign-in form, the session cookie on success, the
//! one refusal message on failure (whatever the reason), and a page saying when to try again
//! when the center cannot take the sign-in now (503 or 429 with `Retry-After`).

use super::layout;
use crate::api::ApiState;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

fn form(name: &str, error: Option<&str>) -> Markup {
    let content = html! {
        form.login method="post" action="/login" {
            h1 { "watchpost" }
            p.muted { "Sign in to the monitoring console." }
            @if let Some(error) = error {
                p.flash.error role="alert" { (error) }
            }
            label for="name" { "User name" }
            input #name type="text" name="name" value=(name) autocomplete="username"
                autocapitalize="none" spellcheck="false" required autofocus[name.is_empty()];
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password"
                required autofocus[!name.is_empty()];
            button.primary type="submit" { "Sign in" }
        }
    };
    layout::page("Sign in", None, false, &[], content)
}

pub async fn page(State(state): State<ApiState>, parts: Parts) -> Response {
    if let Some(token) = state.cookie.read(&parts)
        && state
            .auth
            .authenticate(token, crate::now_ms())
            .await
            .is_ok()
    {
        return Redirect::to("/console").into_response();
    }
    form("", None).into_response()
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// A sign-in from a browser that still holds a session ends that session: the cookie it
/// replaces must not stay valid (issue 13, item 12).
pub async fn submit(
    State(state): State<ApiState>,
    parts: Parts,
    Form(body): Form<SignIn>,
) -> Response {
    let name = body.name.trim();
    let from = crate::api::login::source(&parts);
    match state
        .auth
        .login_from(from, name, &body.password, crate::now_ms())
        .await
    {
        Ok(session) => {
            if let Some(old) = state.cookie.read(&parts)
                && old != session.token
                && let Err(e) = state.auth.logout(old).await
            {
                tracing::error!("console sign-in: the session it replaces was not ended: {e}");
            }
            ([state.cookie.set(&session.token)], Redirect::to("/console")).into_response()
        }
        Err(e) if e.is_internal() => {
            tracing::error!("console sign-in: {e}");
            let message = "The center could not check your sign-in; try again.";
            (StatusCode::INTERNAL_SERVER_ERROR, form(name, Some(message))).into_response()
        }
        Err(e) => {
            let mut message = e.to_string();
            if let Some(first) = message.get(..1) {
                message = first.to_uppercase() + &message[1..];
            }
            let status = crate::api::login::refusal_status(&e);
            let mut page = (status, form(name, Some(&message))).into_response();
            if let Some((name, value)) = crate::api::login::retry_after(&e) {
                page.headers_mut().insert(name, value);
            }
            page
        }
    }
}

pub async fn logout(State(state): State<ApiState>, parts: Parts) -> Response {
    if let Some(token) = state.cookie.read(&parts)
        && let Err(e) = state.auth.logout(token).await
    {
        tracing::error!("console sign-out: {e}");
    }
    ([state.cookie.clear()], Redirect::to("/login")).into_response()
}
