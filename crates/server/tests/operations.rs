//! Operating the center (issue 15, items 1 and 2): `/metrics` after a load of real DC-09
//! frames over real sockets, read back by the Python `prometheus_client` parser; who may read
//! `/metrics`; `/healthz`; `/readyz` turning unready while the store is locked (SQLite) or
//! refuses connections (PostgreSQL), the watchdog saying the commit loop stalled, and both
//! ready again once the store returns.

mod common;

use common::{Center, exchange};
use serde_json::Value;
use sqlx::Connection;
use std::collections::HashMap;
use std::time::Duration;
use tokio::net::{TcpStream, UdpSocket};
use watchpost_core::account::Account;
use watchpost_server::{Config, Server};
use watchpost_store::{AlarmState, Role};
use watchpost_wire::{MessageId, parse_frame};

fn account(number: &str) -> Account {
    Account {
        number: number.into(),
        ..common::account()
    }
}

/// A plain SIA-DCS burglary frame from `account`.
fn burglary(account: &str, sequence: u16) -> Vec<u8> {
    common::sia_frame(account, sequence, "Nri1/BA01")
}

/// Every sample of the exposition as the Python parser reads it: name, labels, value.
fn parse(text: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/parse_metrics.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let sample: Value = serde_json::from_str(line).unwrap();
            let labels = sample["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let name = sample["name"].as_str().unwrap().to_string();
            (name, labels, sample["value"].as_f64().unwrap())
        })
        .collect()
}

/// The value of the one sample named `name` whose labels include `labels`.
fn value(
    samples: &[(String, HashMap<String, String>, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    let found: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(v))
        })
        .map(|(_, _, v)| *v)
        .collect();
    assert_eq!(found.len(), 1, "one sample {name} {labels:?}: {found:?}");
    found[0]
}

