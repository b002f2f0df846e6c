//! `watchpost bench api`: what agents and supervisors wait for in a storm. It starts a center
//! on a temporary SQLite file with `--open-alarms` accounts, opens one alarm at each through
//! the intake (stored and routed by the engine like any panel's signal: mostly burglaries,
//! some fires and water leaks), has one agent take every tenth (the attention thresholds set so
//! that every alarm is already unattended, as a minute into a storm), then times the routes a
//! console and an API client read over real HTTP — the queue page, the alarm list's first and
//! a deep page, the supervisor view, the attention fragments every page fetches, one alarm —
//! and prints p50 / p99 latency and the answer's size for each. README, "Storms: the queue
//! and the API".

use crate::bench::{account, percentile};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::router::Event;
use watchpost_core::{AlarmKind, Input, SignalClass};
use watchpost_store::{Role, SignalRecord};

#[derive(clap::Args, Debug, Clone)]
pub struct ApiArgs {
    /// Open alarms in the queue while the routes are timed (one per account).
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub open_alarms: u32,
    /// Requests timed per route (after one that is not counted).
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub requests: u32,
}

/// The bench's user: a supervisor (the supervisor view needs one), who also works alarms.
const USER: &str = "bench";
const PASSWORD: &str = "bench-password-1";
/// Signals submitted at once while seeding.
const SEEDERS: usize = 64;
/// The API page size timed.
const API_LIMIT: usize = 100;

pub async fn api(args: ApiArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("bench.db").display().to_string();
    let n = args.open_alarms as usize;
    enrol(&db, n).await?;
    let mut server = watchpost_server::Server::start(config(&db)?).await?;
    // Nobody places these alarms' calls; their actions are in the log.
    let (_, none) = tokio::sync::mpsc::unbounded_channel();
    let mut effects = std::mem::replace(&mut server.effects, none);
    tokio::spawn(async move { while effects.recv().await.is_some() {} });
    let seeding = Instant::now();
    seed(&server, n).await?;
    let seeded = seeding.elapsed();
    let base = format!(
        "http://{}",
        server.http_addr.expect("the bench starts the HTTP API")
    );
    let client = reqwest::Client::new();
    let token = sign_in(&client, &base).await?;
    let mut routes = vec![
        ("console queue page", "/console".to_string()),
        ("console queue refresh", "/console/queue".to_string()),
        ("console arrivals", "/console/arrivals".to_string()),
        (
            "console unattended banner",
            "/console/unattended".to_string(),
        ),
        ("supervisor view", "/console/supervisor".to_string()),
        (
            "API list, first page",
            format!("/api/alarms?limit={API_LIMIT}"),
        ),
    ];
    // The cursor is made of digits and dots: nothing to escape in a query.
    let deep = deep_cursor(&client, &base, &token, n / API_LIMIT / 2).await?;
    if !deep.is_empty() {
        routes.push((
            "API list, middle page",
            format!("/api/alarms?limit={API_LIMIT}&cursor={deep}"),
        ));
    }
    routes.push((
        "API list, full alarms",
        format!("/api/alarms?limit={API_LIMIT}&view=full"),
    ));
    let one = server.board.open_alarms()[n / 2].0;
    routes.push(("API one alarm", format!("/api/alarms/{one}")));
    routes.push(("API attention", "/api/attention".to_string()));
    out!(
        "open alarms  {} ({} taken by {USER}), seeded through the intake in {:.1?}\n\
         {:<28} {:>9} {:>9} {:>11}",
        server.board.open_count(),
        n.div_ceil(10),
        seeded,
        "route",
        "p50 ms",
        "p99 ms",
        "bytes"
    );
    for (name, path) in routes {
        let (p50, p99, bytes) = time(&client, &base, &token, &path, args.requests).await?;
        out!("{name:<28} {p50:>9.2} {p99:>9.2} {bytes:>11}");
    }
    server.stop().await?;
    Ok(())
}

fn config(db: &str) -> anyhow::Result<watchpost_server::Config> {
    Ok(watchpost_server::Config {
        node: watchpost_server::NodeConfig::new("bench-api", db),
        db: db.to_string(),
        dc09: "127.0.0.1:0".parse()?,
        http: Some("127.0.0.1:0".parse()?),
        window: watchpost_wire::Window::default(),
        settings: watchpost_core::Settings::default(),
        timezone: chrono_tz::Tz::UTC,
        recordings: watchpost_server::RecordingsConfig::beside(db),
        retention: Default::default(),
        region: watchpost_server::phone::Region::US,
        resolution_codes: Default::default(),
        limits: Default::default(),
        // Every alarm is already past its thresholds, as a minute into a storm: the banner and
        // the supervisor view list the unattended ones.
        console: watchpost_server::ConsoleConfig {
            waiting_ms: [1; 4],
            untaken_ms: [1; 4],
            idle_ms: 1,
        },
        secrets: Default::default(),
        listen: Default::default(),
        login: Default::default(),
        webhooks: Default::default(),
        metrics_token: None,
    })
}

