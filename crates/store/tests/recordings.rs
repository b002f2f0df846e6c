//! Call recordings in each store: listed by alarm and call, replaced on a second write, and
//! offered for deletion only when old enough and their alarm is closed.

mod common;

use common::alarm;
use watchpost_store::{Recording, Store};

fn recording(alarm: i64, call: u32, started_at: i64) -> Recording {
    Recording {
        alarm,
        call,
        started_at,
        duration_ms: 72_000,
        bytes: 1_152_044,
        file: format!("{alarm}/{call}.wav"),
    }
}

async fn recordings_round_trip(store: &dyn Store) {
    alarm(store, 1, 1_000, Some(50_000)).await;
    alarm(store, 2, 2_000, None).await;
    store.put_recording(&recording(1, 1, 3_000)).await.unwrap();
    store.put_recording(&recording(1, 0, 2_000)).await.unwrap();
    store.put_recording(&recording(2, 0, 2_500)).await.unwrap();
    let mut again = recording(1, 1, 3_000);
    again.duration_ms = 5;
    store.put_recording(&again).await.unwrap();

    let listed = store.recordings(1).await.unwrap();
    assert_eq!(listed, [recording(1, 0, 2_000), again.clone()]);
    assert_eq!(store.recording(1, 1).await.unwrap(), Some(again));
    assert_eq!(store.recording(1, 9).await.unwrap(), None);
    assert!(store.recordings(3).await.unwrap().is_empty());

    // Alarm 2 is open: its recording is never offered, however old.
    let expired = store
        .expired_recordings(10_000, i64::MIN, 100)
        .await
        .unwrap();
    let keys: Vec<(i64, u32)> = expired.iter().map(|r| (r.alarm, r.call)).collect();
    assert_eq!(keys, [(1, 0), (1, 1)], "oldest first, closed alarms only");
    let only_old = store
        .expired_recordings(2_500, i64::MIN, 100)
        .await
        .unwrap();
    assert_eq!(only_old.len(), 1);
    assert_eq!(
        store
            .expired_recordings(10_000, i64::MIN, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    // However recent, the recordings of an alarm closed before the alarms' retention go.
    let closed_long_ago = store.expired_recordings(0, 60_000, 100).await.unwrap();
    assert_eq!(closed_long_ago.len(), 2, "alarm 1 closed at 50 000");
    assert!(
        store
            .expired_recordings(0, 50_000, 100)
            .await
            .unwrap()
            .is_empty()
    );

    assert!(store.delete_recording(1, 0).await.unwrap());
    assert!(!store.delete_recording(1, 0).await.unwrap());
    assert_eq!(store.recordings(1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn recordings_round_trip_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    recordings_round_trip(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn recordings_round_trip_on_postgres() {
    let (store, _db) = common::postgres().await;
    recordings_round_trip(&store).await;
}