const PANELS: usize = 8;
const FRAMES_EACH: u16 = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs python3 with prometheus_client (pip install prometheus_client); .ci/run installs it"]
async fn metrics_under_load_match_what_was_sent_as_the_python_parser_reads_them() {
    let mut accounts: Vec<Account> = (0..PANELS).map(|n| account(&format!("A{n:03}"))).collect();
    accounts.push(account("U001"));
    accounts.push(Account {
        dc09_key: Some(watchpost_core::account_file::key_from_ascii("0123456789ABCDEF").unwrap()),
        ..account("K001")
    });
    let center = Center::start(&accounts, &[("sue", Role::Supervisor)], true).await;
    let dc09 = center.server.dc09_addr;

    // Panels at once over TCP, each waiting for its ACK before the next frame.
    let panels: Vec<_> = (0..PANELS)
        .map(|n| {
            tokio::spawn(async move {
                let mut tcp = TcpStream::connect(dc09).await.unwrap();
                for sequence in 1..=FRAMES_EACH {
                    let answer = exchange(&mut tcp, &burglary(&format!("A{n:03}"), sequence)).await;
                    assert_eq!(answer, MessageId::Ack);
                }
            })
        })
        .collect();
    for panel in panels {
        panel.await.unwrap();
    }
    let mut tcp = TcpStream::connect(dc09).await.unwrap();
    // Not enrolled: stored and ACKed, counted as unknown.
    for sequence in 1..=3 {
        assert_eq!(
            exchange(&mut tcp, &burglary("FFF1", sequence)).await,
            MessageId::Ack
        );
    }
    let mut bad = burglary("A000", 99);
    bad[2] = if bad[2] == b'0' { b'1' } else { b'0' };
    assert_eq!(exchange(&mut tcp, &bad).await, MessageId::Nak);
    // A plain frame for an account that must encrypt.
    assert_eq!(
        exchange(&mut tcp, &burglary("K001", 1)).await,
        MessageId::Duh
    );
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for sequence in 1..=5 {
        udp.send_to(&burglary("U001", sequence), dc09)
            .await
            .unwrap();
        let mut buffer = [0u8; 1024];
        let (n, _) = tokio::time::timeout(Duration::from_secs(10), udp.recv_from(&mut buffer))
            .await
            .expect("a UDP answer")
            .unwrap();
        assert_eq!(
            parse_frame(&buffer[..n], None).unwrap().header.id,
            MessageId::Ack
        );
    }

    let client = reqwest::Client::new();
    let wrong = client
        .post(format!("{}/api/login", center.base))
        .json(&serde_json::json!({"name": "sue", "password": "not her password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let api = common::Api {
        token: common::sign_in(&client, &center.base, "sue").await,
        client: client.clone(),
        base: center.base.clone(),
    };
    let open = center.store.alarms(AlarmState::Open).await.unwrap();
    let first = open.iter().find(|a| a.account == "A000").unwrap();
    let (status, _) = api
        .post(&format!("/api/alarms/{}/take", first.id), Value::Null)
        .await;
    assert_eq!(status, 200);

    // Loopback and no token: open to whoever reaches it.
    let scraped = client
        .get(format!("{}/metrics", center.base))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let samples = parse(&scraped.text().await.unwrap());
    let frames = |transport: &str, result: &str| {
        value(
            &samples,
            "watchpost_signals_received_total",
            &[("transport", transport), ("result", result)],
        )
    };
    let tcp_acks = (PANELS * FRAMES_EACH as usize + 3) as f64;
    assert_eq!(frames("tcp", "ack"), tcp_acks);
    assert_eq!(frames("tcp", "nak"), 1.0);
    assert_eq!(frames("tcp", "duh"), 1.0);
    assert_eq!(frames("udp", "ack"), 5.0);
    let acked = tcp_acks + 5.0;
    assert_eq!(
        value(&samples, "watchpost_ack_latency_seconds_count", &[]),
        acked
    );
    // Every ACKed frame carried one signal, each stored by one commit.
    assert_eq!(
        value(&samples, "watchpost_commit_batch_size_sum", &[]),
        acked + 1.0,
        "the take is an input of a commit too"
    );
    let commits = value(&samples, "watchpost_commit_duration_seconds_count", &[]);
    assert!(commits >= 1.0 && commits == value(&samples, "watchpost_commit_batch_size_count", &[]));
    assert_eq!(
        value(&samples, "watchpost_unknown_account_signals_total", &[]),
        3.0
    );
    assert_eq!(value(&samples, "watchpost_login_failures_total", &[]), 1.0);
    assert_eq!(
        value(&samples, "watchpost_alarm_queue_wait_seconds_count", &[]),
        1.0
    );
    // One burglary open at each panel that sent one; other kinds read 0.
    assert_eq!(
        value(&samples, "watchpost_open_alarms", &[("kind", "burglary")]),
        (PANELS + 1) as f64
    );
    assert_eq!(
        value(&samples, "watchpost_open_alarms", &[("kind", "fire")]),
        0.0
    );
    assert_eq!(
        value(&samples, "watchpost_partitions_held", &[("node", "test")]),
        f64::from(watchpost_store::PARTITIONS)
    );
    assert_eq!(value(&samples, "watchpost_commit_stalled", &[]), 0.0);
    assert!(
        samples
            .iter()
            .all(|(_, labels, _)| labels.values().all(|v| !v.starts_with('A'))),
        "no account number is a label"
    );
    center.server.stop().await.unwrap();
}

/// An HTTP center on `listen` with `token` for `/metrics`, on a fresh SQLite file.
async fn http_center(listen: &str, token: Option<&str>) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let store = watchpost_store::open(&db).await.unwrap();
    let auth = watchpost_server::auth::Auth::new(store.clone());
    for (name, role) in [("sue", Role::Supervisor), ("ann", Role::Agent)] {
        auth.add_user(name, role, common::PASSWORD, common::now())
            .await
            .unwrap();
    }
    let server = Server::start(Config {
        http: Some(listen.parse().unwrap()),
        metrics_token: token.map(|t| watchpost_server::api::MetricsToken(t.into())),
        ..common::config(&db)
    })
    .await
    .unwrap();
    (server, dir)
}

async fn scrape(client: &reqwest::Client, base: &str, bearer: Option<&str>) -> u16 {
    let mut request = client.get(format!("{base}/metrics"));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_when_one_is_set_and_a_supervisor_off_loopback() {
    let client = reqwest::Client::new();
    let (server, _dir) = http_center("127.0.0.1:0", Some("metrics-s3cret")).await;
    let base = format!("http://{}", server.http_addr.unwrap());
    assert_eq!(scrape(&client, &base, None).await, 401);
    assert_eq!(scrape(&client, &base, Some("metrics-wrong")).await, 401);
    assert_eq!(scrape(&client, &base, Some("metrics-s3cret")).await, 200);
    // The health routes need nothing.
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await.unwrap();

    // Listening beyond loopback without a token: a signed-in supervisor (or admin) only.
    let (server, _dir) = http_center("0.0.0.0:0", None).await;
    let base = format!("http://127.0.0.1:{}", server.http_addr.unwrap().port());
    assert_eq!(scrape(&client, &base, None).await, 401);
    let agent = common::sign_in(&client, &base, "ann").await;
    assert_eq!(scrape(&client, &base, Some(&agent)).await, 403);
    let supervisor = common::sign_in(&client, &base, "sue").await;
    assert_eq!(scrape(&client, &base, Some(&supervisor)).await, 200);
    server.stop().await.unwrap();
}

/// `/readyz`'s status and body.
async fn readyz(client: &reqwest::Client, base: &str) -> (u16, Value) {
    let answer = client.get(format!("{base}/readyz")).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap())
}

/// Polls `/readyz` until `done` holds for its answer (or panics after `within`).
async fn until_readyz(
    client: &reqwest::Client,
    base: &str,
    within: Duration,
    done: impl Fn(u16, &Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (status, body) = readyz(client, base).await;
        if done(status, &body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn all_ok(body: &Value) -> bool {
    ["store", "receivers", "leases", "commit_loop"]
        .iter()
        .all(|check| body[check] == "ok")
        && body["ready"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_fails_while_another_process_locks_the_sqlite_file_and_the_watchdog_sees_the_stall()
{
    let center = Center::start(&[account("4F39")], &[], true).await;
    let client = reqwest::Client::new();
    let (status, body) = readyz(&client, &center.base).await;
    assert_eq!(status, 200, "{body}");
    assert!(all_ok(&body), "{body}");

    // Another connection (as another process would) takes the write lock and keeps it.
    let db = center.dir.path().join("center.db");
    let mut locker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    let body = until_readyz(
        &client,
        &center.base,
        Duration::from_secs(10),
        |status, body| status == 503 && body["store"] != "ok",
    )
    .await;
    assert_eq!(body["ready"], false);

    // A panel's frame waits: nothing can be committed, and the watchdog says so.
    let dc09 = center.server.dc09_addr;
    let panel = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(dc09).await.unwrap();
        exchange(&mut tcp, &burglary("4F39", 1)).await
    });
    until_readyz(
        &client,
        &center.base,
        Duration::from_secs(9),
        |status, body| status == 503 && body["commit_loop"] == "stalled",
    )
    .await;

    // The lock goes: the frame is stored and ACKed, and the node is ready again.
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    assert_eq!(panel.await.unwrap(), MessageId::Ack);
    until_readyz(
        &client,
        &center.base,
        Duration::from_secs(10),
        |status, body| status == 200 && all_ok(body),
    )
    .await;
    assert_eq!(center.store.signals("4F39").await.unwrap().len(), 1);
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_on_the_same_sqlite_file_is_not_ready_while_the_first_holds_the_leases() {
    let center = Center::start(&[account("4F39")], &[], true).await;
    let db = center.dir.path().join("center.db").display().to_string();
    let second = Server::start(Config {
        node: watchpost_server::NodeConfig::new("second", &db),
        http: Some("127.0.0.1:0".parse().unwrap()),
        ..common::config(&db)
    })
    .await
    .unwrap();
    let base = format!("http://{}", second.http_addr.unwrap());
    let client = reqwest::Client::new();
    let body = until_readyz(&client, &base, Duration::from_secs(10), |status, body| {
        status == 503 && body["leases"] == "none held"
    })
    .await;
    assert_eq!(body["store"], "ok", "{body}");
    let (status, body) = readyz(&client, &center.base).await;
    assert_eq!(status, 200, "the first node drives every account: {body}");

    // The first stops: the second takes its leases over and is ready.
    center.server.stop().await.unwrap();
    until_readyz(&client, &base, Duration::from_secs(20), |status, body| {
        status == 200 && all_ok(body)
    })
    .await;
    second.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn readyz_fails_while_postgres_refuses_the_database_and_recovers_when_it_accepts_again() {
    let db = watchpost_store::testing::TestDatabase::new(&watchpost_store::testing::server_url())
        .await
        .unwrap();
    let store = watchpost_store::open(db.url()).await.unwrap();
    store.put_account(&account("4F39")).await.unwrap();
    let server = Server::start(Config {
        http: Some("127.0.0.1:0".parse().unwrap()),
        ..common::config(db.url())
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.http_addr.unwrap());
    let client = reqwest::Client::new();
    until_readyz(&client, &base, Duration::from_secs(10), |status, body| {
        status == 200 && all_ok(body)
    })
    .await;

    let name = db.url().rsplit('/').next().unwrap().to_string();
    let admin_url = format!("{}/postgres", watchpost_store::testing::server_url());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let refuse = |allow: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}");
    sqlx::query(&refuse(false))
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();
    let body = until_readyz(&client, &base, Duration::from_secs(10), |status, body| {
        status == 503 && body["store"] != "ok"
    })
    .await;
    assert_eq!(body["ready"], false);

    sqlx::query(&refuse(true))
        .execute(&mut admin)
        .await
        .unwrap();
    until_readyz(&client, &base, Duration::from_secs(20), |status, body| {
        status == 200 && all_ok(body)
    })
    .await;
    // The center kept running through it: a panel is heard again.
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    assert_eq!(
        exchange(&mut tcp, &burglary("4F39", 1)).await,
        MessageId::Ack
    );
    admin.close().await.unwrap();
    server.stop().await.unwrap();
}

/// The metric names in `text` (PromQL, JSON, Markdown), as families: without the sample
/// suffixes of counters and histograms.
fn families_named(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("watchpost_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        if rest.starts_with("::") {
            // A Rust path (a log line's target), not a metric.
            continue;
        }
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .unwrap_or(&name);
        names.insert(family.to_string());
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_readme_name_only_metrics_the_center_serves() {
    let center = Center::start(&[account("4F39")], &[], true).await;
    let text = reqwest::get(format!("{}/metrics", center.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let served: std::collections::BTreeSet<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .map(|line| line.split(' ').next().unwrap().to_string())
        .collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dashboard = std::fs::read_to_string(root.join("ops/grafana-dashboard.json")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("## Operating the center").unwrap()..];
    let section = &section[..section.find("\n## Configuration").unwrap()];
    for (what, named) in [
        ("the dashboard", families_named(&dashboard)),
        ("the README", families_named(section)),
    ] {
        assert!(named.len() >= 10, "{what}: {named:?}");
        let unknown: Vec<_> = named.difference(&served).collect();
        assert!(
            unknown.is_empty(),
            "{what} names {unknown:?}, which /metrics does not serve"
        );
    }
    assert_eq!(
        families_named(section),
        served,
        "the README lists every metric the center serves"
    );
    center.server.stop().await.unwrap();
}
