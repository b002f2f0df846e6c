//! Webhooks in each store (SQLite on a real file, PostgreSQL): an event is kept only with the
//! batch that reports it and only for the endpoints that want it (type, signals opt-in,
//! dealer), in order; a failed attempt holds it with its next time, a delivered one lets it
//! go; the delivery log is per endpoint; removing an endpoint drops what it was owed; one
//! node at a time holds the delivery lease.

mod common;

use watchpost_store::{Attempt, Batch, Database, Endpoint, OutboxEvent};

fn endpoint(id: &str, events: &[&str], dealer: Option<&str>) -> Endpoint {
    Endpoint {
        id: id.into(),
        url: format!("https://{id}.example/"),
        secret: "sealed:v1:k:AAAA".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        dealer: dealer.map(str::to_string),
        created_at: 1,
    }
}

fn event(id: &str, kind: &str, dealer: Option<&str>) -> OutboxEvent {
    OutboxEvent {
        id: id.into(),
        kind: kind.into(),
        account: "4F39".into(),
        dealer: dealer.map(str::to_string),
        alarm: Some(7),
        created_at: 100,
        body: format!(r#"{{"id":"{id}"}}"#),
    }
}

fn attempt(endpoint: &str, event: &str, n: u32, delivered: bool) -> Attempt {
    Attempt {
        endpoint: endpoint.into(),
        event: event.into(),
        kind: "alarm.opened".into(),
        at: 1000 + i64::from(n),
        attempt: n,
        status: Some(if delivered { 200 } else { 503 }),
        error: (!delivered).then(|| "HTTP 503".to_string()),
        delivered,
    }
}

async fn pending_ids(store: &dyn Database, endpoint: &str) -> Vec<String> {
    store
        .pending(endpoint, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.event.id)
        .collect()
}

async fn events_go_where_they_are_wanted_in_order(store: &dyn Database) {
    // Before any endpoint exists nothing is kept.
    let early = Batch {
        outbox: vec![event("e0", "alarm.opened", None)],
        ..Batch::default()
    };
    store.write(&early).await.unwrap();
    store
        .put_endpoint(&endpoint("center", &["alarm.opened", "alarm.closed"], None))
        .await
        .unwrap();
    store
        .put_endpoint(&endpoint(
            "d1",
            &["alarm.opened", "signal.received"],
            Some("D1"),
        ))
        .await
        .unwrap();
    let batch = Batch {
        outbox: vec![
            event("e1", "alarm.opened", None),
            event("e2", "alarm.opened", Some("D1")),
            event("e3", "signal.received", Some("D1")),
            event("e4", "alarm.closed", Some("D2")),
            event("e5", "call.outcome", Some("D1")),
        ],
        ..Batch::default()
    };
    store.write(&batch).await.unwrap();
    assert_eq!(pending_ids(store, "center").await, ["e1", "e2", "e4"]);
    assert_eq!(pending_ids(store, "d1").await, ["e2", "e3"]);
    assert_eq!(
        store.pending_counts().await.unwrap(),
        [("center".to_string(), 3), ("d1".to_string(), 2)]
    );
    let head = &store.pending("center", 1).await.unwrap()[0];
    assert_eq!(head.event, event("e1", "alarm.opened", None));
    assert_eq!((head.attempts, head.next_at), (0, 0));

    // A failure keeps it first, with its next time; a delivery lets it go.
    store
        .record_attempt(head.seq, &attempt("center", "e1", 1, false), 5_000)
        .await
        .unwrap();
    let head = &store.pending("center", 1).await.unwrap()[0];
    assert_eq!(
        (head.event.id.as_str(), head.attempts, head.next_at),
        ("e1", 1, 5_000)
    );
    store
        .record_attempt(head.seq, &attempt("center", "e1", 2, true), 0)
        .await
        .unwrap();
    assert_eq!(pending_ids(store, "center").await, ["e2", "e4"]);
    let log = store.attempts("center", 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(
        log[0].delivered && !log[1].delivered,
        "newest first: {log:?}"
    );
    assert_eq!(log[1].error.as_deref(), Some("HTTP 503"));
    assert!(store.attempts("d1", 10).await.unwrap().is_empty());

    // e2 is owed to both: delivered to one, it stays for the other.
    let e2 = store.pending("center", 1).await.unwrap()[0].seq;
    store
        .record_attempt(e2, &attempt("center", "e2", 1, true), 0)
        .await
        .unwrap();
    assert_eq!(pending_ids(store, "d1").await, ["e2", "e3"]);

    // Removing an endpoint drops what it was owed and its log.
    assert!(store.delete_endpoint("d1").await.unwrap());
    assert!(!store.delete_endpoint("d1").await.unwrap());
    assert!(store.pending("d1", 10).await.unwrap().is_empty());
    assert_eq!(pending_ids(store, "center").await, ["e4"]);
    assert_eq!(store.endpoints().await.unwrap().len(), 1);
}

async fn one_node_holds_the_lease(store: &dyn Database) {
    assert!(store.webhook_lease("a", 1_000, 31_000).await.unwrap());
    assert!(!store.webhook_lease("b", 2_000, 32_000).await.unwrap());
    assert!(
        store.webhook_lease("a", 20_000, 50_000).await.unwrap(),
        "renewed"
    );
    assert!(!store.webhook_lease("b", 49_000, 79_000).await.unwrap());
    assert!(
        store.webhook_lease("b", 50_001, 80_001).await.unwrap(),
        "ran out"
    );
    assert!(!store.webhook_lease("a", 60_000, 90_000).await.unwrap());
}

#[tokio::test]
async fn webhooks_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    events_go_where_they_are_wanted_in_order(&store).await;
    let (store, _dir) = common::sqlite().await;
    one_node_holds_the_lease(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn webhooks_on_postgres() {
    let (store, _db) = common::postgres().await;
    events_go_where_they_are_wanted_in_order(&store).await;
    let (store, _db) = common::postgres().await;
    one_node_holds_the_lease(&store).await;
}
