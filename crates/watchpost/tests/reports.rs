//! `watchpost report` on a known data set (issue 15, item 6): scenario files played through the
//! real center into a real SQLite file, a runaway account and a communication failure made by
//! the center itself; the CSV and JSON reports give exactly the figures the data set holds.

mod common;

use common::cli;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use watchpost_center::Center;
use watchpost_core::plan_book::PlanBook;
use watchpost_core::router::Event;
use watchpost_core::{Millis, Settings};
use watchpost_sim::scenario::{parse, run_into};
use watchpost_store::{Db, Dealer, SignalRecord, SqliteStore};

/// 2026-11-02T10:00:00Z: every alarm of the data set opens on that day.
const DAY: Millis = 1_793_613_600_000;
const HOUR: Millis = 3_600_000;

/// (scenario file, account it is played as, dealer of the account).
const PLAYED: [(&str, &str, Option<&str>); 6] = [
    ("burglary-disarm-before-first-call", "1001", Some("D1")),
    ("burglary-verified-dispatch-cid", "1001", Some("D1")),
    ("burglary-verified-cancel", "1001", Some("D1")),
    ("fire-voicemail-dispatches", "1002", Some("D1")),
    ("medical-app-cancel-before-dispatch", "1002", Some("D1")),
    ("duress-silent-police-at-once", "1003", Some("D1")),
];

/// 40 burglary signals a second apart: a fault loop, which makes account 2001 a runaway.
fn runaway_scenario() -> String {
    let text = std::fs::read_to_string(scenario_path("burglary-disarm-before-first-call")).unwrap();
    let head = &text[..text.find("[[signals]]").unwrap()];
    let signals: String = (0..40)
        .map(|i| format!("[[signals]]\nat = {i}\nsia = \"BA003\"\n\n"))
        .collect();
    format!("{head}{signals}")
}

fn scenario_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../scenarios/{name}.toml"))
}

/// The data set, in a new SQLite file at `db`.
async fn data_set(db: &Path) {
    let store: Db = Arc::new(SqliteStore::open(db).await.unwrap());
    store
        .put_dealer(&Dealer {
            id: "D1".into(),
            name: "Acme Alarms".into(),
            created_at: DAY,
        })
        .await
        .unwrap();
    let mut plays: Vec<(String, String, &str, Option<&str>)> = PLAYED
        .iter()
        .map(|(name, account, dealer)| {
            let text = std::fs::read_to_string(scenario_path(name)).unwrap();
            (name.to_string(), text, *account, *dealer)
        })
        .collect();
    plays.push(("runaway".into(), runaway_scenario(), "2001", None));
    for (i, (name, text, account, dealer)) in plays.iter().enumerate() {
        // Each an hour after the last, from 10:00.
        let start = text.lines().find(|l| l.starts_with("start = ")).unwrap();
        let text = text.replace(
            start,
            &format!("start = \"2026-11-02T{:02}:00:00Z\"", 10 + i),
        );
        let scenario = parse(&text).unwrap_or_else(|e| panic!("{name}: {}", e.0));
        let mut scenario = scenario;
        scenario.account.number = account.to_string();
        scenario.account.dealer = dealer.map(str::to_string);
        run_into(&scenario, &PlanBook::default(), store.clone())
            .await
            .unwrap();
    }
    // Account 2002's panel misses its supervision interval at 20:00 and is heard again 25
    // minutes later; the center opens and restores the communication failure itself.
    let mut account = watchpost_store::testing::account("2002");
    account.supervision_ms = Some(HOUR);
    store.put_account(&account).await.unwrap();
    let mut center = Center::resume(store.clone(), Settings::default())
        .await
        .unwrap();
    for (at, event) in [
        (DAY + 10 * HOUR, Event::CommFailure),
        (DAY + 10 * HOUR + 25 * 60_000, Event::CommRestored),
    ] {
        let signal = SignalRecord {
            account: "2002".into(),
            received_at: at,
            source: "supervision".into(),
            event,
            raw: String::new(),
        };
        center.receive(at, signal, "supervision").await.unwrap();
        center.commit().await.unwrap();
    }
}

/// The report's rows by table: `grep '^TABLE,'` as README "Reports" says.
fn tables(csv_text: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let mut tables: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for record in reader.records() {
        let record: Vec<String> = record.unwrap().iter().map(str::to_string).collect();
        tables
            .entry(record[0].clone())
            .or_default()
            .push(record[1..].to_vec());
    }
    tables
}

