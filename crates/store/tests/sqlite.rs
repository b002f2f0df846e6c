//! Each store (SQLite on a real file, PostgreSQL): accounts round-trip with contacts and zones
//! and survive a reopen, alarm logs keep their order and refuse duplicates, each account's
//! most recent DC-09 frame is kept, and a failed batch leaves nothing behind. SQLite's file is in WAL mode with synchronous=FULL.

mod common;

use watchpost_core::account::{Contact, DeviceType, Monitoring, Premises, Responder, Zone};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::router::{Event, open_spec};
use watchpost_core::{Account, AlarmKind, Disposition, Input, Settings, SignalClass};
use watchpost_store::{
    AlarmState, Batch, Database, Inbound, LogBody, LogEntry, PgStore, SignalRecord, SqliteStore,
    Store, StoreError, Transmission, partition_of,
};

fn account() -> Account {
    Account {
        number: "4F39".into(),
        premises: Premises::Residential,
        address: "12 Elm St".into(),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::Professional,
        enrolled_at: 0,
        verbal_password: VerbalPassword::hash("blue falcon", HashCost::Fast),
        responder: Responder::Guard,
        test_until: Some(5),
        contacts: vec![
            Contact {
                name: "Ann".into(),
                phone: "+15555550101".into(),
                phone2: None,
            },
            Contact {
                name: "Bob".into(),
                phone: "+15555550102".into(),
                phone2: None,
            },
        ],
        zones: vec![Zone {
            zone: 7,
            device: DeviceType::SmartLightingMotion,
        }],
        dc09_key: Some("30313233343536373839414243444546".into()),
        supervision_ms: Some(90_000),
        details: Default::default(),
        dealer: None,
        premises_phone: None,
    }
}

fn burglary() -> Event {
    Event::Panel {
        class: SignalClass::Alarm(AlarmKind::Burglary),
        code: "BA".into(),
        zone: Some(3),
    }
}

/// Enrolls `enrolled`, stores two signals with an alarm and its log, and closes the alarm; a
/// batch repeating a sequence number fails on the way.
fn transmission(fingerprint: &str, at: i64) -> Transmission {
    Transmission {
        account: "4F39".into(),
        fingerprint: fingerprint.into(),
        received_at: at,
    }
}

async fn write_account_signals_and_log(store: &dyn Store, enrolled: &Account) {
    let event = burglary();
    store.put_account(enrolled).await.unwrap();
    let signal = SignalRecord {
        account: "4F39".into(),
        received_at: 10,
        source: "sia".into(),
        event: event.clone(),
        raw: "BA003".into(),
    };
    let spec = open_spec(
        enrolled,
        AlarmKind::Burglary,
        &event,
        10,
        &Settings::default(),
    );
    let opened = LogEntry {
        seq: 0,
        at: 10,
        actor: "panel".into(),
        body: LogBody::Opened {
            spec: Box::new(spec.clone()),
        },
    };
    let id = 1;
    let ids = store
        .write(&Batch {
            signals: vec![signal.clone(), signal],
            opened: vec![(id, spec)],
            entries: vec![(id, opened)],
            // Two frames of one account in one batch: the later one is its most recent.
            transmissions: vec![
                transmission("SIA-DCS|0001|#4F39|NBA003", 9),
                transmission("NULL|0001|", 10),
            ],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1], "{ids:?}");
    let stored: Vec<i64> = store
        .alarms(AlarmState::All)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(stored, [id]);
    let note = |seq| LogEntry {
        seq,
        at: 20,
        actor: "agent:amy".into(),
        body: LogBody::Input {
            input: Input::Note { text: "n".into() },
        },
    };
    let append = |entries: Vec<LogEntry>, closed: Vec<_>| Batch {
        entries: entries.into_iter().map(|e| (id, e)).collect(),
        closed,
        ..Batch::default()
    };
    store.write(&append(vec![note(1)], vec![])).await.unwrap();
    let duplicate = append(vec![note(2), note(1)], vec![]);
    assert!(
        store.write(&duplicate).await.is_err(),
        "a sequence number is written once"
    );
    store
        .write(&append(vec![note(2)], vec![(id, 30, Disposition::OnTest)]))
        .await
        .unwrap();
}

