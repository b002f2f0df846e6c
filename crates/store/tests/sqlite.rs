//! The SQLite store on a real file: accounts round-trip with contacts and zones, the file is
//! in WAL mode with synchronous=FULL, and alarm logs keep their order and refuse duplicates.

use watchpost_core::account::{Contact, DeviceType, Monitoring, Premises, Responder, Zone};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::router::{Event, open_spec};
use watchpost_core::{Account, AlarmKind, Disposition, Input, Settings, SignalClass};
use watchpost_store::{AlarmState, Batch, LogBody, LogEntry, SignalRecord, SqliteStore, Store};

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
            },
            Contact {
                name: "Bob".into(),
                phone: "+15555550102".into(),
            },
        ],
        zones: vec![Zone {
            zone: 7,
            device: DeviceType::SmartLightingMotion,
        }],
        dc09_key: Some("30313233343536373839414243444546".into()),
        supervision_ms: Some(90_000),
    }
}

#[tokio::test]
async fn a_real_file_keeps_accounts_signals_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("center.db");
    let enrolled = account();
    let event = Event::Panel {
        class: SignalClass::Alarm(AlarmKind::Burglary),
        code: "BA".into(),
        zone: Some(3),
    };
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.put_account(&enrolled).await.unwrap();
        let signal = SignalRecord {
            account: "4F39".into(),
            received_at: 10,
            source: "sia".into(),
            event: event.clone(),
            raw: "BA003".into(),
        };
        let spec = open_spec(
            &enrolled,
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
        let id = store.last_alarm_id().await.unwrap() + 1;
        let ids = store
            .write(&Batch {
                signals: vec![signal.clone(), signal],
                opened: vec![(id, spec)],
                entries: vec![(id, opened)],
                closed: vec![],
                transmissions: vec![("dc09|4F39|0001|#4F39|NBA003".into(), 10)],
            })
            .await
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(store.last_alarm_id().await.unwrap(), id);
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
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.account("4F39").await.unwrap(), Some(enrolled));
    assert_eq!(store.account("FFFF").await.unwrap(), None);
    assert_eq!(store.signals("4F39").await.unwrap()[0].event, event);
    let remembered = store.recent_transmissions(5).await.unwrap();
    assert_eq!(
        remembered,
        [("dc09|4F39|0001|#4F39|NBA003".to_string(), 10)]
    );
    store.forget_transmissions(11).await.unwrap();
    assert!(store.recent_transmissions(0).await.unwrap().is_empty());
    let alarms = store.alarms(AlarmState::Closed).await.unwrap();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].disposition.as_deref(), Some("on_test"));
    assert!(store.alarms(AlarmState::Open).await.unwrap().is_empty());
    let log = store.log(alarms[0].id).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [0, 1, 2],
        "the failed batch left nothing behind"
    );

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

use sqlx::Connection;
