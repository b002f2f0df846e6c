//! `GET /api/events`: server-sent events, one `alarm` event each time an alarm changes.

use super::ApiState;
use super::caller::Caller;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

pub async fn stream(
    State(state): State<ApiState>,
    _caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    let changes = BroadcastStream::new(state.board.subscribe()).filter_map(|change| {
        // A lagging client skips what it missed; it refetches on the next change.
        let change = change.ok()?;
        Some(Ok(Event::default()
            .event("alarm")
            .json_data(&change)
            .unwrap_or_default()))
    });
    Sse::new(changes).keep_alive(KeepAlive::default())
}
