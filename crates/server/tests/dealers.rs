//! Dealers as tenants (issue 14, item 6), on a real server over loopback: a dealer_admin of D1
//! tries every route the router serves, with every method, against the accounts and alarms of
//! dealer D2 and of the center, and nothing of theirs is read or changed; the routes not open
//! to dealers answer 403 (deny by default). What D1's users may do to D1's own accounts works,
//! within their role, and the console opens only the dealer page for them.

mod common;

use common::{Api, Center, PASSWORD, account, now};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_core::Account;
use watchpost_store::{AlarmState, Role};

/// Text that only the other dealer's or the center's data holds: no answer to D1 may hold it.
const FOREIGN: [&str; 4] = ["Zed Dee", "2 Other Rd", "Cy Center", "3 Center St"];

fn account_of(number: &str, dealer: Option<&str>, address: &str, contact: &str) -> Account {
    let mut a = account();
    a.number = number.into();
    a.dealer = dealer.map(str::to_string);
    a.address = address.into();
    a.contacts[0].name = contact.into();
    a
}

/// The routes of the router, from its source (as `every_api_route_is_in_the_openapi_document`
/// reads them): a route added later is tried too.
fn routes() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let router = std::fs::read_to_string(dir.join("mod.rs")).unwrap();
    let mut served: Vec<String> = router
        .split('"')
        .filter(|text| text.starts_with("/api/"))
        .map(str::to_string)
        .collect();
    served.sort();
    served.dedup();
    assert!(served.len() >= 30, "{served:?}");
    served
}

/// The routes a dealer's user may use (docs/api.md, Dealers), and those for no signed-in user
/// in particular. Every other route must answer them 403.
const DEALER_ROUTES: [(&str, &str); 19] = [
    ("GET", "/api/webhooks"),
    ("POST", "/api/webhooks"),
    ("DELETE", "/api/webhooks/{id}"),
    ("GET", "/api/webhooks/{id}/deliveries"),
    ("GET", "/api/reports"),
    ("GET", "/api/plans"),
    ("PUT", "/api/plans/{name}/required"),
    ("GET", "/api/plans/{name}"),
    ("PUT", "/api/plans/{name}"),
    ("POST", "/api/plans/{name}/rollback"),
    ("PUT", "/api/plan-assignments"),
    ("GET", "/api/events"),
    ("GET", "/api/alarms"),
    ("GET", "/api/alarms/{id}"),
    ("GET", "/api/accounts"),
    ("GET", "/api/accounts/{number}"),
    ("PUT", "/api/accounts/{number}"),
    ("DELETE", "/api/accounts/{number}"),
    ("GET", "/api/accounts/{number}/history"),
];
const PUBLIC: [&str; 4] = [
    "/api/login",
    "/api/logout",
    "/api/openapi.json",
    "/api/signals",
];

async fn send(api: &Api, method: Method, path: &str, body: Value) -> (StatusCode, String) {
    let response = api
        .client
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap_or_default())
}

/// The account table as `PUT /api/accounts/{number}` takes it.
fn table(number: &str, dealer: Option<&str>) -> Value {
    let mut t = json!({
        "number": number,
        "premises": "residential",
        "address": "9 Taken Over Ln",
        "country": "US",
        "region": "IL",
        "monitoring": "professional",
        "enrolled": "2025-01-01T00:00:00Z",
        "verbal_password": "blue falcon",
        "contacts": [{"name": "Mal Lory", "phone": "+15555550199"}],
    });
    if let Some(dealer) = dealer {
        t["dealer"] = json!(dealer);
    }
    t
}

