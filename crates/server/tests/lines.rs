//! Calls to the center waiting for an alarm, on a real server over loopback: the console and
//! `GET /api/lines` show a waiting call, an agent attaches it to an alarm (a callback on it),
//! every refusal names its field, and agents find a caller's accounts by phone. A silent alarm
//! is never offered. The calls are registered as the SIP telephony registers them.

mod common;

use common::{Api, Center, account};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_core::account::Contact;
use watchpost_server::lines::Candidate;
use watchpost_store::Role;

impl Api {
    /// A console page, as the signed-in browser gets it.
    async fn page(&self, path: &str) -> String {
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("wp_session={}", self.token))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Accounts 4F39 (Ann and Bob Lee), 5A11 (the same two) and 7B22 (Cal Roe only); a burglary
/// on 4F39 is alarm 1, a duress (silent) alarm on 5A11 is alarm 2.
async fn center() -> (Center, Api) {
    let mut second = account();
    second.number = "5A11".into();
    let mut third = account();
    third.number = "7B22".into();
    third.contacts = vec![Contact {
        name: "Cal Roe".into(),
        phone: "+15555550177".into(),
        phone2: None,
    }];
    let center = Center::start(&[account(), second, third], &[("amy", Role::Agent)], true).await;
    let client = Client::new();
    for (number, sia) in [("4F39", "BA003"), ("5A11", "HA001")] {
        let app = Api {
            client: client.clone(),
            base: center.base.clone(),
            token: center.api_key(number).await,
        };
        let (status, body) = app.post("/api/signals", json!({ "sia": sia })).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    let api = Api {
        token: common::sign_in(&client, &center.base, "amy").await,
        client,
        base: center.base.clone(),
    };
    for _ in 0..100 {
        if center.server.board.open_alarms().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open = center.server.board.open_alarms();
    assert_eq!(open.len(), 2);
    assert_eq!(open.iter().filter(|(_, a)| a.is_silent()).count(), 1);
    assert!(!open.iter().any(|(id, a)| *id == 1 && a.is_silent()));
    (center, api)
}

fn ann(alarm: i64) -> Candidate {
    Candidate {
        alarm,
        contact: 0,
        name: "Ann Lee".into(),
        account: "4F39".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_attaches_a_waiting_call_to_an_alarm() {
    let (center, api) = center().await;
    let lines = &center.server.lines;
    let mut events = api
        .client
        .get(format!("{}/api/events", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let call = lines.register(Some("+15555550101".into()), common::now(), vec![ann(1)]);
    let attached = call.attached();
    let event = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("a live event")
        .unwrap()
        .unwrap();
    let event = String::from_utf8_lossy(&event);
    assert!(event.contains("event: line"), "{event}");

    let (status, listed) = api.get("/api/lines").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["lines"][0]["caller"], "+15555550101", "{listed}");
    assert_eq!(listed["lines"][0]["candidates"][0]["alarm"], 1, "{listed}");
    assert_eq!(listed["lines"][0]["candidates"][0]["name"], "Ann Lee");
    let page = api.page("/console").await;
    assert!(page.contains("Calls to the center"), "{page}");
    assert!(page.contains("About alarm #1 — Ann Lee (4F39)"), "{page}");
    assert!(!page.contains("About alarm #2"), "{page}");

    let id = call.id();
    let path = format!("/api/lines/{id}/attach");
    let attach = |body: Value| api.post(&path, body);
    let refusals = [
        (
            json!({"alarm": 99, "contact": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "alarm",
        ),
        (
            json!({"alarm": 1, "contact": 7}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contact",
        ),
        (
            json!({"alarm": 2, "contact": 0}),
            StatusCode::CONFLICT,
            "alarm",
        ),
        (
            json!({"alarm": 1, "contact": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "contact",
        ),
    ];
    for (body, status, field) in refusals {
        let (got, refused) = attach(body.clone()).await;
        assert_eq!(
            (got, refused["field"].as_str()),
            (status, Some(field)),
            "{body}: {refused}"
        );
        assert!(refused["error"].is_string(), "{refused}");
    }
    let (status, refused) = api
        .post("/api/lines/99/attach", json!({"alarm": 1, "contact": 0}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("line 99"),
        "{refused}"
    );
    assert_eq!(*attached.borrow(), None, "refusals attach nothing");

    // The agent knows better than the matcher: it is Bob, the alarm's second contact.
    let (status, done) = attach(json!({"alarm": 1, "contact": 1})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let call_id = done["call"].as_i64().unwrap();
    assert_eq!(*attached.borrow(), Some((1, call_id as u32)));
    assert_eq!(done["alarm"]["callbacks"][0]["from"], "Bob Lee", "{done}");
    let (status, again) = attach(json!({"alarm": 1, "contact": 1})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(
        again["error"].as_str().unwrap().contains("already"),
        "{again}"
    );
    let (_, listed) = api.get("/api/lines").await;
    assert_eq!(
        listed["lines"],
        json!([]),
        "an attached call no longer waits"
    );

    // A call that ended cannot be attached.
    drop(call);
    let (status, _) = attach(json!({"alarm": 1, "contact": 0})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_find_a_callers_accounts_by_phone() {
    let (center, api) = center().await;
    let (status, found) = api.get("/api/accounts?phone=(555)%20555-0101").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["phone"], "+15555550101");
    let accounts = found["accounts"].as_array().unwrap();
    let numbers: Vec<&str> = accounts
        .iter()
        .map(|a| a["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["4F39", "5A11"], "{found}");
    assert_eq!(
        accounts[0]["contacts"],
        json!([{"index": 0, "name": "Ann Lee"}])
    );
    assert_eq!(accounts[0]["address"], "12 Elm St, Springfield, IL 62701");
    assert_eq!(accounts[0]["open_alarms"][0]["id"], 1, "{found}");
    assert_eq!(accounts[0]["open_alarms"][0]["contacts"][0]["index"], 0);
    assert_eq!(
        accounts[1]["open_alarms"],
        json!([]),
        "a silent alarm is never offered"
    );

    let (_, found) = api.get("/api/accounts?phone=%2B15555550177").await;
    assert_eq!(found["accounts"][0]["number"], "7B22", "{found}");
    assert_eq!(found["accounts"][0]["open_alarms"], json!([]));
    let (_, found) = api.get("/api/accounts?phone=555-555-0199").await;
    assert_eq!(found["accounts"], json!([]), "not enrolled: {found}");
    let (status, refused) = api.get("/api/accounts?phone=ann").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "phone");

    // The console's search for a waiting call with no candidate.
    let call = center.server.lines.register(None, common::now(), vec![]);
    let page = api.page("/console").await;
    assert!(page.contains("withheld"), "{page}");
    assert!(page.contains("Search accounts by phone"), "{page}");
    let found = api
        .page(&format!(
            "/console/lines/{}/search?phone=5555550101",
            call.id()
        ))
        .await;
    assert!(found.contains("About alarm #1 — Ann Lee (4F39)"), "{found}");
    assert!(
        found.contains("5A11") && !found.contains("alarm #2"),
        "{found}"
    );
}
