//! Runaway accounts in virtual time: beyond the limit an account's signals that only join an
//! alarm are counted in it instead of listed, anything that changes the protocol is still
//! acted on, one trouble item opens and closes once the account calms down — also across a
//! restart — and every alarm replays from its log exactly as it was live.

use std::sync::Arc;
use watchpost_center::Center;
use watchpost_core::account::{Contact, DAY_MS, Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::router::parse_sia;
use watchpost_core::{Account, Alarm, AlarmKind, RunawayLimit, Settings};
use watchpost_store::{
    AlarmId, AlarmRow, AlarmState, Db, SignalRecord, SqliteStore, Store, replay,
};

const ACCOUNT: &str = "4F39";
const START: i64 = 1_800_000_000_000;
/// More than 10 signals within 10 s.
const LIMIT: RunawayLimit = RunawayLimit {
    signals: 10,
    window_ms: 10_000,
};

fn account() -> Account {
    Account {
        number: ACCOUNT.into(),
        premises: Premises::Residential,
        address: "12 Elm St".into(),
        country: "US".into(),
        region: "IL".into(),
        monitoring: Monitoring::Professional,
        enrolled_at: START - 30 * DAY_MS,
        verbal_password: VerbalPassword::hash("blue falcon", HashCost::Fast),
        responder: Responder::Police,
        test_until: None,
        contacts: vec![Contact {
            name: "Ann".into(),
            phone: "+15555550101".into(),
            phone2: None,
        }],
        zones: vec![],
        dc09_key: None,
        supervision_ms: None,
        details: Default::default(),
        dealer: None,
        premises_phone: None,
    }
}

fn signal(code: &str, at: i64) -> SignalRecord {
    SignalRecord {
        account: ACCOUNT.into(),
        received_at: at,
        source: "sia".into(),
        event: parse_sia(code).unwrap(),
        raw: code.into(),
    }
}

struct Test {
    store: Db,
    center: Center,
    _dir: tempfile::TempDir,
}

fn settings(runaway: Option<RunawayLimit>) -> Settings {
    Settings {
        runaway,
        ..Settings::default()
    }
}

impl Test {
    async fn new(runaway: Option<RunawayLimit>) -> Test {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("center.db"))
            .await
            .unwrap();
        store.put_account(&account()).await.unwrap();
        let store: Db = Arc::new(store);
        let center = Center::resume(store.clone(), settings(runaway))
            .await
            .unwrap();
        Test {
            store,
            center,
            _dir: dir,
        }
    }

    /// Receives and commits one signal, firing whatever is due first.
    async fn send(&mut self, code: &str, at: i64) -> Vec<AlarmId> {
        self.center.fire_due(at).unwrap();
        let received = self
            .center
            .receive(at, signal(code, at), "panel")
            .await
            .unwrap();
        self.center.commit().await.unwrap();
        received.opened
    }

    /// `count` signals `every` ms apart from `from`; returns the time of the last.
    async fn flood(&mut self, code: &str, from: i64, every: i64, count: usize) -> i64 {
        let mut at = from;
        for i in 0..count {
            at = from + i as i64 * every;
            self.send(code, at).await;
        }
        at
    }

    async fn alarms(&self, kind: AlarmKind) -> Vec<AlarmRow> {
        let all = self.store.alarms(AlarmState::All).await.unwrap();
        all.into_iter()
            .filter(|a| a.kind == kind.as_str())
            .collect()
    }

    async fn replayed(&self, id: AlarmId) -> Alarm {
        replay(&self.store.log(id).await.unwrap()).unwrap()
    }
}

fn rows(alarm: &Alarm, event: &str) -> Vec<String> {
    alarm
        .timeline()
        .iter()
        .filter(|e| &*e.event == event)
        .map(|e| e.detail.to_string())
        .collect()
}

#[tokio::test]
async fn beyond_the_limit_joined_signals_are_counted_and_one_item_tells_the_operators() {
    let mut t = Test::new(Some(LIMIT)).await;
    let burglary = t.send("BA003", START).await[0];
    // 10 signals in all within the window: still listed.
    t.flood("BA003", START + 100, 100, 9).await;
    assert!(t.alarms(AlarmKind::RunawayAccount).await.is_empty());
    // The 11th takes the account over: it and the rest are counted.
    let opened = t.send("BA003", START + 1_000).await;
    assert_eq!(
        opened.len(),
        1,
        "the runaway item opens with the 11th signal"
    );
    t.flood("BA003", START + 1_100, 10, 500).await;
    t.send("BR003", START + 7_000).await;

    let live = t.center.alarm(burglary).unwrap().clone();
    assert_eq!(live.grouped_signals(), 502);
    assert_eq!(
        rows(&live, "signal").len(),
        10,
        "the opening signal and 9 more"
    );
    assert_eq!(
        rows(&live, "grouped"),
        ["… and 502 more signals: BA zone 3 ×501, BR zone 3 (restore) ×1"]
    );
    assert_eq!(
        t.replayed(burglary).await,
        live,
        "replay equals the live alarm"
    );
    assert!(live.is_open(), "repeats change nothing in the protocol");
    let items = t.alarms(AlarmKind::RunawayAccount).await;
    assert_eq!(items.len(), 1, "exactly one runaway item: {items:?}");
    assert_eq!(items[0].priority, 4);
    assert!(items[0].closed_at.is_none());
    let signals = t.store.signals(ACCOUNT).await.unwrap();
    assert_eq!(signals.len(), 512, "every signal is stored");
}