/// What [`write_account_signals_and_log`] wrote, read back by a store opened afresh.
async fn read_account_signals_and_log(store: &dyn Store, enrolled: &Account) {
    assert_eq!(
        store.account("4F39").await.unwrap().as_ref(),
        Some(enrolled)
    );
    assert_eq!(store.account("FFFF").await.unwrap(), None);
    let signals = store.signals("4F39").await.unwrap();
    assert_eq!(signals.len(), 2);
    assert_eq!(signals[0].event, burglary());
    let accounts = ["4F39".to_string(), "FFFF".to_string()];
    let last = store.last_transmissions(&accounts).await.unwrap();
    assert_eq!(last, [transmission("NULL|0001|", 10)]);
    store.forget_transmissions(10, 100).await.unwrap();
    assert_eq!(store.last_transmissions(&accounts).await.unwrap().len(), 1);
    assert_eq!(store.forget_transmissions(11, 100).await.unwrap(), 1);
    assert!(
        store
            .last_transmissions(&accounts)
            .await
            .unwrap()
            .is_empty()
    );
    let alarms = store.alarms(AlarmState::Closed).await.unwrap();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].disposition.as_deref(), Some("on_test"));
    assert_eq!(alarms[0].priority, AlarmKind::Burglary.priority());
    assert!(store.alarms(AlarmState::Open).await.unwrap().is_empty());
    let log = store.log(alarms[0].id).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [0, 1, 2],
        "the failed batch left nothing behind"
    );
}

#[tokio::test]
async fn a_real_file_keeps_accounts_signals_and_logs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    let enrolled = account();
    {
        let store = SqliteStore::open(&path).await.unwrap();
        write_account_signals_and_log(&store, &enrolled).await;
    }
    let store = SqliteStore::open(&path).await.unwrap();
    read_account_signals_and_log(&store, &enrolled).await;

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

/// The round writer folds what rounds appended (`signal_accounts`, `last_transmissions`)
/// within about a second, unasked, while no round comes, in several chunks when there is
/// much: an idle center leaves nothing for its readers to scan.
#[tokio::test]
async fn the_round_writer_folds_within_a_second_unasked_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let signal = |account: &str, at| SignalRecord {
        account: account.into(),
        received_at: at,
        source: "dc09".into(),
        event: Event::CommFailure,
        raw: "r".into(),
    };
    let account = |i: usize| ["A1", "B2", "C3"][i % 3];
    let many = Batch {
        signals: (0..1_200).map(|i| signal(account(i), i as i64)).collect(),
        transmissions: (0..1_200)
            .map(|i| Transmission {
                account: account(i).into(),
                fingerprint: format!("frame {i}"),
                received_at: i as i64,
            })
            .collect(),
        ..Batch::default()
    };
    store.write(&many).await.unwrap();
    let batch = Batch {
        signals: vec![signal("4F39", 1)],
        transmissions: vec![Transmission {
            account: "4F39".into(),
            fingerprint: "f".into(),
            received_at: 1,
        }],
        ..Batch::default()
    };
    store.write(&batch).await.unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let unfolded = async |conn: &mut sqlx::SqliteConnection| -> (i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM recent_frames), \
             (SELECT COUNT(*) FROM signals WHERE id > (SELECT signals_through FROM intake_fold))",
        )
        .fetch_one(conn)
        .await
        .unwrap()
    };
    assert_eq!(
        unfolded(&mut conn).await,
        (1_201, 1_201),
        "rounds only append"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while unfolded(&mut conn).await != (0, 0) {
        assert!(std::time::Instant::now() < deadline, "never folded");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut found = store
        .last_transmissions(&["4F39".into(), "B2".into()])
        .await
        .unwrap();
    found.sort_by(|a, b| a.account.cmp(&b.account));
    assert_eq!(found[0].fingerprint, "f");
    assert_eq!(found[1].fingerprint, "frame 1198");
    assert_eq!(store.signals("4F39").await.unwrap().len(), 1);
    assert_eq!(store.signals("B2").await.unwrap().len(), 400);
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM signal_accounts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(entries, 1_201);
    store.close().await;
}

/// What rounds commit reaches the database file within a fraction of a second, copied by the
/// background checkpointer: the writer's own checkpoint waits for 10,000 pages (40 MiB) of
/// write-ahead log, and the database file would not change before.
#[tokio::test]
async fn the_write_ahead_log_is_copied_back_in_the_background_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    let store = SqliteStore::open(&path).await.unwrap();
    // Past the first checkpoint (the schema), then what the database file holds.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    let batch = Batch {
        signals: (0..2_000)
            .map(|i| SignalRecord {
                account: format!("A{}", i % 50),
                received_at: i,
                source: "dc09".into(),
                event: Event::CommFailure,
                raw: "x".repeat(200),
            })
            .collect(),
        ..Batch::default()
    };
    store.write(&batch).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while size() < before + 400_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file stayed at {} bytes",
            size()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    store.close().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_database_keeps_accounts_signals_and_logs_on_postgres() {
    let database = common::database().await;
    let enrolled = account();
    {
        let store = PgStore::connect(database.url()).await.unwrap();
        write_account_signals_and_log(&store, &enrolled).await;
    }
    let store = PgStore::connect(database.url()).await.unwrap();
    read_account_signals_and_log(&store, &enrolled).await;
}

