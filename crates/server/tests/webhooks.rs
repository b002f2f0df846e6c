//! Webhooks end to end (issue 14, item 7): a receiver on loopback that is down during a storm of
//! alarms sent through /api/signals, and a center restarted in the middle of it; once the
//! receiver is back, every event the alarms' logs call for has arrived — once per id, the same
//! body each time, in order per alarm, each with a valid signature — and every signal was
//! reported. No body carries a verbal password, a hash, a phone number, a key or a secret (an
//! endpoint added to a running center). Two nodes on PostgreSQL post each event once.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::{VERBAL, account, config};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use watchpost_center::webhook::from_entry;
use watchpost_core::Input;
use watchpost_core::alarm::Decision;
use watchpost_server::auth::Auth;
use watchpost_server::secrets::MasterKey;
use watchpost_server::webhooks::WebhookConfig;
use watchpost_server::webhooks::endpoints::{NewEndpoint, new_endpoint};
use watchpost_server::webhooks::signature::verify;
use watchpost_server::{Config, Server};
use watchpost_store::{AlarmState, Db, LogBody, SqliteStore, replay};

/// What the receiver got: each request's id header and body, in arrival order, and how many
/// did not verify.
#[derive(Default)]
struct Received {
    deliveries: Vec<(String, String)>,
    unverified: Vec<String>,
}

#[derive(Clone)]
struct Receiver {
    secret: String,
    got: Arc<Mutex<Received>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let id = header("watchpost-id");
    let timestamp: i64 = header("watchpost-timestamp").parse().unwrap_or(0);
    let signature = header("watchpost-signature");
    let now = chrono::Utc::now().timestamp();
    let mut got = r.got.lock().unwrap();
    if let Err(e) = verify(&r.secret, timestamp, &body, &signature, now) {
        got.unverified.push(format!("{id}: {e}"));
        return StatusCode::BAD_REQUEST;
    }
    got.deliveries.push((id, body));
    StatusCode::NO_CONTENT
}

/// Starts the receiver on `port` (0: any); returns its port and a handle that stops it.
async fn start_receiver(port: u16, r: Receiver) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(r);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (port, task)
}

/// A loopback port nothing listens on (until a receiver is started on it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Retries quickly, so a test waits seconds, not minutes, for a receiver that came back.
fn quick() -> WebhookConfig {
    WebhookConfig {
        first_retry: Duration::from_millis(100),
        max_retry: Duration::from_millis(800),
        poll: Duration::from_millis(50),
        timeout: Duration::from_secs(1),
        lease: Duration::from_secs(4),
    }
}

async fn serve(db: &str) -> Server {
    Server::start(Config {
        http: Some("127.0.0.1:0".parse().unwrap()),
        webhooks: quick(),
        metrics_token: None,
        ..config(db)
    })
    .await
    .unwrap()
}

fn master() -> MasterKey {
    MasterKey::from_bytes([0x42; 32])
}

/// Adds the center's own endpoint at `url` with signals; returns its secret.
async fn add_endpoint(store: &Db, url: &str) -> String {
    let new = NewEndpoint {
        url: url.into(),
        signals: true,
        ..NewEndpoint::default()
    };
    let (endpoint, secret) = new_endpoint(Some(&master()), &new, common::now()).unwrap();
    store.put_endpoint(&endpoint).await.unwrap();
    secret
}

/// Enrols `accounts` and makes an API key for each, in order.
async fn enrol(store: &Db, accounts: &[watchpost_core::Account]) -> Vec<String> {
    store.put_accounts(accounts).await.unwrap();
    let auth = Auth::new(store.clone());
    let mut keys = Vec::new();
    for a in accounts {
        keys.push(
            auth.issue_api_key(&a.number, "test", common::now())
                .await
                .unwrap(),
        );
    }
    keys
}

/// Posts `signal` for the key's account; panics unless it was stored.
async fn post_signal(client: &reqwest::Client, base: &str, key: &str, signal: Value) {
    let answer = client
        .post(format!("{base}/api/signals"))
        .bearer_auth(key)
        .json(&signal)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202, "{}", answer.text().await.unwrap());
}