#[tokio::test]
async fn a_fire_in_a_burglary_flood_opens_and_a_disarm_cancels() {
    let mut t = Test::new(Some(LIMIT)).await;
    let burglary = t.send("BA003", START).await[0];
    let at = t.flood("BA003", START + 10, 10, 100).await;
    let fire = t.send("FA001", at + 10).await;
    assert_eq!(fire.len(), 1, "the fire opens its own alarm");
    let at = t.flood("BA003", at + 20, 10, 100).await;
    t.send("OP1", at + 10).await;

    let closed = t.store.alarms(AlarmState::Closed).await.unwrap();
    let by_id = |id| closed.iter().find(|a| a.id == id).cloned();
    assert_eq!(
        by_id(burglary).and_then(|a| a.disposition).as_deref(),
        Some("canceled_by_disarm"),
        "the disarm in the flood cancels the burglary"
    );
    assert_eq!(
        by_id(fire[0]).and_then(|a| a.disposition).as_deref(),
        Some("canceled_by_disarm"),
        "the fire was a working alarm, canceled like any before dispatch"
    );
    let replayed = t.replayed(burglary).await;
    assert_eq!(
        replayed.grouped_signals(),
        191,
        "201 burglary signals, 10 listed"
    );
    assert_eq!(
        rows(&replayed, "grouped").len(),
        1,
        "the fire opened elsewhere: the burglary's group goes on in one row"
    );
    assert_eq!(rows(&replayed, "disarm"), ["OP user 1"]);
    let items = t.alarms(AlarmKind::RunawayAccount).await;
    assert_eq!(items.len(), 1);
    assert!(
        items[0].closed_at.is_none(),
        "a disarm does not end a flood"
    );
}

#[tokio::test]
async fn the_item_closes_once_the_account_calms_down_also_after_a_restart() {
    let mut t = Test::new(Some(LIMIT)).await;
    t.send("BA003", START).await;
    let last = t.flood("BA003", START + 100, 100, 20).await;
    let item = t.alarms(AlarmKind::RunawayAccount).await[0].id;
    // Five signals in a window are within half the limit: calm a window after the
    // sixth-last.
    let calm_at = last - 500 + LIMIT.window_ms;
    assert!(t.center.next_timer().is_some_and(|at| at <= calm_at));
    t.center.fire_due(calm_at - 1).unwrap();
    t.center.commit().await.unwrap();
    assert!(t.center.alarm(item).is_some(), "not calm yet");

    // A restart in the middle: the count resumes from the last logged signal.
    drop(t.center);
    t.center = Center::resume(t.store.clone(), settings(Some(LIMIT)))
        .await
        .unwrap();
    assert_eq!(t.center.next_timer(), Some(last + LIMIT.window_ms));
    t.center.fire_due(last + LIMIT.window_ms - 1).unwrap();
    t.center.commit().await.unwrap();
    assert!(t.center.alarm(item).is_some(), "not calm yet");
    t.center.fire_due(last + LIMIT.window_ms).unwrap();
    t.center.commit().await.unwrap();
    assert!(t.center.alarm(item).is_none());
    let closed = t.alarms(AlarmKind::RunawayAccount).await;
    assert_eq!(closed[0].disposition.as_deref(), Some("restored"));
    assert_eq!(
        rows(&t.replayed(item).await, "restored"),
        ["calm again: at most 5 signals within 10 s"]
    );

    // Calm: a joined signal is listed again, and a new flood is a new item.
    let burglary = t.alarms(AlarmKind::Burglary).await[0].id;
    let next = last + LIMIT.window_ms + 1_000;
    t.send("BA003", next).await;
    let alarm = t.center.alarm(burglary).unwrap();
    assert_eq!(&*alarm.timeline().last().unwrap().event, "signal");
    t.flood("BA003", next + 1, 1, 20).await;
    assert_eq!(t.alarms(AlarmKind::RunawayAccount).await.len(), 2);
}

#[tokio::test]
async fn without_a_limit_every_signal_is_listed() {
    let mut t = Test::new(None).await;
    let burglary = t.send("BA003", START).await[0];
    t.flood("BA003", START + 1, 1, 200).await;
    let alarm = t.center.alarm(burglary).unwrap();
    assert_eq!(rows(alarm, "signal").len(), 201);
    assert_eq!(alarm.grouped_signals(), 0);
    assert!(t.alarms(AlarmKind::RunawayAccount).await.is_empty());
    assert_eq!(t.center.next_timer(), None);
}
