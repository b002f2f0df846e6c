//! The period report's facts in each store (issue 15, item 6): the first call, the first
//! dispatch request, the closing, the handler's resolution code and silence are read from
//! each alarm's log; the period, a dealer and an account select the alarms.

mod common;

use watchpost_core::alarm::Decision;
use watchpost_core::period_report::AlarmFacts;
use watchpost_core::router::{Event, open_spec};
use watchpost_core::{Action, Agency, AlarmKind, Disposition, Input, Settings, SignalClass};
use watchpost_store::{
    Batch, Database, Dealer, LogBody, LogEntry, ReportQuery, ReportScope, SqliteStore,
};

fn account_of(number: &str, dealer: Option<&str>) -> watchpost_core::Account {
    watchpost_core::Account {
        dealer: dealer.map(str::to_string),
        ..watchpost_store::testing::account(number)
    }
}

/// Alarm `id` of `account`, opened at `at` with the entries `then` (each `(ms after at,
/// body)`), closed with `closed` if given.
fn alarm(
    id: i64,
    account: &str,
    kind: AlarmKind,
    at: i64,
    then: Vec<(i64, LogBody)>,
    closed: Option<Disposition>,
) -> Batch {
    let event = Event::Panel {
        class: SignalClass::Alarm(kind),
        code: "XX".into(),
        zone: Some(1),
    };
    let spec = open_spec(
        &account_of(account, None),
        kind,
        &event,
        at,
        &Settings::default(),
    );
    let opened = LogBody::Opened {
        spec: Box::new(spec.clone()),
    };
    let entries = std::iter::once((0, opened))
        .chain(then)
        .zip(0..)
        .map(|((after, body), seq)| {
            let entry = LogEntry {
                seq,
                at: at + after,
                actor: "engine".into(),
                body,
            };
            (id, entry)
        })
        .collect();
    let last = at + 600_000;
    Batch {
        opened: vec![(id, spec)],
        entries,
        closed: closed.map(|d| (id, last, d)).into_iter().collect(),
        ..Batch::default()
    }
}

fn input(input: Input) -> LogBody {
    LogBody::Input { input }
}

async fn facts_of_each_alarm(store: &dyn Database) {
    for (id, name) in [("D1", "Acme"), ("D2", "Bolt")] {
        store
            .put_dealer(&Dealer {
                id: id.into(),
                name: name.into(),
                created_at: 0,
            })
            .await
            .unwrap();
    }
    store
        .put_accounts(&[
            account_of("1001", Some("D1")),
            account_of("2001", Some("D2")),
        ])
        .await
        .unwrap();
    let dispatch = LogBody::Action {
        action: Action::RequestDispatch {
            agency: Agency::Police,
            kind: AlarmKind::Burglary,
            address: "x".into(),
        },
    };
    let batches = [
        alarm(
            1,
            "1001",
            AlarmKind::Burglary,
            1_000_000,
            vec![
                (20_000, input(Input::CallPlaced { call: 0 })),
                (50_000, input(Input::CallPlaced { call: 1 })),
                (
                    65_000,
                    input(Input::Decision {
                        call: 1,
                        decision: Decision::Dispatch,
                    }),
                ),
                (65_000, dispatch.clone()),
                (90_000, dispatch),
                (
                    300_000,
                    input(Input::AgentClose {
                        resolution: Some("false_equipment".into()),
                        reason: None,
                    }),
                ),
            ],
            Some(Disposition::Dispatched),
        ),
        alarm(2, "2001", AlarmKind::Duress, 1_500_000, vec![], None),
        // Closed, but still owing the agency its incident number: open in its row.
        alarm(
            3,
            "1001",
            AlarmKind::Fire,
            2_000_000,
            vec![(
                5_000,
                LogBody::Action {
                    action: Action::Close {
                        disposition: Disposition::Dispatched,
                    },
                },
            )],
            None,
        ),
    ];
    for batch in &batches {
        store.write(batch).await.unwrap();
    }
    let query = |from, to, scope| ReportQuery { from, to, scope };
    let all = store
        .report_alarms(&query(0, 3_000_000, ReportScope::Center))
        .await
        .unwrap();
    assert_eq!(
        all[0],
        AlarmFacts {
            id: 1,
            account: "1001".into(),
            kind: "burglary".into(),
            disposition: Some("dispatched".into()),
            opened_at: 1_000_000,
            closed_at: Some(1_600_000),
            first_call_at: Some(1_020_000),
            first_dispatch_at: Some(1_065_000),
            resolution: Some("false_equipment".into()),
            silent: false,
        }
    );
    let duress = &all[1];
    assert_eq!(
        (
            duress.silent,
            duress.disposition.as_deref(),
            duress.first_call_at
        ),
        (true, None, None),
        "{duress:?}"
    );
    let closed = &all[2];
    assert_eq!(
        (
            closed.silent,
            closed.disposition.as_deref(),
            closed.closed_at
        ),
        (false, Some("dispatched"), Some(2_005_000)),
        "the log's closing counts: {closed:?}"
    );
    let ids = |facts: Vec<AlarmFacts>| facts.iter().map(|f| f.id).collect::<Vec<_>>();
    for (from, to, scope, expected) in [
        (1_000_000, 2_000_000, ReportScope::Center, vec![1, 2]),
        (1_000_001, 2_000_001, ReportScope::Center, vec![2, 3]),
        (0, 3_000_000, ReportScope::Dealer("D1".into()), vec![1, 3]),
        (0, 3_000_000, ReportScope::Dealer("D3".into()), vec![]),
        (0, 3_000_000, ReportScope::Account("2001".into()), vec![2]),
    ] {
        let said = format!("{from}..{to} {scope:?}");
        let got = store.report_alarms(&query(from, to, scope)).await.unwrap();
        assert_eq!(ids(got), expected, "{said}");
    }
}

#[tokio::test]
async fn facts_of_each_alarm_on_sqlite() {
    let (store, _dir): (SqliteStore, _) = common::sqlite().await;
    facts_of_each_alarm(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn facts_of_each_alarm_on_postgres() {
    let (store, _database) = common::postgres().await;
    facts_of_each_alarm(&store).await;
}
