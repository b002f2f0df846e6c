//! Plan sets over HTTP (issue 14, items 2, 4 and 6): the center's admin loads, rolls back and
//! assigns any set; a dealer's admin only its dealer's sets (named `<dealer>-…`) and only to
//! its dealer and accounts; a dealer's users never see another dealer's sets; a load that
//! breaks a guard rail or a required scenario is refused with the field and the reason; and
//! an assignment reaches the alarms the center opens next.

mod common;

use common::{Api, Center, PASSWORD, account, now};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_store::Role;

fn plan_file(name: &str, base: &str) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/../../plans/{base}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    text.replace(&format!("name = \"{base}\""), &format!("name = \"{name}\""))
}

async fn call(api: &Api, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let response = api
        .client
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn assign(api: &Api, scope: &str, plan: Option<&str>) -> StatusCode {
    let body = json!({"scope": scope, "plan": plan});
    call(api, Method::PUT, "/api/plan-assignments", body)
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_sets_over_http_are_scoped_checked_and_reach_new_alarms() {
    let center = Center::start(&[], &[("ada", Role::Admin)], true).await;
    center.auth.put_dealer("D1", "Acme", now()).await.unwrap();
    center.auth.put_dealer("D2", "Bolt", now()).await.unwrap();
    for (name, role, dealer) in [
        ("dana", Role::DealerAdmin, "D1"),
        ("vic", Role::DealerViewer, "D1"),
        ("zed", Role::DealerAdmin, "D2"),
    ] {
        center
            .auth
            .add_user_of(name, role, Some(dealer), PASSWORD, now())
            .await
            .unwrap();
    }
    let mut own = account();
    own.dealer = Some("D1".into());
    let mut other = account();
    other.number = "2001".into();
    other.dealer = Some("D2".into());
    center.store.put_accounts(&[own, other]).await.unwrap();
    let client = Client::new();
    let user = |token: String| Api {
        client: client.clone(),
        base: center.base.clone(),
        token,
    };
    let ada = user(common::sign_in(&client, &center.base, "ada").await);
    let dana = user(common::sign_in(&client, &center.base, "dana").await);
    let vic = user(common::sign_in(&client, &center.base, "vic").await);
    let zed = user(common::sign_in(&client, &center.base, "zed").await);

    // The center's admin loads a set of the center's; D2 loads its own.
    let (status, made) = call(
        &ada,
        Method::PUT,
        "/api/plans/ecv",
        json!({"text": plan_file("ecv", "ecv")}),
    )
    .await;
    assert_eq!(
        (status, &made["version"]),
        (StatusCode::CREATED, &json!(1)),
        "{made}"
    );
    let (status, _) = call(
        &zed,
        Method::PUT,
        "/api/plans/d2-fire",
        json!({"text": plan_file("d2-fire", "fire-direct")}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // D1's admin may load only sets named after D1.
    let (status, _) = call(
        &dana,
        Method::PUT,
        "/api/plans/d2-fire",
        json!({"text": plan_file("d2-fire", "abort-window")}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &dana,
        Method::PUT,
        "/api/plans/ecv",
        json!({"text": plan_file("ecv", "abort-window")}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, made) = call(
        &dana,
        Method::PUT,
        "/api/plans/d1-window",
        json!({"text": plan_file("d1-window", "abort-window")}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    // A viewer loads nothing.
    let (status, _) = call(
        &vic,
        Method::PUT,
        "/api/plans/d1-window",
        json!({"text": plan_file("d1-window", "ecv")}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Guard rails and a mismatched name: 422 naming `text`.
    let loud = plan_file("d1-window", "abort-window")
        .replace("[professional.burglary]", "[professional.duress]")
        .replace("professional.burglary.steps", "professional.duress.steps");
    let (status, refused) = call(
        &dana,
        Method::PUT,
        "/api/plans/d1-window",
        json!({"text": loud}),
    )
    .await;
    assert_eq!(
        (status, &refused["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("text")),
        "{refused}"
    );
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("professional.duress"),
        "{refused}"
    );
    let (status, refused) = call(
        &dana,
        Method::PUT,
        "/api/plans/d1-window",
        json!({"text": plan_file("d1-other", "ecv")}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    // What each sees: D1's users their set and the center's, never D2's.
    for api in [&dana, &vic] {
        let (status, list) = call(api, Method::GET, "/api/plans", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = list["plans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["d1-window", "ecv"], "{list}");
        let (status, _) = call(api, Method::GET, "/api/plans/d2-fire", json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (_, list) = call(&ada, Method::GET, "/api/plans", json!({})).await;
    assert_eq!(list["plans"].as_array().unwrap().len(), 3, "{list}");

    // Assignments: D1's admin to its dealer and its accounts only, with sets it sees.
    assert_eq!(
        assign(&dana, "center", Some("d1-window")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        assign(&dana, "dealer:D2", Some("d1-window")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        assign(&dana, "account:2001", Some("d1-window")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        assign(&dana, "dealer:D1", Some("d2-fire")).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        assign(&dana, "dealer:D1", Some("ecv")).await,
        StatusCode::OK
    );
    assert_eq!(
        assign(&dana, "account:4F39", Some("d1-window")).await,
        StatusCode::OK
    );
    assert_eq!(
        assign(&ada, "nowhere", Some("ecv")).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A required scenario stops a version that breaks it; a rollback is one call.
    let scenario = std::fs::read_to_string(format!(
        "{}/../../plans/abort-window/burglary-disarm-inside-window.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (status, marked) = call(
        &dana,
        Method::PUT,
        "/api/plans/d1-window/required",
        json!({"name": "disarm-inside-window.toml", "text": scenario}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{marked}");
    assert_eq!(marked["name"], "D1/disarm-inside-window.toml");
    // A scenario that does not pass now cannot be required.
    let ecv_scenario = std::fs::read_to_string(format!(
        "{}/../../plans/ecv/burglary-single-contact-called-twice.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (status, refused) = call(
        &dana,
        Method::PUT,
        "/api/plans/d1-window/required",
        json!({"name": "ecv-twice.toml", "text": ecv_scenario}),
    )
    .await;
    assert_eq!(
        (status, &refused["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("text"))
    );
    // D1 relies on the center's ECV: the center can no longer load a version that breaks it.
    let (status, _) = call(
        &dana,
        Method::PUT,
        "/api/plans/ecv/required",
        json!({"name": "ecv-twice.toml", "text": ecv_scenario}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let once = plan_file("ecv", "ecv").replace("min_calls = 2\n", "");
    let (status, refused) = call(&ada, Method::PUT, "/api/plans/ecv", json!({"text": once})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("D1/ecv-twice.toml"),
        "{refused}"
    );
    // Nor can D2 mark scenarios on D1's sets.
    let (status, _) = call(
        &zed,
        Method::PUT,
        "/api/plans/d1-window/required",
        json!({"name": "mine.toml", "text": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let shorter = plan_file("d1-window", "abort-window").replace("seconds = 45", "seconds = 20");
    let (status, refused) = call(
        &dana,
        Method::PUT,
        "/api/plans/d1-window",
        json!({"text": shorter}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("disarm-inside-window.toml"),
        "{refused}"
    );
    let longer = plan_file("d1-window", "abort-window").replace("seconds = 45", "seconds = 50");
    let (status, made) = call(
        &dana,
        Method::PUT,
        "/api/plans/d1-window",
        json!({"text": longer}),
    )
    .await;
    assert_eq!(
        (status, &made["version"]),
        (StatusCode::CREATED, &json!(2)),
        "{made}"
    );
    let (status, made) = call(
        &dana,
        Method::POST,
        "/api/plans/d1-window/rollback",
        json!({}),
    )
    .await;
    assert_eq!(
        (status, &made["note"]),
        (StatusCode::CREATED, &json!("rolled back to v1")),
        "{made}"
    );
    let (_, set) = call(&vic, Method::GET, "/api/plans/d1-window", json!({})).await;
    assert_eq!(set["versions"].as_array().unwrap().len(), 3, "{set}");
    assert_eq!(
        set["required_scenarios"],
        json!(["D1/disarm-inside-window.toml"])
    );

    // The account's set reaches its next alarm: the abort window holds the first call back.
    tokio::time::sleep(watchpost_server::plans::POLL * 2).await;
    let app = user(center.api_key("4F39").await);
    let (status, _) = call(&app, Method::POST, "/api/signals", json!({"sia": "BA003"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let alarm = loop {
        let (_, queue) = call(&ada, Method::GET, "/api/alarms", json!({})).await;
        if let Some(a) = queue["alarms"].as_array().and_then(|a| a.first()) {
            break a.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(alarm["plan"], "d1-window v3", "{alarm}");
    let audit = center.store.audit(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.actor == "dealer_admin:dana" && e.action == "plan.assign"),
        "{audit:?}"
    );
    center.server.stop().await.unwrap();
}
