//! Signals from unknown accounts over a real DC-09 socket: an alarm or trouble event becomes an
//! unknown-account item (stored with the signal, shown in the console queue, kept over a
//! restart), later signals from the number join it, restores and openings stay stored only,
//! and agents resolve items through the API (assign, enrolled, noise) and the console.

mod common;

use common::{Api, Center, account, sign_in};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use watchpost_store::{AlarmState, Role};
use watchpost_wire::{Chunk, CrcForm, FixedPad, Frame, FrameSplitter, Header, MessageId};
use watchpost_wire::{encode_frame, parse_frame};

/// A plain SIA-DCS frame for `account` with the data block `#ACCOUNT|NBLOCK`.
fn sia(account: &str, sequence: u16, block: &str) -> Vec<u8> {
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: false,
            sequence,
            receiver: Some("12".into()),
            line: Some("3".into()),
            account: Some(account.into()),
        },
        data: format!("#{account}|N{block}"),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    encode_frame(&frame, None, &mut FixedPad(b'7')).unwrap()
}

/// Sends one frame and asserts it was ACKed (so it is stored).
async fn send(tcp: &mut TcpStream, bytes: &[u8]) {
    tcp.write_all(bytes).await.unwrap();
    let mut splitter = FrameSplitter::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer))
            .await
            .expect("a reply in time")
            .unwrap();
        assert!(n > 0, "the receiver closed the connection");
        if let Some(Chunk::Frame(reply)) = splitter.push(&buffer[..n]).into_iter().next() {
            let id = parse_frame(&reply, None).unwrap().header.id;
            assert_eq!(id, MessageId::Ack);
            return;
        }
    }
}

async fn api(center: &Center, name: &str) -> Api {
    let client = reqwest::Client::new();
    let token = sign_in(&client, &center.base, name).await;
    Api {
        client,
        base: center.base.clone(),
        token,
    }
}

/// The open items.
async fn open(api: &Api) -> Vec<Value> {
    let (status, items) = api.get("/api/unknown").await;
    assert_eq!(status, StatusCode::OK, "{items}");
    items.as_array().unwrap().clone()
}

