//! The agent console over HTTP on a real server: the sign-in form sets the session cookie,
//! console pages require it, the queue lists a new alarm, the alarm screen's forms work an
//! alarm through the desk (htmx fragments and plain form posts alike), the supervisor view
//! is for supervisors, and no page ever shows the verbal password or a hash.

mod common;

use common::{Center, PASSWORD, VERBAL, account};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_store::Role;

/// A browser without JavaScript: keeps the session cookie by hand, follows no redirect, and
/// remembers every page it was shown.
struct Browser {
    client: Client,
    base: String,
    cookie: Option<String>,
    seen: String,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookie
            .as_deref()
            .map(|c| format!("wp_session={c}"))
            .unwrap_or_default()
    }

    async fn read(&mut self, response: Response) -> (StatusCode, String, Option<String>) {
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let body = response.text().await.unwrap();
        self.seen.push_str(&body);
        (status, body, location)
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String, Option<String>) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// Posts a form, as htmx (`HX-Request`) or as a plain browser.
    async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        htmx: bool,
    ) -> (StatusCode, String, Option<String>) {
        // Signed in: the form carries the CSRF token its page gave (as a browser's would).
        let token = match &self.cookie {
            Some(cookie) => common::csrf_token(&self.client, &self.base, cookie).await,
            None => String::new(),
        };
        let mut form = form.to_vec();
        if self.cookie.is_some() {
            form.push(("csrf", &token));
        }
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if htmx {
            request = request.header("hx-request", "true");
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }

    /// The JSON API with the session token as its bearer token (the API takes no cookie).
    async fn api(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.cookie.as_deref().unwrap_or_default())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_works_an_alarm_in_the_console() {
    let users = [
        ("amy", Role::Agent),
        ("sue", Role::Supervisor),
        ("sam", Role::Supervisor),
    ];
    let center = Center::start(&[account()], &users, true).await;
    let key = center.api_key("4F39").await;
    let base = center.base.clone();
    let client = Client::builder().redirect(Policy::none()).build().unwrap();
    let mut browser = Browser {
        client: client.clone(),
        base: base.clone(),
        cookie: None,
        seen: String::new(),
    };

    // Signed out: everything leads to the sign-in form.
    let (status, _, location) = browser.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/console"));
    let (status, _, location) = browser.get("/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login"));
    let (_, login, _) = browser.get("/login").await;
    assert!(login.contains(r#"name="password""#));
    let (status, refused, _) = browser
        .post("/login", &[("name", "amy"), ("password", "nope")], false)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.contains("Sign-in refused: wrong user name or password"),
        "{refused}"
    );

    // After five failures in a row the next attempt must wait, even with the right password;
    // the form says what it says to every refusal (issue 13, item 3).
    let mut last = String::new();
    for _ in 0..5 {
        last = browser
            .post("/login", &[("name", "sue"), ("password", "wrong")], false)
            .await
            .1;
    }
    assert!(last.contains("Sign-in refused"), "{last}");
    let (status, delayed, _) = browser
        .post("/login", &[("name", "sue"), ("password", PASSWORD)], false)
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "delayed even with the right password"
    );
    assert!(delayed.contains("too many recent attempts"), "{delayed}");
    assert!(!delayed.contains("until"), "{delayed}");

    // Signing in sets the session cookie.
    let response = client
        .post(format!("{base}/login"))
        .form(&[("name", "amy"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/console");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("wp_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let token = cookie["wp_session=".len()..].split(';').next().unwrap();
    browser.cookie = Some(token.to_string());
    let (status, queue, _) = browser.get("/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains("Open alarms: 0"), "{queue}");
    assert!(queue.contains(r#"sse-connect="/api/events""#));

    // The embedded assets.
    let js = client
        .get(format!("{base}/console/assets/htmx.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    let missing = client
        .get(format!("{base}/console/assets/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // A burglary arrives and the queue lists it.
    let stored = client
        .post(format!("{base}/api/signals"))
        .bearer_auth(&key)
        .json(&json!({"sia": "BA003"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), StatusCode::ACCEPTED);
    let mut fragment = String::new();
    for _ in 0..50 {
        fragment = browser.get("/console/queue").await.1;
        if fragment.contains("Open alarms: 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fragment.contains("burglary"), "{fragment}");
    assert!(fragment.contains("4F39") && fragment.contains("12 Elm St"));
    assert!(
        fragment.contains("Call Ann Lee (+15555550101)"),
        "{fragment}"
    );
    // The same session token opens the JSON API, as a bearer token.
    let alarms = browser.api("/api/alarms").await;
    let id = alarms["alarms"][0]["id"].as_i64().unwrap();
    assert!(fragment.contains(&format!(r#"href="/console/alarms/{id}""#)));

    // The alarm screen.
    let screen = format!("/console/alarms/{id}");
    let (status, page, _) = browser.get(&screen).await;
    assert_eq!(status, StatusCode::OK);
    for expected in [
        "Take",
        "Ann Lee",
        "+15555550102",
        "Please call us back",
        "BA zone 3",
        "motion",
    ] {
        assert!(
            page.contains(expected),
            "the alarm screen lacks {expected:?}"
        );
    }

    // Take (htmx: the panel comes back), then contact 1: dialled (a plain post: redirected
    // back), voicemail.
    let (status, panel, _) = browser.post(&format!("{screen}/take"), &[], true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(panel.contains("You are handling this alarm."), "{panel}");
    assert!(!panel.contains("<html"), "htmx gets the panel only");
    // Untaken, the call offered nothing to press; taken, it does.
    assert!(!page.contains("Dialled"), "{page}");
    assert!(panel.contains("Dialled"), "{panel}");
    let (status, _, location) = browser
        .post(
            &format!("{screen}/calls/0/outcome"),
            &[("outcome", "placed")],
            false,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(screen.as_str()));
    let (_, panel, _) = browser
        .post(
            &format!("{screen}/calls/0/outcome"),
            &[("outcome", "voicemail")],
            true,
        )
        .await;
    assert!(panel.contains("Voicemail left"), "{panel}");
    assert!(panel.contains("This is the watchpost monitoring center with an urgent message"));
    let alarm = browser.api(&format!("/api/alarms/{id}")).await;
    assert_eq!(alarm["calls"][0]["result"], "voicemail");
    assert_eq!(alarm["handler"], "amy");

    // A refused action is explained on the panel.
    let (status, panel, _) = browser
        .post(
            &format!("{screen}/calls/0/outcome"),
            &[("outcome", "busy")],
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(panel.contains("call 0 has ended"), "{panel}");
    let (status, page, _) = browser
        .post(
            &format!("{screen}/calls/1/outcome"),
            &[("outcome", "maybe")],
            false,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("outcome"), "{page}");

    // Contact 2 answers; a wrong then the right password; cancel.
    for outcome in ["placed", "answered"] {
        browser
            .post(
                &format!("{screen}/calls/1/outcome"),
                &[("outcome", outcome)],
                true,
            )
            .await;
    }
    let password = format!("{screen}/calls/1/password");
    let (_, panel, _) = browser
        .post(&password, &[("password", "red falcon")], true)
        .await;
    assert!(panel.contains("no match"), "{panel}");
    let (_, panel, _) = browser.post(&password, &[("password", VERBAL)], true).await;
    assert!(
        panel.contains(r#"<span class="result match">match</span>"#),
        "{panel}"
    );
    let (_, panel, _) = browser
        .post(
            &format!("{screen}/calls/1/decision"),
            &[("decision", "cancel")],
            true,
        )
        .await;
    assert!(
        panel.contains("canceled by contact") && !panel.contains("canceled_by_contact"),
        "{panel}"
    );
    let alarm = browser.api(&format!("/api/alarms/{id}")).await;
    assert_eq!(alarm["disposition"], "canceled_by_contact");
    let (_, queue, _) = browser.get("/console/queue").await;
    assert!(queue.contains("Open alarms: 0"));
    let (status, page, _) = browser.get(&screen).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Closed: canceled by contact"));
    let (status, _, _) = browser.get("/console/alarms/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A duress alarm is marked silent in the queue and on its screen, with no callback form.
    let stored = client
        .post(format!("{base}/api/signals"))
        .bearer_auth(&key)
        .json(&json!({"sia": "HA001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), StatusCode::ACCEPTED);
    for _ in 0..50 {
        fragment = browser.get("/console/queue").await.1;
        if fragment.contains("Open alarms: 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        fragment.contains("SILENT — never call the premises"),
        "{fragment}"
    );
    let duress = browser.api("/api/alarms").await["alarms"][0]["id"]
        .as_i64()
        .unwrap();
    let (_, page, _) = browser.get(&format!("/console/alarms/{duress}")).await;
    assert!(page.contains("SILENT — never call the premises"));
    assert!(
        !page.contains("/callbacks"),
        "no callback on a silent alarm"
    );

    // The supervisor view is for supervisors.
    let (status, _, _) = browser.get("/console/supervisor").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, location) = browser.post("/logout", &[], false).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login"));
    let (status, _, _) = browser.get("/console").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the session has ended");
    let response = client
        .post(format!("{base}/login"))
        .form(&[("name", "sam"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    browser.cookie = Some(
        cookie["wp_session=".len()..]
            .split(';')
            .next()
            .unwrap()
            .into(),
    );
    let (status, page, _) = browser.get("/console/supervisor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Queue depth"));
    assert!(
        page.contains("<td>burglary</td><td class=\"num\">1</td>"),
        "{page}"
    );
    assert!(
        page.contains("<td>test (this one)</td><td class=\"num\">64</td>"),
        "this node drives every partition: {page}"
    );

    assert!(
        !browser.seen.contains(VERBAL),
        "the verbal password is never shown"
    );
    assert!(
        !browser.seen.to_lowercase().contains("argon2"),
        "nor any hash"
    );
    center.server.stop().await.unwrap();
}

impl Browser {
    /// A browser signed in as `name`, through the sign-in form.
    async fn signed_in(base: &str, name: &str) -> Browser {
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        let mut browser = Browser {
            client,
            base: base.to_string(),
            cookie: None,
            seen: String::new(),
        };
        let response = browser
            .client
            .post(format!("{base}/login"))
            .form(&[("name", name), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        browser.cookie = Some(
            cookie["wp_session=".len()..]
                .split(';')
                .next()
                .unwrap()
                .into(),
        );
        browser
    }

    /// The open alarms' ids, once there are `n`.
    async fn queue_of(&self, n: usize) -> Vec<i64> {
        for _ in 0..100 {
            let list = self.api("/api/alarms").await;
            let ids: Vec<i64> = list["alarms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap())
                .collect();
            if ids.len() == n {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the queue never had {n} alarms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alarm_screen_shows_duress_takeover_resolution_and_who_did_what() {
    let users = [("amy", Role::Agent), ("sue", Role::Supervisor)];
    let center = Center::start(&[account()], &users, true).await;
    let key = center.api_key("4F39").await;
    let base = center.base.clone();
    let mut amy = Browser::signed_in(&base, "amy").await;
    let mut sue = Browser::signed_in(&base, "sue").await;
    let signal = |sia: &'static str| {
        let (client, base, key) = (amy.client.clone(), base.clone(), key.clone());
        async move {
            let sent = client
                .post(format!("{base}/api/signals"))
                .bearer_auth(&key)
                .json(&json!({ "sia": sia }))
                .send()
                .await
                .unwrap();
            assert_eq!(sent.status(), StatusCode::ACCEPTED);
        }
    };
    signal("HA001").await;
    let duress = amy.queue_of(1).await[0];
    signal("BA003").await;
    let burglary = *amy
        .queue_of(2)
        .await
        .iter()
        .find(|id| **id != duress)
        .unwrap();

    // The burglary's screen and the queue say a duress is open at the account.
    let (_, page, _) = amy.get(&format!("/console/alarms/{burglary}")).await;
    assert!(page.contains("banner-duress"), "{page}");
    assert!(page.contains(&format!(
        "DURESS alarm <a href=\"/console/alarms/{duress}\">#{duress}</a>"
    )));
    let (_, queue, _) = amy.get("/console/queue").await;
    assert!(queue.contains("DURESS open at this account"), "{queue}");

    // Amy takes the duress alarm; the supervisor sees "Take over" and takes it.
    let screen = format!("/console/alarms/{duress}");
    amy.post(&format!("{screen}/take"), &[], true).await;
    let (_, page, _) = sue.get(&screen).await;
    assert!(page.contains("Handled by <strong>amy</strong>"), "{page}");
    assert!(page.contains(&format!("{screen}/takeover")), "{page}");
    let (_, page, _) = amy.get(&screen).await;
    assert!(
        !page.contains("/takeover"),
        "an agent is offered no takeover"
    );
    let (status, panel, _) = sue.post(&format!("{screen}/takeover"), &[], true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(panel.contains("You are handling this alarm"), "{panel}");
    assert!(panel.contains("sue took over from amy"), "{panel}");
    assert!(
        panel.contains(r#"<td class="by">agent sue</td>"#),
        "{panel}"
    );
    assert!(
        panel.contains(r#"<td class="by">panel</td>"#),
        "the signal: {panel}"
    );

    // Amy can no longer act on it.
    let (_, panel, _) = amy
        .post(&format!("{screen}/notes"), &[("text", "still mine?")], true)
        .await;
    assert!(panel.contains("handled by sue"), "{panel}");
    // Nor is she offered anything but to look: no form, no key, but the refresh and the queue.
    for route in [
        "/notes",
        "/close",
        "/calls/",
        "/dispatch/",
        "/callbacks",
        "/take",
    ] {
        assert!(
            !panel.contains(&format!("action=\"{screen}{route}")),
            "{route}: {panel}"
        );
    }
    assert!(panel.contains("Only they act on it."), "{panel}");

    // Closing asks for a resolution code, and here for the missing incident number's reason.
    let (_, panel, _) = sue.get(&screen).await;
    assert!(panel.contains(r#"<option value="false_user">False alarm – user error</option>"#));
    assert!(panel.contains(r#"name="reason""#), "{panel}");
    let (_, panel, _) = sue.post(&format!("{screen}/close"), &[], true).await;
    assert!(panel.contains("closing needs a resolution code"), "{panel}");
    let (_, panel, _) = sue
        .post(
            &format!("{screen}/close"),
            &[("resolution", "false_user"), ("reason", "")],
            true,
        )
        .await;
    assert!(panel.contains("has no incident number"), "{panel}");
    let (_, panel, _) = sue
        .post(
            &format!("{screen}/close"),
            &[("resolution", "false_user"), ("reason", "phone line down")],
            true,
        )
        .await;
    assert!(
        panel
            .contains("resolution: <strong class=\"resolution\">False alarm – user error</strong>"),
        "{panel}"
    );
    // Closed, the burglary's banner goes away.
    let (_, page, _) = amy.get(&format!("/console/alarms/{burglary}")).await;
    assert!(!page.contains("banner-duress"), "{page}");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_or_in_again_ends_the_session_it_replaces() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let base = center.base.clone();
    let client = Client::builder().redirect(Policy::none()).build().unwrap();
    let status_with = |cookie: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            client
                .get(format!("{base}/api/alarms"))
                .bearer_auth(cookie)
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    // The API's logout ends a session that came as the console's cookie.
    let first = Browser::signed_in(&base, "amy").await.cookie.unwrap();
    assert_eq!(status_with(first.clone()).await, StatusCode::OK);
    let out = client
        .post(format!("{base}/api/logout"))
        .header("cookie", format!("wp_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(status_with(first).await, StatusCode::UNAUTHORIZED);

    // Signing in again from a browser that holds a session ends the one it replaces.
    let old = Browser::signed_in(&base, "amy").await.cookie.unwrap();
    let again = client
        .post(format!("{base}/login"))
        .header("cookie", format!("wp_session={old}"))
        .form(&[("name", "amy"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let set = again.headers()["set-cookie"].to_str().unwrap();
    let new = set["wp_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(new, old);
    assert_eq!(status_with(old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_with(new).await, StatusCode::OK);
    center.server.stop().await.unwrap();
}
