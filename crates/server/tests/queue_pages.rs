//! The queue a page at a time (issue 16, item 4), on a real server over loopback: the alarm
//! list's cursor reaches every open alarm exactly once, in queue order (what needs an action
//! and nobody has taken first, then priority, then age), with the total; bad paging
//! parameters are refused naming them; a dealer's user pages through their own alarms only;
//! the console's first queue page shows the most urgent alarm nobody has taken first and
//! counts the whole queue.

mod common;

use common::{Api, Center, PASSWORD, account, now};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use watchpost_core::router::Event;
use watchpost_core::{AlarmKind, SignalClass};
use watchpost_store::{Role, SignalRecord};

fn account_of(number: &str, dealer: Option<&str>) -> watchpost_core::Account {
    let mut a = account();
    a.number = number.into();
    a.dealer = dealer.map(str::to_string);
    a
}

/// Opens an alarm of `kind` at `number` through the intake, as a panel's signal would.
async fn open(center: &Center, number: &str, kind: AlarmKind) {
    let code = match kind {
        AlarmKind::Fire => "FA",
        AlarmKind::Water => "WA",
        AlarmKind::Duress => "HA",
        _ => "BA",
    };
    let signal = SignalRecord {
        account: number.into(),
        received_at: now(),
        source: "sia".into(),
        event: Event::Panel {
            class: SignalClass::Alarm(kind),
            code: code.into(),
            zone: Some(1),
        },
        raw: format!("#{number}|N{code}1"),
    };
    assert!(center.server.intake.submit(vec![signal], None).await);
}

/// Waits until the board shows `n` open alarms.
async fn shown(center: &Center, n: usize) {
    for _ in 0..200 {
        if center.server.board.open_count() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} open alarms, not {n}", center.server.board.open_count());
}

async fn api_as(center: &Center, name: &str) -> Api {
    let client = Client::new();
    Api {
        token: common::sign_in(&client, &center.base, name).await,
        client,
        base: center.base.clone(),
    }
}

