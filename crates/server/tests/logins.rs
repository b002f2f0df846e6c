//! Sign-ins against a live center (issue 13, items 2, 3 and 5): a flood of logins beyond the
//! hashing gate is refused at once with 503 and `Retry-After` while panels keep their ACKs;
//! every refusal reads the same and too many from one address get 429; supervisors see the
//! users being delayed; a disabled user's session stops at once; and an API key dies with the
//! enrolment it was made for.

mod common;

use common::{Api, Center, PASSWORD, account, sign_in};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use watchpost_server::auth::{Auth, GateConfig, LoginConfig, REFUSED, RateConfig};
use watchpost_server::{Config, Server};
use watchpost_store::{Db, Role, SqliteStore};
use watchpost_wire::{CrcForm, FixedPad, Frame, Header, MessageId, encode_frame};

/// A center with HTTP whose sign-ins are bounded by `login`, with the user `amy` (an agent,
/// `PASSWORD`, hashed at full cost) and account 4F39.
async fn start(login: LoginConfig) -> (Server, Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let store: Db = std::sync::Arc::new(SqliteStore::open(&db).await.unwrap());
    store.put_account(&account()).await.unwrap();
    Auth::new(store.clone())
        .add_user("amy", Role::Agent, PASSWORD, common::now())
        .await
        .unwrap();
    let db = db.display().to_string();
    let server = Server::start(Config {
        http: Some("127.0.0.1:0".parse().unwrap()),
        login,
        ..common::config(&db)
    })
    .await
    .unwrap();
    (server, store, dir)
}

fn base(server: &Server) -> String {
    format!("http://{}", server.http_addr.unwrap())
}

/// A plain SIA DC-09 frame from account 4F39.
fn frame(sequence: u16) -> Vec<u8> {
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: false,
            sequence,
            receiver: None,
            line: Some("0".into()),
            account: Some("4F39".into()),
        },
        data: "#4F39|NRP".into(),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    encode_frame(&frame, None, &mut FixedPad(b'7')).unwrap()
}

