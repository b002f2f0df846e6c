//! A restart in the middle of a protocol: an agent works a burglary (contact 1 went to
//! voicemail, contact 2's call is due), the center is killed with SIGKILL and started again;
//! the alarm resumes exactly there — the call to contact 2 is still the one to make, nothing
//! is asked for twice — and the agent finishes it to `canceled_by_contact`.

mod common;

use common::{BIN, Server, free_addr};
use reqwest::Client;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const ACCOUNT: &str = r#"
[account]
number = "4F39"
premises = "residential"
address = "12 Elm St, Springfield, IL 62701"
country = "US"
region = "IL"
monitoring = "professional"
enrolled = "2025-01-01T00:00:00Z"
verbal_password = "blue falcon"
[[account.contacts]]
name = "Ann Lee"
phone = "+15555550101"
[[account.contacts]]
name = "Bob Lee"
phone = "+15555550102"
"#;

fn watchpost(args: &[&str], stdin: &str) -> String {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "watchpost {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Agent {
    client: Client,
    base: String,
    token: String,
}

impl Agent {
    async fn login(base: String) -> Agent {
        let client = Client::new();
        let login: Value = client
            .post(format!("{base}/api/login"))
            .json(&json!({"name": "amy", "password": "correct horse battery"}))
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

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn alarm(&self, id: i64) -> Value {
        self.client
            .get(format!("{}/api/alarms/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// How many times the engine asked for a call to be placed, from the alarm's stored log.
async fn place_call_actions(db: &std::path::Path, id: i64) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM alarm_events WHERE alarm_id = ? AND body LIKE '%\"action\":\"place_call\"%'",
    )
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_center_resumes_a_burglary_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let file = dir.path().join("account.toml");
    std::fs::write(&file, ACCOUNT).unwrap();
    let db_arg = db.to_str().unwrap();
    watchpost(
        &["accounts", "import", file.to_str().unwrap(), "--db", db_arg],
        "",
    );
    watchpost(
        &["users", "add", "amy", "--role", "agent", "--db", db_arg],
        "correct horse battery\n",
    );
    let key = watchpost(&["keys", "add", "--account", "4F39", "--db", db_arg], "")
        .trim()
        .to_string();

    let (dc09, http) = (free_addr(), free_addr());
    let ready = Duration::from_secs(20);
    let mut first = Server::start_with_http(dir.path(), &db, dc09, http, "first", ready);
    let base = format!("http://{http}");
    let signal = Client::new()
        .post(format!("{base}/api/signals"))
        .bearer_auth(&key)
        .json(&json!({"sia": "BA003"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signal.status().as_u16(), 202);
    let agent = Agent::login(base.clone()).await;
    let queue: Value = agent
        .client
        .get(format!("{base}/api/alarms"))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = queue["alarms"][0]["id"]
        .as_i64()
        .expect("the burglary is queued");
    agent
        .post(&format!("/api/alarms/{id}/take"), json!({}))
        .await;
    let outcome = |call: u32| format!("/api/alarms/{id}/calls/{call}/outcome");
    agent.post(&outcome(0), json!({"outcome": "placed"})).await;
    let after_voicemail = agent
        .post(&outcome(0), json!({"outcome": "voicemail"}))
        .await;
    assert!(
        after_voicemail["next_step"]
            .as_str()
            .unwrap()
            .contains("Bob Lee")
    );
    assert_eq!(place_call_actions(&db, id).await, 2);

    first.kill();
    let second = Server::start_with_http(dir.path(), &db, dc09, http, "second", ready);
    let agent = Agent::login(base).await;
    let resumed = agent.alarm(id).await;
    assert!(resumed["closed_at"].is_null(), "still open: {resumed}");
    assert_eq!(resumed["handler"], "amy", "still amy's");
    assert!(
        resumed["next_step"]
            .as_str()
            .unwrap()
            .contains("Call Bob Lee"),
        "{}",
        resumed["next_step"]
    );
    assert_eq!(
        place_call_actions(&db, id).await,
        2,
        "no call was asked for again on restart"
    );

    agent.post(&outcome(1), json!({"outcome": "placed"})).await;
    agent
        .post(&outcome(1), json!({"outcome": "answered"}))
        .await;
    let checked = agent
        .post(
            &format!("/api/alarms/{id}/calls/1/password"),
            json!({"password": "blue falcon"}),
        )
        .await;
    assert_eq!(checked["matched"], true);
    let done = agent
        .post(
            &format!("/api/alarms/{id}/calls/1/decision"),
            json!({"decision": "cancel"}),
        )
        .await;
    assert_eq!(done["disposition"], "canceled_by_contact");
    let calls: Vec<(String, String)> = done["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["to"].to_string(), c["result"].to_string()))
        .collect();
    assert_eq!(calls.len(), 2, "one call each, none repeated: {calls:?}");
    drop(second);
}
