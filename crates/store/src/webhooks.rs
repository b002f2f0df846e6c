//! Webhooks in the store (issue 14, item 7): the endpoints that want events, the outbox of
//! events written in the same transaction as the log entries they report (`Batch::outbox`),
//! each endpoint's pending deliveries in order, its delivery log, and the lease that lets one
//! node at a time deliver.

use crate::{AlarmId, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use watchpost_core::Millis;

/// Every event type there is, in the order the docs list them. `signal.received` goes only
/// to endpoints that opted in to signals.
pub const EVENT_TYPES: [&str; 6] = [
    "alarm.opened",
    "call.outcome",
    "dispatch.requested",
    "dispatch.canceled",
    "alarm.closed",
    "signal.received",
];

/// The event type an endpoint must opt in to.
pub const SIGNAL_EVENT: &str = "signal.received";

/// Delivery-log rows kept per endpoint: older ones are trimmed.
pub const ATTEMPTS_KEPT: i64 = 1000;

/// One event as the outbox holds it, to be posted to every endpoint that wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// Unique and stable across retries and restarts: the receiver dedupes by it.
    pub id: String,
    /// One of `EVENT_TYPES`.
    pub kind: String,
    pub account: String,
    /// The dealer the account belongs to; `None`: the center's own (only endpoints of no
    /// dealer get it).
    pub dealer: Option<String>,
    pub alarm: Option<AlarmId>,
    /// ms since the epoch.
    pub created_at: Millis,
    /// The JSON object posted, exactly as signed.
    pub body: String,
}

/// An endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `wh_` and 12 hex digits.
    pub id: String,
    /// `http://` or `https://`.
    pub url: String,
    /// The signing secret, sealed with the master key (`sealed:v1:...`); never in clear.
    #[serde(skip_serializing)]
    pub secret: String,
    /// The event types it wants, among `EVENT_TYPES`.
    pub events: Vec<String>,
    /// `None`: the center's own endpoint, which gets every account; else only the accounts
    /// of this dealer.
    pub dealer: Option<String>,
    /// ms since the epoch.
    pub created_at: Millis,
}

impl Endpoint {
    /// `events` as stored: each type with a comma on both sides, so `LIKE '%,type,%'` finds it.
    pub fn events_column(&self) -> String {
        format!(",{},", self.events.join(","))
    }

    /// `events` from the stored column.
    pub fn events_from(column: &str) -> Vec<String> {
        column
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// A delivery still owed to an endpoint: the oldest comes first, and holds back the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its place in the endpoint's order.
    pub seq: i64,
    pub endpoint: String,
    pub event: OutboxEvent,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not to be tried before this (ms since the epoch).
    pub next_at: Millis,
}

/// One line of an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub endpoint: String,
    /// The event's id and type.
    pub event: String,
    pub kind: String,
    /// When the attempt ended (ms since the epoch).
    pub at: Millis,
    /// 1 for the first attempt at this event.
    pub attempt: u32,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Why it failed (connection refused, timeout, a non-2xx status), in words.
    pub error: Option<String>,
    pub delivered: bool,
}

/// Webhook endpoints, the outbox and deliveries, in the store.
#[async_trait]
pub trait Webhooks: Send + Sync {
    /// Adds an endpoint; it gets the events written from now on.
    async fn put_endpoint(&self, endpoint: &Endpoint) -> Result<()>;
    /// Every endpoint, oldest first.
    async fn endpoints(&self) -> Result<Vec<Endpoint>>;
    /// Replaces the sealed secret of each `(endpoint id, sealed secret)`, in one transaction
    /// (a master-key rotation).
    async fn set_endpoint_secrets(&self, secrets: &[(String, String)]) -> Result<()>;
    /// Removes an endpoint with its pending deliveries and its log; false when there was none.
    async fn delete_endpoint(&self, id: &str) -> Result<bool>;
    /// An endpoint's oldest pending deliveries, in order, at most `limit`.
    async fn pending(&self, endpoint: &str, limit: i64) -> Result<Vec<Pending>>;
    /// How many deliveries are pending, per endpoint id.
    async fn pending_counts(&self) -> Result<Vec<(String, i64)>>;
    /// Records an attempt at pending delivery `seq`: delivered (the pending row leaves, and
    /// the event with its last one), or failed (not to be tried again before `next_at`, ms).
    /// The endpoint's log is trimmed to its newest `ATTEMPTS_KEPT` lines.
    async fn record_attempt(&self, seq: i64, attempt: &Attempt, next_at: Millis) -> Result<()>;
    /// An endpoint's delivery log, newest first, at most `limit` lines.
    async fn attempts(&self, endpoint: &str, limit: i64) -> Result<Vec<Attempt>>;
    /// Takes or keeps the right to deliver for `node` until `until` (ms), if nobody else holds
    /// it at `now`. True when `node` holds it.
    async fn webhook_lease(&self, node: &str, now: Millis, until: Millis) -> Result<bool>;
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn the_events_column_brackets_each_type_in_commas() {
        let e = Endpoint {
            id: "wh_1".into(),
            url: "http://x".into(),
            secret: String::new(),
            events: vec!["alarm.opened".into(), "signal.received".into()],
            dealer: None,
            created_at: 0,
        };
        assert_eq!(e.events_column(), ",alarm.opened,signal.received,");
        assert_eq!(Endpoint::events_from(&e.events_column()), e.events);
    }
}
