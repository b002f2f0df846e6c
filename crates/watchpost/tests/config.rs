//! `watchpost serve --config FILE`: a full configuration file is applied by the real server
//! (the voicemail an agent leaves says the configured center's name and number, the console
//! shows its time zone), every option overrides its key, and every bad file is refused at
//! start with one line naming the key.

mod common;

use common::{BIN, Server, account_toml, cli, enrol, free_addr};
use reqwest::Client;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const READY: Duration = Duration::from_secs(20);

/// A configuration file with every table, for a center on `db` listening on `dc09` and
/// `http`.
fn center_toml(db: &Path, dc09: SocketAddr, http: SocketAddr) -> String {
    format!(
        r#"
[center]
name = "Acme Monitoring"
callback_number = "+15555550177"
timezone = "America/Chicago"

[database]
url = "{}"

[receiver]
listen = "{dc09}"
window_past = "60s"
window_future = 30

[http]
listen = "{http}"

[alarms]
follow_up = "90m"

[cluster]
node = "acme-1"
lease = "8s"
"#,
        db.display()
    )
}

/// `serve` with the master key `enrol` imported with (the accounts' verbal passwords are
/// keyed with the center's pepper, which opens only with it).
fn serve(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("WATCHPOST_MASTER_KEY", common::MASTER_KEY)
        .arg("serve")
        .args(args);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_file_names_the_center_in_its_voicemails() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    enrol(dir.path(), &db, &account_toml("4F39", ""));
    let db_arg = db.to_str().unwrap();
    cli(
        &["users", "add", "amy", "--role", "agent", "--db", db_arg],
        "correct horse battery\n",
    );
    let key = cli(&["keys", "add", "--account", "4F39", "--db", db_arg], "")
        .trim()
        .to_string();
    let (dc09, http) = (free_addr(), free_addr());
    let config = dir.path().join("center.toml");
    std::fs::write(&config, center_toml(&db, dc09, http)).unwrap();

    let server = Server::spawn(
        dir.path(),
        serve(&["--config", config.to_str().unwrap()]),
        dc09,
        http,
        "serve",
        READY,
    );
    let started = server.stdout_text();
    assert!(started.contains("node acme-1 (leases of 8s)"), "{started}");
    assert!(
        started.contains(&format!("console on http://{http}/")),
        "{started}"
    );

    let base = format!("http://{http}");
    let client = Client::new();
    let signal = client
        .post(format!("{base}/api/signals"))
        .bearer_auth(&key)
        .json(&json!({"sia": "BA003"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signal.status().as_u16(), 202);
    let login: Value = client
        .post(format!("{base}/api/login"))
        .json(&json!({"name": "amy", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("signed in").to_string();
    let get = |path: String| client.get(format!("{base}{path}")).bearer_auth(&token);
    let queue: Value = get("/api/alarms".into())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = queue["alarms"][0]["id"]
        .as_i64()
        .expect("the burglary is queued");
    let post = |path: String, body: Value| {
        client
            .post(format!("{base}/api/alarms/{id}{path}"))
            .bearer_auth(&token)
            .json(&body)
    };
    for (path, body) in [
        ("/take".to_string(), json!({})),
        ("/calls/0/outcome".into(), json!({"outcome": "placed"})),
        ("/calls/0/outcome".into(), json!({"outcome": "voicemail"})),
    ] {
        let answer = post(path.clone(), body).send().await.unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
    }
    let page = client
        .get(format!("{base}/console/alarms/{id}"))
        .header("Cookie", format!("wp_session={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("This is Acme Monitoring with an urgent message"),
        "{page}"
    );
    assert!(
        page.contains("Again, our number is +15555550177."),
        "{page}"
    );
    assert!(!page.contains("watchpost monitoring center"));
    // America/Chicago is UTC-6 or UTC-5: the signal's time says which.
    assert!(
        page.contains(" CST") || page.contains(" CDT"),
        "times in the center's zone: {page}"
    );
}

#[test]
fn each_option_overrides_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    enrol(dir.path(), &db, &account_toml("4F39", ""));
    let (dc09, http) = (free_addr(), free_addr());
    let config = dir.path().join("center.toml");
    // The file names another database, other ports and another node.
    let elsewhere = dir.path().join("elsewhere.db");
    std::fs::write(&config, center_toml(&elsewhere, free_addr(), free_addr())).unwrap();
    let (dc09_arg, http_arg) = (dc09.to_string(), http.to_string());
    let mut server = Server::spawn(
        dir.path(),
        serve(&[
            "--config",
            config.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--dc09",
            &dc09_arg,
            "--http",
            &http_arg,
            "--node",
            "override-1",
            "--lease",
            "12",
        ]),
        dc09,
        http,
        "serve",
        READY,
    );
    let started = server.stdout_text();
    assert!(
        started.contains(&format!(
            "database {}, node override-1 (leases of 12s)",
            db.display()
        )),
        "{started}"
    );
    assert!(
        started.contains(&format!("console on http://{http}/")),
        "{started}"
    );
    assert!(!elsewhere.exists(), "the file's database was not used");
    assert!(server.terminate(Duration::from_secs(10)).success());
}

/// Runs `serve --config` on `text` (plus `args`); it must refuse to start with exactly one
/// line on stderr. Returns that line.
fn refused(dir: &Path, text: &str, args: &[&str]) -> String {
    let config = dir.join("refused.toml");
    std::fs::write(&config, text).unwrap();
    let out = serve(&[&["--config", config.to_str().unwrap()], args].concat())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{text:?} was refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(out.stdout.is_empty(), "nothing started: {text:?}");
    stderr.trim_end().to_string()
}

#[test]
fn a_bad_file_is_refused_in_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refused.toml");
    let file = path.display().to_string();
    let center = "[center]\nname = \"Acme\"\ncallback_number = \"+15555550177\"\n";
    let cases = [
        (
            "[center]\ncallback_number = \"555-0199\"".to_string(),
            format!(
                "watchpost: {file}: center.callback_number: \"555-0199\" is not an E.164 number (like +15555550199)"
            ),
        ),
        (
            format!("{center}timezone = \"Chicago\""),
            format!(
                "watchpost: {file}: center.timezone: \"Chicago\" is not an IANA time zone name"
            ),
        ),
        (
            format!("{center}[receiver]\nwindow_past = \"a while\""),
            format!("watchpost: {file}: receiver.window_past: \"a while\" is not a duration"),
        ),
        (
            format!("{center}[http]\nlisten = \"8080\""),
            format!("watchpost: {file}: http.listen: "),
        ),
        (
            format!("{center}[cluster]\nlease = \"500ms\""),
            "watchpost: cluster.lease (--lease) 500ms: must be at least 1s".to_string(),
        ),
        (
            format!("{center}callbak_number = \"+15555550177\""),
            format!("watchpost: {file}: center.callbak_number: unknown field `callbak_number`"),
        ),
        (
            format!("{center}[telephony]\nprovider = \"sip\""),
            format!("watchpost: {file}: telephony.provider: unknown field `provider`"),
        ),
        (
            format!("{center}[database]\nurl = \"postgres://watchpost:hunter2@db/center\""),
            format!("watchpost: {file}: database.url: the URL holds a password"),
        ),
        (
            format!("{center}[database]\npassword = \"hunter2\""),
            format!("watchpost: {file}: database.password: secrets are never read"),
        ),
        (
            "[center]\nname = \"Acme\"".to_string(),
            "watchpost: center.callback_number is not set".to_string(),
        ),
        (
            format!("{center}[http]\ntls_cert = \"cert.pem\""),
            "watchpost: http.tls_key: is not set, and http.tls_cert needs it".to_string(),
        ),
        (
            format!("{center}[receiver]\nmax_connections = 10\nmax_per_source = 20"),
            "watchpost: receiver.max_per_source: 20 is more than receiver.max_connections"
                .to_string(),
        ),
    ];
    for (text, expected) in cases {
        let line = refused(dir.path(), &text, &["--db", "never.db"]);
        assert!(
            line.starts_with(&expected),
            "{text:?}:\n{line}\nnot\n{expected}"
        );
        assert!(!line.contains("hunter2"), "{line}");
    }
    assert!(!dir.path().join("never.db").exists());
    assert!(!Path::new("never.db").exists());

    // A bad option is refused naming it, before anything starts.
    std::fs::write(&path, center).unwrap();
    let out = serve(&["--config", &file, "--callback-number", "0199"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'--callback-number <CALLBACK_NUMBER>': \"0199\" is not an E.164 number"),
        "{stderr}"
    );

    let missing = dir.path().join("missing.toml");
    let out = serve(&["--config", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "watchpost: {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
}
