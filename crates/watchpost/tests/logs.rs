//! The log of a full run (issue 15, item 3): `watchpost serve` at debug level with JSON lines
//! (`log.format` from its configuration file) through a center's day — encrypted DC-09
//! frames under an account key, a user's sign-in and a wrong one, an API key's signal, a
//! verbal-password check, `/metrics` with its token — and no secret it used appears in it,
//! while alarm and account ids do appear as fields.

mod common;

use common::{MASTER_KEY, Options, Server, account_toml, cli, enrol, free_addr};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use watchpost_wire::{CrcForm, Frame, Header, Key, MessageId, RngPad, encode_frame};

const DC09_KEY: &str = "Q7w9Z2x4P6n8R1t3";
const USER_PASSWORD: &str = "Tr0ub4dor&3-secret";
const WRONG_PASSWORD: &str = "hunter2-wrong-pw";
const VERBAL: &str = "blue falcon";
const METRICS_TOKEN: &str = "mt-0f5e1d7c3b9a";

fn encrypted_burglary(sequence: u16) -> Vec<u8> {
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: true,
            sequence,
            receiver: None,
            line: Some("0".into()),
            account: Some("5A11".into()),
        },
        data: "#5A11|Nri1/BA01".into(),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    let key = Key::from_ascii(DC09_KEY).unwrap();
    encode_frame(&frame, Some(&key), &mut RngPad(rand::thread_rng())).unwrap()
}

#[test]
fn a_full_run_at_debug_level_logs_json_lines_with_ids_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    enrol(
        dir.path(),
        &db,
        &account_toml("5A11", &format!("dc09_key_ascii = \"{DC09_KEY}\"")),
    );
    cli(
        &[
            "users",
            "add",
            "sue",
            "--role",
            "supervisor",
            "--db",
            db_arg,
        ],
        &format!("{USER_PASSWORD}\n"),
    );
    let api_key = cli(
        &[
            "keys",
            "add",
            "--account",
            "5A11",
            "--label",
            "app",
            "--db",
            db_arg,
        ],
        "",
    );
    let api_key = api_key.trim().to_string();
    let config = dir.path().join("center.toml");
    std::fs::write(
        &config,
        "[metrics]\ntoken_env = \"WP_METRICS_TOKEN\"\n\n[log]\nformat = \"json\"\n",
    )
    .unwrap();
    let (addr, http) = (free_addr(), free_addr());
    let config_arg = config.to_str().unwrap();
    let mut server = Server::start_with_options(
        dir.path(),
        &db,
        addr,
        http,
        "serve",
        Options {
            args: &["--config", config_arg],
            env: &[("RUST_LOG", "debug"), ("WP_METRICS_TOKEN", METRICS_TOKEN)],
            ready_within: Duration::from_secs(30),
        },
    );

    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for sequence in 1..=2 {
        tcp.write_all(&encrypted_burglary(sequence)).unwrap();
        let mut reply = [0u8; 512];
        assert!(tcp.read(&mut reply).unwrap() > 0, "an answer");
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let session = runtime.block_on(async {
        let client = reqwest::Client::new();
        let base = format!("http://{http}");
        let post = |path: &str, token: Option<&str>, body: Value| {
            let mut request = client.post(format!("{base}{path}")).json(&body);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let wrong = post(
            "/api/login",
            None,
            json!({"name": "sue", "password": WRONG_PASSWORD}),
        )
        .await
        .unwrap();
        assert_eq!(wrong.status(), 401);
        let login: Value = post(
            "/api/login",
            None,
            json!({"name": "sue", "password": USER_PASSWORD}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let session = login["token"].as_str().unwrap().to_string();
        let signal = post("/api/signals", Some(&api_key), json!({"sia": "BA003"}))
            .await
            .unwrap();
        assert!(
            signal.status().is_success(),
            "{}",
            signal.text().await.unwrap()
        );
        let queue: Value = client
            .get(format!("{base}/api/alarms"))
            .bearer_auth(&session)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = queue["alarms"][0]["id"].as_i64().unwrap();
        for (path, body) in [
            (format!("/api/alarms/{id}/take"), json!({})),
            (
                format!("/api/alarms/{id}/calls/0/outcome"),
                json!({"outcome": "placed"}),
            ),
            (
                format!("/api/alarms/{id}/calls/0/outcome"),
                json!({"outcome": "answered"}),
            ),
            (
                format!("/api/alarms/{id}/calls/0/password"),
                json!({"password": VERBAL}),
            ),
        ] {
            let answer = post(&path, Some(&session), body).await.unwrap();
            assert_eq!(
                answer.status(),
                200,
                "{path}: {}",
                answer.text().await.unwrap()
            );
        }
        let metrics = client
            .get(format!("{base}/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(metrics.status(), 200);
        session
    });
    server.terminate(Duration::from_secs(20));

    let log = std::fs::read_to_string(dir.path().join("serve.stderr")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"),
        "the run logged at debug level"
    );
    assert!(
        lines.iter().any(|l| l["fields"]["alarm"].is_number()),
        "alarm ids are fields: {log}"
    );
    let key_hex: String = DC09_KEY.bytes().map(|b| format!("{b:02x}")).collect();
    let lower = log.to_lowercase();
    for secret in [
        DC09_KEY,
        &key_hex,
        MASTER_KEY,
        USER_PASSWORD,
        WRONG_PASSWORD,
        VERBAL,
        METRICS_TOKEN,
        &session,
        &api_key,
    ] {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "the log holds the secret {secret:?}"
        );
    }
}
