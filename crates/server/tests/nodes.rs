//! Two nodes of one center, in process, on one fresh PostgreSQL database: node "a" starts
//! first and drives every partition, node "b" joins, and each test waits until they drive 32
//! partitions each. Then every console on either node sees the same queue, live events on b
//! announce alarms a drives, agents on b work a's alarms, signals received by b reach a's
//! alarms, and a supervised panel heard only by b keeps a (which watches it) from raising a
//! comm_failure until the panel stops; one frame to b then restores it, even when b has not
//! learnt of the failure yet.

mod common;

use common::{PASSWORD, account, now};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use watchpost_center::Effect;
use watchpost_core::Settings;
use watchpost_core::account::Account;
use watchpost_server::auth::Auth;
use watchpost_server::{Config, NodeConfig, Server};
use watchpost_store::testing::{TestDatabase, server_url};
use watchpost_store::{AlarmRow, AlarmState, Db, PARTITIONS, Partition, Role, partition_of};
use watchpost_wire::{
    Chunk, CrcForm, FixedPad, Frame, FrameSplitter, Header, MessageId, Window, encode_frame,
    parse_frame,
};

/// How long the two nodes may take to split the partitions after b starts (a gives idle
/// partitions up at its next lease round, b takes them at its own).
const SPLIT_LIMIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// Two nodes on one database

struct Node {
    server: Server,
    /// `http://127.0.0.1:PORT` when HTTP listens.
    base: String,
}

struct Nodes {
    a: Node,
    b: Node,
    store: Db,
    auth: Auth,
    /// When b started.
    started: Instant,
    /// Last, so the database is dropped after the servers.
    _db: TestDatabase,
}

async fn start_node(name: &str, url: &str, http: bool) -> Node {
    let server = Server::start(Config {
        db: url.to_string(),
        node: NodeConfig::new(name, url),
        dc09: "127.0.0.1:0".parse().unwrap(),
        http: http.then(|| "127.0.0.1:0".parse().unwrap()),
        window: Window::default(),
        settings: Settings::default(),
        timezone: chrono_tz::Tz::UTC,
        recordings: watchpost_server::RecordingsConfig::beside(url),
        retention: Default::default(),
        region: watchpost_server::phone::Region::US,
        resolution_codes: Default::default(),
        limits: Default::default(),
        console: Default::default(),
        secrets: Default::default(),
        listen: Default::default(),
        login: Default::default(),
        webhooks: Default::default(),
        metrics_token: None,
    })
    .await
    .unwrap();
    let base = server
        .http_addr
        .map(|a| format!("http://{a}"))
        .unwrap_or_default();
    Node { server, base }
}

impl Nodes {
    /// A fresh database with `accounts` and `users` (`PASSWORD` for all); node "a" starts,
    /// then node "b" (see `until_split`).
    async fn start(accounts: &[Account], users: &[(&str, Role)], http: bool) -> Nodes {
        let db = TestDatabase::new(&server_url()).await.unwrap();
        let store = watchpost_store::open(db.url()).await.unwrap();
        store.put_accounts(accounts).await.unwrap();
        let auth = Auth::new(store.clone());
        for (name, role) in users {
            auth.add_user(name, *role, PASSWORD, now()).await.unwrap();
        }
        let a = start_node("a", db.url(), http).await;
        let b = start_node("b", db.url(), http).await;
        Nodes {
            a,
            b,
            store,
            auth,
            _db: db,
            started: Instant::now(),
        }
    }

    /// Waits until each node drives 32 partitions, as both see it.
    async fn until_split(&self) {
        let (a, b) = (&self.a, &self.b);
        let half = usize::from(PARTITIONS / 2);
        loop {
            let split = [a, b].iter().all(|seen_by| {
                held(&seen_by.server, "a") == half && held(&seen_by.server, "b") == half
            });
            if split {
                break;
            }
            assert!(
                self.started.elapsed() < SPLIT_LIMIT,
                "the nodes did not split the partitions: a sees {:?}, b sees {:?}",
                drivers(&a.server),
                drivers(&b.server)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "32 partitions each, {:?} after b started",
            self.started.elapsed()
        );
    }

    /// Of `accounts`, those whose partition node a drives, as both nodes see it.
    fn driven_by_a<'x>(&self, accounts: &'x [Account]) -> Vec<&'x Account> {
        let now = now();
        accounts
            .iter()
            .filter(|x| {
                [&self.a, &self.b].iter().all(|seen_by| {
                    seen_by.server.cluster.driver_of(&x.number, now).as_deref() == Some("a")
                })
            })
            .collect()
    }

    async fn stop(self) {
        self.b.server.stop().await.unwrap();
        self.a.server.stop().await.unwrap();
    }
}