/// The accounts `B0` … and the bench's user.
async fn enrol(db: &str, n: usize) -> anyhow::Result<()> {
    let store = watchpost_store::open(db).await?;
    let password = VerbalPassword::hash("bench", HashCost::Fast);
    let enrolled_at = watchpost_server::now_ms() - 30 * watchpost_core::account::DAY_MS;
    let accounts: Vec<_> = (0..n)
        .map(|i| account(&number(i), enrolled_at, &password))
        .collect();
    for chunk in accounts.chunks(1000) {
        store.put_accounts(chunk).await?;
    }
    watchpost_server::auth::Auth::new(store)
        .add_user(USER, Role::Supervisor, PASSWORD, watchpost_server::now_ms())
        .await?;
    Ok(())
}

fn number(i: usize) -> String {
    format!("B{i}")
}

/// One alarm per account, through the intake (`SEEDERS` signals in flight), then the bench's
/// user takes every tenth; returns once the board shows them all.
async fn seed(server: &watchpost_server::Server, n: usize) -> anyhow::Result<()> {
    let mut seeders = JoinSet::new();
    for first in 0..SEEDERS {
        let intake = server.intake.clone();
        seeders.spawn(async move {
            for i in (first..n).step_by(SEEDERS) {
                let (kind, code) = match i % 20 {
                    0 => (AlarmKind::Fire, "FA"),
                    5 => (AlarmKind::Water, "WA"),
                    _ => (AlarmKind::Burglary, "BA"),
                };
                let account = number(i);
                let signal = SignalRecord {
                    raw: format!("#{account}|N{code}1"),
                    account,
                    received_at: watchpost_server::now_ms(),
                    source: "sia".into(),
                    event: Event::Panel {
                        class: SignalClass::Alarm(kind),
                        code: code.into(),
                        zone: Some(1),
                    },
                };
                anyhow::ensure!(
                    intake.submit(vec![signal], None).await,
                    "a signal was not stored"
                );
            }
            Ok(())
        });
    }
    while let Some(done) = seeders.join_next().await {
        done??;
    }
    let shown = Instant::now() + Duration::from_secs(60);
    while server.board.open_count() < n {
        anyhow::ensure!(
            Instant::now() < shown,
            "only {} of {n} alarms opened",
            server.board.open_count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ids: Vec<_> = server
        .board
        .open_alarms()
        .iter()
        .map(|(id, _)| *id)
        .collect();
    for id in ids.into_iter().step_by(10) {
        let take = Input::Take { agent: USER.into() };
        server
            .commands
            .send(id, take, &format!("agent:{USER}"))
            .await?;
    }
    Ok(())
}

async fn sign_in(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let answer: serde_json::Value = client
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"name": USER, "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    answer["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("the bench user could not sign in: {answer}"))
}

/// A GET as the bench's user: the bearer token for the API, the session cookie for the
/// console. Returns the body's size; fails on anything but 200.
async fn get(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
) -> anyhow::Result<Vec<u8>> {
    let answer = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .header("cookie", format!("wp_session={token}"))
        .send()
        .await?;
    let status = answer.status();
    let body = answer.bytes().await?;
    anyhow::ensure!(status.is_success(), "{path}: {status}");
    Ok(body.to_vec())
}

/// The cursor `pages` pages into the API list (empty when the list has one page).
async fn deep_cursor(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    pages: usize,
) -> anyhow::Result<String> {
    let mut cursor = String::new();
    for _ in 0..pages.max(1) {
        let path = if cursor.is_empty() {
            format!("/api/alarms?limit={API_LIMIT}")
        } else {
            format!("/api/alarms?limit={API_LIMIT}&cursor={cursor}")
        };
        let page: serde_json::Value =
            serde_json::from_slice(&get(client, base, token, &path).await?)?;
        match page["next"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    Ok(cursor)
}

/// p50 and p99 in milliseconds over `requests` GETs of `path` (after one not counted), and
/// the answer's size in bytes.
async fn time(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    requests: u32,
) -> anyhow::Result<(f64, f64, usize)> {
    let bytes = get(client, base, token, path).await?.len();
    let mut took = Vec::new();
    for _ in 0..requests {
        let start = Instant::now();
        get(client, base, token, path).await?;
        took.push(start.elapsed().as_micros() as u64);
    }
    took.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    Ok((
        ms(percentile(&took, 0.50)),
        ms(percentile(&took, 0.99)),
        bytes,
    ))
}