fn rows(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_a_known_data_set_gives_its_figures_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    data_set(&db).await;
    let db_arg = db.to_str().unwrap();
    let report = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "--db",
            db_arg,
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-02",
        ];
        args.extend(extra);
        cli(&args, "")
    };

    let t = tables(&report(&["--format", "csv"]));
    let expected: [(&str, &[&[&str]]); 8] = [
        (
            "summary",
            &[
                &["measure", "value"],
                &["from", "2026-11-02T00:00:00.000Z"],
                &["to", "2026-11-03T00:00:00.000Z"],
                &["scope", "the center"],
                &["alarms", "9"],
                &["open", "0"],
                &["counted", "7"],
                &["false_alarms", "3"],
            ],
        ),
        (
            "by_kind",
            &[
                &["kind", "alarms"],
                &["burglary", "4"],
                &["fire", "1"],
                &["duress", "1"],
                &["medical", "1"],
                &["comm_failure", "1"],
                &["runaway_account", "1"],
            ],
        ),
        (
            "by_disposition",
            &[
                &["disposition", "alarms"],
                &["canceled_by_contact", "1"],
                &["canceled_by_disarm", "1"],
                &["canceled_by_app", "1"],
                &["dispatched", "4"],
                &["restored", "2"],
            ],
        ),
        (
            "by_kind_and_disposition",
            &[
                &["kind", "disposition", "alarms"],
                &["burglary", "canceled_by_contact", "1"],
                &["burglary", "canceled_by_disarm", "1"],
                &["burglary", "dispatched", "2"],
                &["fire", "dispatched", "1"],
                &["duress", "dispatched", "1"],
                &["medical", "canceled_by_app", "1"],
                &["comm_failure", "restored", "1"],
                &["runaway_account", "restored", "1"],
            ],
        ),
        (
            "false_alarms",
            &[
                &["account", "alarms", "false_alarms", "false_rate"],
                &["1001", "3", "2", "0.6667"],
                &["1002", "2", "1", "0.5000"],
                &["1003", "1", "0", "0.0000"],
                &["2001", "1", "0", "0.0000"],
            ],
        ),
        // The scenarios' reports: every first call 1 s after the signal (burglary verified
        // dispatch and cancel, fire, the runaway's burglary); dispatch requests after 0 s
        // (duress), 24 s (fire), 32 s (burglary) and 61 s (the runaway's burglary, nobody
        // reached): nearest-rank median the 2nd of 4, 90th percentile the 4th.
        (
            "response_times",
            &[
                &["measure", "alarms", "median_s", "p90_s", "max_s"],
                &["signal_to_first_call", "4", "1", "1", "1"],
                &["signal_to_dispatch", "4", "24", "61", "61"],
            ],
        ),
        // The 31st signal within a minute, at 16:00:30, made 2001 a runaway; it calmed 54 s
        // later.
        (
            "runaway_accounts",
            &[
                &[
                    "account",
                    "alarms",
                    "open",
                    "first_opened_at",
                    "last_opened_at",
                    "longest_s",
                ],
                &[
                    "2001",
                    "1",
                    "0",
                    "2026-11-02T16:00:30.000Z",
                    "2026-11-02T16:00:30.000Z",
                    "54",
                ],
            ],
        ),
        (
            "comm_failure_accounts",
            &[
                &[
                    "account",
                    "alarms",
                    "open",
                    "first_opened_at",
                    "last_opened_at",
                    "longest_s",
                ],
                &[
                    "2002",
                    "1",
                    "0",
                    "2026-11-02T20:00:00.000Z",
                    "2026-11-02T20:00:00.000Z",
                    "1500",
                ],
            ],
        ),
    ];
    for (table, want) in expected {
        assert_eq!(t.get(table), Some(&rows(want)), "{table}");
    }
    assert_eq!(t.len(), 8, "{:?}", t.keys());

    // A dealer's report leaves the silent duress alarm out; an account's is that account's.
    let dealer: Value = serde_json::from_str(&report(&["--dealer", "D1"])).unwrap();
    assert_eq!(dealer["scope"], "dealer D1 (Acme Alarms)");
    assert_eq!(
        (
            &dealer["alarms"],
            &dealer["counted"],
            &dealer["false_alarms"]
        ),
        (&json!(5), &json!(5), &json!(3))
    );
    assert!(!dealer.to_string().contains("duress"), "{dealer}");
    assert!(!dealer.to_string().contains("1003"), "{dealer}");
    assert_eq!(
        dealer["response_times"]["to_dispatch"]["max_s"],
        json!(32.0)
    );
    let account: Value = serde_json::from_str(&report(&["--account", "1002"])).unwrap();
    assert_eq!(
        account["false_alarms_by_account"],
        json!([{"account": "1002", "alarms": 2, "false_alarms": 1, "false_rate": 0.5}])
    );
    assert_eq!(
        account["by_kind"],
        json!([{"kind": "fire", "alarms": 1}, {"kind": "medical", "alarms": 1}])
    );
    // The period ends before `to` when `to` is an instant: the 10:00 alarm alone.
    let morning = cli(
        &[
            "report",
            "--db",
            db_arg,
            "--from",
            "2026-11-02T10:00:00Z",
            "--to",
            "2026-11-02T11:00:00Z",
        ],
        "",
    );
    let morning: Value = serde_json::from_str(&morning).unwrap();
    assert_eq!(
        morning["by_disposition"],
        json!([{"disposition": "canceled_by_disarm", "alarms": 1}])
    );

    // The HTML page, written to a file: its charts and tables are there.
    let page = dir.path().join("report.html");
    report(&["--format", "html", "-o", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<svg").count(), 6, "{html}");
    assert!(html.contains("<style>"), "a file carries its stylesheet");

    // Bad input names the option and the reason; nothing is written.
    for (args, says) in [
        (vec!["--from", "2026-13-01", "--to", "2026-11-02"], "--from"),
        (vec!["--from", "2026-11-03", "--to", "2026-11-02"], "--to"),
        (
            vec![
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02",
                "--dealer",
                "D9",
            ],
            "--dealer",
        ),
        (
            vec![
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02",
                "--account",
                "12-34",
            ],
            "--account",
        ),
        (
            vec![
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02",
                "--account",
                "9999",
            ],
            "--account: there is no account \"9999\"",
        ),
    ] {
        let out = std::process::Command::new(common::BIN)
            .args(["report", "--db", db_arg])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }

    // An account removed since keeps its report: its alarms are the center's history.
    let store: Db = Arc::new(SqliteStore::open(&db).await.unwrap());
    assert!(store.delete_account("1003").await.unwrap());
    drop(store);
    let removed: Value = serde_json::from_str(&report(&["--account", "1003"])).unwrap();
    assert_eq!(removed["alarms"], json!(1), "{removed}");
}