/// Everything of D2 and of the center that a request could change: their accounts and
/// their alarms' logs.
async fn foreign_state(center: &Center, alarms: &[i64]) -> String {
    let mut state = String::new();
    for number in ["2001", "3001", "2002"] {
        state += &format!("{:?}\n", center.store.account(number).await.unwrap());
    }
    for id in alarms {
        state += &format!("{:?}\n", center.store.log(*id).await.unwrap());
    }
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_user_reads_and_changes_nothing_of_another_dealer_or_the_center() {
    let center = Center::start(&[], &[("root", Role::Admin)], true).await;
    let now = now();
    center.auth.put_dealer("D1", "Acme", now).await.unwrap();
    center.auth.put_dealer("D2", "Bolt", now).await.unwrap();
    for (name, role) in [("dana", Role::DealerAdmin), ("vic", Role::DealerViewer)] {
        center
            .auth
            .add_user_of(name, role, Some("D1"), PASSWORD, now)
            .await
            .unwrap();
    }
    center
        .store
        .put_accounts(&[
            account_of("1001", Some("D1"), "1 Own Way", "Ann Own"),
            account_of("2001", Some("D2"), "2 Other Rd", "Zed Dee"),
            account_of("2002", Some("D2"), "2 Other Rd", "Zed Dee"),
            account_of("3001", None, "3 Center St", "Cy Center"),
        ])
        .await
        .unwrap();
    let center = center.restart().await;
    for number in ["1001", "2001", "3001"] {
        let app = Api {
            client: Client::new(),
            base: center.base.clone(),
            token: center.api_key(number).await,
        };
        let (status, _) = app.post("/api/signals", json!({"sia": "BA003"})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{number}");
    }
    let mut opened = Vec::new();
    for _ in 0..100 {
        opened = center.store.alarms(AlarmState::Open).await.unwrap();
        if opened.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(opened.len(), 3, "{opened:?}");
    let alarm_of = |n: &str| opened.iter().find(|a| a.account == n).unwrap().id;
    let (own, foreign) = (alarm_of("1001"), [alarm_of("2001"), alarm_of("3001")]);

    let client = Client::new();
    let as_user = |token: String| Api {
        client: client.clone(),
        base: center.base.clone(),
        token,
    };
    let login: Value = client
        .post(format!("{}/api/login", center.base))
        .json(&json!({"name": "vic", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&login["role"], &login["dealer"]),
        (&json!("dealer_viewer"), &json!("D1"))
    );
    let dana = as_user(common::sign_in(&client, &center.base, "dana").await);
    let vic = as_user(common::sign_in(&client, &center.base, "vic").await);
    let before = foreign_state(&center, &foreign).await;

    // Every route, every method, against D2's and the center's data.
    let mut tried = 0;
    for route in routes() {
        if route == "/api/logout" {
            continue; // it would end dana's own session: tried at the end.
        }
        let mut paths = Vec::new();
        for id in foreign {
            for number in ["2001", "3001"] {
                paths.push(
                    route
                        .replace("{id}", &id.to_string())
                        .replace("{call}", "1")
                        .replace("{number}", number),
                );
            }
        }
        paths.dedup();
        for path in paths {
            for method in [Method::GET, Method::POST, Method::PUT, Method::DELETE] {
                if method == Method::GET && route == "/api/events" {
                    continue; // a stream that does not end: tried below.
                }
                let number = path.split('/').nth(3).unwrap_or("");
                let bodies = if method == Method::PUT {
                    vec![table(number, None), table(number, Some("D1"))]
                } else {
                    vec![json!({})]
                };
                for body in bodies {
                    let (status, text) = send(&dana, method.clone(), &path, body.clone()).await;
                    tried += 1;
                    let said = format!("{method} {path} {body}: {status} {text}");
                    for marker in FOREIGN {
                        assert!(!text.contains(marker), "{said}");
                    }
                    assert!(!status.is_server_error(), "{said}");
                    let allowed = DEALER_ROUTES
                        .iter()
                        .any(|(m, r)| *m == method.as_str() && *r == route);
                    if status == StatusCode::METHOD_NOT_ALLOWED || PUBLIC.contains(&route.as_str())
                    {
                        assert!(
                            !status.is_success() || route == "/api/openapi.json",
                            "{said}"
                        );
                    } else if !allowed {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{said}");
                    } else if route.starts_with("/api/plan") {
                        // No set of another dealer or the center's can be changed: only the
                        // listing (of sets it may see) succeeds. tests/plans_api.rs has the rest.
                        let listing = route == "/api/plans" && method == Method::GET;
                        assert!(status.is_success() == listing, "{said}");
                    } else if route == "/api/reports" {
                        // No period given: tried with one below.
                        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{said}");
                    } else if route == "/api/webhooks" {
                        // The listing (of D1's endpoints: none here); an empty body adds
                        // nothing. a_dealer_manages_only_its_own_webhooks has the rest.
                        let expected = if method == Method::GET {
                            StatusCode::OK
                        } else {
                            StatusCode::UNPROCESSABLE_ENTITY
                        };
                        assert_eq!(status, expected, "{said}");
                    } else if route == "/api/alarms" || route == "/api/accounts" {
                        assert_eq!(status, StatusCode::OK, "{said}");
                        for other in [
                            "2001",
                            "3001",
                            &foreign[0].to_string(),
                            &foreign[1].to_string(),
                        ] {
                            assert!(!text.contains(&format!("\"{other}\"")), "{said}");
                        }
                    } else {
                        assert_eq!(status, StatusCode::NOT_FOUND, "{said}");
                    }
                }
            }
        }
    }
    assert!(tried > 200, "{tried}");
    // Listings with every state, and query searches.
    for query in [
        "?state=all",
        "?state=closed",
        "?q=Zed",
        "?phone=%2B15555550101",
    ] {
        let path = if query.contains("state") {
            "/api/alarms"
        } else {
            "/api/accounts"
        };
        let (status, text) = send(&dana, Method::GET, &format!("{path}{query}"), json!({})).await;
        for marker in FOREIGN {
            assert!(!text.contains(marker), "{path}{query}: {status} {text}");
        }
        assert!(
            !text.contains("\"2001\"") && !text.contains("\"3001\""),
            "{text}"
        );
    }
    assert_eq!(
        foreign_state(&center, &foreign).await,
        before,
        "D2's or the center's data changed"
    );

    // Live events: only those of alarms of their accounts.
    let mut events = client
        .get(format!("{}/api/events", center.base))
        .bearer_auth(&vic.token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    for number in ["2001", "3001", "1001"] {
        let app = Api {
            client: Client::new(),
            base: center.base.clone(),
            token: center.api_key(number).await,
        };
        let (status, text) = app.post("/api/signals", json!({"sia": "FA"})).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{number}: {text}");
    }
    let mut streamed = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !streamed.contains("event: alarm") || tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, events.chunk()).await {
            Ok(Ok(Some(chunk))) => streamed += &String::from_utf8_lossy(&chunk),
            _ => break,
        }
    }
    let streamed_ids: Vec<i64> = streamed
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok()?["alarm"].as_i64())
        .collect();
    assert!(!streamed_ids.is_empty(), "{streamed}");
    let all = center.store.alarms(AlarmState::All).await.unwrap();
    for id in &streamed_ids {
        let row = all.iter().find(|a| a.id == *id).unwrap();
        assert_eq!(row.account, "1001", "{streamed}");
    }
    assert!(
        all.iter().filter(|a| a.account != "1001").count() > 2,
        "the other accounts' signals opened alarms too: {all:?}"
    );
    drop(events);

    // Their own: read, and written by the dealer_admin only, always as theirs.
    let (status, listed) = dana.get("/api/alarms").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = listed["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let open_now = center.store.alarms(AlarmState::Open).await.unwrap();
    let mut theirs: Vec<i64> = open_now
        .iter()
        .filter(|a| a.account == "1001")
        .map(|a| a.id)
        .collect();
    let mut ids = ids;
    ids.sort();
    theirs.sort();
    assert!(theirs.contains(&own), "{open_now:?}");
    assert_eq!(ids, theirs, "{listed}");
    assert_eq!(listed["unknown"], json!([]));
    let (status, one) = vic.get(&format!("/api/alarms/{own}")).await;
    assert_eq!(
        (status, one["account"].as_str()),
        (StatusCode::OK, Some("1001"))
    );
    let (status, shown) = vic.get("/api/accounts/1001").await;
    assert_eq!(
        (status, shown["dealer"].as_str()),
        (StatusCode::OK, Some("D1"))
    );
    let (status, numbers) = vic.get("/api/accounts").await;
    assert_eq!(
        (status, numbers),
        (StatusCode::OK, json!({"accounts": ["1001"]}))
    );
    let (status, _) = vic.get("/api/accounts/1001/history").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(&vic, Method::PUT, "/api/accounts/1002", table("1002", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a dealer_viewer only reads");
    let (status, text) = send(
        &dana,
        Method::PUT,
        "/api/accounts/1002",
        table("1002", Some("D2")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("account.dealer"), "{text}");
    assert!(center.store.account("1002").await.unwrap().is_none());
    let (status, text) = send(
        &dana,
        Method::PUT,
        "/api/accounts/1002",
        table("1002", None),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let made = center.store.account("1002").await.unwrap().unwrap();
    assert_eq!(made.dealer.as_deref(), Some("D1"));
    let (status, _) = send(&vic, Method::DELETE, "/api/accounts/1002", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(&dana, Method::DELETE, "/api/accounts/1002", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A dealer never takes or handles an alarm, even their own.
    let (status, _) = dana
        .post(&format!("/api/alarms/{own}/take"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The center's users see everything, dealers' data included.
    let root = as_user(common::sign_in(&client, &center.base, "root").await);
    let (_, all) = root.get("/api/alarms").await;
    assert_eq!(
        all["alarms"].as_array().unwrap().len(),
        center.store.alarms(AlarmState::Open).await.unwrap().len(),
        "{all}"
    );
    let (status, shown) = root.get("/api/accounts/2001").await;
    assert_eq!(
        (status, shown["dealer"].as_str()),
        (StatusCode::OK, Some("D2"))
    );

    // The console: only the dealer page, and only their data on it.
    let page = |path: &'static str, token: String| {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let base = center.base.clone();
        async move {
            let response = client
                .get(format!("{base}{path}"))
                .header("cookie", format!("wp_session={token}"))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (status, location, response.text().await.unwrap())
        }
    };
    let (status, _, text) = page("/console/dealer", dana.token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("1001") && text.contains("1 Own Way"),
        "{text}"
    );
    for marker in FOREIGN {
        assert!(!text.contains(marker), "{text}");
    }
    for path in [
        "/console",
        "/console/supervisor",
        "/console/accounts/2001",
        "/console/accounts?q=Zed",
    ] {
        let (status, location, text) = page(path, dana.token.clone()).await;
        assert_eq!(
            (status, location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/console/dealer")),
            "{path}: {text}"
        );
    }
    // Every console route of the router, GET and POST (with the session's CSRF token, read
    // from the dealer page's sign-out form): pages send them to the dealer page, htmx requests
    // and forms are refused.
    let marker = r#"name="csrf" value=""#;
    let (_, _, own_page) = page("/console/dealer", dana.token.clone()).await;
    let start = own_page.find(marker).expect("a CSRF field") + marker.len();
    let csrf = own_page[start..][..64].to_string();
    let console = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/mod.rs"),
    )
    .unwrap();
    let mut console_routes: Vec<&str> = console
        .split('"')
        .filter(|text| text.starts_with("/console/") || *text == "/console")
        .filter(|text| *text != "/console/dealer" && !text.starts_with("/console/assets/"))
        .collect();
    console_routes.dedup();
    assert!(console_routes.len() >= 25, "{console_routes:?}");
    let plain = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for route in console_routes {
        let path = route
            .replace("{id}", &foreign[0].to_string())
            .replace("{call}", "1")
            .replace("{number}", "2001");
        for (method, htmx) in [
            (Method::GET, false),
            (Method::GET, true),
            (Method::POST, false),
        ] {
            let mut request = plain
                .request(method.clone(), format!("{}{path}", center.base))
                .header("cookie", format!("wp_session={}", dana.token))
                .header("x-csrf-token", &csrf)
                .form(&[("csrf", csrf.as_str()), ("q", "Zed"), ("text", "x")]);
            if htmx {
                request = request.header("hx-request", "true");
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            let text = response.text().await.unwrap();
            let said = format!("{method} {path} htmx={htmx}: {status} {location:?} {text}");
            for marker in FOREIGN {
                assert!(!text.contains(marker), "{said}");
            }
            if status == StatusCode::METHOD_NOT_ALLOWED {
                continue; // the router serves no such method there.
            }
            if method == Method::GET && !htmx {
                assert_eq!(
                    (status, location.as_deref()),
                    (StatusCode::SEE_OTHER, Some("/console/dealer")),
                    "{said}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{said}");
            }
        }
    }
    assert_eq!(
        foreign_state(&center, &foreign).await,
        before,
        "the console changed something"
    );
    let (status, location, _) = page("/console/dealer", root.token.clone()).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/console"))
    );

    reports(&center, &dana, &root).await;
    let (status, _) = dana.post("/api/logout", json!({})).await;
    assert!(status.is_success(), "{status}");
}

/// Reports: D1's user gets D1's alone, in every format, never a silent alarm; another
/// dealer's or the center's accounts answer 404.
async fn reports(center: &Center, dana: &Api, root: &Api) {
    let app = Api {
        client: Client::new(),
        base: center.base.clone(),
        token: center.api_key("1001").await,
    };
    // A burglary first: the duress that follows marks it, and that mark is the center's too.
    let (status, _) = app.post("/api/signals", json!({"sia": "BA001"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mut burglary = None;
    for _ in 0..100 {
        let open = center.store.alarms(AlarmState::Open).await.unwrap();
        burglary = open
            .iter()
            .find(|a| a.account == "1001" && a.kind == "burglary")
            .map(|a| a.id);
        if burglary.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let burglary = burglary.expect("the burglary opened");
    let (status, _) = app.post("/api/signals", json!({"sia": "HA001"})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mut duress = false;
    for _ in 0..100 {
        let open = center.store.alarms(AlarmState::Open).await.unwrap();
        duress = open.iter().any(|a| a.kind == "duress");
        if duress {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(duress, "the duress alarm opened");
    // The silent alarm leaves no trace a dealer's user can read: not the burglary's list of
    // open duress alarms nor its timeline rows naming one, not the account's history.
    let own = format!("/api/alarms/{burglary}");
    let mut marked = false;
    for _ in 0..100 {
        let (_, seen) = root.get(&own).await;
        marked = seen["duress_open"]
            .as_array()
            .is_some_and(|d| !d.is_empty());
        if marked {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(marked, "the center's agents see the duress on the burglary");
    for path in [
        own.as_str(),
        "/api/alarms",
        "/api/alarms?view=full",
        "/api/alarms?state=all&view=full",
        "/api/accounts/1001/history",
    ] {
        let (status, text) = send(dana, Method::GET, path, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        // Every alarm has the field; a dealer's always reads empty.
        let text = text.replace("\"duress_open\":[]", "");
        for trace in ["duress", "HA001", "\"HA"] {
            assert!(!text.contains(trace), "{path} shows {trace}: {text}");
        }
    }
    let (_, history) = root.get("/api/accounts/1001/history").await;
    assert!(history.to_string().contains("duress"), "{history}");
    let period = "/api/reports?from=2020-01-01&to=2100-01-01";
    for query in [
        "&dealer=D2",
        "&account=2001",
        "&account=3001",
        "&dealer=NOPE",
    ] {
        let (status, text) = send(dana, Method::GET, &format!("{period}{query}"), json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}: {text}");
    }
    for query in [
        "",
        "&dealer=D1",
        "&account=1001",
        "&format=csv",
        "&format=html",
    ] {
        let path = format!("{period}{query}");
        let (status, text) = send(dana, Method::GET, &path, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        for foreign in FOREIGN.iter().chain(&["2001", "3001", "duress"]) {
            assert!(!text.contains(foreign), "{path}: {text}");
        }
    }
    let (_, own) = dana.get(period).await;
    let all = center.store.alarms(AlarmState::All).await.unwrap();
    let theirs = all
        .iter()
        .filter(|a| a.account == "1001" && a.kind != "duress")
        .count();
    assert_eq!(own["alarms"], json!(theirs), "{own}");
    assert_eq!(own["scope"], json!("dealer D1 (Acme)"));
    // The center sees the duress alarm in the account's report, not in the dealer's.
    let (_, account) = root.get(&format!("{period}&account=1001")).await;
    assert!(account.to_string().contains("duress"), "{account}");
    let (_, dealer) = root.get(&format!("{period}&dealer=D1")).await;
    assert_eq!(dealer, own);
    // An account never enrolled is refused, not reported as a quiet one.
    let (status, text) = send(
        root,
        Method::GET,
        &format!("{period}&account=9999"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    let (_, everything) = root.get(period).await;
    assert_eq!(everything["alarms"], json!(all.len()), "{everything}");
}

/// The webhook routes for dealers (issue 14, item 7): D1's admin adds, lists, reads the log of
/// and removes D1's endpoints, and nothing of D2's or the center's; D1's viewer only reads;
/// the secret is in the answer that creates an endpoint and in no other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_manages_only_its_own_webhooks() {
    let center = Center::start(&[], &[("root", Role::Admin)], true).await;
    let now = now();
    center.auth.put_dealer("D1", "Acme", now).await.unwrap();
    center.auth.put_dealer("D2", "Bolt", now).await.unwrap();
    for (name, role) in [("dana", Role::DealerAdmin), ("vic", Role::DealerViewer)] {
        center
            .auth
            .add_user_of(name, role, Some("D1"), PASSWORD, now)
            .await
            .unwrap();
    }
    let client = Client::new();
    let as_user = |token: String| Api {
        client: client.clone(),
        base: center.base.clone(),
        token,
    };
    let root = as_user(common::sign_in(&client, &center.base, "root").await);
    let dana = as_user(common::sign_in(&client, &center.base, "dana").await);
    let vic = as_user(common::sign_in(&client, &center.base, "vic").await);

    let add = |dealer: Option<&str>, host: &str| {
        let mut body = json!({"url": format!("https://{host}.example/hooks")});
        if let Some(d) = dealer {
            body["dealer"] = json!(d);
        }
        body
    };
    let (status, d2) = root
        .post("/api/webhooks", add(Some("D2"), "bolt-hooks"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{d2}");
    assert_eq!(d2["dealer"], "D2");
    let (status, ours) = root.post("/api/webhooks", add(None, "center-hooks")).await;
    assert_eq!(status, StatusCode::CREATED, "{ours}");
    let (status, text) = send(&root, Method::POST, "/api/webhooks", add(Some("D9"), "x")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("\"field\":\"dealer\""), "{text}");

    let (status, text) = send(&vic, Method::POST, "/api/webhooks", add(None, "acme")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a dealer_viewer only reads: {text}"
    );
    let (status, text) = send(
        &dana,
        Method::POST,
        "/api/webhooks",
        add(Some("D2"), "acme"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("\"field\":\"dealer\""), "{text}");
    let (status, text) = send(
        &dana,
        Method::POST,
        "/api/webhooks",
        json!({"url": "ftp://acme.example/"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("\"field\":\"url\""), "{text}");
    let (status, made) = dana.post("/api/webhooks", add(None, "acme-hooks")).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        made["dealer"], "D1",
        "a dealer's endpoint is always its own"
    );
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{made}");
    let mine = made["id"].as_str().unwrap().to_string();

    for user in [&dana, &vic] {
        let (status, text) = send(user, Method::GET, "/api/webhooks", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let listed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1, "{text}");
        assert_eq!(listed["webhooks"][0]["id"], json!(mine), "{text}");
        for foreign in ["bolt-hooks", "center-hooks", &secret, "sealed:"] {
            assert!(!text.contains(foreign), "{text}");
        }
        let (status, log) = user.get(&format!("/api/webhooks/{mine}/deliveries")).await;
        assert_eq!((status, &log), (StatusCode::OK, &json!({"deliveries": []})));
    }
    let (_, all) = root.get("/api/webhooks").await;
    assert_eq!(all["webhooks"].as_array().unwrap().len(), 3, "{all}");
    assert!(
        !all.to_string().contains(&secret),
        "never shown again: {all}"
    );

    for foreign in [&d2["id"], &ours["id"]] {
        let id = foreign.as_str().unwrap();
        for user in [&dana, &vic] {
            let (status, text) = send(
                user,
                Method::GET,
                &format!("/api/webhooks/{id}/deliveries"),
                json!({}),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
        }
        let (status, _) = send(
            &dana,
            Method::DELETE,
            &format!("/api/webhooks/{id}"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        center.store.endpoints().await.unwrap().len(),
        3,
        "nothing removed"
    );
    let (status, _) = send(
        &vic,
        Method::DELETE,
        &format!("/api/webhooks/{mine}"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(
        &dana,
        Method::DELETE,
        &format!("/api/webhooks/{mine}"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let left: Vec<Option<String>> = center
        .store
        .endpoints()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.dealer)
        .collect();
    assert!(!left.contains(&Some("D1".into())), "{left:?}");
    assert_eq!(left.len(), 2);
    center.server.stop().await.unwrap();
}