/// Sends a frame and waits for its ACK; how long that took.
async fn acked_within(tcp: &mut TcpStream, sequence: u16) -> Duration {
    let started = Instant::now();
    tcp.write_all(&frame(sequence)).await.unwrap();
    let mut buffer = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buffer))
        .await
        .expect("an ACK in time")
        .unwrap();
    assert!(String::from_utf8_lossy(&buffer[..n]).contains("ACK"));
    started.elapsed()
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/login"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_beyond_the_gate_gets_503_and_panels_keep_their_acks() {
    let gate = GateConfig {
        workers: 2,
        queue: 2,
        retry_after_s: 1,
    };
    let rates = RateConfig {
        per_address_per_minute: 100_000,
        overall_per_minute: 100_000,
    };
    let (server, _store, _dir) = start(LoginConfig { gate, rates }).await;
    let base = base(&server);
    let mut panel = TcpStream::connect(server.dc09_addr).await.unwrap();
    acked_within(&mut panel, 1).await;

    let client = reqwest::Client::new();
    let flood: Vec<_> = (0..30)
        .map(|n| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let name = if n % 2 == 0 { "amy" } else { "nobody" };
                login(&client, &base, name, "wrong password").await
            })
        })
        .collect();
    // A panel's ACK while the flood is being answered.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ack = acked_within(&mut panel, 2).await;
    let mut busy = 0;
    let mut checked = 0;
    for answer in flood {
        let answer = answer.await.unwrap();
        match answer.status() {
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(answer.headers()["retry-after"], "1");
                let body: Value = answer.json().await.unwrap();
                assert!(
                    body["error"].as_str().unwrap().contains("try again in 1 s"),
                    "{body}"
                );
                busy += 1;
            }
            StatusCode::UNAUTHORIZED => checked += 1,
            other => panic!("unexpected {other}"),
        }
    }
    // At most the workers and the queue were let in; the rest were refused at once.
    assert!(checked <= 4, "{checked} checked, {busy} refused");
    assert!(busy >= 26, "{checked} checked, {busy} refused");
    assert!(
        ack < Duration::from_secs(2),
        "ACK took {ack:?} during the flood"
    );
    // After the flood, signing in works again.
    sign_in(&client, &base, "amy").await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_reads_the_same_and_one_address_is_limited() {
    let rates = RateConfig {
        per_address_per_minute: 3,
        overall_per_minute: 1_000,
    };
    let (server, _store, _dir) = start(LoginConfig {
        rates,
        ..LoginConfig::default()
    })
    .await;
    let base = base(&server);
    let client = reqwest::Client::new();
    let unknown = login(&client, &base, "nobody", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown: Value = unknown.json().await.unwrap();
    let wrong = login(&client, &base, "amy", "wrong password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(unknown, wrong);
    assert_eq!(wrong["error"], REFUSED);
    sign_in(&client, &base, "amy").await;
    // The fourth sign-in this minute from this address: 429, with when to come back, and on
    // the console's form too.
    let limited = login(&client, &base, "amy", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=21).contains(&wait), "{wait}");
    let page = client
        .post(format!("{base}/login"))
        .form(&[("name", "amy"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("try again in"));
    server.stop().await.unwrap();
}

/// A flood of made-up names spends the center's bucket, never its users' sign-ins: agents
/// still sign in while made-up names are no longer hashed (and still answered as any wrong
/// password is).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_made_up_names_never_turns_away_a_user() {
    let rates = RateConfig {
        per_address_per_minute: 1_000,
        overall_per_minute: 4,
    };
    let (server, _store, _dir) = start(LoginConfig {
        rates,
        ..LoginConfig::default()
    })
    .await;
    let base = base(&server);
    let client = reqwest::Client::new();
    for n in 0..4 {
        let made_up = login(&client, &base, &format!("nobody{n}"), PASSWORD).await;
        assert_eq!(made_up.status(), StatusCode::UNAUTHORIZED);
    }
    // Past the center's bucket a made-up name is not hashed, but it is answered exactly as a
    // real name's wrong password: a 429 there would tell that the name is no user.
    let refused = login(&client, &base, "nobody9", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let made_up = refused.text().await.unwrap();
    let wrong = login(&client, &base, "amy", "not her password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text().await.unwrap(), made_up);
    for _ in 0..3 {
        sign_in(&client, &base, "amy").await;
    }
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_see_delayed_users_and_a_disabled_users_session_stops_at_once() {
    let center = Center::start(
        &[account()],
        &[("amy", Role::Agent), ("sue", Role::Supervisor)],
        true,
    )
    .await;
    let client = reqwest::Client::new();
    let amy = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: sign_in(&client, &center.base, "amy").await,
    };
    let sue = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: sign_in(&client, &center.base, "sue").await,
    };
    let (_, attention) = sue.get("/api/attention").await;
    assert_eq!(attention["throttled"], 0, "{attention}");
    for _ in 0..5 {
        let refused = login(&client, &center.base, "amy", "wrong password").await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password now waits; the supervisors are told who is being delayed.
    let refused = login(&client, &center.base, "amy", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let (_, attention) = sue.get("/api/attention").await;
    assert_eq!(attention["throttled_users"], json!(["amy"]), "{attention}");
    let banner = client
        .get(format!("{}/console/unattended", center.base))
        .header("cookie", format!("wp_session={}", sue.token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        banner.contains("delayed after repeated failed sign-ins: amy"),
        "{banner}"
    );
    let audit = center.store.audit(10).await.unwrap();
    assert_eq!(audit[0].action, "login.throttled");
    // The trail is the admins': a supervisor is refused it.
    assert_eq!(sue.get("/api/audit").await.0, StatusCode::FORBIDDEN);
    assert!(
        audit[0].detail.contains("from 127.0.0.1 waits 2 s"),
        "{audit:?}"
    );

    // The wait is 127.0.0.1's alone: from another address Amy signs in at once, and the
    // supervisors still see someone being delayed.
    let desk = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    sign_in(&desk, &center.base, "amy").await;
    let (_, attention) = sue.get("/api/attention").await;
    assert_eq!(attention["throttled_users"], json!(["amy"]), "{attention}");
    let refused = login(&client, &center.base, "amy", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // `users unlock`, run beside the server, lifts the server's wait.
    center
        .auth
        .unlock("amy", "cli:test", common::now())
        .await
        .unwrap();
    sign_in(&client, &center.base, "amy").await;
    let (_, attention) = sue.get("/api/attention").await;
    assert_eq!(attention["throttled"], 0, "{attention}");

    // Amy's session (opened before) still works, until she is disabled; her open event
    // stream ends too.
    assert_eq!(amy.get("/api/alarms").await.0, StatusCode::OK);
    let mut events = client
        .get(format!("{}/api/events", center.base))
        .bearer_auth(&amy.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    center
        .auth
        .set_disabled("amy", true, "cli:test", common::now())
        .await
        .unwrap();
    assert_eq!(amy.get("/api/alarms").await.0, StatusCode::UNAUTHORIZED);
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while events.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the disabled user's event stream is still open"
    );
    center.server.stop().await.unwrap();
}

/// The case: a key made for account 4F39, the account deleted, the number enrolled
/// again for someone else: the old key is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_dies_with_the_enrolment_it_was_made_for() {
    let center = Center::start(&[account()], &[("ada", Role::Admin)], true).await;
    let client = reqwest::Client::new();
    let ada = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: sign_in(&client, &center.base, "ada").await,
    };
    let old = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: center.api_key("4F39").await,
    };
    let (status, _) = old.post("/api/signals", json!({"sia": "RP"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let deleted = client
        .delete(format!("{}/api/accounts/4F39", center.base))
        .bearer_auth(&ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let enrolled = client
        .put(format!("{}/api/accounts/4F39", center.base))
        .bearer_auth(&ada.token)
        .json(&json!({
            "number": "4F39", "premises": "residential", "address": "9 New Rd, Springfield, IL",
            "country": "US", "region": "IL", "monitoring": "professional",
            "enrolled": "2026-01-01T00:00:00Z", "verbal_password": "red kestrel",
            "contacts": [{"name": "New Owner", "phone": "+12175550111"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(enrolled.status(), StatusCode::CREATED);
    let (status, _) = old.post("/api/signals", json!({"sia": "PA"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(center.store.api_keys(None).await.unwrap().is_empty());
    let audit = center.store.audit(10).await.unwrap();
    assert_eq!(
        (
            audit[0].actor.as_str(),
            audit[0].action.as_str(),
            audit[0].subject.as_str()
        ),
        ("admin:ada", "account.delete", "4F39")
    );

    // Replaced without deleting: an edit that keeps the enrolment time keeps the key; a new
    // enrolment (another `enrolled` time: the next customer) ends it.
    let key = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: center.api_key("4F39").await,
    };
    let put = |address: &'static str, enrolled: &'static str| {
        client
            .put(format!("{}/api/accounts/4F39", center.base))
            .bearer_auth(&ada.token)
            .json(&json!({
                "number": "4F39", "premises": "residential", "address": address,
                "country": "US", "region": "IL", "monitoring": "professional",
                "enrolled": enrolled, "verbal_password": "red kestrel",
                "contacts": [{"name": "New Owner", "phone": "+12175550111"}]
            }))
            .send()
    };
    let edited = put("9 New Road, Springfield, IL", "2026-01-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(edited.status(), StatusCode::OK);
    let (status, _) = key.post("/api/signals", json!({"sia": "RP"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "an edit keeps the key");
    let next = put("12 Elm St, Springfield, IL", "2026-06-01T00:00:00Z")
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::OK);
    let (status, _) = key.post("/api/signals", json!({"sia": "PA"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a new enrolment ends it");
    let audit = center.store.audit(1).await.unwrap();
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].action.as_str()),
        ("admin:ada", "key.revoke")
    );
    // Admins read the trail over the API too, newest first.
    let (status, trail) = ada.get("/api/audit?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    assert_eq!(trail.as_array().unwrap().len(), 2, "{trail}");
    assert_eq!(trail[0]["action"], "key.revoke", "{trail}");
    assert_eq!(trail[0]["subject"], audit[0].subject, "{trail}");
    assert!(trail[0]["at"].as_str().unwrap().ends_with('Z'), "{trail}");
    let (status, refused) = ada.get("/api/audit?limit=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "limit");
    center.server.stop().await.unwrap();
}