/// Replacing an account drops the contacts and zones it no longer has; a list of accounts is
/// written all or nothing, the last of two with one number winning; numbers page in byte order.
async fn accounts_are_replaced_listed_and_deleted(store: &dyn Store) {
    let first = account();
    store.put_account(&first).await.unwrap();
    let mut replaced = account();
    replaced.contacts.truncate(1);
    replaced.zones = vec![
        Zone {
            zone: 9,
            device: DeviceType::Smoke,
        },
        Zone {
            zone: 2,
            device: DeviceType::Contact,
        },
    ];
    replaced.dc09_key = None;
    store.put_account(&replaced).await.unwrap();
    let stored = store.account("4F39").await.unwrap().unwrap();
    assert_eq!(stored.contacts, replaced.contacts);
    assert_eq!(
        stored.zones.iter().map(|z| z.zone).collect::<Vec<_>>(),
        [2, 9],
        "zones by number"
    );
    assert!(store.dc09_keys().await.unwrap().is_empty());

    let numbered = |number: &str| {
        let mut a = account();
        a.number = number.into();
        a
    };
    let mut broken = numbered("0002");
    broken.zones.push(broken.zones[0]);
    assert!(
        store
            .put_accounts(&[numbered("0001"), broken])
            .await
            .is_err(),
        "two zones with one number"
    );
    assert_eq!(store.account("0001").await.unwrap(), None, "all or nothing");

    let mut again = numbered("a100");
    again.address = "the second".into();
    let batch = [numbered("a100"), numbered("B200"), numbered("0001"), again];
    store.put_accounts(&batch).await.unwrap();
    assert_eq!(store.count_accounts().await.unwrap(), 4);
    assert_eq!(
        store.account("a100").await.unwrap().unwrap().address,
        "the second"
    );
    assert_eq!(
        store.account_numbers("", 10).await.unwrap(),
        ["0001", "4F39", "B200", "a100"]
    );
    assert_eq!(store.account_numbers("4F39", 1).await.unwrap(), ["B200"]);
    let asked = ["0001", "A100", "a100", "ZZZ"].map(String::from);
    let mut enrolled = store.enrolled_among(&asked).await.unwrap();
    enrolled.sort();
    assert_eq!(enrolled, ["0001", "a100"], "exact numbers, one lookup each");
    assert!(store.enrolled_among(&[]).await.unwrap().is_empty());
    let phone = &store.account("0001").await.unwrap().unwrap().contacts[0].phone;
    assert_eq!(
        store.accounts_with_phone(phone).await.unwrap(),
        ["0001", "4F39", "B200", "a100"],
        "each account with a contact at that number, once"
    );
    assert!(
        store
            .accounts_with_phone("+19999999999")
            .await
            .unwrap()
            .is_empty()
    );
    let mut keys = store.dc09_keys().await.unwrap();
    keys.sort();
    assert_eq!(
        keys.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["0001", "B200", "a100"]
    );
    let mut supervised = store.supervised().await.unwrap();
    supervised.sort();
    assert_eq!(supervised[0], ("0001".to_string(), 90_000));
    assert_eq!(supervised.len(), 4);

    assert!(store.delete_account("B200").await.unwrap());
    assert!(!store.delete_account("B200").await.unwrap());
    assert_eq!(store.account("B200").await.unwrap(), None);
    assert_eq!(store.count_accounts().await.unwrap(), 3);

    // Replaced from several connections at once: every replace succeeds, and one wins whole.
    let variants: Vec<Account> = (0..6)
        .map(|n| {
            let mut a = account();
            a.address = format!("variant {n}");
            a.contacts.truncate(n % 3);
            a
        })
        .collect();
    let [a, b, c, d, e, f] = &variants[..] else {
        unreachable!()
    };
    let results = tokio::join!(
        store.put_account(a),
        store.put_account(b),
        store.put_account(c),
        store.put_account(d),
        store.put_account(e),
        store.put_account(f)
    );
    for result in [
        results.0, results.1, results.2, results.3, results.4, results.5,
    ] {
        result.unwrap();
    }
    let stored = store.account("4F39").await.unwrap().unwrap();
    let winner = variants
        .iter()
        .find(|v| v.address == stored.address)
        .unwrap();
    assert_eq!(stored.contacts, winner.contacts);
    assert_eq!(stored.zones, winner.zones);
}