/// How many partitions `node` leases, as `server` last saw it.
fn held(server: &Server, node: &str) -> usize {
    let now = now();
    let view = server.cluster.view();
    view.leases
        .iter()
        .filter(|l| l.node == node && l.expires_at >= now)
        .count()
}

/// How many partitions each node leases, as `server` last saw it.
fn drivers(server: &Server) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for lease in server.cluster.view().leases {
        *count.entry(lease.node).or_default() += 1;
    }
    count
}

/// The fixture's account under `number` (Ann Lee then Bob Lee; zones 1 and 3).
fn account_numbered(number: String, supervision_ms: Option<i64>) -> Account {
    Account {
        number,
        supervision_ms,
        ..account()
    }
}

/// One account in each of `count` evenly spread partitions (all 64 for `count == 64`),
/// numbered `prefix` then three hex digits, so whichever half a node drives, some of them
/// fall in it.
fn spread_accounts(prefix: &str, count: Partition, supervision_ms: Option<i64>) -> Vec<Account> {
    let block = PARTITIONS / count;
    let mut chosen: BTreeMap<Partition, String> = BTreeMap::new();
    for i in 0..0x1000 {
        let number = format!("{prefix}{i:03X}");
        let partition = partition_of(&number);
        if partition.is_multiple_of(block) {
            chosen.entry(partition).or_insert(number);
        }
        if chosen.len() == usize::from(count) {
            break;
        }
    }
    assert_eq!(chosen.len(), usize::from(count));
    chosen
        .into_values()
        .map(|number| account_numbered(number, supervision_ms))
        .collect()
}

// ---------------------------------------------------------------------------------------
// HTTP: the API and its live events

struct Api {
    client: Client,
    base: String,
    token: String,
}