/// Every event the alarms' logs call for, by id: its body.
async fn expected_events(store: &Db) -> BTreeMap<String, String> {
    let mut expected = BTreeMap::new();
    for row in store.alarms(AlarmState::All).await.unwrap() {
        let log = store.log(row.id).await.unwrap();
        for i in 0..log.len() {
            // The alarm as it was once the input of entry i and the actions it derived were
            // logged (a log cut among those actions does not replay).
            let end = (i + 1..log.len())
                .find(|&j| !matches!(log[j].body, LogBody::Action { .. }))
                .unwrap_or(log.len());
            let alarm = replay(&log[..end]).unwrap();
            if let Some(event) = from_entry(&alarm, row.id, None, &log[i]) {
                expected.insert(event.id, event.body);
            }
        }
    }
    expected
}

/// Waits until nothing is pending and `want` deliveries have arrived, or panics after 60 s.
async fn settle(store: &Db, got: &Arc<Mutex<Received>>, want: usize) {
    for _ in 0..600 {
        let pending: i64 = store
            .pending_counts()
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        if pending == 0 && got.lock().unwrap().deliveries.len() >= want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pending = store.pending_counts().await.unwrap();
    panic!(
        "not delivered within 60 s: pending {pending:?}, arrived {}",
        got.lock().unwrap().deliveries.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_through_a_storm_and_a_restart_gets_every_event_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let store: Db = Arc::new(
        SqliteStore::open(dir.path().join("center.db").as_path())
            .await
            .unwrap(),
    );
    let accounts: Vec<_> = (0..50)
        .map(|n| watchpost_core::Account {
            number: format!("A{n:03}"),
            ..account()
        })
        .collect();
    let keys = enrol(&store, &accounts).await;
    // The receiver's port is known, but nothing listens on it yet: connections are refused.
    let port = free_port();
    let secret = add_endpoint(&store, &format!("http://127.0.0.1:{port}/hooks")).await;
    let client = reqwest::Client::new();
    // Three signals per account: a burglary, a second zone joining it, and the app's cancel.
    let storm = |server: &Server| format!("http://{}", server.http_addr.unwrap());
    let signals = [
        serde_json::json!({"sia": "BA003"}),
        serde_json::json!({"sia": "BA001"}),
        serde_json::json!({"app": "cancel"}),
    ];
    let mut server = serve(&db).await;
    for half in [0..25, 25..50] {
        let base = storm(&server);
        for signal in &signals {
            let sends = keys[half.clone()].iter().map(|key| {
                let (client, base, key, signal) =
                    (client.clone(), base.clone(), key.clone(), signal.clone());
                async move { post_signal(&client, &base, &key, signal).await }
            });
            join_all(sends).await;
        }
        if half.start == 0 {
            // Restarted in the middle of the storm, with deliveries owed and failing.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let owed: i64 = store
                .pending_counts()
                .await
                .unwrap()
                .iter()
                .map(|(_, n)| n)
                .sum();
            assert!(owed > 0, "the receiver is down: deliveries must be owed");
            server.stop().await.unwrap();
            server = serve(&db).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let failed = store
        .attempts(&store.endpoints().await.unwrap()[0].id, 1000)
        .await
        .unwrap();
    assert!(
        failed.iter().any(|a| !a.delivered && a.error.is_some()),
        "attempts against the down receiver are in the delivery log"
    );
    // The receiver comes back.
    let got = Arc::new(Mutex::new(Received::default()));
    let receiver = Receiver {
        secret: secret.clone(),
        got: got.clone(),
    };
    let (_, task) = start_receiver(port, receiver).await;
    let expected = expected_events(&store).await;
    assert!(expected.len() >= 100, "{} alarm events", expected.len());
    let signals_sent = accounts.len() * signals.len();
    settle(&store, &got, expected.len() + signals_sent).await;
    server.stop().await.unwrap();
    task.abort();

    let got = got.lock().unwrap();
    eprintln!(
        "{} deliveries, {} alarm events and {signals_sent} signals expected, {} failed \
         attempts while the receiver was down",
        got.deliveries.len(),
        expected.len(),
        failed.iter().filter(|a| !a.delivered).count()
    );
    assert!(got.unverified.is_empty(), "{:?}", got.unverified);
    // Once per id: duplicates may come, but always with the same body.
    let mut by_id: HashMap<&str, &str> = HashMap::new();
    for (id, body) in &got.deliveries {
        let first = by_id.entry(id).or_insert(body);
        assert_eq!(first, body, "event {id} came with two bodies");
        let json: Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["id"], id.as_str(), "Watchpost-Id is the body's id");
    }
    let alarm_events: BTreeMap<String, String> = by_id
        .iter()
        .filter(|(id, _)| !id.starts_with("evt_s"))
        .map(|(id, body)| (id.to_string(), body.to_string()))
        .collect();
    assert_eq!(
        alarm_events, expected,
        "every alarm event, as the logs call for"
    );
    let signal_events: Vec<Value> = by_id
        .iter()
        .filter(|(id, _)| id.starts_with("evt_s"))
        .map(|(_, body)| serde_json::from_str(body).unwrap())
        .collect();
    assert_eq!(
        signal_events.len(),
        signals_sent,
        "every signal reported once"
    );
    for a in &accounts {
        let of_account = signal_events
            .iter()
            .filter(|e| e["account"] == a.number.as_str())
            .count();
        assert_eq!(of_account, signals.len(), "signals of {}", a.number);
    }
    // In order per alarm: the alarm's events in log order, after the signal that opened it.
    let mut first_seen: Vec<&str> = Vec::new();
    for (id, _) in &got.deliveries {
        if !first_seen.contains(&id.as_str()) {
            first_seen.push(id);
        }
    }
    let mut seqs: HashMap<i64, Vec<u32>> = HashMap::new();
    for id in &first_seen {
        if let Some((alarm, seq)) = id
            .strip_prefix("evt_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(a, s)| Some((a.parse::<i64>().ok()?, s.parse::<u32>().ok()?)))
        {
            seqs.entry(alarm).or_default().push(seq);
        }
    }
    assert_eq!(seqs.len(), 50, "one alarm per account");
    for (alarm, order) in &seqs {
        assert!(
            order.is_sorted(),
            "alarm {alarm}: events arrived as {order:?}"
        );
        let kinds: Vec<String> = order
            .iter()
            .map(|seq| {
                let body: Value =
                    serde_json::from_str(by_id[format!("evt_{alarm}_{seq}").as_str()]).unwrap();
                body["type"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(
            kinds.first().map(String::as_str),
            Some("alarm.opened"),
            "{alarm}"
        );
        assert_eq!(
            kinds.last().map(String::as_str),
            Some("alarm.closed"),
            "{alarm}"
        );
        let opened_at = first_seen
            .iter()
            .position(|id| *id == format!("evt_{alarm}_0"))
            .unwrap();
        let opener = first_seen.iter().position(|id| {
            id.starts_with("evt_s") && {
                let body: Value = serde_json::from_str(by_id[id]).unwrap();
                body["alarm"] == *alarm
            }
        });
        assert!(
            opener.is_some_and(|at| at < opened_at),
            "alarm {alarm}: the signal that opened it is reported before it"
        );
    }
}

/// Runs the futures at once, each on its own task, and waits for all.
async fn join_all<F: std::future::Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    for h in handles {
        h.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_body_carries_a_verbal_password_a_hash_a_phone_or_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let store: Db = Arc::new(
        SqliteStore::open(dir.path().join("center.db").as_path())
            .await
            .unwrap(),
    );
    let a = account();
    store.put_account(&a).await.unwrap();
    let key = Auth::new(store.clone())
        .issue_api_key(&a.number, "test", common::now())
        .await
        .unwrap();
    // The endpoint is added to a running center that had none (and derived no events).
    let server = serve(&db).await;
    let port = free_port();
    let secret = add_endpoint(&store, &format!("http://127.0.0.1:{port}/hooks")).await;
    let got = Arc::new(Mutex::new(Received::default()));
    let receiver = Receiver {
        secret: secret.clone(),
        got: got.clone(),
    };
    let (_, task) = start_receiver(port, receiver).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = reqwest::Client::new();
    let base = format!("http://{}", server.http_addr.unwrap());
    post_signal(&client, &base, &key, serde_json::json!({"sia": "BA003"})).await;
    // The first contact answers, gives the verbal password, and cancels.
    let mut alarm = None;
    for _ in 0..50 {
        alarm = store
            .alarms(AlarmState::Open)
            .await
            .unwrap()
            .first()
            .map(|r| r.id);
        if alarm.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let alarm = alarm.expect("the burglary opened");
    let call = store
        .log(alarm)
        .await
        .unwrap()
        .iter()
        .find_map(|e| match &e.body {
            LogBody::Action {
                action: watchpost_core::Action::PlaceCall { call, .. },
            } => Some(*call),
            _ => None,
        })
        .expect("a call to the first contact");
    for input in [
        Input::CallPlaced { call },
        Input::Answered { call },
        Input::PasswordChecked {
            call,
            matched: true,
        },
        Input::Decision {
            call,
            decision: Decision::Cancel,
        },
    ] {
        server
            .commands
            .send(alarm, input, "telephony")
            .await
            .unwrap();
    }
    let want = expected_events(&store).await.len() + 1;
    settle(&store, &got, want).await;
    server.stop().await.unwrap();
    task.abort();

    let got = got.lock().unwrap();
    assert!(got.unverified.is_empty(), "{:?}", got.unverified);
    for (_, body) in &got.deliveries {
        eprintln!("{body}");
    }
    let bodies: Vec<&str> = got.deliveries.iter().map(|(_, b)| b.as_str()).collect();
    let all = bodies.join("\n");
    let hash = a.verbal_password.phc();
    // The hash's salt and digest, which a partial copy would show.
    let digest = hash.rsplit('$').next().unwrap();
    for secret_text in [
        VERBAL,
        hash,
        digest,
        "$argon2",
        "+15555550101",
        "+15555550102",
        &key,
        &secret,
        "12 Elm St",
    ] {
        assert!(
            !all.contains(secret_text),
            "a webhook carries {secret_text:?}:\n{all}"
        );
    }
    assert!(!all.to_lowercase().contains("password"), "{all}");
    // What the dealer does see: the answered call, by contact name, and the decision.
    let outcomes: Vec<Value> = bodies
        .iter()
        .map(|b| serde_json::from_str::<Value>(b).unwrap())
        .filter(|e| e["type"] == "call.outcome")
        .collect();
    assert!(
        outcomes
            .iter()
            .any(|e| e["result"] == "answered" && e["contact"] == "Ann Lee"),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|e| e["decision"] == "cancel"),
        "{outcomes:?}"
    );
    assert!(all.contains("\"type\":\"alarm.closed\""), "{all}");
}

/// Posts `signal` with each key, key `i` to node `bases[i % bases.len()]`, all at once.
async fn send_all(client: &reqwest::Client, keys: &[String], bases: &[String], signal: Value) {
    let sends = keys.iter().enumerate().map(|(i, key)| {
        let (client, base, key, signal) = (
            client.clone(),
            bases[i % bases.len()].clone(),
            key.clone(),
            signal.clone(),
        );
        async move { post_signal(&client, &base, &key, signal).await }
    });
    join_all(sends).await;
}

/// Waits until `n` alarms are in `state`, or panics after 30 s.
async fn until_alarms(store: &Db, state: AlarmState, n: usize) {
    for _ in 0..300 {
        if store.alarms(state).await.unwrap().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} alarms not {state:?} within 30 s");
}

/// A node of a center on PostgreSQL, with quick webhooks.
async fn serve_node(name: &str, url: &str) -> Server {
    Server::start(Config {
        node: watchpost_server::NodeConfig::new(name, url),
        http: Some("127.0.0.1:0".parse().unwrap()),
        webhooks: quick(),
        metrics_token: None,
        ..config(url)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn two_nodes_on_postgres_deliver_each_event_once_and_one_takes_over_from_the_other() {
    let db = watchpost_store::testing::TestDatabase::new(&watchpost_store::testing::server_url())
        .await
        .unwrap();
    let store = watchpost_store::open(db.url()).await.unwrap();
    let accounts: Vec<_> = (0..20)
        .map(|n| watchpost_core::Account {
            number: format!("B{n:03}"),
            ..account()
        })
        .collect();
    let keys = enrol(&store, &accounts).await;
    let port = free_port();
    let secret = add_endpoint(&store, &format!("http://127.0.0.1:{port}/hooks")).await;
    let got = Arc::new(Mutex::new(Received::default()));
    let receiver = Receiver {
        secret,
        got: got.clone(),
    };
    let (_, task) = start_receiver(port, receiver).await;
    let a = serve_node("a", db.url()).await;
    let b = serve_node("b", db.url()).await;
    let client = reqwest::Client::new();
    // Each node receives half the accounts' signals, whoever drives their partitions.
    let bases = |nodes: &[&Server]| {
        nodes
            .iter()
            .map(|n| format!("http://{}", n.http_addr.unwrap()))
            .collect::<Vec<_>>()
    };
    send_all(
        &client,
        &keys,
        &bases(&[&a, &b]),
        serde_json::json!({"sia": "BA003"}),
    )
    .await;
    // A signal is answered once stored; one for the other node's partition is routed there.
    until_alarms(&store, AlarmState::All, accounts.len()).await;
    let expected = expected_events(&store).await.len() + accounts.len();
    settle(&store, &got, expected).await;
    {
        let got = got.lock().unwrap();
        let mut ids: Vec<&str> = got.deliveries.iter().map(|(id, _)| id.as_str()).collect();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            all,
            "one node delivers: no event was posted twice"
        );
        assert_eq!(all, expected);
    }
    // Node a stops; b delivers what comes next (taking the lease over if a held it).
    a.stop().await.unwrap();
    send_all(
        &client,
        &keys,
        &bases(&[&b]),
        serde_json::json!({"app": "cancel"}),
    )
    .await;
    until_alarms(&store, AlarmState::Closed, accounts.len()).await;
    let expected = expected_events(&store).await.len() + 2 * accounts.len();
    settle(&store, &got, expected).await;
    b.stop().await.unwrap();
    task.abort();
    let got = got.lock().unwrap();
    assert!(got.unverified.is_empty(), "{:?}", got.unverified);
    let closed = got
        .deliveries
        .iter()
        .filter(|(_, body)| body.contains(r#""type":"alarm.closed""#))
        .count();
    assert_eq!(closed, accounts.len(), "every alarm's closing arrived once");
}

/// Adds an endpoint (of `dealer`, or the center's own) with a receiver of its own on loopback;
/// returns what it receives.
async fn endpoint_with_receiver(store: &Db, dealer: Option<&str>) -> Arc<Mutex<Received>> {
    let new = NewEndpoint {
        url: "http://127.0.0.1:1/hooks".into(),
        dealer: dealer.map(str::to_string),
        signals: true,
        ..NewEndpoint::default()
    };
    let (endpoint, secret) = new_endpoint(Some(&master()), &new, common::now()).unwrap();
    let got = Arc::new(Mutex::new(Received::default()));
    let receiver = Receiver {
        secret,
        got: got.clone(),
    };
    let (port, _task) = start_receiver(0, receiver).await;
    let endpoint = watchpost_store::Endpoint {
        url: format!("http://127.0.0.1:{port}/hooks"),
        ..endpoint
    };
    store.put_endpoint(&endpoint).await.unwrap();
    got
}

/// A dealer's endpoint gets the events of its dealer's accounts only; the center's own gets
/// every account's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealers_endpoint_gets_only_its_accounts_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let store: Db = Arc::new(
        SqliteStore::open(dir.path().join("center.db").as_path())
            .await
            .unwrap(),
    );
    for id in ["D1", "D2"] {
        let dealer = watchpost_store::Dealer {
            id: id.into(),
            name: format!("dealer {id}"),
            created_at: common::now(),
        };
        store.put_dealer(&dealer).await.unwrap();
    }
    let accounts: Vec<_> = [("A001", Some("D1")), ("A002", Some("D2")), ("A003", None)]
        .into_iter()
        .map(|(number, dealer)| watchpost_core::Account {
            number: number.into(),
            dealer: dealer.map(str::to_string),
            ..account()
        })
        .collect();
    let keys = enrol(&store, &accounts).await;
    let d1 = endpoint_with_receiver(&store, Some("D1")).await;
    let center = endpoint_with_receiver(&store, None).await;
    let server = serve(&db).await;
    let base = format!("http://{}", server.http_addr.unwrap());
    let client = reqwest::Client::new();
    for key in &keys {
        post_signal(&client, &base, key, serde_json::json!({"sia": "BA003"})).await;
    }
    // Each account's signal and its alarm's opening: 6 for the center, 2 for D1.
    settle(&store, &center, 6).await;
    settle(&store, &d1, 2).await;
    let accounts_of = |got: &Arc<Mutex<Received>>| {
        let got = got.lock().unwrap();
        assert!(got.unverified.is_empty(), "{:?}", got.unverified);
        got.deliveries
            .iter()
            .map(|(_, body)| {
                let body: Value = serde_json::from_str(body).unwrap();
                body["account"].as_str().unwrap().to_string()
            })
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(accounts_of(&d1), ["A001".to_string()].into());
    let all: std::collections::BTreeSet<String> =
        ["A001", "A002", "A003"].map(str::to_string).into();
    assert_eq!(accounts_of(&center), all);
    server.stop().await.unwrap();
}
