//! Failover between two nodes on one PostgreSQL database, with real processes: node "a"
//! drives half the partitions, an agent signed in on node "b" works two of a's burglaries
//! (one mid-call, one waiting for the police to confirm), panels load both nodes over DC-09,
//! and "a" is SIGKILLed. Node "b" must take a's partitions over within the default lease, the
//! agent finishes both alarms on "b", and afterwards every ACKed frame is stored exactly once
//! and every alarm's log is whole: each action asked for once, seqs without gaps, replayable,
//! and written after the takeover under a newer fencing token.

mod common;

use common::{Options, Server, account_toml, cli, enrol, free_addr};
use reqwest::Client;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use watchpost_core::alarm::Decision;
use watchpost_core::{Action, Agency, Input};
use watchpost_store::testing::{TestDatabase, server_url};
use watchpost_store::{AlarmState, LogBody, LogEntry, partition_of, replay};
use watchpost_wire::{
    Chunk, CrcForm, FixedPad, Frame, FrameSplitter, Header, MessageId, encode_frame, parse_frame,
};

const ACCOUNTS: usize = 16;
const PANEL_THREADS: usize = 4;
/// Between two frames of one panel thread.
const PANEL_PAUSE: Duration = Duration::from_millis(5);
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// A panel gives a frame up if no receiver ACKs it within this (the test then fails).
const PANEL_PATIENCE: Duration = Duration::from_secs(25);
/// What "How it will be checked" allows for a dead node's partitions to move.
const TAKEOVER_LIMIT: Duration = Duration::from_secs(10);
const PASSWORD: &str = "correct horse battery";
const LOG_FILTER: (&str, &str) = ("RUST_LOG", "warn,watchpost_server::cluster=info");

/// The second contact every account gets (`account_toml` gives Ann Lee).
const SECOND_CONTACT: &str = r#"[[accounts.contacts]]
name = "Bob Lee"
phone = "+15555550102"

"#;

// ---------------------------------------------------------------------------------------
// DC-09 panels

/// One transmission: the data block the center stores as `raw`, and the exact bytes (a
/// retransmission repeats them).
#[derive(Clone, Debug, PartialEq)]
struct Sent {
    account: String,
    data: String,
    sequence: u16,
    bytes: Vec<u8>,
}

impl Sent {
    fn new(account: &str, sequence: u16, data: String) -> Sent {
        let frame = Frame {
            crc: CrcForm::Hex,
            header: Header {
                id: MessageId::SiaDcs,
                encrypted: false,
                sequence,
                receiver: Some("1".into()),
                line: Some("1".into()),
                account: Some(account.into()),
            },
            data: data.clone(),
            xdata: Vec::new(),
            timestamp: Some(chrono::Utc::now()),
        };
        Sent {
            account: account.into(),
            data,
            sequence,
            bytes: encode_frame(&frame, None, &mut FixedPad(b'0')).expect("a valid frame"),
        }
    }
}

struct Link {
    stream: TcpStream,
    splitter: FrameSplitter,
}

impl Link {
    fn connect(addr: SocketAddr) -> std::io::Result<Link> {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Link {
            stream,
            splitter: FrameSplitter::new(),
        })
    }

    /// Sends `sent` and waits for the reply: `Ok(true)` for an ACK of its sequence,
    /// `Ok(false)` for any other answer, `Err` when the connection failed or stayed silent.
    fn exchange(&mut self, sent: &Sent) -> std::io::Result<bool> {
        self.stream.write_all(&sent.bytes)?;
        let mut buffer = [0u8; 1024];
        loop {
            let n = self.stream.read(&mut buffer)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if let Some(chunk) = self.splitter.push(&buffer[..n]).into_iter().next() {
                let Chunk::Frame(reply) = chunk else {
                    return Ok(false);
                };
                return Ok(parse_frame(&reply, None).is_ok_and(|r| {
                    r.header.id == MessageId::Ack && r.header.sequence == sent.sequence
                }));
            }
        }
    }
}

