//! The rules that make the live center safe to work under pressure (issue 12), through the
//! JSON API as any client would use it: only the handler acts and a supervisor may take over,
//! a cancel needs the password matched on that call, closing needs a resolution code (and a
//! reason without an incident number), nothing from the premises cancels while a duress alarm
//! is open at the account, and a cancellation after dispatch is a task until an agent confirms
//! whom they told.

mod common;

use common::{Api, Center, account};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_store::Role;

struct Desk {
    center: Center,
    app: Api,
    amy: Api,
    bob: Api,
    sue: Api,
}

async fn desk() -> Desk {
    let users = [
        ("amy", Role::Agent),
        ("bob", Role::Agent),
        ("sue", Role::Supervisor),
    ];
    let center = Center::start(&[account()], &users, true).await;
    let client = Client::new();
    let base = center.base.clone();
    let api = |token: String| Api {
        client: client.clone(),
        base: base.clone(),
        token,
    };
    Desk {
        app: api(center.api_key("4F39").await),
        amy: api(common::sign_in(&client, &base, "amy").await),
        bob: api(common::sign_in(&client, &base, "bob").await),
        sue: api(common::sign_in(&client, &base, "sue").await),
        center,
    }
}

impl Desk {
    /// Posts a SIA event as the account's app would; waits until the queue shows `alarms`
    /// alarms and returns them, oldest first.
    async fn signal(&self, sia: &str, alarms: usize) -> Vec<Value> {
        let (status, body) = self.app.post("/api/signals", json!({ "sia": sia })).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        for _ in 0..100 {
            let (_, list) = self.amy.get("/api/alarms").await;
            let mut list = list["alarms"].as_array().cloned().unwrap_or_default();
            if list.len() == alarms {
                list.sort_by_key(|a| a["id"].as_i64());
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the queue never showed {alarms} alarms after {sia}");
    }

    async fn alarm(&self, id: i64) -> Value {
        let (status, alarm) = self.amy.get(&format!("/api/alarms/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{alarm}");
        alarm
    }
}

fn id(alarm: &Value) -> i64 {
    alarm["id"].as_i64().unwrap()
}

async fn outcome(api: &Api, alarm: i64, call: u32, outcome: &str) -> (StatusCode, Value) {
    let path = format!("/api/alarms/{alarm}/calls/{call}/outcome");
    api.post(&path, json!({ "outcome": outcome })).await
}

/// `api`'s agent takes the alarm and reaches a person on its first call (call 0).
async fn talking(api: &Api, alarm: i64) {
    api.post(&format!("/api/alarms/{alarm}/take"), json!({}))
        .await;
    outcome(api, alarm, 0, "placed").await;
    outcome(api, alarm, 0, "answered").await;
}

async fn password(api: &Api, alarm: i64, call: u32, said: &str) -> (StatusCode, Value) {
    let path = format!("/api/alarms/{alarm}/calls/{call}/password");
    api.post(&path, json!({ "password": said })).await
}

async fn decide(api: &Api, alarm: i64, call: u32, decision: &str) -> (StatusCode, Value) {
    let path = format!("/api/alarms/{alarm}/calls/{call}/decision");
    api.post(&path, json!({ "decision": decision })).await
}

fn events(alarm: &Value) -> Vec<(String, String, String)> {
    alarm["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (s("event"), s("detail"), s("by"))
        })
        .collect()
}

#[tokio::test]
async fn only_the_handler_acts_and_a_supervisor_may_take_it_over() {
    let d = desk().await;
    let alarm = id(&d.signal("BA003", 1).await[0]);
    let take = format!("/api/alarms/{alarm}/take");

    // Nobody has taken it: nobody acts on it.
    let (status, refused) = outcome(&d.bob, alarm, 0, "placed").await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["field"], "alarm");
    assert!(refused["error"].as_str().unwrap().contains("take it first"));

    assert_eq!(d.amy.post(&take, json!({})).await.0, StatusCode::OK);
    let (status, refused) = d.bob.post(&take, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        refused["error"].as_str().unwrap().contains("amy"),
        "{refused}"
    );
    assert_eq!(outcome(&d.amy, alarm, 0, "placed").await.0, StatusCode::OK);
    assert_eq!(
        outcome(&d.amy, alarm, 0, "answered").await.0,
        StatusCode::OK
    );

    // Refused "take", bob can still do nothing: no outcome, no password (not even whether it
    // matches), no decision, no note, no close.
    let refusals = [
        outcome(&d.bob, alarm, 0, "ended").await,
        password(&d.bob, alarm, 0, common::VERBAL).await,
        decide(&d.bob, alarm, 0, "cancel").await,
        decide(&d.bob, alarm, 0, "dispatch").await,
        d.bob
            .post(&format!("/api/alarms/{alarm}/notes"), json!({"text": "hi"}))
            .await,
        d.bob
            .post(
                &format!("/api/alarms/{alarm}/close"),
                json!({"resolution": "false_user"}),
            )
            .await,
    ];
    for (status, body) in refusals {
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("handled by amy"),
            "{body}"
        );
        assert!(body.get("matched").is_none());
    }
    let after = d.alarm(alarm).await;
    assert_eq!(after["calls"][0]["password"], "not_checked");
    assert_eq!(after["calls"][0]["decision"], Value::Null);
    assert!(after["closed_at"].is_null());

