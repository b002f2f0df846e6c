//! Nothing another site's page makes a signed-in browser send changes anything (issue 13,
//! item 4): console changes need the session's CSRF token, requests that say they come from
//! another site are refused, the JSON API takes only JSON bodies and only the bearer token
//! (the session cookie opens only the event stream and recordings), and every page carries a
//! Content-Security-Policy that allows scripts and styles only from the center.

mod common;

use common::{Center, PASSWORD, account, csrf_token, sign_in};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_store::Role;

/// A center with amy (agent) signed in through the console's form, and one open alarm: the
/// client (no redirects), the session token, the alarm.
async fn center_with_alarm() -> (Center, Client, String, i64) {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let client = Client::builder().redirect(Policy::none()).build().unwrap();
    let signed_in = client
        .post(format!("{}/login", center.base))
        .form(&[("name", "amy"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    let token = cookie["wp_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let key = center.api_key("4F39").await;
    let sent = client
        .post(format!("{}/api/signals", center.base))
        .bearer_auth(key)
        .json(&json!({"sia": "BA003"}))
        .send()
        .await
        .unwrap();
    assert!(sent.status().is_success(), "{}", sent.text().await.unwrap());
    let id = loop {
        if let Some((id, _)) = center.server.board.open_alarms().first() {
            break *id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    (center, client, token, id)
}

/// Who handles alarm `id` now, by the API.
async fn handler(center: &Center, client: &Client, token: &str, id: i64) -> Value {
    let alarm: Value = client
        .get(format!("{}/api/alarms/{id}", center.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    alarm["handler"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_change_needs_the_sessions_csrf_token() {
    let (center, client, token, id) = center_with_alarm().await;
    let take = format!("{}/console/alarms/{id}/take", center.base);
    let cookie = format!("wp_session={token}");
    let csrf = csrf_token(&client, &center.base, &token).await;
    assert_eq!(csrf.len(), 64, "{csrf}");
    // Every form on the page that changes something carries it.
    let page = client
        .get(format!("{}/console/alarms/{id}", center.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let forms = page.matches(r#"method="post""#).count();
    let fields = page
        .matches(&format!(
            r#"<input type="hidden" name="csrf" value="{csrf}">"#
        ))
        .count();
    assert!(forms >= 2, "{page}");
    assert_eq!(forms, fields, "{page}");

    // No token, a wrong token (another session's), an empty one: refused, nothing changed.
    let other = sign_in(&client, &center.base, "amy").await;
    let others = csrf_token(&client, &center.base, &other).await;
    for form in [vec![], vec![("csrf", others.as_str())], vec![("csrf", "")]] {
        let refused = client
            .post(&take)
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{form:?}");
        let text = refused.text().await.unwrap();
        assert!(text.contains("security token"), "{text}");
        assert!(text.contains("Nothing was changed"), "{text}");
        assert_eq!(handler(&center, &client, &token, id).await, Value::Null);
    }
    // A wrong token as the htmx header.
    let refused = client
        .post(&take)
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .header("x-csrf-token", &others)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Sign-out without it: refused, and the session still works.
    let out = client
        .post(format!("{}/logout", center.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::FORBIDDEN);
    assert_eq!(handler(&center, &client, &token, id).await, Value::Null);

    // With the token, as the form's field: done.
    let taken = client
        .post(&take)
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::SEE_OTHER);
    assert_eq!(handler(&center, &client, &token, id).await, "amy");
    // As htmx's header: done.
    let released = client
        .post(format!("{}/console/alarms/{id}/release", center.base))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(released.status(), StatusCode::OK);
    assert_eq!(handler(&center, &client, &token, id).await, Value::Null);

    // The token outlives a restart (it is derived from the session, nothing is stored).
    let center = center.restart().await;
    assert_eq!(csrf_token(&client, &center.base, &token).await, csrf);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_rebound_to_the_center_on_loopback_is_refused() {
    // An attacker's name pointed at 127.0.0.1: to the browser, its page is same-origin.
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let port = center.base.rsplit(':').next().unwrap().to_string();
    let client = Client::new();
    let attempt = |host: String| {
        client
            .post(format!("{}/api/login", center.base))
            .header("host", &host)
            .header("origin", format!("http://{host}"))
            .header("sec-fetch-site", "same-origin")
            .json(&json!({"name": "amy", "password": PASSWORD}))
            .send()
    };
    let rebound = attempt(format!("evil.example:{port}")).await.unwrap();
    assert_eq!(rebound.status(), StatusCode::MISDIRECTED_REQUEST);
    let body: Value = rebound.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("\"evil.example:"),
        "{body}"
    );
    let page = client
        .get(format!("{}/login", center.base))
        .header("host", format!("evil.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::MISDIRECTED_REQUEST);
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let signed_in = attempt(host.clone()).await.unwrap();
        assert_eq!(signed_in.status(), StatusCode::OK, "{host}");
    }
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_from_another_site_are_refused() {
    let (center, client, token, id) = center_with_alarm().await;
    let base = &center.base;
    let cookie = format!("wp_session={token}");
    let csrf = csrf_token(&client, base, &token).await;
    let here = base.clone();
    let other_port = "http://127.0.0.1:1";
    let cross: [(&str, &str); 5] = [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", other_port),
        ("origin", "http://evil.example"),
        ("origin", "null"),
    ];
    for (name, value) in cross {
        // The console, even with the cookie and the right token.
        let refused = client
            .post(format!("{base}/console/alarms/{id}/take"))
            .header("cookie", &cookie)
            .header(name, value)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        let text = refused.text().await.unwrap();
        assert!(text.contains("came from another site"), "{text}");
        // The API, even with the bearer token.
        let refused = client
            .post(format!("{base}/api/alarms/{id}/take"))
            .bearer_auth(&token)
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        let error: Value = refused.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains(value), "{error}");
        // Sign-in (login CSRF): no session is opened.
        let refused = client
            .post(format!("{base}/login"))
            .header(name, value)
            .form(&[("name", "amy"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(refused.headers().get("set-cookie").is_none());
        assert_eq!(handler(&center, &client, &token, id).await, Value::Null);
    }
    // The same requests from the center's own pages pass.
    let taken = client
        .post(format!("{base}/console/alarms/{id}/take"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .header("origin", &here)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), StatusCode::SEE_OTHER);
    let released = client
        .post(format!("{base}/api/alarms/{id}/release"))
        .bearer_auth(&token)
        .header("origin", &here)
        .send()
        .await
        .unwrap();
    assert_eq!(
        released.status(),
        StatusCode::OK,
        "{:?}",
        released.text().await
    );
    // Reading is never refused: a link from another site still opens the console.
    let page = client
        .get(format!("{base}/console"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_takes_only_the_bearer_token_and_json_bodies() {
    let (center, client, token, id) = center_with_alarm().await;
    let base = &center.base;
    let cookie = format!("wp_session={token}");

    // The cookie opens no JSON route: neither reading nor changing.
    let refused = client
        .get(format!("{base}/api/alarms"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let error: Value = refused.json().await.unwrap();
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("only Authorization: Bearer"),
        "{error}"
    );
    let refused = client
        .post(format!("{base}/api/alarms/{id}/take"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(handler(&center, &client, &token, id).await, Value::Null);
    // The event stream, which a browser opens without headers, takes it.
    let events = client
        .get(format!("{base}/api/events"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    drop(events);

    // Bodies: JSON only, even with the bearer token; the refusal names what came.
    let take = client
        .post(format!("{base}/api/alarms/{id}/take"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(take.status(), StatusCode::OK, "no body, no type: fine");
    let note = format!("{base}/api/alarms/{id}/notes");
    for (kind, body) in [
        (Some("text/plain"), r#"{"text":"x"}"#),
        (Some("application/x-www-form-urlencoded"), "text=x"),
        (Some("multipart/form-data; boundary=x"), "--x--"),
        (None, r#"{"text":"x"}"#),
    ] {
        let mut request = client
            .post(&note)
            .bearer_auth(&token)
            .body(body.to_string());
        if let Some(kind) = kind {
            request = request.header("content-type", kind);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{kind:?}"
        );
        let error: Value = refused.json().await.unwrap();
        let message = error["error"].as_str().unwrap();
        assert!(message.contains("application/json"), "{message}");
        if let Some(kind) = kind {
            assert!(message.contains(kind), "{message}");
        }
    }
    // A body on a route whose body may be left out needs the type too.
    let refused = client
        .post(format!("{base}/api/alarms/{id}/close"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Sign-in as a form is refused; as JSON (any charset) it works.
    let refused = client
        .post(format!("{base}/api/login"))
        .form(&[("name", "amy"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let noted = client
        .post(&note)
        .bearer_auth(&token)
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"text":"a note"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(noted.status(), StatusCode::OK, "{:?}", noted.text().await);
}

#[tokio::test]
async fn pages_allow_scripts_and_styles_only_from_the_center() {
    let center = Center::start(&[account()], &[], true).await;
    let answer = Client::new()
        .get(format!("{}/login", center.base))
        .send()
        .await
        .unwrap();
    let policy = answer.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{policy} lacks {directive}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    let page = answer.text().await.unwrap();
    // htmx adds no inline style and evaluates nothing.
    for setting in ["includeIndicatorStyles", "allowEval"] {
        assert!(page.contains(&format!("{setting}&quot;:false")), "{page}");
    }
}
