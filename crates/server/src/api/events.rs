//! `GET /api/events`: server-sent events, one `alarm` event each time an alarm changes and
//! one `line` event (`{"line": id}`) each time a call to the center waiting for an alarm
//! arrives, is answered by an agent, is attached or ends; one `unknown` event each time an
//! unknown-account item is opened, joined or resolved. The console's EventSource cannot
//! send a header, so this route also takes the session cookie.

use super::ApiState;
use super::caller::BrowserCaller;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

pub async fn stream(
    State(state): State<ApiState>,
    _caller: BrowserCaller,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
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
    Sse::new(alarms.merge(lines).merge(unknown)).keep_alive(KeepAlive::default())
}