    // An agent cannot take it over; a supervisor can, and it is logged and shown.
    let over = format!("/api/alarms/{alarm}/takeover");
    assert_eq!(d.bob.post(&over, json!({})).await.0, StatusCode::FORBIDDEN);
    let (status, taken) = d.sue.post(&over, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["handler"], "sue");
    assert!(events(&taken).contains(&(
        "taken_over".into(),
        "sue took over from amy".into(),
        "agent sue".into()
    )));
    assert_eq!(
        outcome(&d.amy, alarm, 0, "ended").await.0,
        StatusCode::CONFLICT
    );
    // Every row names who caused it.
    let rows = events(&taken);
    assert_eq!(
        rows[0].2, "panel",
        "the opening signal: a SIA event, as a panel sends"
    );
    assert!(rows.iter().all(|(_, _, by)| !by.is_empty()), "{rows:?}");
}

#[tokio::test]
async fn a_cancel_is_taken_only_once_the_password_matched_on_that_call() {
    let d = desk().await;
    let alarm = id(&d.signal("BA003", 1).await[0]);
    talking(&d.amy, alarm).await;

    let (status, refused) = decide(&d.amy, alarm, 0, "cancel").await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["field"], "decision");
    assert!(refused["error"].as_str().unwrap().contains("not checked"));
    let (_, checked) = password(&d.amy, alarm, 0, "red falcon").await;
    assert_eq!(checked["matched"], false);
    let (status, refused) = decide(&d.amy, alarm, 0, "cancel").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(refused["error"].as_str().unwrap().contains("no match"));
    let now = d.alarm(alarm).await;
    assert!(
        now["closed_at"].is_null(),
        "a refused cancel changes nothing"
    );
    assert_eq!(now["dispatch"], json!([]), "nor does it ask for police");
    assert_eq!(now["calls"][0]["password"], "no_match");

    let (_, checked) = password(&d.amy, alarm, 0, common::VERBAL).await;
    assert_eq!(checked["matched"], true);
    let (status, closed) = decide(&d.amy, alarm, 0, "cancel").await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["disposition"], "canceled_by_contact");
    assert_eq!(closed["calls"][0]["password"], "match");
}