/// A console page as `api`'s user sees it (the session token as the console's cookie).
async fn console_html(center: &Center, api: &Api, path: &str) -> String {
    api.client
        .get(format!("{}{path}", center.base))
        .header("cookie", format!("wp_session={}", api.token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_accounts_fire_is_queued_joined_and_kept_over_a_restart() {
    let users = [("amy", Role::Agent), ("sue", Role::Supervisor)];
    let center = Center::start(&[account()], &users, true).await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    send(&mut tcp, &sia("9999", 1, "ri1/FA003")).await;

    let amy = api(&center, "amy").await;
    let items = open(&amy).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["account"], "9999");
    let (_, queue) = amy.get("/api/alarms").await;
    assert_eq!(
        queue["unknown"][0]["account"], "9999",
        "in the queue: {queue}"
    );
    assert_eq!(item["kind"], "fire");
    assert_eq!(item["priority"], 1);
    assert_eq!(item["raw"], "#9999|Nri1/FA003");
    assert_eq!(item["source"], "sia");
    assert_eq!(item["line"], "R12 L3");
    assert_eq!(item["count"], 1);
    assert!(item["resolution"].is_null());
    // Stored with its signal, which opened no alarm.
    assert_eq!(center.store.signals("9999").await.unwrap().len(), 1);
    assert!(
        center
            .store
            .alarms(AlarmState::All)
            .await
            .unwrap()
            .is_empty()
    );

    let page = console_html(&center, &amy, "/console").await;
    assert!(page.contains("unknown account"), "{page}");
    assert!(page.contains("#9999|Nri1/FA003"), "{page}");
    assert!(page.contains("line sia R12 L3"), "{page}");
    assert!(page.contains("/console/unknown/"), "{page}");
    let sue = api(&center, "sue").await;
    let supervisor = console_html(&center, &sue, "/console/supervisor").await;
    assert!(supervisor.contains(r#"id="unknown">1<"#), "{supervisor}");
    let listed = supervisor
        .split(r#"id="unknown-accounts""#)
        .nth(1)
        .unwrap_or_default();
    assert!(
        listed.contains("<td>9999</td>"),
        "the item is listed: {supervisor}"
    );

    // A restore and an opening are stored only; a burglary joins the open item, which stays
    // a fire (the more urgent).
    send(&mut tcp, &sia("9999", 2, "ri1/FR003")).await;
    send(&mut tcp, &sia("9999", 3, "ri1/OP001")).await;
    send(&mut tcp, &sia("9999", 4, "ri1/BA005")).await;
    let items = open(&amy).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["count"], 2);
    assert_eq!(items[0]["raw"], "#9999|Nri1/BA005");
    assert_eq!(items[0]["kind"], "fire");
    assert_eq!(center.store.signals("9999").await.unwrap().len(), 4);

    drop(tcp);
    let center = center.restart().await;
    let amy = api(&center, "amy").await;
    let items = open(&amy).await;
    assert_eq!(items.len(), 1, "kept over a restart: {items:?}");
    assert_eq!(items[0]["account"], "9999");
    assert_eq!(items[0]["count"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_assign_enrol_or_dismiss_items_once() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    send(&mut tcp, &sia("9999", 1, "ri1/FA003")).await;
    send(&mut tcp, &sia("9998", 2, "ri1/BA001")).await;
    send(&mut tcp, &sia("9997", 3, "ri1/BA002")).await;
    let amy = api(&center, "amy").await;
    let items = open(&amy).await;
    let id = |number: &str| {
        items.iter().find(|i| i["account"] == number).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (fire, burglary, third) = (id("9999"), id("9998"), id("9997"));
    // Most urgent first.
    assert_eq!(items[0]["account"], "9999");

    // Assign: the fire opens at 4F39 through the normal path.
    let (status, body) = amy
        .post(
            &format!("/api/unknown/{fire}/assign"),
            json!({"account": "4f39"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resolution"]["outcome"], "assigned");
    assert_eq!(body["resolution"]["account"], "4F39");
    assert_eq!(body["resolution"]["by"], "agent:amy");
    let alarms = center.store.alarms(AlarmState::Open).await.unwrap();
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert_eq!(
        (alarms[0].account.as_str(), alarms[0].kind.as_str()),
        ("4F39", "fire")
    );
    // Once only.
    let (status, body) = amy
        .post(
            &format!("/api/unknown/{fire}/noise"),
            json!({"reason": "late"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // To an account that does not exist: refused, naming the field.
    let (status, body) = amy
        .post(
            &format!("/api/unknown/{third}/assign"),
            json!({"account": "7777"}),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("account"))
    );

    // Enrolled: refused until the number is enrolled, then routed to it.
    let (status, body) = amy
        .post(&format!("/api/unknown/{burglary}/enrol"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not enrolled"),
        "{body}"
    );
    let enrolled = watchpost_core::Account {
        number: "9998".into(),
        ..account()
    };
    center.store.put_account(&enrolled).await.unwrap();
    let (status, body) = amy
        .post(&format!("/api/unknown/{burglary}/enrol"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let alarms = center.store.alarms(AlarmState::Open).await.unwrap();
    assert!(
        alarms
            .iter()
            .any(|a| a.account == "9998" && a.kind == "burglary"),
        "{alarms:?}"
    );

    // Noise needs a reason, of at most a line.
    let huge = "x".repeat(201);
    for body in [
        json!({}),
        json!({"reason": "  "}),
        json!({ "reason": huge }),
    ] {
        let (status, answer) = amy.post(&format!("/api/unknown/{third}/noise"), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["field"], "reason");
    }
    let (status, body) = amy
        .post(
            &format!("/api/unknown/{third}/noise"),
            json!({"reason": "installer testing"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resolution"]["reason"], "installer testing");

    assert!(open(&amy).await.is_empty());
    let (_, all) = amy.get("/api/unknown?state=all").await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let (status, _) = amy.get("/api/unknown?state=closed").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_resolves_an_item_and_names_a_missing_reason() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    send(&mut tcp, &sia("9999", 1, "ri1/PA001")).await;
    let amy = api(&center, "amy").await;
    let id = open(&amy).await[0]["id"].as_i64().unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let csrf = common::csrf_token(&client, &center.base, &amy.token).await;
    let post = |path: String, form: Vec<(&'static str, &'static str)>| {
        let form: Vec<(&str, &str)> = form.into_iter().chain([("csrf", csrf.as_str())]).collect();
        client
            .post(format!("{}{path}", center.base))
            .header("cookie", format!("wp_session={}", amy.token))
            .form(&form)
            .send()
    };
    let refused = post(format!("/console/unknown/{id}/noise"), vec![("reason", "")])
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("reason: say why it is noise"), "{page}");
    let done = post(
        format!("/console/unknown/{id}/assign"),
        vec![("account", "4F39")],
    )
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(open(&amy).await.is_empty());
    let page = console_html(&center, &amy, "/console").await;
    assert!(!page.contains("unknown account"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consoles_are_told_live_when_an_item_opens_and_is_resolved() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let amy = api(&center, "amy").await;
    let mut events = amy
        .client
        .get(format!("{}/api/events", center.base))
        .bearer_auth(&amy.token)
        .send()
        .await
        .unwrap();
    let mut next_event = async || {
        let chunk = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .expect("a live event")
            .unwrap()
            .unwrap();
        String::from_utf8_lossy(&chunk).to_string()
    };
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    send(&mut tcp, &sia("9999", 1, "ri1/FA003")).await;
    assert!(next_event().await.contains("event: unknown"));
    let id = open(&amy).await[0]["id"].as_i64().unwrap();
    let (status, _) = amy
        .post(
            &format!("/api/unknown/{id}/noise"),
            json!({"reason": "test"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(next_event().await.contains("event: unknown"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_sorts_items_among_alarms_by_priority() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let amy = api(&center, "amy").await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    // A burglary (P2) at 4F39 first, then a fire (P1) and a burglary from unknown numbers.
    send(&mut tcp, &sia("4F39", 1, "ri1/BA001")).await;
    send(&mut tcp, &sia("9999", 2, "ri1/FA003")).await;
    send(&mut tcp, &sia("9998", 3, "ri1/BA004")).await;
    let page = console_html(&center, &amy, "/console").await;
    let at = |needle: &str| {
        page.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in {page}"))
    };
    let (fire, alarm, unknown_burglary) = (
        at("#9999|Nri1/FA003"),
        at(r#"href="/console/alarms/"#),
        at("#9998|Nri1/BA004"),
    );
    assert!(
        fire < alarm,
        "the unknown fire comes before the older burglary"
    );
    assert!(alarm < unknown_burglary, "same priority: the older first");
}

/// An unknown account's fire that nobody resolves is unattended, as an alarm nobody takes:
/// counted in `GET /api/attention` and named in the supervisors' banner once it has waited
/// its priority's `untaken` threshold, until an agent resolves it. A burglary's item (priority
/// 2, a longer threshold) is not yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_nobody_resolves_alerts_the_supervisors() {
    let users = [("amy", Role::Agent), ("sue", Role::Supervisor)];
    let console = watchpost_server::ConsoleConfig {
        untaken_ms: [1_000, 60_000, 60_000, 60_000],
        ..Default::default()
    };
    let settings = watchpost_core::Settings::default();
    let center = Center::start_console(&[account()], &users, true, settings, console).await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    // Signed in first: a sign-in (argon2, unoptimised in tests) can outlast the 1 s threshold.
    let sue = api(&center, "sue").await;
    send(&mut tcp, &sia("9999", 1, "ri1/FA003")).await;
    send(&mut tcp, &sia("9998", 1, "ri1/BA003")).await;
    let fire = open(&sue).await[0]["id"].as_i64().unwrap();

    let (_, found) = sue.get("/api/attention").await;
    assert_eq!(found["unresolved"], 0, "not yet: {found}");
    let mut found = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        found = sue.get("/api/attention").await.1;
        if found["unresolved"] != 0 {
            break;
        }
    }
    assert_eq!(found["unresolved"], 1, "{found}");
    assert_eq!(found["unresolved_items"], json!([fire]), "{found}");
    assert_eq!(found["untaken"], 0);
    let banner = console_html(&center, &sue, "/console/unattended").await;
    assert!(
        banner.contains("1 unknown-account item nobody has resolved"),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("/console#unknown-{fire}")),
        "{banner}"
    );

    let (status, body) = sue
        .post(
            &format!("/api/unknown/{fire}/noise"),
            json!({"reason": "installer testing"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, found) = sue.get("/api/attention").await;
    assert_eq!(found["unresolved"], 0, "{found}");
}
