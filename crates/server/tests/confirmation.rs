//! `POST /api/alarms/{id}/confirm`: the handler records a guard's (video's, audio's)
//! confirmation and the plan's `on_confirmation` steps run: under verified response, the
//! police are requested. Who may, and what is refused, naming the field.

mod common;

use common::{Api, Center, account};
use reqwest::Client;
use serde_json::json;
use std::time::Duration;
use watchpost_store::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_records_a_guards_confirmation_and_the_police_are_requested() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../plans/verified-response.toml"
    ))
    .unwrap();
    let plans = watchpost_core::plan_file::PlanSet::parse(&text).unwrap();
    let settings = watchpost_core::Settings {
        plans: watchpost_core::plan_book::PlanBook::with_default(plans),
        ..Default::default()
    };
    let users = [("amy", Role::Agent), ("bob", Role::Agent)];
    let center = Center::start_with(&[account()], &users, true, settings).await;
    let client = Client::new();
    let key = center.api_key("4F39").await;
    let sent = client
        .post(format!("{}/api/signals", center.base))
        .bearer_auth(&key)
        .json(&json!({"sia": "BA003"}))
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success());
    let as_user = |name: &'static str| {
        let client = client.clone();
        let base = center.base.clone();
        async move {
            Api {
                token: common::sign_in(&client, &base, name).await,
                client,
                base,
            }
        }
    };
    let (amy, bob) = (as_user("amy").await, as_user("bob").await);
    let id = loop {
        let (_, queue) = amy.get("/api/alarms").await;
        if let Some(id) = queue["alarms"][0]["id"].as_i64() {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let confirm = format!("/api/alarms/{id}/confirm");
    let guard = json!({"by": "guard", "text": "back door forced"});

    let (status, answer) = amy.post(&confirm, guard.clone()).await;
    assert_eq!(status, 409, "nobody took it: {answer}");
    let (status, _) = amy.post(&format!("/api/alarms/{id}/take"), json!({})).await;
    assert!(status.is_success());
    let (status, answer) = bob.post(&confirm, guard.clone()).await;
    assert_eq!(status, 409, "only the handler: {answer}");
    let (status, answer) = amy.post(&confirm, json!({"by": "neighbour"})).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["field"], "by", "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("guard, video or audio"),
        "{answer}"
    );
    let long = json!({"by": "video", "text": "x".repeat(5_000)});
    let (status, answer) = amy.post(&confirm, long).await;
    assert_eq!((status.as_u16(), &answer["field"]), (422, &json!("text")));

    let (status, alarm) = amy.post(&confirm, guard).await;
    assert_eq!(status, 200, "{alarm}");
    let agencies: Vec<&str> = alarm["dispatch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["agency"].as_str().unwrap())
        .collect();
    assert_eq!(agencies, ["police"], "{alarm}");
    assert_eq!(alarm["current_call"], json!(null), "the call was hung up");
    let timeline = alarm["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|t| t["event"] == "confirmed" && t["detail"] == "by guard: back door forced"),
        "{alarm}"
    );
    center.server.stop().await.unwrap();
}
