//! The console's safety and attention rules, as HTML a real server renders: cancel offered
//! only after a password match, ending an unverified call asks first and names the agency,
//! "not checked" for a call with no password attempt, a closed alarm with no live action,
//! the queue's order (needs an action first) and waiting colour, the step timers, the
//! unattended ("dead-man") alarms in `GET /api/attention` and the supervisors' banner and
//! view, and the supervisor's per-agent day.

mod common;

use common::{Api, Center, VERBAL, account, sign_in};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_core::Settings;
use watchpost_server::ConsoleConfig;
use watchpost_store::Role;

/// One signed-in user, for both the console (session cookie) and the JSON API.
struct User {
    api: Api,
}

impl User {
    async fn new(center: &Center, name: &str) -> User {
        let client = reqwest::Client::new();
        let token = sign_in(&client, &center.base, name).await;
        User {
            api: Api {
                client,
                base: center.base.clone(),
                token,
            },
        }
    }

    /// A console page or fragment, as the browser gets it with the session cookie.
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .api
            .client
            .get(format!("{}{path}", self.api.base))
            .header("cookie", format!("wp_session={}", self.api.token))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.api.post(path, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        answer
    }
}

/// Sends a SIA signal for 4F39 and waits for the open alarm it makes; its id.
async fn signal(center: &Center, key: &str, sia: &str) -> i64 {
    let before: Vec<i64> = center
        .server
        .board
        .open_alarms()
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let sent = reqwest::Client::new()
        .post(format!("{}/api/signals", center.base))
        .bearer_auth(key)
        .json(&json!({ "sia": sia }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    for _ in 0..100 {
        if let Some((id, _)) = center
            .server
            .board
            .open_alarms()
            .iter()
            .find(|(id, _)| !before.contains(id))
        {
            return *id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no alarm opened for {sia}");
}

/// The part of a page from `from` to the next `to`.
fn between<'a>(page: &'a str, from: &str, to: &str) -> &'a str {
    let start = page
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

/// The queue's row of alarm `id`.
fn row_of(queue: &str, id: i64) -> &str {
    let at = queue
        .find(&format!("data-href=\"/console/alarms/{id}\""))
        .unwrap_or_else(|| panic!("no row for alarm {id}: {queue}"));
    let start = queue[..at].rfind("<tr ").unwrap();
    let end = at + queue[at..].find("</tr>").unwrap();
    &queue[start..end]
}

/// Takes alarm `id` and records its first call placed and answered.
async fn reach_first_contact(amy: &User, id: i64) {
    amy.post(&format!("/api/alarms/{id}/take"), json!({})).await;
    for outcome in ["placed", "answered"] {
        amy.post(
            &format!("/api/alarms/{id}/calls/0/outcome"),
            json!({ "outcome": outcome }),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_is_offered_only_after_the_password_matched() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let key = center.api_key("4F39").await;
    let amy = User::new(&center, "amy").await;
    let id = signal(&center, &key, "BA003").await;
    reach_first_contact(&amy, id).await;

    let (_, panel) = amy.page(&format!("/console/alarms/{id}/panel")).await;
    assert!(
        !panel.contains(r#"value="cancel""#),
        "no cancel yet: {panel}"
    );
    assert!(panel.contains(r#"value="dispatch""#), "{panel}");
    assert!(panel.contains(r#"name="password""#), "{panel}");
    // Ending the call is a police request the agent did not ask for by name: asked first.
    assert!(
        panel.contains(r#"hx-confirm="Ending this call now requests police. End the call?""#),
        "{panel}"
    );
    assert!(panel.contains("not checked yet"), "{panel}");

    // A wrong password: still no cancel.
    amy.post(
        &format!("/api/alarms/{id}/calls/0/password"),
        json!({"password": "red falcon"}),
    )
    .await;
    let (_, panel) = amy.page(&format!("/console/alarms/{id}/panel")).await;
    assert!(!panel.contains(r#"value="cancel""#), "{panel}");
    assert!(panel.contains("no match"), "{panel}");

    // The right one: cancel is offered.
    amy.post(
        &format!("/api/alarms/{id}/calls/0/password"),
        json!({"password": VERBAL}),
    )
    .await;
    let (_, panel) = amy.page(&format!("/console/alarms/{id}/panel")).await;
    assert!(panel.contains(r#"value="cancel""#), "{panel}");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_without_a_password_attempt_says_not_checked() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let key = center.api_key("4F39").await;
    let amy = User::new(&center, "amy").await;
    let id = signal(&center, &key, "BA003").await;
    reach_first_contact(&amy, id).await;
    amy.post(
        &format!("/api/alarms/{id}/calls/0/decision"),
        json!({"decision": "dispatch"}),
    )
    .await;
    let (_, page) = amy.page(&format!("/console/alarms/{id}")).await;
    let calls = between(&page, "<h2>Calls</h2>", "</table>");
    assert!(calls.contains("<td>not checked</td>"), "{calls}");
    assert!(!calls.contains("no match"), "{calls}");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_alarm_offers_no_action() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let key = center.api_key("4F39").await;
    let amy = User::new(&center, "amy").await;
    let id = signal(&center, &key, "BA003").await;
    reach_first_contact(&amy, id).await;
    amy.post(
        &format!("/api/alarms/{id}/notes"),
        json!({"text": "owner forgot the code"}),
    )
    .await;
    amy.post(
        &format!("/api/alarms/{id}/calls/0/password"),
        json!({"password": VERBAL}),
    )
    .await;
    amy.post(
        &format!("/api/alarms/{id}/calls/0/decision"),
        json!({"decision": "cancel"}),
    )
    .await;

    let (status, page) = amy.page(&format!("/console/alarms/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Closed: canceled by contact"), "{page}");
    for action in [
        "/take",
        "/release",
        "/outcome",
        "/password",
        "/decision",
        "/callbacks",
        "/close",
        "/notes",
        "/dispatch/confirm",
    ] {
        assert!(
            !page.contains(&format!(r#"action="/console/alarms/{id}{action}"#))
                && !page.contains(&format!("{action}\"")),
            "a closed alarm offers {action}: {page}"
        );
    }
    assert!(!page.contains("<textarea"), "{page}");
    // Only looking keys: refresh and the queue.
    let keys: Vec<&str> = page
        .split(r#"data-key=""#)
        .skip(1)
        .map(|rest| &rest[..1])
        .collect();
    assert!(
        keys.iter().all(|k| *k == "r" || *k == "q"),
        "keys on a closed alarm: {keys:?}"
    );
    let legend = between(&page, "<footer", "</footer>");
    assert!(!legend.contains("take"), "{legend}");
    // The record stays readable.
    assert!(page.contains("owner forgot the code"), "{page}");
    assert!(page.contains("<h2>Timeline</h2>"), "{page}");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_puts_alarms_that_need_an_action_first_and_colours_late_ones() {
    let console = ConsoleConfig {
        waiting_ms: [1, 1, 1, 1],
        ..ConsoleConfig::default()
    };
    let center = Center::start_console(
        &[account()],
        &[("amy", Role::Agent)],
        true,
        Settings::default(),
        console,
    )
    .await;
    let key = center.api_key("4F39").await;
    let amy = User::new(&center, "amy").await;
    // A burglary dispatched and confirmed: help is on the way, it only waits.
    let burglary = signal(&center, &key, "BA003").await;
    reach_first_contact(&amy, burglary).await;
    amy.post(
        &format!("/api/alarms/{burglary}/calls/0/decision"),
        json!({"decision": "dispatch"}),
    )
    .await;
    let (_, page) = amy.page(&format!("/console/alarms/{burglary}")).await;
    assert!(
        page.contains("unconfirmed for <span class=\"age unconfirmed\""),
        "{page}"
    );
    assert!(page.contains(r#"id="step-timer""#), "{page}");
    amy.post(
        &format!("/api/alarms/{burglary}/dispatch/confirm"),
        json!({"agency": "police", "reference": "PD-1234"}),
    )
    .await;
    let (_, page) = amy.page(&format!("/console/alarms/{burglary}")).await;
    assert!(
        page.contains(r#"id="follow-up-timer" data-until=""#),
        "{page}"
    );
    // A water leak (priority 3) nobody has taken yet: it needs an action.
    let water = signal(&center, &key, "WA001").await;
    tokio::time::sleep(Duration::from_millis(20)).await;

    let (_, page) = amy.page("/console/queue").await;
    // The rows (the heading links to amy's own alarms too).
    let queue = &page[page.find("id=\"queue-table\"").unwrap()..];
    let water_at = queue.find(&format!("/console/alarms/{water}\"")).unwrap();
    let burglary_at = queue
        .find(&format!("/console/alarms/{burglary}\""))
        .unwrap();
    assert!(water_at < burglary_at, "needs an action first: {queue}");
    let water_row = row_of(queue, water);
    assert!(
        water_row.contains(" late\""),
        "waited past 1 ms: {water_row}"
    );
    assert!(water_row.contains("data-late-at="), "{water_row}");
    let burglary_row = row_of(queue, burglary);
    assert!(burglary_row.contains(" waits"), "{burglary_row}");
    assert!(!burglary_row.contains(" late"), "{burglary_row}");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unattended_alarms_alert_the_supervisors() {
    let console = ConsoleConfig {
        untaken_ms: [1, 1, 1, 1],
        idle_ms: 60_000,
        ..ConsoleConfig::default()
    };
    let center = Center::start_console(
        &[account()],
        &[("amy", Role::Agent), ("sue", Role::Supervisor)],
        true,
        Settings::default(),
        console,
    )
    .await;
    let key = center.api_key("4F39").await;
    let amy = User::new(&center, "amy").await;
    let sue = User::new(&center, "sue").await;
    let (status, none) = amy.api.get("/api/attention").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        none,
        json!({"untaken": 0, "idle": 0, "untaken_alarms": [], "idle_alarms": [], "unresolved": 0, "unresolved_items": [], "guessed_passwords": [], "throttled": 0, "throttled_users": []})
    );

    let id = signal(&center, &key, "BA003").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, found) = amy.api.get("/api/attention").await;
    assert_eq!(
        found,
        json!({"untaken": 1, "idle": 0, "untaken_alarms": [id], "idle_alarms": [], "unresolved": 0, "unresolved_items": [], "guessed_passwords": [], "throttled": 0, "throttled_users": []})
    );
    // The banner: for supervisors, on every page (it is loaded by each page's shell).
    let (_, banner) = sue.page("/console/unattended").await;
    assert!(banner.contains("1 alarm nobody has taken"), "{banner}");
    assert!(
        banner.contains(&format!("/console/alarms/{id}")),
        "{banner}"
    );
    let (_, shell) = sue.page("/console").await;
    assert!(shell.contains(r#"hx-get="/console/unattended""#), "{shell}");
    let (_, shell) = amy.page("/console").await;
    assert!(
        !shell.contains(r#"hx-get="/console/unattended""#),
        "{shell}"
    );
    let (_, banner) = amy.page("/console/unattended").await;
    assert!(!banner.contains("nobody has taken"), "{banner}");
    let (_, view) = sue.page("/console/supervisor").await;
    let list = between(&view, "id=\"unattended-list\"", "</div>");
    assert!(list.contains("1 alarm nobody has taken"), "{view}");
    assert!(view.contains(r#"id="unknown-accounts""#), "{view}");

    // Taken: no longer untaken, and not idle within the minute.
    amy.post(&format!("/api/alarms/{id}/take"), json!({})).await;
    let (_, found) = amy.api.get("/api/attention").await;
    assert_eq!(found["untaken"], 0, "{found}");
    assert_eq!(found["idle"], 0, "{found}");
    center.server.stop().await.unwrap();

    // With a 1 ms idle threshold, the taken alarm with no activity is idle.
    let console = ConsoleConfig {
        idle_ms: 1,
        ..ConsoleConfig::default()
    };
    let center = Center::start_console(
        &[account()],
        &[("amy", Role::Agent)],
        true,
        Settings::default(),
        console,
    )
    .await;
    let key = center.api_key("4F39").await;
    let amy = User::new(&center, "amy").await;
    let id = signal(&center, &key, "BA003").await;
    amy.post(&format!("/api/alarms/{id}/take"), json!({})).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, found) = amy.api.get("/api/attention").await;
    assert_eq!(
        found,
        json!({"untaken": 0, "idle": 1, "untaken_alarms": [], "idle_alarms": [id], "unresolved": 0, "unresolved_items": [], "guessed_passwords": [], "throttled": 0, "throttled_users": []})
    );
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisor_sees_each_agents_day() {
    let center = Center::start(
        &[account()],
        &[("amy", Role::Agent), ("sue", Role::Supervisor)],
        true,
    )
    .await;
    let key = center.api_key("4F39").await;
    let amy = User::new(&center, "amy").await;
    let sue = User::new(&center, "sue").await;
    let id = signal(&center, &key, "BA003").await;
    reach_first_contact(&amy, id).await;
    amy.post(
        &format!("/api/alarms/{id}/calls/0/password"),
        json!({"password": VERBAL}),
    )
    .await;
    amy.post(
        &format!("/api/alarms/{id}/calls/0/decision"),
        json!({"decision": "cancel"}),
    )
    .await;
    let open = signal(&center, &key, "WA001").await;
    amy.post(&format!("/api/alarms/{open}/take"), json!({}))
        .await;

    let (status, view) = sue.page("/console/supervisor/stats").await;
    assert_eq!(status, StatusCode::OK);
    let row = between(&view, r#"<tr data-agent="amy">"#, "</tr>");
    assert!(
        row.contains(&format!("/console/alarms/{open}")),
        "handling now: {row}"
    );
    assert!(
        row.contains(r#"<td class="num closed-today">1</td>"#),
        "{row}"
    );
    assert!(
        !row.contains("—"),
        "times and last activity are known: {row}"
    );
    center.server.stop().await.unwrap();
}