/// Every page of `GET /api/alarms` from `query` on: the pages' items, in order.
async fn every_page(api: &Api, query: &str) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut path = format!("/api/alarms?{query}");
    loop {
        let (status, page) = api.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        pages.push(page["alarms"].as_array().unwrap().clone());
        match page["next"].as_str() {
            Some(next) => path = format!("/api/alarms?{query}&cursor={next}"),
            None => return pages,
        }
        assert!(pages.len() < 100, "the cursor never ends");
    }
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cursor_reaches_every_open_alarm_once_in_queue_order() {
    let numbers: Vec<String> = (0..23).map(|i| format!("A{i:02}")).collect();
    let accounts: Vec<_> = numbers.iter().map(|n| account_of(n, None)).collect();
    let center = Center::start(&accounts, &[("amy", Role::Agent)], true).await;
    let kinds = [AlarmKind::Burglary, AlarmKind::Water, AlarmKind::Fire];
    for (i, number) in numbers.iter().enumerate() {
        open(&center, number, kinds[i % 3]).await;
    }
    shown(&center, 23).await;
    let amy = api_as(&center, "amy").await;
    // Amy takes the oldest fire: it goes after every alarm nobody has taken.
    let (_, first) = amy.get("/api/alarms?limit=1").await;
    assert_eq!(first["alarms"][0]["kind"], "fire", "{first}");
    assert_eq!(first["total"], 23);
    let taken = first["alarms"][0]["id"].as_i64().unwrap();
    let (status, _) = amy
        .post(&format!("/api/alarms/{taken}/take"), serde_json::json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let pages = every_page(&amy, "limit=5").await;
    assert_eq!(pages.len(), 5, "23 alarms, 5 a page");
    assert!(pages.iter().all(|p| !p.is_empty() && p.len() <= 5));
    let listed: Vec<Value> = pages.concat();
    let listed_ids = ids(&listed);
    let unique: HashSet<i64> = listed_ids.iter().copied().collect();
    assert_eq!(unique.len(), 23, "each once: {listed_ids:?}");
    let open: HashSet<i64> = center
        .store
        .alarms(watchpost_store::AlarmState::Open)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(unique, open);
    // Queue order: untaken by priority then age, the taken one last.
    assert_eq!(*listed_ids.last().unwrap(), taken);
    let keys: Vec<(u64, i64)> = listed[..22]
        .iter()
        .map(|a| {
            (
                a["priority"].as_u64().unwrap(),
                a["opened_at_ms"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(listed[0]["priority"], 1);
    assert_eq!(listed[21]["priority"], 3);
    assert_eq!(listed[22]["handler"], "amy");
    // A summary, not the whole alarm: that is one request away, or asked for.
    assert!(listed[0]["next_step"].is_string() && listed[0].get("timeline").is_none());
    let (_, full) = amy.get("/api/alarms?limit=2&view=full").await;
    assert!(full["alarms"][0]["timeline"].is_array(), "{full}");
    assert_eq!(ids(full["alarms"].as_array().unwrap()), listed_ids[..2]);
    // Unknown-account items ride on the first page only.
    let (_, page) = amy.get("/api/alarms?limit=5").await;
    assert!(page["unknown"].is_array());
    let next = page["next"].as_str().unwrap();
    let (_, later) = amy.get(&format!("/api/alarms?limit=5&cursor={next}")).await;
    assert_eq!(later["unknown"], serde_json::json!([]));
    assert_eq!(later["total"], 23);

    // Closed and all page too, back in time.
    let all = every_page(&amy, "state=all&limit=10").await;
    assert_eq!(all.len(), 3);
    let mut back: Vec<i64> = all.iter().rev().flat_map(|p| ids(p)).collect();
    let before = back.clone();
    back.sort();
    assert_eq!(back, before, "pages newest first, each oldest first");
    assert_eq!(back.len(), 23);

    for (path, field) in [
        ("/api/alarms?limit=0", "limit"),
        ("/api/alarms?limit=1001", "limit"),
        ("/api/alarms?limit=ten", "limit"),
        ("/api/alarms?cursor=yesterday", "cursor"),
        ("/api/alarms?cursor=0.0.9.x.0.1", "cursor"),
        ("/api/alarms?state=closed&cursor=0.0.1.5.0.1", "cursor"),
        ("/api/alarms?view=everything", "view"),
    ] {
        let (status, refused) = amy.get(path).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {refused}"
        );
        assert_eq!(refused["field"], field, "{path}: {refused}");
        assert!(refused["error"].as_str().unwrap().len() > 10, "{refused}");
    }
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dealer_pages_through_its_own_alarms_only() {
    let mut accounts: Vec<_> = (1..=4)
        .map(|i| account_of(&format!("100{i}"), Some("D1")))
        .collect();
    accounts.push(account_of("2001", Some("D2")));
    accounts.push(account_of("3001", None));
    let center = Center::start(&[], &[("root", Role::Admin)], true).await;
    center.auth.put_dealer("D1", "Acme", now()).await.unwrap();
    center.auth.put_dealer("D2", "Bolt", now()).await.unwrap();
    center
        .auth
        .add_user_of("dana", Role::DealerViewer, Some("D1"), PASSWORD, now())
        .await
        .unwrap();
    center.store.put_accounts(&accounts).await.unwrap();
    let center = center.restart().await;
    for number in ["1001", "2001", "1002", "3001", "1003", "1004"] {
        open(&center, number, AlarmKind::Burglary).await;
    }
    // A duress at one of D1's accounts: the center's alone, never listed nor counted for D1.
    open(&center, "1001", AlarmKind::Duress).await;
    shown(&center, 7).await;

    let dana = api_as(&center, "dana").await;
    let pages = every_page(&dana, "limit=1").await;
    assert_eq!(pages.len(), 4, "{pages:?}");
    let listed: Vec<Value> = pages.concat();
    let mut theirs: Vec<&str> = listed
        .iter()
        .map(|a| a["account"].as_str().unwrap())
        .collect();
    theirs.sort();
    assert_eq!(theirs, ["1001", "1002", "1003", "1004"]);
    assert!(listed.iter().all(|a| a["kind"] == "burglary"));
    let (_, first) = dana.get("/api/alarms?limit=1").await;
    assert_eq!(first["total"], 4, "{first}");
    assert_eq!(first["unknown"], serde_json::json!([]));
    let (_, full) = dana.get("/api/alarms?view=full").await;
    let text = full.to_string();
    assert!(
        !text.contains("\"2001\"") && !text.contains("\"3001\""),
        "{text}"
    );
    assert!(!text.contains("\"kind\":\"duress\""), "{text}");

    let root = api_as(&center, "root").await;
    let (_, all) = root.get("/api/alarms?limit=1").await;
    assert_eq!(all["total"], 7);
    assert_eq!(all["alarms"][0]["kind"], "duress", "the most urgent first");
    center.server.stop().await.unwrap();
}

/// The console page as `token`'s session sees it.
async fn console(center: &Center, token: &str, path: &str) -> String {
    let page = Client::new()
        .get(format!("{}{path}", center.base))
        .header("cookie", format!("wp_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{path}");
    page.text().await.unwrap()
}

/// The alarm ids of a queue page's rows, in order.
fn rows(page: &str) -> Vec<i64> {
    page.split("data-href=\"/console/alarms/")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_queue_shows_the_most_urgent_untaken_alarm_first_and_counts_the_rest() {
    let numbers: Vec<String> = (0..56).map(|i| format!("C{i:02}")).collect();
    let accounts: Vec<_> = numbers.iter().map(|n| account_of(n, None)).collect();
    let center = Center::start(&accounts, &[("amy", Role::Agent)], true).await;
    // 55 burglaries, the oldest of which amy takes; then a fire, the newest alarm.
    for number in &numbers[..55] {
        open(&center, number, AlarmKind::Burglary).await;
    }
    shown(&center, 55).await;
    let amy = api_as(&center, "amy").await;
    let (_, oldest) = amy.get("/api/alarms?limit=1").await;
    let mine = oldest["alarms"][0]["id"].as_i64().unwrap();
    let (status, _) = amy
        .post(&format!("/api/alarms/{mine}/take"), serde_json::json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    open(&center, &numbers[55], AlarmKind::Fire).await;
    shown(&center, 56).await;

    let page = console(&center, &amy.token, "/console").await;
    let first = rows(&page);
    assert_eq!(first.len(), 50, "a page of 50 rows");
    let (_, fire) = amy.get("/api/alarms?limit=1").await;
    assert_eq!(fire["alarms"][0]["kind"], "fire");
    assert_eq!(first[0], fire["alarms"][0]["id"].as_i64().unwrap());
    assert!(
        !first.contains(&mine),
        "amy's own alarm is after those nobody took"
    );
    assert!(page.contains("Open alarms: 56"), "{page}");
    assert!(page.contains(&format!("1 yours: <a href=\"/console/alarms/{mine}\">")));
    assert!(
        page.contains("55 need an action and nobody has taken them"),
        "{page}"
    );
    assert!(
        page.contains("P1 1</span>, <span class=\"p2\">P2 55</span>"),
        "{page}"
    );
    assert!(page.contains("burglary 55, fire 1"), "{page}");
    let next = page
        .split("href=\"/console?after=")
        .nth(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .expect("a link to the next page");
    // The next page, as a browser and as the live refresh fetch it.
    let second = console(&center, &amy.token, &format!("/console?after={next}")).await;
    assert!(second.contains(&format!("hx-get=\"/console/queue?after={next}\"")));
    let fragment = console(&center, &amy.token, &format!("/console/queue?after={next}")).await;
    assert_eq!(rows(&second), rows(&fragment));
    let rest = rows(&second);
    assert_eq!(rest.len(), 6);
    assert_eq!(*rest.last().unwrap(), mine);
    assert!(!second.contains("/console?after="), "the last page");
    let all: HashSet<i64> = first.iter().chain(&rest).copied().collect();
    assert_eq!(all.len(), 56);
    center.server.stop().await.unwrap();
}