/// What one panel thread did.
#[derive(Default)]
struct PanelLog {
    /// ACKed frames, with the node (0: a, 1: b) that ACKed each.
    acked: Vec<(Sent, usize)>,
    /// Frames answered with something else than an ACK (never expected).
    refused: Vec<(Sent, usize)>,
    /// Frames no node ACKed within `PANEL_PATIENCE` (never expected: b stays up).
    given_up: Vec<Sent>,
    /// Frames that needed the backup receiver: the first one tried failed.
    retried: Vec<Sent>,
    /// Frames whose connection broke while they were on it (sent, no answer yet), with when
    /// they were written: the node may have stored them before it died, and the other node
    /// must then not store them again.
    broken: Vec<(Sent, Instant)>,
}

/// A panel with a primary and a backup receiver: its frames alternate between the two
/// nodes; a frame whose node fails (connection refused or lost, no answer) is sent again,
/// byte for byte, to the other node, and back and forth until one ACKs it.
fn panel(
    nodes: [SocketAddr; 2],
    thread: usize,
    accounts: Vec<String>,
    stop: Arc<AtomicBool>,
) -> PanelLog {
    let mut log = PanelLog::default();
    let mut links: [Option<Link>; 2] = [None, None];
    let mut n: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let account = &accounts[n as usize % accounts.len()];
        // The zone makes every data block unique; RP (automatic test) opens no alarm.
        let zone = (thread as u32 + 1) * 1_000_000 + n;
        let sequence = ((thread as u32 * 2000 + n) % 9999 + 1) as u16;
        let sent = Sent::new(account, sequence, format!("#{account}|Nri1/RP{zone}"));
        let first = (n as usize + thread) % 2;
        let since = Instant::now();
        let mut node = first;
        let mut written = None;
        loop {
            let link = match &mut links[node] {
                Some(link) => Ok(link),
                slot => Link::connect(nodes[node]).map(|link| slot.insert(link)),
            };
            let answer = link.and_then(|link| {
                written = Some(Instant::now());
                link.exchange(&sent)
            });
            match answer {
                Ok(true) => {
                    if node != first {
                        log.retried.push(sent.clone());
                    }
                    log.acked.push((sent, node));
                    break;
                }
                Ok(false) => {
                    log.refused.push((sent, node));
                    break;
                }
                Err(_) => {
                    if let Some(at) = written.take() {
                        log.broken.push((sent.clone(), at));
                    }
                    links[node] = None;
                    if since.elapsed() > PANEL_PATIENCE {
                        log.given_up.push(sent);
                        break;
                    }
                    node = 1 - node;
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        std::thread::sleep(PANEL_PAUSE);
    }
    log
}

/// Sends one frame to `addr` on a connection of its own; true when ACKed.
fn send_once(addr: SocketAddr, sent: &Sent) -> bool {
    Link::connect(addr)
        .and_then(|mut link| link.exchange(sent))
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// The HTTP API

#[derive(Clone)]
struct Agent {
    client: Client,
    base: String,
    token: String,
}

impl Agent {
    async fn login(http: SocketAddr) -> Agent {
        let client = Client::new();
        let base = format!("http://{http}");
        let login: Value = client
            .post(format!("{base}/api/login"))
            .json(&json!({"name": "amy", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().expect("logged in").to_string();
        Agent {
            client,
            base,
            token,
        }
    }

    /// The same session on another node (sessions are in the shared database).
    fn on(&self, http: SocketAddr) -> Agent {
        Agent {
            base: format!("http://{http}"),
            ..self.clone()
        }
    }

    /// POSTs and returns the status and the body, whatever the status.
    async fn try_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.try_post(path, body).await;
        assert!(
            (200..300).contains(&status),
            "POST {}{path}: {status} {answer}",
            self.base
        );
        answer
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {}{path}: {}",
            self.base,
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn cluster(&self) -> Value {
        self.get("/api/cluster").await
    }

    /// The open alarm of `account` on this node's board, once it shows one.
    async fn wait_for_alarm(&self, account: &str, within: Duration) -> i64 {
        let deadline = Instant::now() + within;
        loop {
            let queue = self.get("/api/alarms").await;
            let found = queue["alarms"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["account"] == account)
                .and_then(|a| a["id"].as_i64());
            if let Some(id) = found {
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "no alarm for {account} on {} within {within:?}: {queue}",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Partition → node, of the leases a cluster view shows current.
fn drivers(view: &Value) -> BTreeMap<u16, String> {
    let seen_at = view["seen_at"].as_i64().unwrap();
    view["leases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["expires_at"].as_i64().unwrap() >= seen_at && l["node"] != "")
        .map(|l| {
            (
                l["partition"].as_u64().unwrap() as u16,
                l["node"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn token_of(view: &Value, partition: u16) -> i64 {
    view["leases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["partition"] == partition)
        .and_then(|l| l["token"].as_i64())
        .expect("every partition has a lease row")
}

fn held_by(view: &Value, node: &str) -> usize {
    drivers(view).values().filter(|n| *n == node).count()
}

fn live(view: &Value) -> Vec<String> {
    let mut nodes: Vec<String> = view["live_nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    nodes.sort();
    nodes
}

// ---------------------------------------------------------------------------------------
// The store

fn actions(log: &[LogEntry]) -> Vec<&Action> {
    log.iter()
        .filter_map(|e| match &e.body {
            LogBody::Action { action } => Some(action),
            _ => None,
        })
        .collect()
}

fn inputs(log: &[LogEntry]) -> Vec<&Input> {
    log.iter()
        .filter_map(|e| match &e.body {
            LogBody::Input { input } => Some(input),
            _ => None,
        })
        .collect()
}

fn count_place_calls(log: &[LogEntry]) -> usize {
    actions(log)
        .iter()
        .filter(|a| matches!(a, Action::PlaceCall { .. }))
        .count()
}

fn count_dispatch_requests(log: &[LogEntry]) -> usize {
    actions(log)
        .iter()
        .filter(|a| matches!(a, Action::RequestDispatch { .. }))
        .count()
}

/// `(seq, fence)` of an alarm's log entries, in order.
async fn fences(pool: &sqlx::PgPool, alarm: i64) -> Vec<(i32, i64)> {
    sqlx::query_as("SELECT seq, fence FROM alarm_events WHERE alarm_id = $1 ORDER BY seq")
        .bind(alarm)
        .fetch_all(pool)
        .await
        .expect("read alarm_events")
}

// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_killed_node_s_alarms_and_panels_continue_on_the_other_node() {
    let started = Instant::now();
    let database = TestDatabase::new(&server_url())
        .await
        .expect("a fresh PostgreSQL database");
    let db = database.url().to_string();
    let dir = tempfile::tempdir().unwrap();

    // 1. Accounts, an agent, two nodes sharing the work.
    let accounts: Vec<String> = (0..ACCOUNTS).map(|i| format!("{}", 7001 + i)).collect();
    let toml: String = accounts
        .iter()
        .map(|n| account_toml(n, "") + SECOND_CONTACT)
        .collect();
    enrol(dir.path(), &db, &toml);
    cli(
        &["users", "add", "amy", "--role", "agent", "--db", &db],
        &format!("{PASSWORD}\n"),
    );
    let ready = Duration::from_secs(20);
    let (a_dc09, a_http) = (free_addr(), free_addr());
    let mut a = Server::start_with_options(
        dir.path(),
        &db,
        a_dc09,
        a_http,
        "a",
        Options {
            // The load is a flood by design; runaway accounts are tested on their own.
            args: &["--node", "a", "--runaway", "off"],
            env: &[LOG_FILTER],
            ready_within: ready,
        },
    );
    let (b_dc09, b_http) = (free_addr(), free_addr());
    let mut b = Server::start_with_options(
        dir.path(),
        &db,
        b_dc09,
        b_http,
        "b",
        Options {
            // The load is a flood by design; runaway accounts are tested on their own.
            args: &["--node", "b", "--runaway", "off"],
            env: &[LOG_FILTER],
            ready_within: ready,
        },
    );
    let set_up = started.elapsed();
    let on_b = Agent::login(b_http).await;
    let on_a = on_b.on(a_http);
    let deadline = Instant::now() + Duration::from_secs(10);
    let view = loop {
        let (view_a, view_b) = (on_a.cluster().await, on_b.cluster().await);
        let both =
            |v: &Value| live(v) == ["a", "b"] && held_by(v, "a") == 32 && held_by(v, "b") == 32;
        if both(&view_a) && both(&view_b) {
            break view_b;
        }
        assert!(
            Instant::now() < deadline,
            "the nodes did not share the partitions 32/32 within 10 s:\n{view_a}\n{view_b}\n{}{}",
            a.logs(),
            b.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let balanced = started.elapsed();
    let driver = drivers(&view);
    let of_node = |node: &str| -> Vec<String> {
        accounts
            .iter()
            .filter(|n| driver[&partition_of(n)] == node)
            .cloned()
            .collect()
    };
    let (of_a, of_b) = (of_node("a"), of_node("b"));
    assert!(
        of_a.len() >= 4 && of_b.len() >= 2,
        "too few accounts on a node: a {of_a:?}, b {of_b:?}"
    );
    let (x, y) = (of_a[0].clone(), of_a[1].clone());
    let (px, py) = (partition_of(&x), partition_of(&y));
    let (token_x_before, token_y_before) = (token_of(&view, px), token_of(&view, py));

    // 3. Panels load both nodes all along (accounts of both nodes, none of X or Y, nor the
    // one that resends below: a frame in between would make its resend a new event).
    let loaded: Vec<String> = of_a[2..].iter().chain(&of_b[1..]).cloned().collect();
    let stop = Arc::new(AtomicBool::new(false));
    let panels: Vec<_> = (0..PANEL_THREADS)
        .map(|t| {
            let mine: Vec<String> = loaded
                .iter()
                .enumerate()
                .filter(|(i, _)| i % PANEL_THREADS == t)
                .map(|(_, a)| a.clone())
                .collect();
            let stop = stop.clone();
            std::thread::spawn(move || panel([a_dc09, b_dc09], t, mine, stop))
        })
        .collect();

    // 2. Alarm X: a burglary of an account "a" drives, received by "b" (forwarded to "a"),
    // worked from "b": contact 1 went to voicemail, contact 2's call is due.
    let frame_x = Sent::new(&x, 1, format!("#{x}|Nri1/BA001"));
    assert!(
        send_once(b_dc09, &frame_x),
        "X's burglary was not ACKed by b"
    );
    let id_x = on_b.wait_for_alarm(&x, Duration::from_secs(5)).await;
    on_b.post(&format!("/api/alarms/{id_x}/take"), json!({}))
        .await;
    let outcome = |id: i64, call: u32| format!("/api/alarms/{id}/calls/{call}/outcome");
    on_b.post(&outcome(id_x, 0), json!({"outcome": "placed"}))
        .await;
    let after_voicemail = on_b
        .post(&outcome(id_x, 0), json!({"outcome": "voicemail"}))
        .await;
    assert!(
        after_voicemail["next_step"]
            .as_str()
            .unwrap()
            .contains("Call Bob Lee"),
        "{after_voicemail}"
    );

    // Alarm Y: another of a's burglaries, received by "a"; nobody answers, so the engine
    // asks for the police, not yet confirmed.
    let frame_y = Sent::new(&y, 2, format!("#{y}|Nri1/BA002"));
    assert!(
        send_once(a_dc09, &frame_y),
        "Y's burglary was not ACKed by a"
    );
    let id_y = on_b.wait_for_alarm(&y, Duration::from_secs(5)).await;
    on_b.post(&format!("/api/alarms/{id_y}/take"), json!({}))
        .await;
    for call in [0, 1] {
        on_b.post(&outcome(id_y, call), json!({"outcome": "placed"}))
            .await;
        on_b.post(&outcome(id_y, call), json!({"outcome": "no_answer"}))
            .await;
    }
    let waiting = on_b.get(&format!("/api/alarms/{id_y}")).await;
    assert!(
        waiting["next_step"]
            .as_str()
            .unwrap()
            .starts_with("Request police"),
        "{waiting}"
    );
    let store = watchpost_store::open(&db).await.expect("open the store");
    let log_y = store.log(id_y).await.unwrap();
    assert_eq!(count_dispatch_requests(&log_y), 1, "{log_y:#?}");

    let pool = sqlx::PgPool::connect(&db)
        .await
        .expect("connect for queries");
    let before_x = fences(&pool, id_x).await;
    let before_y = fences(&pool, id_y).await;
    // A panel whose ACK from a got lost sends the same frame to b: ACKed, not stored again.
    let resent = Sent::new(&of_b[0], 3, format!("#{}|Nri1/RP9000001", of_b[0]));
    assert!(send_once(a_dc09, &resent), "a did not ACK a frame");
    assert!(
        send_once(b_dc09, &resent),
        "b did not ACK a frame a had stored"
    );
    // Let the panels run against both nodes for a while.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // 4. SIGKILL "a" under load; "b" must take its partitions over.
    let logs_a = a.logs();
    let killed_ms = chrono::Utc::now().timestamp_millis();
    let killed = Instant::now();
    a.kill();
    // The agent confirms Y's dispatch on "b" at once: the command waits for a's partition
    // to have a driver again, and is applied then — once.
    let confirming = {
        let on_b = on_b.clone();
        tokio::spawn(async move {
            let answer = on_b
                .try_post(
                    &format!("/api/alarms/{id_y}/dispatch/confirm"),
                    json!({"agency": "police", "reference": "PD-2025-0042"}),
                )
                .await;
            (answer, killed.elapsed())
        })
    };
    let (takeover, view) = loop {
        let view = on_b.cluster().await;
        let d = drivers(&view);
        if d.get(&px).is_some_and(|n| n == "b") && d.get(&py).is_some_and(|n| n == "b") {
            break (killed.elapsed(), view);
        }
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "b did not take a's partitions over: {view}\n{logs_a}{}",
            b.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    println!("failover: node b drives the partitions of X and Y {takeover:.2?} after a was killed");
    assert!(
        takeover <= TAKEOVER_LIMIT,
        "takeover took {takeover:?}, more than {TAKEOVER_LIMIT:?}\n{}",
        b.logs()
    );
    assert_eq!(live(&view), ["b"], "{view}");
    assert_eq!(held_by(&view, "b"), 64, "b drives every partition: {view}");
    let (token_x_after, token_y_after) = (token_of(&view, px), token_of(&view, py));
    assert!(token_x_after > token_x_before && token_y_after > token_y_before);

    // Y's burglary again, byte for byte, to b (as if a's ACK had been lost): recognised,
    // neither stored nor fed to Y a second time.
    assert!(send_once(b_dc09, &frame_y), "b did not ACK Y's frame again");

    // 5. On "b": Y's confirmation went through once b drove Y...
    let ((status, confirmed), confirm_took) = confirming.await.unwrap();
    println!(
        "failover: Y's dispatch confirmation, sent to b at the kill, answered after {confirm_took:.2?}"
    );
    assert_eq!(
        status,
        200,
        "confirm during the takeover: {confirmed}\n{}",
        b.logs()
    );
    assert!(
        confirmed["next_step"]
            .as_str()
            .unwrap()
            .starts_with("Help is on the way"),
        "{confirmed}"
    );
    // ...and X is where the agent left it.
    let resumed = on_b.get(&format!("/api/alarms/{id_x}")).await;
    assert!(resumed["closed_at"].is_null(), "still open: {resumed}");
    assert_eq!(resumed["handler"], "amy", "still amy's: {resumed}");
    assert!(
        resumed["next_step"]
            .as_str()
            .unwrap()
            .contains("Call Bob Lee"),
        "{}",
        resumed["next_step"]
    );
    on_b.post(&outcome(id_x, 1), json!({"outcome": "placed"}))
        .await;
    on_b.post(&outcome(id_x, 1), json!({"outcome": "answered"}))
        .await;
    let checked = on_b
        .post(
            &format!("/api/alarms/{id_x}/calls/1/password"),
            json!({"password": "blue falcon"}),
        )
        .await;
    assert_eq!(checked["matched"], true);
    let done_x = on_b
        .post(
            &format!("/api/alarms/{id_x}/calls/1/decision"),
            json!({"decision": "cancel"}),
        )
        .await;
    assert_eq!(done_x["disposition"], "canceled_by_contact", "{done_x}");
    assert_eq!(
        done_x["calls"].as_array().unwrap().len(),
        2,
        "one call each, none repeated: {done_x}"
    );
    let done_y = on_b
        .post(
            &format!("/api/alarms/{id_y}/close"),
            json!({"resolution": "false_user"}),
        )
        .await;
    assert!(!done_y["closed_at"].is_null(), "{done_y}");
    assert_eq!(done_y["disposition"], "dispatched", "{done_y}");

    // The panels go on a little on b alone, then stop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let logs: Vec<PanelLog> = panels
        .into_iter()
        .map(|p| p.join().expect("a panel thread"))
        .collect();
    let status = b.terminate(Duration::from_secs(10));
    assert!(status.success(), "b exited with {status}\n{}", b.logs());
    let logs_b = b.logs();

    // 6. What the store holds.
    let mut acked: Vec<(Sent, usize)> = logs.iter().flat_map(|l| l.acked.clone()).collect();
    acked.push((frame_x.clone(), 1));
    acked.push((frame_y.clone(), 0));
    acked.push((resent.clone(), 0));
    let refused: Vec<_> = logs.iter().flat_map(|l| &l.refused).collect();
    let given_up: Vec<_> = logs.iter().flat_map(|l| &l.given_up).collect();
    let retried: Vec<_> = logs.iter().flat_map(|l| &l.retried).collect();
    // On the wire to a when it was killed: written before, answered by nobody.
    let in_flight: Vec<&Sent> = logs
        .iter()
        .flat_map(|l| &l.broken)
        .filter(|(_, at)| *at < killed)
        .map(|(s, _)| s)
        .collect();
    assert!(
        refused.is_empty(),
        "frames answered otherwise than with an ACK: {refused:?}"
    );
    assert!(
        given_up.is_empty(),
        "frames neither node ACKed within {PANEL_PATIENCE:?}: {given_up:?}\n{logs_b}"
    );
    let by_node = |node: usize| acked.iter().filter(|(_, n)| *n == node).count();
    assert!(
        by_node(0) >= 20 && by_node(1) >= 20,
        "the load hardly ran: {} frames ACKed by a, {} by b",
        by_node(0),
        by_node(1)
    );

    // (account, raw) → how many rows, and when the first was received.
    let mut stored: HashMap<(String, String), (usize, i64)> = HashMap::new();
    for account in &accounts {
        for signal in store.signals(account).await.unwrap() {
            if signal.source == "sia" {
                let row = stored
                    .entry((signal.account, signal.raw))
                    .or_insert((0, signal.received_at));
                row.0 += 1;
                row.1 = row.1.min(signal.received_at);
            }
        }
    }
    let row = |s: &Sent| stored.get(&(s.account.clone(), s.data.clone())).copied();
    let count = |s: &Sent| row(s).map_or(0, |(n, _)| n);
    let lost: Vec<&Sent> = acked
        .iter()
        .map(|(s, _)| s)
        .filter(|s| count(s) == 0)
        .collect();
    let twice: Vec<_> = stored.iter().filter(|(_, (n, _))| *n > 1).collect();
    assert!(
        lost.is_empty(),
        "{} ACKed frames are not stored, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    assert!(twice.is_empty(), "frames stored more than once: {twice:?}");
    let unknown: Vec<_> = {
        let sent: HashSet<(String, String)> = acked
            .iter()
            .map(|(s, _)| (s.account.clone(), s.data.clone()))
            .collect();
        stored.keys().filter(|k| !sent.contains(*k)).collect()
    };
    assert!(unknown.is_empty(), "stored frames nobody sent: {unknown:?}");
    // Those a stored before it died without its ACK getting out: b recognised them.
    let stored_by_a = in_flight
        .iter()
        .filter(|s| row(s).is_some_and(|(_, at)| at < killed_ms))
        .count();

    // One alarm per burglary, none else.
    let alarms = store.alarms(AlarmState::All).await.unwrap();
    let by_account: Vec<(&str, i64)> = alarms.iter().map(|r| (r.account.as_str(), r.id)).collect();
    assert_eq!(
        by_account.len(),
        2,
        "exactly the two burglaries opened alarms: {alarms:?}"
    );
    assert!(by_account.contains(&(x.as_str(), id_x)) && by_account.contains(&(y.as_str(), id_y)));
    assert!(alarms.iter().all(|r| r.closed_at.is_some()), "{alarms:?}");

    // Each log: whole, replayable, every action once, every input the agent gave once.
    let log_x = store.log(id_x).await.unwrap();
    let log_y = store.log(id_y).await.unwrap();
    for (id, log) in [(id_x, &log_x), (id_y, &log_y)] {
        let seqs: Vec<u32> = log.iter().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            (0..log.len() as u32).collect::<Vec<_>>(),
            "alarm {id}"
        );
        let alarm = replay(log).unwrap_or_else(|e| panic!("alarm {id} does not replay: {e}"));
        assert!(alarm.closed().is_some(), "alarm {id} replays closed");
    }
    assert_eq!(
        count_place_calls(&log_x),
        2,
        "X: one call per contact\n{log_x:#?}"
    );
    assert_eq!(
        count_place_calls(&log_y),
        2,
        "Y: one call per contact\n{log_y:#?}"
    );
    assert_eq!(
        count_dispatch_requests(&log_y),
        1,
        "Y: one dispatch\n{log_y:#?}"
    );
    let take = Input::Take {
        agent: "amy".into(),
    };
    let expected_x = [
        take.clone(),
        Input::CallPlaced { call: 0 },
        Input::Voicemail { call: 0 },
        Input::CallPlaced { call: 1 },
        Input::Answered { call: 1 },
        Input::PasswordChecked {
            call: 1,
            matched: true,
        },
        Input::Decision {
            call: 1,
            decision: Decision::Cancel,
        },
    ];
    let expected_y = [
        take,
        Input::CallPlaced { call: 0 },
        Input::NoAnswer { call: 0 },
        Input::CallPlaced { call: 1 },
        Input::NoAnswer { call: 1 },
        Input::DispatchConfirmed {
            agency: Agency::Police,
            reference: "PD-2025-0042".into(),
        },
        Input::AgentClose {
            resolution: Some("false_user".into()),
            reason: None,
        },
    ];
    assert_eq!(
        inputs(&log_x),
        expected_x.iter().collect::<Vec<_>>(),
        "X's inputs"
    );
    assert_eq!(
        inputs(&log_y),
        expected_y.iter().collect::<Vec<_>>(),
        "Y's inputs"
    );

    // Fencing: what a wrote carries a's token, what b wrote after the takeover b's, higher.
    for (id, before, token_before, token_after) in [
        (id_x, &before_x, token_x_before, token_x_after),
        (id_y, &before_y, token_y_before, token_y_after),
    ] {
        let after = fences(&pool, id).await;
        assert_eq!(&after[..before.len()], &before[..], "alarm {id}: rewritten");
        assert!(
            before.iter().all(|(_, f)| *f == token_before),
            "alarm {id}: entries before the kill were written under a's token {token_before}: {before:?}"
        );
        let later = &after[before.len()..];
        assert!(
            !later.is_empty(),
            "alarm {id}: nothing written after the takeover"
        );
        assert!(
            later.iter().all(|(_, f)| *f == token_after),
            "alarm {id}: entries after the takeover were written under b's token {token_after}: {later:?}"
        );
    }
    let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(inbox, 0, "inbox items left unsettled");
    pool.close().await;

    println!(
        "failover: {} frames ACKed ({} by a, {} by b), {} of them only after a retry on the \
         other node ({} on the wire to a at the kill, {} of which a had stored), each stored \
         exactly once; takeover {takeover:.2?}; set-up {set_up:.1?}, balanced 32/32 at \
         {balanced:.1?}, whole test {:.1?}",
        acked.len(),
        by_node(0),
        by_node(1),
        retried.len(),
        in_flight.len(),
        stored_by_a,
        started.elapsed()
    );
}
