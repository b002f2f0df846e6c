//! An account's details (zone names, instructions, agencies) through the API and on the alarm
//! screen; account search by number, name, phone and address; the account's history; test
//! mode from the API and the console, with its limits and who put it on.

mod common;

use common::{Api, Center, account, sign_in};
use reqwest::StatusCode;
use serde_json::{Value, json};
use watchpost_store::{AlarmState, Role};

async fn api(center: &Center, name: &str) -> Api {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = sign_in(&client, &center.base, name).await;
    Api {
        client,
        base: center.base.clone(),
        token,
    }
}

async fn put(api: &Api, number: &str, body: &Value) -> (StatusCode, Value) {
    let response = api
        .client
        .put(format!("{}/api/accounts/{number}", api.base))
        .bearer_auth(&api.token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn html(api: &Api, path: &str) -> (StatusCode, String) {
    let response = api
        .client
        .get(format!("{}{path}", api.base))
        .header("cookie", format!("wp_session={}", api.token))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

fn table() -> Value {
    json!({
        "number": "7001", "premises": "residential", "address": "1 Oak St, Springfield, IL",
        "country": "US", "region": "IL", "monitoring": "professional",
        "enrolled": "2026-01-01T00:00:00Z", "verbal_password": "blue falcon",
        "contacts": [{"name": "Cy Park", "phone": "+12175550111"}],
        "instructions": "Dog in the yard; call the cell first.",
        "zone_names": [{"zone": 3, "name": "back door", "location": "ground floor rear"}],
        "agencies": [{"agency": "police", "name": "Springfield PD", "phone": "+12175550199",
                      "permit": "SPD-0412"}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn details_are_validated_stored_and_shown_on_the_alarm_screen() {
    let users = [("root", Role::Admin), ("amy", Role::Agent)];
    let center = Center::start(&[], &users, true).await;
    let (root, amy) = (api(&center, "root").await, api(&center, "amy").await);
    for (path, bad, field) in [
        (
            "/agencies/0/phone",
            json!("555-0199"),
            "account.agencies[0].phone",
        ),
        (
            "/zone_names/0/zone",
            json!(1000),
            "account.zone_names[0].zone",
        ),
        (
            "/zone_names/0/name",
            json!(" "),
            "account.zone_names[0].name",
        ),
    ] {
        let mut body = table();
        *body.pointer_mut(path).unwrap() = bad;
        let (status, refused) = put(&root, "7001", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["field"], field);
    }
    let (status, created) = put(&root, "7001", &table()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, shown) = amy.get("/api/accounts/7001").await;
    assert_eq!(shown["zone_names"][0]["name"], "back door");
    assert_eq!(shown["agencies"][0]["permit"], "SPD-0412");
    assert_eq!(
        shown["instructions"],
        "Dog in the yard; call the cell first."
    );

    // A burglary on zone 3: the screen names the zone and shows what to know.
    let key = center.api_key("7001").await;
    let device = Api {
        token: key,
        ..api(&center, "amy").await
    };
    let (status, body) = device.post("/api/signals", json!({"sia": "BA003"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let alarm = center.store.alarms(AlarmState::Open).await.unwrap()[0].id;
    let (_, page) = html(&amy, &format!("/console/alarms/{alarm}")).await;
    assert!(page.contains("zone 3 – back door"), "{page}");
    assert!(page.contains("(ground floor rear)"), "{page}");
    assert!(
        page.contains("Dog in the yard; call the cell first."),
        "{page}"
    );
    assert!(
        page.contains("Springfield PD") && page.contains("tel:+12175550199"),
        "{page}"
    );
    assert!(page.contains("SPD-0412"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_found_by_number_name_phone_and_address_and_show_their_history() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let amy = api(&center, "amy").await;
    let found = |q: &'static str| {
        let amy = &amy;
        async move {
            let (status, body) = amy.get(&format!("/api/accounts?q={}", urlencode(q))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["number"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    for q in ["4f3", "bob LEE", "(555) 555-0102", "elm st", "SPRINGFIELD"] {
        assert_eq!(found(q).await, ["4F39"], "{q}");
    }
    assert!(found("Maple").await.is_empty());
    assert!(found("100%").await.is_empty(), "wildcards are literal");
    let (status, body) = amy.get("/api/accounts?q=%20").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("q"))
    );

    // The console: a search box on every page, results linking to the account page.
    let (_, queue) = html(&amy, "/console").await;
    assert!(queue.contains(r#"action="/console/accounts""#), "{queue}");
    let (_, results) = html(&amy, "/console/accounts?q=elm").await;
    assert!(
        results.contains(r#"href="/console/accounts/4F39""#),
        "{results}"
    );

    let key = center.api_key("4F39").await;
    let device = Api {
        token: key,
        ..api(&center, "amy").await
    };
    device.post("/api/signals", json!({"sia": "BA003"})).await;
    let (status, history) = amy.get("/api/accounts/4f39/history").await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(history["alarms"][0]["kind"], "burglary");
    assert_eq!(history["alarms"][0]["outcome"], "open");
    assert_eq!(history["signals"][0]["event"], "BA zone 3");
    let (status, _) = amy.get("/api/accounts/9999/history").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = html(&amy, "/console/accounts/4F39").await;
    assert!(
        page.contains("Recent alarms") && page.contains("BA zone 3"),
        "{page}"
    );
    assert!(page.contains("Put on test"), "{page}");
}

fn urlencode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mode_is_bounded_needs_a_reason_and_records_who() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let amy = api(&center, "amy").await;
    for (body, field) in [
        (json!({"minutes": 0, "reason": "installer"}), "minutes"),
        (json!({"minutes": -5, "reason": "installer"}), "minutes"),
        (
            json!({"minutes": 7 * 24 * 60 + 1, "reason": "installer"}),
            "minutes",
        ),
        (json!({"reason": "installer"}), "minutes"),
        (json!({"minutes": 60, "reason": " "}), "reason"),
        (json!({"minutes": 60, "reason": "x".repeat(201)}), "reason"),
    ] {
        let (status, refused) = amy.post("/api/accounts/4F39/test", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {refused}"
        );
        assert_eq!(refused["field"], field, "{body}");
    }
    let (status, on) = amy
        .post(
            "/api/accounts/4F39/test",
            json!({"minutes": 60, "reason": "installer visit"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{on}");
    assert!(on["test_until"].is_string());
    let stored = center.store.account("4F39").await.unwrap().unwrap();
    let until = stored.test_until.unwrap() - common::now();
    assert!((59 * 60_000..=60 * 60_000).contains(&until), "{until}");
    let (_, history) = amy.get("/api/accounts/4F39/history").await;
    assert_eq!(history["events"][0]["actor"], "agent:amy");
    assert!(
        history["events"][0]["what"]
            .as_str()
            .unwrap()
            .contains("installer visit")
    );

    // The console: the account page says so and ends it; a bad duration names the field.
    let (_, page) = html(&amy, "/console/accounts/4F39").await;
    assert!(page.contains("ON TEST until"), "{page}");
    let csrf = common::csrf_token(&amy.client, &amy.base, &amy.token).await;
    let post = |form: Vec<(&'static str, &'static str)>| {
        amy.client
            .post(format!("{}/console/accounts/4F39/test", amy.base))
            .header("cookie", format!("wp_session={}", amy.token))
            .header("x-csrf-token", &csrf)
            .form(&form)
            .send()
    };
    let ended = post(vec![("end", "1")]).await.unwrap();
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        center
            .store
            .account("4F39")
            .await
            .unwrap()
            .unwrap()
            .test_until,
        None
    );
    let refused = post(vec![("minutes", "20000"), ("reason", "x")])
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("minutes: 20000 is not a test duration"),
        "{page}"
    );
    let (_, history) = amy.get("/api/accounts/4F39/history").await;
    assert_eq!(history["events"][0]["what"], "test mode ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_edit_details_in_the_console_with_field_errors() {
    let users = [("root", Role::Admin), ("amy", Role::Agent)];
    let center = Center::start(&[account()], &users, true).await;
    let (root, amy) = (api(&center, "root").await, api(&center, "amy").await);
    let post = |who: &Api, form: Vec<(&'static str, &'static str)>| {
        let client = who.client.clone();
        let (base, token) = (who.base.clone(), who.token.clone());
        async move {
            let csrf = common::csrf_token(&client, &base, &token).await;
            client
                .post(format!("{base}/console/accounts/4F39/details"))
                .header("cookie", format!("wp_session={token}"))
                .header("x-csrf-token", csrf)
                .form(&form)
                .send()
                .await
        }
    };
    let (_, page) = html(&amy, "/console/accounts/4F39").await;
    assert!(!page.contains("Save details"), "agents see no edit form");
    let (_, page) = html(&root, "/console/accounts/4F39").await;
    assert!(page.contains("Save details"), "{page}");

    let refused = post(&amy, vec![("instructions", "x")]).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for (zones, agencies, named) in [
        ("1000 | attic", "", "details.zone_names[0].zone"),
        ("three | attic", "", "details.zone_names[0].zone"),
        ("3 |", "", "details.zone_names[0].name"),
        ("", "army | X | +12175550199", "details.agencies[0].agency"),
        (
            "",
            "police | Springfield PD | call them",
            "details.agencies[0].phone",
        ),
    ] {
        let refused = post(&root, vec![("zone_names", zones), ("agencies", agencies)])
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{zones} {agencies}"
        );
        let page = refused.text().await.unwrap();
        assert!(page.contains(named), "{named}: {page}");
    }
    let saved = post(
        &root,
        vec![
            ("instructions", "Key safe at the side gate"),
            (
                "zone_names",
                "3 | back door | ground floor rear\n\n1 | front door",
            ),
            (
                "agencies",
                "Police | Springfield PD | (217) 555-0199 | SPD-0412",
            ),
        ],
    )
    .await
    .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let details = center.store.account("4F39").await.unwrap().unwrap().details;
    assert_eq!(details.instructions, "Key safe at the side gate");
    assert_eq!(details.zone(3).unwrap().location, "ground floor rear");
    assert_eq!(details.zone(1).unwrap().name, "front door");
    assert_eq!(
        details.agencies[0].phone, "+12175550199",
        "typed phones become E.164"
    );
    assert_eq!(details.agencies[0].permit.as_deref(), Some("SPD-0412"));
}