impl Api {
    /// Signs `name` in on the node at `base`.
    async fn login(base: &str, name: &str) -> Api {
        let client = Client::new();
        let response = client
            .post(format!("{base}/api/login"))
            .json(&json!({"name": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let login: Value = response.json().await.unwrap();
        Api {
            client,
            base: base.to_string(),
            token: login["token"].as_str().unwrap().to_string(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The open queue as (id, kind, account, next step), in the order served.
    async fn queue(&self) -> Vec<(i64, String, String, String)> {
        let (status, queue) = self.get("/api/alarms").await;
        assert_eq!(status, StatusCode::OK, "{queue}");
        queue["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["id"].as_i64().unwrap(),
                    a["kind"].as_str().unwrap().to_string(),
                    a["account"].as_str().unwrap().to_string(),
                    a["next_step"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// `GET /api/events`, open.
    async fn events(&self) -> Events {
        let response = self
            .client
            .get(format!("{}/api/events", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        Events {
            response,
            buffer: String::new(),
        }
    }
}

/// A server-sent events stream, read event by event.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The data of the next `alarm` event, `None` if none came by `deadline`.
    async fn next_alarm(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event = Some(name.trim().to_string());
                    } else if let Some(more) = line.strip_prefix("data:") {
                        data.push_str(more.trim_start());
                    }
                }
                if event.as_deref() == Some("alarm") {
                    return Some(serde_json::from_str(&data).unwrap());
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .unwrap()
                .expect("the event stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Skips the events already on their way, until none came for `quiet`; returns how many.
    async fn settle(&mut self, quiet: Duration) -> usize {
        let mut skipped = 0;
        while self.next_alarm(Instant::now() + quiet).await.is_some() {
            skipped += 1;
        }
        skipped
    }

    /// Waits at most `within` for an `alarm` event that `wanted` accepts; returns it and how
    /// long it took.
    async fn expect(&mut self, within: Duration, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + within;
        loop {
            match self.next_alarm(deadline).await {
                Some(change) if wanted(&change) => return change,
                Some(_) => {}
                None => panic!("no such event on the stream within {within:?}"),
            }
        }
    }
}

/// What an agent working an alarm goes by: who handles it, its next step, its calls and its
/// timeline.
fn working(view: &Value) -> Value {
    json!([
        view["handler"],
        view["next_step"],
        view["calls"],
        view["timeline"]
    ])
}

/// How long a stream stays silent before a test takes it that nothing more is coming.
const QUIET: Duration = Duration::from_millis(400);

/// Polls `check` every 20 ms until it holds; panics after `within`. Returns how long it took.
async fn within<F, Fut>(limit: Duration, what: &str, check: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------
// DC-09

fn frame(account: &str, sequence: u16, id: MessageId, data: &str) -> Vec<u8> {
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id,
            encrypted: false,
            sequence,
            receiver: None,
            line: Some("0".into()),
            account: Some(account.into()),
        },
        data: data.into(),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    encode_frame(&frame, None, &mut FixedPad(b'7')).unwrap()
}

fn sia(account: &str, sequence: u16, block: &str) -> Vec<u8> {
    let data = format!("#{account}|N{block}");
    frame(account, sequence, MessageId::SiaDcs, &data)
}

/// A link test: proves the panel is there, carries nothing.
fn link_test(account: &str, sequence: u16) -> Vec<u8> {
    frame(account, sequence, MessageId::Null, "")
}

/// Sends one frame on `tcp` and returns the kind of the reply.
async fn exchange(tcp: &mut TcpStream, bytes: &[u8]) -> MessageId {
    tcp.write_all(bytes).await.unwrap();
    let mut splitter = FrameSplitter::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer))
            .await
            .expect("a reply in time")
            .unwrap();
        assert!(n > 0, "the receiver closed the connection");
        if let Some(Chunk::Frame(reply)) = splitter.push(&buffer[..n]).into_iter().next() {
            return parse_frame(&reply, None)
                .expect("a well-formed reply")
                .header
                .id;
        }
    }
}

/// Supervised panels sending a link test each `every` to one receiver, as long as they are
/// listed in `active`.
struct Panels {
    active: Arc<Mutex<Vec<String>>>,
    acked: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Panels {
    fn start(receiver: std::net::SocketAddr, accounts: Vec<String>, every: Duration) -> Panels {
        let active = Arc::new(Mutex::new(accounts));
        let acked = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (list, ok, not_ok) = (active.clone(), acked.clone(), refused.clone());
        let task = tokio::spawn(async move {
            let mut tcp = TcpStream::connect(receiver).await.unwrap();
            let mut sequence = 0u16;
            loop {
                let accounts = list.lock().unwrap().clone();
                for account in accounts {
                    sequence = sequence % 9999 + 1;
                    match exchange(&mut tcp, &link_test(&account, sequence)).await {
                        MessageId::Ack => ok.fetch_add(1, Ordering::Relaxed),
                        _ => not_ok.fetch_add(1, Ordering::Relaxed),
                    };
                }
                tokio::time::sleep(every).await;
            }
        });
        Panels {
            active,
            acked,
            refused,
            task,
        }
    }

    /// `account`'s panel goes quiet.
    fn silence(&self, account: &str) {
        self.active.lock().unwrap().retain(|a| a != account);
    }
}

impl Drop for Panels {
    /// Before the nodes stop (also when a test fails).
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn comm_failures(store: &Db) -> Vec<AlarmRow> {
    store
        .alarms(AlarmState::All)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == "comm_failure")
        .collect()
}

// ---------------------------------------------------------------------------------------
// The tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn every_node_shows_the_same_queue_and_streams_every_change() {
    let test_started = Instant::now();
    let accounts = spread_accounts("A", PARTITIONS, None);
    let mut nodes = Nodes::start(&accounts, &[("amy", Role::Agent)], true).await;
    nodes.until_split().await;
    let number = nodes.driven_by_a(&accounts)[0].number.clone();
    let (on_a, on_b) = (
        Api::login(&nodes.a.base, "amy").await,
        Api::login(&nodes.b.base, "amy").await,
    );
    let mut events = on_b.events().await;

    // A burglary from the account's app, sent to a: b's live events announce it.
    let key = nodes
        .auth
        .issue_api_key(&number, "test", now())
        .await
        .unwrap();
    let app = Api {
        client: Client::new(),
        base: nodes.a.base.clone(),
        token: key,
    };
    let sent = Instant::now();
    let (status, answer) = app.post("/api/signals", json!({"sia": "BA001"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let change = events
        .expect(Duration::from_secs(2), |c| c["open"] == true)
        .await;
    eprintln!(
        "b streamed the alarm a opened {:?} after the signal was sent to a",
        sent.elapsed()
    );
    let id = change["alarm"].as_i64().unwrap();
    assert!(
        nodes.a.server.board.get(id).is_some(),
        "a drives it: its own commit shows it"
    );

    // Both queues: the same alarms, the same next steps.
    let (queue_a, queue_b) = (on_a.queue().await, on_b.queue().await);
    assert_eq!(queue_a, queue_b, "a and b show the same queue");
    assert_eq!(queue_a.len(), 1);
    let (listed, kind, of, next_step) = &queue_a[0];
    assert_eq!(
        (*listed, kind.as_str(), of.as_str()),
        (id, "burglary", &*number)
    );
    assert!(next_step.contains("Ann Lee"), "{next_step}");

    // The agent on b works a's alarm: each answer is the alarm after the input, and a agrees.
    let mut last_step = next_step.clone();
    for (path, body) in [
        (format!("/api/alarms/{id}/take"), json!({})),
        (
            format!("/api/alarms/{id}/calls/0/outcome"),
            json!({"outcome": "placed"}),
        ),
    ] {
        events.settle(QUIET).await;
        let asked = Instant::now();
        let (status, view) = on_b.post(&path, body).await;
        let answered = asked.elapsed();
        assert_eq!(status, StatusCode::OK, "{path}: {view}");
        events
            .expect(Duration::from_secs(2), |c| {
                c["alarm"] == id && c["open"] == true
            })
            .await;
        assert_eq!(view["id"], id);
        assert_eq!(view["handler"], "amy", "{path}: {view}");
        let agreed = within(Duration::from_secs(1), "a shows what b answered", || {
            let (on_a, view) = (&on_a, &view);
            async move {
                let (_, seen) = on_a.get(&format!("/api/alarms/{id}")).await;
                working(&seen) == working(view)
            }
        })
        .await;
        eprintln!("{path} on b: answered in {answered:?}, a agreed {agreed:?} later");
        last_step = view["next_step"].as_str().unwrap().to_string();
    }
    assert!(last_step.contains("Calling Ann Lee"), "{last_step}");
    let (queue_a, queue_b) = (on_a.queue().await, on_b.queue().await);
    assert_eq!(queue_a, queue_b);

    // A panel of the account reports to b: a second zone joins a's alarm, a fire opens a
    // new one on a. Both are announced on b's stream, and both queues agree.
    let (_, before) = on_a.get(&format!("/api/alarms/{id}")).await;
    let timeline = before["timeline"].as_array().unwrap().len();
    let mut tcp = TcpStream::connect(nodes.b.server.dc09_addr).await.unwrap();
    events.settle(QUIET).await;
    assert_eq!(
        exchange(&mut tcp, &sia(&number, 1, "ri1/BA03")).await,
        MessageId::Ack
    );
    let joined = within(Duration::from_secs(2), "a's alarm took b's signal", || {
        let on_a = &on_a;
        async move {
            let (_, seen) = on_a.get(&format!("/api/alarms/{id}")).await;
            seen["timeline"].as_array().unwrap().len() > timeline
        }
    })
    .await;
    events
        .expect(Duration::from_secs(2), |c| {
            c["alarm"] == id && c["open"] == true
        })
        .await;
    eprintln!("a burglary zone sent to b joined a's alarm {joined:?} after it was sent");
    let (_, after) = on_a.get(&format!("/api/alarms/{id}")).await;
    let added = &after["timeline"][timeline];
    assert_eq!(
        (&added["event"], &added["detail"]),
        (&json!("signal"), &json!("BA zone 3")),
        "the alarm's new entry is b's signal: {added}"
    );
    let sent_fire = Instant::now();
    assert_eq!(
        exchange(&mut tcp, &sia(&number, 2, "ri1/FA03")).await,
        MessageId::Ack
    );
    let change = events
        .expect(Duration::from_secs(2), |c| {
            c["alarm"] != id && c["open"] == true
        })
        .await;
    let fire = change["alarm"].as_i64().unwrap();
    eprintln!(
        "a fire sent to b opened alarm {fire}, streamed on b {:?} after it was sent",
        sent_fire.elapsed()
    );
    let shown_on_a = within(Duration::from_secs(1), "a shows the fire", || {
        let board = nodes.a.server.board.clone();
        async move { board.get(fire).is_some() }
    })
    .await;
    let fire_alarm = nodes.a.server.board.get(fire).unwrap();
    assert_eq!(fire_alarm.spec().kind.as_str(), "fire");
    assert_eq!(fire_alarm.spec().account, number);
    assert_eq!(
        nodes.a.server.cluster.driver_of(&number, now()).as_deref(),
        Some("a"),
        "still a's partition: a opened the fire"
    );
    // a carries out the fire's actions (it committed them), b none of either alarm's.
    let mut effects_on_a = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(1);
    while !effects_on_a.iter().any(|e: &Effect| e.alarm == fire) {
        match tokio::time::timeout_at(deadline, nodes.a.server.effects.recv()).await {
            Ok(Some(batch)) => effects_on_a.extend(batch),
            _ => panic!("a asked for none of the fire's actions: {effects_on_a:?}"),
        }
    }
    let mut effects_on_b = Vec::new();
    while let Ok(batch) = nodes.b.server.effects.try_recv() {
        effects_on_b.extend(batch);
    }
    eprintln!(
        "fire on a's board {shown_on_a:?} after b streamed it; a asked for {} actions, b none",
        effects_on_a.len()
    );
    assert!(
        effects_on_b.is_empty(),
        "b drives none of these alarms, so it carries out none of their actions: {effects_on_b:?}"
    );
    let (queue_a, queue_b) = (on_a.queue().await, on_b.queue().await);
    assert_eq!(queue_a, queue_b, "a and b show the same queue");
    let ids: Vec<i64> = queue_a.iter().map(|q| q.0).collect();
    assert_eq!(
        ids,
        [fire, id],
        "the fire first (more urgent), then the burglary"
    );

    nodes.stop().await;
    eprintln!("test took {:?}", test_started.elapsed());
}

/// The supervision interval: long enough for what b hears to reach a, which shares it once
/// a second (up to about 1.3 s later with a link test every 250 ms).
const SUPERVISION: Duration = Duration::from_secs(2);
const LINK_TEST_EVERY: Duration = Duration::from_millis(250);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_panel_heard_by_any_node_stays_supervised() {
    let test_started = Instant::now();
    let interval = SUPERVISION.as_millis() as i64;
    let accounts = spread_accounts("5", 8, Some(interval));
    let nodes = Nodes::start(&accounts, &[], false).await;
    // Every panel, whichever node drives its partition, reports to b only, from the start
    // (each interval started when the nodes did).
    let numbers: Vec<String> = accounts.iter().map(|a| a.number.clone()).collect();
    let panels = Panels::start(nodes.b.server.dc09_addr, numbers, LINK_TEST_EVERY);
    nodes.until_split().await;
    let watched_by_a = nodes.driven_by_a(&accounts);
    assert!(
        !watched_by_a.is_empty(),
        "some panel's partition is a's: {:?}",
        drivers(&nodes.a.server)
    );
    let number = watched_by_a[0].number.clone();

    // Several intervals: heard by b, so a raises nothing.
    tokio::time::sleep(SUPERVISION * 3).await;
    assert!(
        panels.acked.load(Ordering::Relaxed) > 0 && panels.refused.load(Ordering::Relaxed) == 0,
        "b ACKs the link tests"
    );
    assert_eq!(
        comm_failures(&nodes.store).await,
        [],
        "panels heard by b are not failed, whichever node watches them"
    );

    // The panel goes quiet: a raises one comm_failure.
    panels.silence(&number);
    let silenced = Instant::now();
    let store = nodes.store.clone();
    within(
        SUPERVISION + Duration::from_secs(4),
        "a comm_failure",
        || {
            let store = store.clone();
            async move { !comm_failures(&store).await.is_empty() }
        },
    )
    .await;
    eprintln!(
        "comm_failure opened {:?} after the panel went quiet (interval {SUPERVISION:?})",
        silenced.elapsed()
    );
    let failures = comm_failures(&store).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = failures[0].clone();
    assert_eq!(failure.account, number);
    assert_eq!(failure.closed_at, None);
    assert!(
        nodes.a.server.board.get(failure.id).is_some(),
        "a drives it: its own commit shows it"
    );
    assert_eq!(
        nodes.a.server.cluster.driver_of(&number, now()).as_deref(),
        Some("a")
    );

    // One link test to b restores it, whether or not b has learnt of the failure yet (its
    // board follows a's alarms, its supervision reads its board once a second).
    let b_knew = nodes.b.server.board.get(failure.id).is_some();
    let mut tcp = TcpStream::connect(nodes.b.server.dc09_addr).await.unwrap();
    assert_eq!(
        exchange(&mut tcp, &link_test(&number, 1)).await,
        MessageId::Ack
    );
    let restored = within(Duration::from_secs(5), "the comm_failure restored", || {
        let store = store.clone();
        async move {
            comm_failures(&store)
                .await
                .iter()
                .all(|a| a.closed_at.is_some())
        }
    })
    .await;
    eprintln!(
        "restored {restored:?} after one link test to b (b's board showed the failure when it \
         was sent: {b_knew})"
    );
    assert_eq!(panels.refused.load(Ordering::Relaxed), 0);
    drop(panels);
    let failures = comm_failures(&store).await;
    assert_eq!(failures.len(), 1, "exactly one comm_failure: {failures:?}");
    assert_eq!(failures[0].id, failure.id);
    assert_eq!(failures[0].disposition.as_deref(), Some("restored"));
    assert!(nodes.a.server.board.get(failure.id).is_none());
    nodes.stop().await;
    eprintln!("test took {:?}", test_started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_resend_to_the_other_node_is_recognised_and_a_constant_sequence_keeps_every_event() {
    let numbered = |number: &str| Account {
        number: number.into(),
        ..account()
    };
    let nodes = Nodes::start(&[numbered("1234"), numbered("5678")], &[], false).await;
    let mut to_a = TcpStream::connect(nodes.a.server.dc09_addr).await.unwrap();
    let mut to_b = TcpStream::connect(nodes.b.server.dc09_addr).await.unwrap();
    // The ACK from a was lost: the panel resends to its backup receiver, b; then the other
    // way round.
    let alarm = sia("1234", 3, "ri1/BA12");
    assert_eq!(exchange(&mut to_a, &alarm).await, MessageId::Ack);
    assert_eq!(exchange(&mut to_b, &alarm).await, MessageId::Ack);
    let disarm = sia("1234", 4, "ri1/OP001");
    assert_eq!(exchange(&mut to_b, &disarm).await, MessageId::Ack);
    assert_eq!(exchange(&mut to_a, &disarm).await, MessageId::Ack);
    // A panel that always sends sequence 1, alternating receivers: what the other node
    // received in between makes each repeat a new event (a cannot trust what it saw itself).
    let alarm = sia("5678", 1, "ri1/BA12");
    let sent = [
        ('a', alarm.clone()),
        ('b', sia("5678", 1, "ri1/OP001")),
        ('a', alarm.clone()),
        ('b', link_test("5678", 1)),
        ('a', alarm.clone()),
        ('b', alarm),
    ];
    for (node, bytes) in sent {
        let to = if node == 'a' { &mut to_a } else { &mut to_b };
        assert_eq!(exchange(to, &bytes).await, MessageId::Ack);
    }
    let raws = |account: &'static str| {
        let store = nodes.store.clone();
        async move {
            let signals = store.signals(account).await.unwrap();
            signals.into_iter().map(|s| s.raw).collect::<Vec<_>>()
        }
    };
    assert_eq!(raws("1234").await, ["#1234|Nri1/BA12", "#1234|Nri1/OP001"]);
    assert_eq!(
        raws("5678").await,
        [
            "#5678|Nri1/BA12",
            "#5678|Nri1/OP001",
            "#5678|Nri1/BA12",
            "#5678|Nri1/BA12"
        ],
        "the last frame repeats the one a received just before: a resend"
    );
    nodes.stop().await;
}
