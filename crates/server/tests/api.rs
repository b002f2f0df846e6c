//! The HTTP API on a real server over loopback: an agent logs in and works a burglary from an
//! app signal to `canceled_by_contact` — voicemail for contact 1, a wrong then a right
//! password from contact 2, a cancel — while live events arrive; refusals name their field;
//! every signal posted is stored, the same one twice too.

mod common;

use common::{Api, Center, PASSWORD, account};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_store::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_works_a_burglary_to_canceled_by_contact() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let key = center.api_key("4F39").await;
    let base = center.base.clone();
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
    let api = Api {
        client: client.clone(),
        base: base.clone(),
        token: common::sign_in(&client, &base, "amy").await,
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

    // The queue (each alarm whole, as asked), and the alarm's next step.
    let (_, queue) = api.get("/api/alarms?view=full").await;
    let alarm = &queue["alarms"][0];
    assert_eq!(alarm["kind"], "burglary");
    assert_eq!(alarm["priority"], 2);
    assert!(alarm["next_step"].as_str().unwrap().contains("Ann Lee"));
    assert_eq!(alarm["plan"], "built-in", "{alarm}");
    // The call to record outcomes on, before it is placed (and so in no list yet).
    assert_eq!(alarm["current_call"], 0);
    assert_eq!(alarm["calls"], json!([]));
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
    // Each outcome, and the call the plan waits on after it: voicemail moves it on to Bob.
    for (call, what, then) in [
        (0, "placed", 0),
        (0, "voicemail", 1),
        (1, "placed", 1),
        (1, "answered", 1),
    ] {
        let (path, body) = outcome(call, what);
        let (status, view) = api.post(&path, body).await;
        assert_eq!(status, StatusCode::OK, "{what}: {view}");
        assert_eq!(view["current_call"], then, "{what}: {view}");
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
    assert_eq!(
        done["current_call"],
        Value::Null,
        "closed: waits on no call"
    );
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
    let (status, refused) = api.get("/api/alarms?state=closed&limit=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "limit");
    let (_, one) = api.get("/api/alarms?state=all&limit=1").await;
    assert_eq!(one["alarms"].as_array().unwrap().len(), 1);
    let (status, refused) = api.get("/api/alarms?state=maybe").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "state");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_accounts_with_the_enrolment_rules() {
    let users = [("root", Role::Admin), ("amy", Role::Agent)];
    let center = Center::start(&[], &users, true).await;
    let base = center.base.clone();
    let client = Client::new();
    let login = |name: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let v: Value = client
                .post(format!("{base}/api/login"))
                .json(&json!({"name": name, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            Api {
                client,
                base,
                token: v["token"].as_str().unwrap().to_string(),
            }
        }
    };
    let admin = login("root").await;
    let agent = login("amy").await;
    let mut account = json!({
        "number": "7001", "premises": "residential", "address": "1 Oak St, Montreal, QC",
        "country": "CA", "region": "QC", "monitoring": "professional",
        "enrolled": "2026-01-01T00:00:00Z", "verbal_password": "blue falcon",
        "dc09_key_ascii": "0123456789ABCDEF",
        "contacts": [{"name": "Ann Lee", "phone": "+15145550101"}]
    });
    let put = |api: &Api, body: Value| {
        let request = api
            .client
            .put(format!("{}/api/accounts/7001", api.base))
            .bearer_auth(&api.token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, _) = put(&agent, account.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins enrol");
    let (status, refused) = put(&admin, account.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "account.region");
    assert!(refused["error"].as_str().unwrap().contains("Quebec"));
    account["region"] = json!("ON");
    let (status, created) = put(&admin, account.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, _) = put(&admin, account).await;
    assert_eq!(status, StatusCode::OK, "a second PUT replaces");
    let (status, shown) = agent.get("/api/accounts/7001").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["mode"], "professional");
    assert_eq!(shown["dc09_encrypted"], true);
    let text = shown.to_string();
    assert!(
        !text.contains("falcon") && !text.contains("argon2") && !text.contains("0123456789ABCDEF")
    );
    let (_, listed) = admin.get("/api/accounts").await;
    assert_eq!(listed["accounts"], json!(["7001"]));
    let deleted = admin
        .client
        .delete(format!("{}/api/accounts/7001", admin.base))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, _) = agent.get("/api/accounts/7001").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    center.server.stop().await.unwrap();
}

/// The OpenAPI document lists every route the API router serves, and nothing else.
#[test]
fn every_api_route_is_in_the_openapi_document() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let router = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    let mut served: Vec<&str> = router
        .split('"')
        .filter(|text| text.starts_with("/api/"))
        .collect();
    served.sort();
    served.dedup();
    let openapi: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("openapi.json")).unwrap()).unwrap();
    let mut documented: Vec<&str> = openapi["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    documented.sort();
    assert!(served.len() >= 15, "{served:?}");
    assert_eq!(served, documented);
}

/// `5a5b` in a path or a body is account `5A5B`; a number that differs from an enrolled one
/// only by leading zeros is refused; API keys speak for the canonical number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_number_is_one_account_however_it_is_spelt() {
    let mut enrolled = account();
    enrolled.number = "5A5B".into();
    let center = Center::start(&[enrolled], &[("root", Role::Admin)], true).await;
    let client = Client::new();
    let login: Value = client
        .post(format!("{}/api/login", center.base))
        .json(&json!({"name": "root", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: login["token"].as_str().unwrap().to_string(),
    };
    let (status, shown) = admin.get("/api/accounts/5a5b").await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["number"], "5A5B");
    let (status, refused) = admin.get("/api/accounts/5A-5B").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["field"], "number");

    let key = center.api_key("5a5b").await;
    let (status, _) = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: key,
    }
    .post("/api/signals", json!({"sia": "FA004"}))
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(center.store.signals("5A5B").await.unwrap().len(), 1);

    let deleted = client
        .delete(format!("{}/api/accounts/5a5b", center.base))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.status(),
        StatusCode::CONFLICT,
        "5a5b is 5A5B, whose fire alarm is open"
    );

    let put = |number: &str, body: Value| {
        client
            .put(format!("{}/api/accounts/{number}", center.base))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let body = |number: &str| {
        json!({
            "number": number, "premises": "residential", "address": "1 Oak St",
            "country": "US", "region": "IL", "monitoring": "self",
        })
    };
    let replaced = put("5a5b", body("5a5b")).await.unwrap();
    assert_eq!(
        replaced.status(),
        StatusCode::OK,
        "the same account, replaced"
    );
    let shown: Value = replaced.json().await.unwrap();
    assert_eq!(shown["number"], "5A5B");
    let (_, listed) = admin.get("/api/accounts").await;
    assert_eq!(listed["accounts"], json!(["5A5B"]));

    let twin = put("05A5B", body("05a5b")).await.unwrap();
    assert_eq!(twin.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = twin.json().await.unwrap();
    assert_eq!(refused["field"], "number");
    assert_eq!(
        refused["error"],
        "\"05A5B\" differs from enrolled account \"5A5B\" only by leading zeros; \
         a panel sends its number exactly as programmed, so use \"5A5B\" or remove it first"
    );

    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signal_posted_is_a_new_one_even_the_same_twice() {
    // An app has no sequence number to tell a resend by: it gets its answer once stored.
    let center = Center::start(&[account()], &[], true).await;
    let app = Api {
        client: Client::new(),
        base: center.base.clone(),
        token: center.api_key("4F39").await,
    };
    for _ in 0..2 {
        let (status, _) = app.post("/api/signals", json!({"sia": "BA003"})).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let store = center.store.clone();
    center.server.stop().await.unwrap();
    let raws: Vec<String> = store
        .signals("4F39")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.raw)
        .collect();
    assert_eq!(raws, ["BA003", "BA003"]);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let center = Center::start(&[account()], &[], true).await;
    let client = Client::new();
    for path in [
        "/api/openapi.json",
        "/api/alarms",
        "/login",
        "/console/assets/console.css",
    ] {
        let answer = client
            .get(format!("{}{path}", center.base))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
        let cache = header("cache-control");
        if path.starts_with("/console/assets/") {
            assert!(
                cache.starts_with("public"),
                "fingerprinted assets are cached: {cache}"
            );
        } else {
            assert_eq!(cache, "no-store", "{path} (status {})", answer.status());
        }
    }
    center.server.stop().await.unwrap();
}

/// A center running a plan file: its alarms run that plan and say so, and an alarm keeps its
/// plan (from its log) when the center restarts without the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_runs_the_centers_plan_and_keeps_it_across_a_restart() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plans/fire-direct.toml"
    ))
    .unwrap();
    let plans = watchpost_core::plan_file::PlanSet::parse(&text).unwrap();
    let settings = watchpost_core::Settings {
        plans: watchpost_core::plan_book::PlanBook::with_default(plans),
        ..Default::default()
    };
    let center = Center::start_with(&[account()], &[("amy", Role::Agent)], true, settings).await;
    let client = Client::new();
    let key = center.api_key("4F39").await;
    let sent = client
        .post(format!("{}/api/signals", center.base))
        .bearer_auth(&key)
        .json(&json!({"sia": "FA002"}))
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success());
    let api = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: common::sign_in(&client, &center.base, "amy").await,
    };
    let alarm = loop {
        let (_, queue) = api.get("/api/alarms?view=full").await;
        if let Some(alarm) = queue["alarms"].as_array().and_then(|a| a.first()) {
            break alarm.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(alarm["plan"], "fire-direct v1", "{alarm}");
    // Fire at once: requested before any call.
    assert_eq!(alarm["dispatch"][0]["agency"], "fire", "{alarm}");
    assert_eq!(alarm["calls"], json!([]), "{alarm}");
    let id = alarm["id"].as_i64().unwrap();
    let center = center.restart().await;
    let api = Api {
        base: center.base.clone(),
        token: common::sign_in(&client, &center.base, "amy").await,
        ..api
    };
    let (_, alarm) = api.get(&format!("/api/alarms/{id}")).await;
    assert_eq!(alarm["plan"], "fire-direct v1", "{alarm}");
    center.server.stop().await.unwrap();
}

/// A plan set loaded into the store and assigned while the center runs reaches new alarms
/// within seconds: first as the center's default, then an account's own set wins for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_loaded_and_assigned_while_running_reach_new_alarms() {
    use watchpost_store::{PlanScope, PlanVersion};
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let client = Client::new();
    let api = Api {
        client: client.clone(),
        base: center.base.clone(),
        token: common::sign_in(&client, &center.base, "amy").await,
    };
    let key = center.api_key("4F39").await;
    let load = |name: &str| {
        let text = std::fs::read_to_string(format!(
            "{}/../../plans/{name}.toml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        PlanVersion {
            name: name.into(),
            version: 1,
            text,
            changed_by: "cli:test".into(),
            changed_at: common::now(),
            note: "loaded".into(),
        }
    };
    for name in ["fire-direct", "abort-window"] {
        assert!(center.store.put_plan_version(&load(name)).await.unwrap());
    }
    // The plan each new alarm reports, once it differs from `before`.
    let plan_of_next_alarm = |sia: &'static str, before: usize| {
        let (client, api, key) = (client.clone(), &api, key.clone());
        async move {
            let sent = client
                .post(format!("{}/api/signals", api.base))
                .bearer_auth(&key)
                .json(&json!({"sia": sia}))
                .send()
                .await
                .unwrap();
            assert!(sent.status().is_success());
            loop {
                let (_, all) = api.get("/api/alarms?state=all").await;
                let alarms = all["alarms"].as_array().unwrap().clone();
                if alarms.len() > before {
                    let newest = alarms.iter().max_by_key(|a| a["id"].as_i64()).unwrap();
                    break newest["plan"].as_str().unwrap().to_string();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(plan_of_next_alarm("WA001", 0).await, "built-in");
    center
        .store
        .assign_plan(&PlanScope::Center, Some("fire-direct"))
        .await
        .unwrap();
    tokio::time::sleep(watchpost_server::plans::POLL * 2).await;
    assert_eq!(plan_of_next_alarm("FA002", 1).await, "fire-direct v1");
    // The account's own set has no fire plan: fire still runs the center's.
    center
        .store
        .assign_plan(&PlanScope::Account("4F39".into()), Some("abort-window"))
        .await
        .unwrap();
    tokio::time::sleep(watchpost_server::plans::POLL * 2).await;
    assert_eq!(plan_of_next_alarm("BA003", 2).await, "abort-window v1");
    center.server.stop().await.unwrap();
}
