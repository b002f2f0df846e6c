//! `GET /api/events`: server-sent events, one `alarm` event each time an alarm changes and
//! one `line` event (`{"line": id}`) each time a call to the center waiting for an alarm
//! arrives, is answered by an agent, is attached or ends; one `unknown` event each time an
//! unknown-account item is opened, joined or resolved. The console's EventSource cannot
//! send a header, so this route also takes the session cookie. The stream ends within
//! `RECHECK` of its session ending (the user disabled, given a new password or signed out
//! everywhere, the session expired): it is checked again as if a new request. A dealer's user
//! gets only the `alarm` events of alarms they may see (`Scoped::alarm`: their accounts, never
//! a silent alarm), and no `line` or `unknown` events.

use super::ApiState;
use super::caller::bearer;
use super::scope::{Scoped, ScopedBrowser};
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::pin::Pin;
use std::time::Duration;
use tokio_stream::wrappers::{BroadcastStream, ReceiverStream};
use tokio_stream::{Stream, StreamExt};

/// How often an open stream's session is checked again.
const RECHECK: Duration = Duration::from_secs(10);

/// A stream that yields once, when the session of `token` no longer authenticates.
fn session_end(state: &ApiState, token: Option<String>) -> ReceiverStream<()> {
    let (ended, end) = tokio::sync::mpsc::channel(1);
    let auth = state.auth.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = ended.closed() => return,
                _ = tokio::time::sleep(RECHECK) => {}
            }
            let alive = match &token {
                Some(token) => auth.authenticate(token, crate::now_ms()).await.is_ok(),
                None => false,
            };
            if !alive {
                let _ = ended.send(()).await;
                return;
            }
        }
    });
    ReceiverStream::new(end)
}

type Events = Pin<Box<dyn Stream<Item = Result<Event, std::convert::Infallible>> + Send>>;

/// The `alarm` events of the alarms a dealer's user may see, in the order they happen: each
/// change's alarm is looked up (and its account's dealer) before it is passed on.
fn dealer_alarms(state: &ApiState, scope: Scoped) -> Events {
    let (events, passed) = tokio::sync::mpsc::channel(64);
    let mut changes = state.board.subscribe();
    let state = state.clone();
    tokio::spawn(async move {
        loop {
            let change = match changes.recv().await {
                Ok(change) => change,
                // A lagging client skips what it missed, as the center's users' streams do.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            let Ok(alarm) = crate::desk::load(&state, change.alarm).await else {
                continue;
            };
            if scope.alarm(&state, change.alarm, &alarm).await.is_err() {
                continue;
            }
            let event = Event::default()
                .event("alarm")
                .json_data(&change)
                .unwrap_or_default();
            if events.send(Ok(event)).await.is_err() {
                return;
            }
        }
    });
    Box::pin(ReceiverStream::new(passed))
}

pub async fn stream(
    State(state): State<ApiState>,
    ScopedBrowser(scope): ScopedBrowser,
    parts: Parts,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let token = bearer(&parts)
        .or_else(|| state.cookie.read(&parts))
        .map(str::to_string);
    let end = session_end(&state, token).map(|()| None);
    if scope.dealer().is_some() {
        let events = dealer_alarms(&state, scope).map(Some).merge(end);
        return Sse::new(Box::pin(events.map_while(|event| event)) as Events)
            .keep_alive(KeepAlive::default());
    }
    // A lagging client skips what it missed; it refetches on the next change.
    let alarms = BroadcastStream::new(state.board.subscribe()).filter_map(|change| {
        let change = change.ok()?;
        Some(Ok(Event::default()
            .event("alarm")
            .json_data(&change)
            .unwrap_or_default()))
    });
    let lines = BroadcastStream::new(state.lines.subscribe()).filter_map(|line| {
        let line = line.ok()?;
        Some(Ok(Event::default()
            .event("line")
            .json_data(serde_json::json!({ "line": line }))
            .unwrap_or_default()))
    });
    let unknown = BroadcastStream::new(state.board.subscribe_unknown()).filter_map(|changed| {
        changed.ok()?;
        Some(Ok(Event::default().event("unknown").data("{}")))
    });
    let events = alarms.merge(lines).merge(unknown).map(Some).merge(end);
    Sse::new(Box::pin(events.map_while(|event| event)) as Events).keep_alive(KeepAlive::default())
}
