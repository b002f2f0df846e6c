//! The HTTP API on a real server over loopback: an agent logs in and works a burglary from an
//! app signal to `canceled_by_contact` — voicemail for contact 1, a wrong then a right
//! password from contact 2, a cancel — while live events arrive; refusals name their field.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_core::Settings;
use watchpost_core::account::{Account, Contact, DAY_MS, Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_server::auth::Auth;
use watchpost_server::{Config, Server};
use watchpost_store::{Role, SqliteStore, Store};
use watchpost_wire::Window;

fn account() -> Account {
    Account {
        number: "4F39".into(),
        premises: Premises::Residential,
        address: "12 Elm St, Springfield, IL".into(),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::Professional,
        enrolled_at: chrono::Utc::now().timestamp_millis() - 30 * DAY_MS,
        verbal_password: VerbalPassword::hash("blue falcon", HashCost::Fast),
        responder: Responder::Police,
        test_until: None,
        contacts: vec![
            Contact {
                name: "Ann Lee".into(),
                phone: "+15555550101".into(),
            },
            Contact {
                name: "Bob Lee".into(),
                phone: "+15555550102".into(),
            },
        ],
        zones: vec![],
        dc09_key: None,
        supervision_ms: None,
    }
}

struct Api {
    client: Client,
    base: String,
    token: String,
}

impl Api {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_works_a_burglary_to_canceled_by_contact() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let store = SqliteStore::open(&db).await.unwrap();
    store.put_account(&account()).await.unwrap();
    let auth = Auth::new(store.clone());
    let now = chrono::Utc::now().timestamp_millis();
    auth.add_user("amy", Role::Agent, "correct horse battery", now)
        .await
        .unwrap();
    let key = auth.issue_api_key("4F39", "app", now).await.unwrap();
    let server = Server::start(Config {
        db,
        dc09: "127.0.0.1:0".parse().unwrap(),
        http: Some("127.0.0.1:0".parse().unwrap()),
        window: Window::default(),
        settings: Settings::default(),
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.http_addr.unwrap());
    let client = Client::new();

    // Logging in.
    let wrong = client
        .post(format!("{base}/api/login"))
        .json(&json!({"name": "amy", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let unauthenticated = client
        .get(format!("{base}/api/alarms"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let login: Value = client
        .post(format!("{base}/api/login"))
        .json(&json!({"name": "amy", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api = Api {
        client: client.clone(),
        base: base.clone(),
        token: login["token"].as_str().unwrap().to_string(),
    };
    let openapi: Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["paths"]["/api/signals"].is_object());

    // Live events, then the app's signal.
    let mut events = client
        .get(format!("{base}/api/events"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let app = Api {
        client: client.clone(),
        base: base.clone(),
        token: key,
    };
    let (status, refused) = app.post("/api/signals", json!({"sia": "B"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "sia");
    let (status, refused) = app
        .post("/api/signals", json!({"sia": "BA003", "zone": 1}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("zone"));
    let (status, _) = app.post("/api/signals", json!({"sia": "BA003"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("an event in time")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("event: alarm"));

    // The queue, and the alarm's next step.
    let (_, queue) = api.get("/api/alarms").await;
    let alarm = &queue["alarms"][0];
    assert_eq!(alarm["kind"], "burglary");
    assert_eq!(alarm["priority"], 2);
    assert!(alarm["next_step"].as_str().unwrap().contains("Ann Lee"));
    assert!(
        !alarm.to_string().contains("argon2"),
        "no password hash is ever sent"
    );
    let id = alarm["id"].as_i64().unwrap();

    let (status, _) = api.post(&format!("/api/alarms/{id}/take"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let outcome = |call: u32, outcome: &str| {
        (
            format!("/api/alarms/{id}/calls/{call}/outcome"),
            json!({ "outcome": outcome }),
        )
    };
    for (call, what) in [
        (0, "placed"),
        (0, "voicemail"),
        (1, "placed"),
        (1, "answered"),
    ] {
        let (path, body) = outcome(call, what);
        let (status, view) = api.post(&path, body).await;
        assert_eq!(status, StatusCode::OK, "{what}: {view}");
    }
    let (status, refused) = api
        .post(
            &format!("/api/alarms/{id}/calls/1/outcome"),
            json!({"outcome": "maybe"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "outcome");
    let password = format!("/api/alarms/{id}/calls/1/password");
    let (_, checked) = api.post(&password, json!({"password": "red falcon"})).await;
    assert_eq!(checked, json!({"matched": false}));
    let (_, checked) = api
        .post(&password, json!({"password": " Blue  FALCON "}))
        .await;
    assert_eq!(checked, json!({"matched": true}));
    let (status, done) = api
        .post(
            &format!("/api/alarms/{id}/calls/1/decision"),
            json!({"decision": "cancel"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["disposition"], "canceled_by_contact");
    let calls: Vec<(&str, &str)> = done["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["to"].as_str().unwrap(), c["result"].as_str().unwrap()))
        .collect();
    assert_eq!(calls, [("Ann Lee", "voicemail"), ("Bob Lee", "answered")]);

    // Closed now: gone from the queue, listed among the closed, and nothing more to do.
    let (_, open) = api.get("/api/alarms").await;
    assert_eq!(open["alarms"].as_array().unwrap().len(), 0);
    let (_, closed) = api.get("/api/alarms?state=closed").await;
    assert_eq!(closed["alarms"][0]["disposition"], "canceled_by_contact");
    assert!(closed["alarms"][0]["closed_at"].is_string());
    let (status, _) = api
        .post(&format!("/api/alarms/{id}/notes"), json!({"text": "late"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, refused) = api.get("/api/alarms?state=maybe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "state");
    server.stop().await.unwrap();
}