#[tokio::test]
async fn accounts_are_replaced_listed_and_deleted_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    accounts_are_replaced_listed_and_deleted(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn accounts_are_replaced_listed_and_deleted_on_postgres() {
    let (store, _database) = common::postgres().await;
    accounts_are_replaced_listed_and_deleted(&store).await;
}

/// A batch made under a lease another node has since taken writes nothing; under the current
/// lease it writes its alarm, forwards signals to the inbox and settles commands.
async fn a_batch_under_a_lost_lease_writes_nothing(store: &dyn Database) {
    let enrolled = account();
    let part = partition_of(&enrolled.number);
    let lost = store.acquire(part, "a", 1, 100).await.unwrap().unwrap();
    assert_eq!(store.acquire(part, "b", 50, 150).await.unwrap(), None);
    let current = store.acquire(part, "b", 101, 200).await.unwrap().unwrap();
    assert!(current.token > lost.token);

    let event = burglary();
    let signal = SignalRecord {
        account: enrolled.number.clone(),
        received_at: 110,
        source: "sia".into(),
        event: event.clone(),
        raw: "BA003".into(),
    };
    let spec = open_spec(
        &enrolled,
        AlarmKind::Burglary,
        &event,
        110,
        &Settings::default(),
    );
    let id = store.allocate_alarm_ids(1).await.unwrap();
    let command = store
        .post_command(
            part,
            105,
            id,
            &Input::Note { text: "n".into() },
            "agent:amy",
        )
        .await
        .unwrap();
    let batch = |lease| Batch {
        signals: vec![signal.clone()],
        opened: vec![(id, spec.clone())],
        entries: vec![(
            id,
            LogEntry {
                seq: 0,
                at: 110,
                actor: "panel".into(),
                body: LogBody::Opened {
                    spec: Box::new(spec.clone()),
                },
            },
        )],
        forwarded: vec![(part, signal.clone())],
        settled: vec![(command, Some("ok".into()))],
        leases: vec![lease],
        fences: [(id, lease.token)].into(),
        ..Batch::default()
    };
    let refused = store.write(&batch(lost)).await;
    assert!(
        matches!(refused, Err(StoreError::Fenced(p)) if p == part),
        "{refused:?}"
    );
    assert!(store.signals(&enrolled.number).await.unwrap().is_empty());
    assert!(store.alarms(AlarmState::All).await.unwrap().is_empty());
    assert_eq!(store.command_outcome(command).await.unwrap(), None);

    assert_eq!(store.write(&batch(current)).await.unwrap().len(), 1);
    assert_eq!(store.log(id).await.unwrap().len(), 1);
    assert_eq!(
        store.command_outcome(command).await.unwrap().as_deref(),
        Some("ok")
    );
    let inbox = store.inbox(&[part], 10).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].inbound, Inbound::Signal { signal });

    // An answer nobody came back for is forgotten after a while; later ones and unanswered
    // items stay.
    let note = Input::Note { text: "o".into() };
    let old = store
        .post_command(part, 120, id, &note, "agent:amy")
        .await
        .unwrap();
    let recent = store
        .post_command(part, 130, id, &note, "agent:amy")
        .await
        .unwrap();
    let answered = Batch {
        settled: vec![(old, Some("ok".into())), (recent, Some("ok".into()))],
        leases: vec![current],
        ..Batch::default()
    };
    store.write(&answered).await.unwrap();
    store.forget_answered(125).await.unwrap();
    assert!(store.command_outcome(old).await.is_err(), "forgotten");
    assert_eq!(
        store.command_outcome(recent).await.unwrap().as_deref(),
        Some("ok")
    );
    assert_eq!(store.inbox(&[part], 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_batch_under_a_lost_lease_writes_nothing_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    a_batch_under_a_lost_lease_writes_nothing(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn a_batch_under_a_lost_lease_writes_nothing_on_postgres() {
    let (store, _database) = common::postgres().await;
    a_batch_under_a_lost_lease_writes_nothing(&store).await;
}

use sqlx::Connection;
