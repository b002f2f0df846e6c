//! Folding what intake appended into what is looked up by account (migration 0022): a
//! signal's entry in `signal_accounts`, an account's latest frame in `last_transmissions`.
//! The round writer folds about once a second, so a fold writes each account's page once for
//! all the signals it received in between, sorted by account; the in-memory store folds in
//! every commit. Readers join what is not folded yet (`SIGNALS_OF`, `RECENT_SIGNALS`,
//! `LAST_FRAMES`), so nothing is ever missing from an account's view.

/// Signals above the mark, into `signal_accounts`, in its key order.
const FOLD_SIGNALS: &str = "INSERT INTO signal_accounts (account, received_at, id) \
     SELECT account, received_at, id FROM signals \
     WHERE id > (SELECT signals_through FROM intake_fold) ORDER BY account, received_at, id";

/// The mark moves to the newest signal (never back: ids only grow).
const MARK: &str = "UPDATE intake_fold SET signals_through = \
     MAX(signals_through, COALESCE((SELECT MAX(id) FROM signals), 0))";

/// Each account's latest appended frame over its row of `last_transmissions`.
/// (`WHERE true`: SQLite's documented way to keep an upsert's `ON CONFLICT` from being read
/// as part of the SELECT.)
const FOLD_FRAMES: &str = "INSERT INTO last_transmissions (account, fingerprint, received_at) \
     SELECT account, fingerprint, received_at FROM recent_frames \
     WHERE id IN (SELECT MAX(id) FROM recent_frames GROUP BY account) AND true \
     ORDER BY account \
     ON CONFLICT (account) DO UPDATE SET fingerprint = excluded.fingerprint, \
     received_at = excluded.received_at";

const CLEAR_FRAMES: &str = "DELETE FROM recent_frames";

/// The statements of one fold, in order; run in one transaction (they are not idempotent
/// apart: the mark and the cleared frames must move with what they folded).
pub(super) const FOLD: [&str; 4] = [FOLD_SIGNALS, MARK, FOLD_FRAMES, CLEAR_FRAMES];

/// The signals folded so far and those above the mark: the ids of one account's signals
/// (`?1`), folded or not.
const ACCOUNT_IDS: &str = "SELECT id FROM signal_accounts WHERE account = ?1 \
     UNION ALL SELECT id FROM signals \
     WHERE id > (SELECT signals_through FROM intake_fold) AND account = ?1";

/// Every signal of account `?1`, oldest first.
pub(super) fn signals_of() -> String {
    format!("SELECT * FROM signals WHERE id IN ({ACCOUNT_IDS}) ORDER BY id")
}

/// The most recent `?2` signals of account `?1`, newest first: at most `?2` of the folded ones
/// are read, through `signal_accounts`' key order, and all of those not folded yet (about a
/// second's worth at most).
pub(super) const RECENT_SIGNALS: &str = "SELECT * FROM signals WHERE id IN (\
     SELECT id FROM (SELECT id FROM signal_accounts WHERE account = ?1 \
         ORDER BY received_at DESC, id DESC LIMIT ?2) \
     UNION ALL SELECT id FROM signals \
     WHERE id > (SELECT signals_through FROM intake_fold) AND account = ?1) \
     ORDER BY received_at DESC, id DESC LIMIT ?2";

/// The latest frame of each account of a list: `last_transmissions`' rows, then the frames
/// not folded yet, oldest first, each later one replacing what came before. `{list}` is the
/// list of bound accounts, used twice; one statement, so one snapshot: a fold between two
/// statements would hide a frame from both.
pub(super) fn last_frames(list: &str) -> String {
    format!(
        "SELECT account, fingerprint, received_at FROM (\
         SELECT account, fingerprint, received_at, 0 AS after FROM last_transmissions \
         WHERE account IN ({list}) \
         UNION ALL SELECT account, fingerprint, received_at, id AS after FROM recent_frames \
         WHERE account IN ({list})) ORDER BY after"
    )
}