/// An import stores the verbal password keyed at a cheaper cost (README, "Importing many
/// accounts"); the first match on a call replaces it with the full-cost keyed hash.
#[tokio::test]
async fn a_match_upgrades_an_imported_hash_to_full_cost() {
    use watchpost_core::password::{HashCost, VerbalPassword};
    let d = desk().await;
    let master = watchpost_server::secrets::MasterKey::from_bytes([0x42; 32]);
    let pepper = watchpost_server::pepper::load(&*d.center.store, Some(&master))
        .await
        .unwrap()
        .expect("a center with a master key has a pepper");
    let imported = VerbalPassword::hash_keyed(common::VERBAL, &pepper, HashCost::Import);
    assert!(imported.below_full_cost(Some(&pepper)));
    let enrolled = watchpost_core::Account {
        verbal_password: imported.clone(),
        ..account()
    };
    d.center.store.put_account(&enrolled).await.unwrap();
    let alarm = id(&d.signal("BA003", 1).await[0]);
    talking(&d.amy, alarm).await;
    let (_, checked) = password(&d.amy, alarm, 0, "red falcon").await;
    assert_eq!(checked["matched"], false);
    let stored = || async {
        let account = d.center.store.account("4F39").await.unwrap().unwrap();
        account.verbal_password
    };
    assert_eq!(stored().await, imported, "a miss changes nothing");
    let (_, checked) = password(&d.amy, alarm, 0, "  Blue FALCON ").await;
    assert_eq!(checked["matched"], true);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let upgraded = loop {
        let now = stored().await;
        if now != imported {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "never upgraded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        !upgraded.below_full_cost(Some(&pepper)),
        "{}",
        upgraded.phc()
    );
    assert!(
        upgraded.phc().contains("m=19456,t=2,p=1,keyid="),
        "{}",
        upgraded.phc()
    );
    assert_eq!(upgraded.verify(common::VERBAL, Some(&pepper)), Ok(true));
    assert_eq!(upgraded.verify("red falcon", Some(&pepper)), Ok(false));
}

#[tokio::test]
async fn closing_needs_a_resolution_code_and_a_reason_without_an_incident_number() {
    let d = desk().await;
    // Duress: police at once, then follow-up; the case of finding 3.
    let alarm = id(&d.signal("HA001", 1).await[0]);
    let close = format!("/api/alarms/{alarm}/close");
    let (status, refused) = d.amy.post(&close, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "not taken: {refused}");
    d.amy
        .post(&format!("/api/alarms/{alarm}/take"), json!({}))
        .await;

    let empty = d
        .amy
        .client
        .post(format!("{}{close}", d.amy.base))
        .bearer_auth(&d.amy.token)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = empty.json().await.unwrap();
    assert_eq!(body["field"], "resolution", "{body}");
    let (status, refused) = d.amy.post(&close, json!({"resolution": "bored"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "resolution");
    assert!(refused["error"].as_str().unwrap().contains("false_user"));
    let (status, refused) = d
        .amy
        .post(&close, json!({"resolution": "false_user"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "reason");
    assert!(refused["error"].as_str().unwrap().contains("police"));
    assert!(d.alarm(alarm).await["closed_at"].is_null());

    let confirm = format!("/api/alarms/{alarm}/dispatch/confirm");
    let (status, _) = d
        .amy
        .post(&confirm, json!({"agency": "police", "reference": "INC-42"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, closed) = d
        .amy
        .post(&close, json!({"resolution": "actual_other"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["resolution"], "actual_other");
    assert!(closed["closed_at"].is_string());

    let (_, codes) = d.amy.get("/api/resolution-codes").await;
    assert_eq!(codes["codes"][0]["code"], "false_user");
    assert_eq!(codes["codes"][0]["text"], "False alarm – user error");
}

#[tokio::test]
async fn nothing_from_the_premises_cancels_while_a_duress_is_open_at_the_account() {
    let d = desk().await;
    let duress = id(&d.signal("HA001", 1).await[0]);
    let alarms = d.signal("BA003", 2).await;
    let burglary = id(&alarms[1]);
    assert_eq!(alarms[1]["duress_open"], json!([duress]));

    // A disarm and the app's cancel: refused, recorded, the plan goes on.
    d.signal("OP001", 2).await;
    let (status, _) = d.app.post("/api/signals", json!({"app": "cancel"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = d.alarm(burglary).await;
    assert!(now["closed_at"].is_null(), "{now}");
    let refused: Vec<_> = events(&now)
        .into_iter()
        .filter(|(event, _, _)| event == "cancel_refused")
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].1.contains(&format!("duress alarm {duress}")));
    assert_eq!(refused[1].2, "app");

    // A verified contact's cancel is a dispatch request.
    talking(&d.amy, burglary).await;
    password(&d.amy, burglary, 0, common::VERBAL).await;
    let (status, after) = decide(&d.amy, burglary, 0, "cancel").await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["calls"][0]["decision"], "dispatch");
    assert_eq!(after["dispatch"][0]["agency"], "police");
    assert!(after["closed_at"].is_null());
}

#[tokio::test]
async fn a_cancellation_after_dispatch_is_a_task_until_an_agent_confirms_whom_they_told() {
    let d = desk().await;
    let alarm = id(&d.signal("BA003", 1).await[0]);
    d.amy
        .post(&format!("/api/alarms/{alarm}/take"), json!({}))
        .await;
    for call in 0..2 {
        outcome(&d.amy, alarm, call, "placed").await;
        let (status, body) = outcome(&d.amy, alarm, call, "no_answer").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let now = d.alarm(alarm).await;
    assert_eq!(now["tasks"][0]["kind"], "request", "{now}");
    d.amy
        .post(
            &format!("/api/alarms/{alarm}/dispatch/confirm"),
            json!({"agency": "police", "reference": "INC-9"}),
        )
        .await;
    assert_eq!(d.alarm(alarm).await["tasks"], json!([]));

    // The disarm cancels the dispatch and closes the alarm; the agency must still be told.
    d.signal("OP001", 1).await;
    let closed = d.alarm(alarm).await;
    assert_eq!(closed["disposition"], "dispatch_canceled");
    assert_eq!(closed["tasks"][0]["kind"], "stand_down");
    assert_eq!(closed["tasks"][0]["agency"], "police");
    assert!(closed["next_step"].as_str().unwrap().contains("stand down"));

    // It survives a restart, still in the queue.
    let Desk { center, .. } = d;
    let center = center.restart().await;
    let client = Client::new();
    let amy = Api {
        token: common::sign_in(&client, &center.base, "amy").await,
        client,
        base: center.base.clone(),
    };
    let (_, queue) = amy.get("/api/alarms").await;
    assert_eq!(queue["alarms"][0]["id"], alarm, "{queue}");
    let stand_down = format!("/api/alarms/{alarm}/stand-down");
    let (status, refused) = amy
        .post(&stand_down, json!({"agency": "police", "told": " "}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "told");
    let (status, done) = amy
        .post(&stand_down, json!({"agency": "police", "told": "Sgt. Ray"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["tasks"], json!([]));
    assert_eq!(done["dispatch"][0]["reference"], "INC-9", "{done}");
    assert_eq!(done["dispatch"][0]["stood_down"], "Sgt. Ray");
    assert_eq!(done["dispatch"][0]["waived"], Value::Null);
    let (_, queue) = amy.get("/api/alarms").await;
    assert_eq!(queue["alarms"], json!([]), "{queue}");
    let (_, closed) = amy.get("/api/alarms?state=closed").await;
    assert_eq!(closed["alarms"][0]["id"], alarm);
}

/// Free text typed into the record is bounded, each refusal naming its field, and nothing is
/// written: a note (2,000 characters), an incident number, whom the agent told, the reason to
/// close (200 each), a password attempt (200, and it does not use up one of the call's tries).
/// One paste of a megabyte would otherwise sit in the alarm's log for good and on every screen.
#[tokio::test]
async fn free_text_in_the_record_is_bounded() {
    let d = desk().await;
    let alarm = id(&d.signal("BA003", 1).await[0]);
    let path = |p: &str| format!("/api/alarms/{alarm}/{p}");
    talking(&d.amy, alarm).await;
    let logged = d.center.store.log(alarm).await.unwrap().len();
    let line = "x".repeat(201);

    let (status, refused) = password(&d.amy, alarm, 0, &line).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "password");
    let (status, refused) = d
        .amy
        .post(&path("notes"), json!({ "text": "y".repeat(2_001) }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "text");
    assert!(
        refused["error"].as_str().unwrap().contains("2001"),
        "{refused}"
    );
    assert_eq!(d.center.store.log(alarm).await.unwrap().len(), logged);
    // At the bound it is taken; the password check still has both tries.
    let (status, _) = d
        .amy
        .post(&path("notes"), json!({ "text": "y".repeat(2_000) }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, checked) = password(&d.amy, alarm, 0, common::VERBAL).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    let call = d.center.server.board.get(alarm).unwrap().calls()[0].clone();
    assert_eq!((call.verified, call.password_attempts), (Some(true), 1));

    // Dispatch, then the incident number and the reason to close.
    decide(&d.amy, alarm, 0, "dispatch").await;
    outcome(&d.amy, alarm, 0, "ended").await;
    let logged = d.center.store.log(alarm).await.unwrap().len();
    let (status, refused) = d
        .amy
        .post(
            &path("dispatch/confirm"),
            json!({"agency": "police", "reference": line}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "reference");
    let (status, refused) = d
        .amy
        .post(
            &path("close"),
            json!({"resolution": "false_user", "reason": line}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "reason");
    assert_eq!(d.center.store.log(alarm).await.unwrap().len(), logged);

    // A stand-down task: whom they told is bounded too.
    d.amy
        .post(
            &path("dispatch/confirm"),
            json!({"agency": "police", "reference": "INC-1"}),
        )
        .await;
    d.signal("OP001", 1).await;
    assert_eq!(d.alarm(alarm).await["tasks"][0]["kind"], "stand_down");
    let (status, refused) = d
        .amy
        .post(
            &path("stand-down"),
            json!({"agency": "police", "told": line}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "told");
    assert_eq!(d.alarm(alarm).await["tasks"][0]["kind"], "stand_down");
}

/// A path or query parameter of the wrong type is refused like any bad field: a 422 in the
/// JSON error shape naming the parameter (axum alone answers a plain-text 400 naming nothing).
#[tokio::test]
async fn a_parameter_of_the_wrong_type_is_named() {
    let d = desk().await;
    let alarm = id(&d.signal("BA003", 1).await[0]);
    for (path, field) in [
        ("/api/alarms/abc/take".to_string(), "id"),
        ("/api/alarms/abc/takeover".to_string(), "id"),
        (format!("/api/alarms/{alarm}/calls/x/outcome"), "call"),
        (format!("/api/alarms/{alarm}/calls/-1/password"), "call"),
        (
            "/api/unknown/9999999999999999999999/noise".to_string(),
            "id",
        ),
    ] {
        let (status, refused) = d.sue.post(&path, json!({})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {refused}"
        );
        assert_eq!(refused["field"], field, "{path}: {refused}");
    }
    for (path, field) in [
        ("/api/alarms/1e3".to_string(), "id"),
        ("/api/alarms?state=closed&limit=ten".to_string(), "limit"),
    ] {
        let (status, answer) = d.sue.get(&path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert_eq!(answer["field"], field, "{path}: {answer}");
    }
    // A name field given another kind of value says what it got (serde_json alone says only
    // "expected value"); a text field given a list keeps serde's own words.
    for (path, body, field, says) in [
        (
            "calls/0/decision",
            json!({"decision": 5}),
            "decision",
            "5 is not one of",
        ),
        (
            "calls/0/outcome",
            json!({"outcome": null}),
            "outcome",
            "null is not one of",
        ),
        (
            "calls/0/outcome",
            json!({"outcome": [1]}),
            "outcome",
            "[1] is not one of",
        ),
        (
            "notes",
            json!({"text": ["a"]}),
            "text",
            "invalid type: sequence",
        ),
    ] {
        let path = format!("/api/alarms/{alarm}/{path}");
        let (status, answer) = d.sue.post(&path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
        assert_eq!(answer["field"], field, "{path}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
}