/// Runs a fold in the round writer's open transaction `tx`.
pub(super) fn run(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    for statement in FOLD {
        tx.prepare_cached(statement)?.execute([])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::sqlite::SqliteStore;
    use crate::{Batch, SignalRecord, Store, Transmission};
    use std::sync::Arc;
    use watchpost_core::{Event, Millis};

    /// A round of one signal and its frame.
    fn round(account: &str, at: Millis, fingerprint: &str) -> Arc<Batch> {
        Arc::new(Batch {
            signals: vec![SignalRecord {
                account: account.into(),
                received_at: at,
                source: "dc09".into(),
                event: Event::CommFailure,
                raw: format!("{account} {at}"),
            }],
            transmissions: vec![Transmission {
                account: account.into(),
                fingerprint: fingerprint.into(),
                received_at: at,
            }],
            ..Batch::default()
        })
    }

    async fn count(store: &SqliteStore, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    /// Each account's signals (their times) and latest frames, as readers see them.
    async fn view(store: &SqliteStore) -> (Vec<Millis>, Vec<Millis>, Vec<(String, String)>) {
        let times = |s: Vec<SignalRecord>| s.iter().map(|s| s.received_at).collect();
        let all = times(store.signals("A").await.unwrap());
        let recent = times(store.recent_signals("A", 2).await.unwrap());
        let mut frames: Vec<(String, String)> = store
            .last_transmissions(&["A".into(), "B".into(), "C".into()])
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.account, t.fingerprint))
            .collect();
        frames.sort();
        (all, recent, frames)
    }

    fn frames(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, f)| (a.to_string(), f.to_string()))
            .collect()
    }

    #[tokio::test]
    async fn readers_see_every_signal_and_frame_folded_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let rounds = &store.file.as_ref().unwrap().rounds;
        for (account, at, fingerprint) in [("A", 10, "f1"), ("B", 20, "g1"), ("A", 30, "f2")] {
            store
                .write_unsynced(round(account, at, fingerprint))
                .await
                .unwrap();
        }
        let before = (
            vec![10, 30],
            vec![30, 10],
            frames(&[("A", "f2"), ("B", "g1")]),
        );
        assert_eq!(view(&store).await, before, "nothing folded yet");
        assert_eq!(count(&store, "recent_frames").await, 3);
        assert_eq!(count(&store, "signal_accounts").await, 0);
        rounds.fold().await;
        assert_eq!(view(&store).await, before, "all folded");
        assert_eq!(count(&store, "recent_frames").await, 0);
        assert_eq!(count(&store, "signal_accounts").await, 3);

        // Half folded: the newest comes from what is not folded.
        store.write_unsynced(round("A", 40, "f3")).await.unwrap();
        assert_eq!(
            view(&store).await,
            (
                vec![10, 30, 40],
                vec![40, 30],
                frames(&[("A", "f3"), ("B", "g1")])
            )
        );

        // Retention takes every expired signal but the newest, and their entries by account;
        // a later signal's id is above every folded one, so it is folded too.
        assert_eq!(store.expire_signals(1_000, 100).await.unwrap(), 3);
        assert_eq!(count(&store, "signal_accounts").await, 0);
        rounds.fold().await;
        store.write_unsynced(round("A", 50, "f4")).await.unwrap();
        rounds.fold().await;
        assert_eq!(view(&store).await.0, [40, 50]);
        assert_eq!(count(&store, "signal_accounts").await, 2);
        store.close().await;

        // What a crash left unfolded is folded when the file is opened again.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO recent_frames (account, fingerprint, received_at) VALUES ('C', 'h1', 60)",
            [],
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).await.unwrap();
        store.ping().await.unwrap();
        assert_eq!(count(&store, "recent_frames").await, 0);
        assert_eq!(
            view(&store).await.2,
            frames(&[("A", "f4"), ("B", "g1"), ("C", "h1")])
        );
        store.close().await;
    }
}
