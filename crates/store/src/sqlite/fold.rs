//! Folding what intake appended into what is looked up by account (migration 0022): a
//! signal's entry in `signal_accounts`, an account's latest frame in `last_transmissions`.
//! The round writer starts a fold about once a second, so that a fold writes each account's
//! page once for all the signals it received in between, and writes it a chunk at a time
//! between rounds ([`Folder`]): a round never waits for more than one chunk. The in-memory
//! store folds in every commit. Readers join what is not folded yet (`signals_of`,
//! `RECENT_SIGNALS`, `last_frames`), so nothing is ever missing from an account's view; a
//! signal both folded and above the mark (a fold under way) is found twice and read once.

use crate::Batch;
use rusqlite::{Connection, TransactionBehavior, params};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use watchpost_core::Millis;

/// Signals above the mark, into `signal_accounts`, in its key order; those a fold cut short
/// had written already are kept.
const FOLD_SIGNALS: &str = "INSERT OR IGNORE INTO signal_accounts (account, received_at, id) \
     SELECT account, received_at, id FROM signals \
     WHERE id > (SELECT signals_through FROM intake_fold) ORDER BY account, received_at, id";

/// The mark moves to the newest signal (never back: ids only grow).
const MARK_ALL: &str = "UPDATE intake_fold SET signals_through = \
     MAX(signals_through, COALESCE((SELECT MAX(id) FROM signals), 0))";

/// Each account's latest frame of those up to id `?1`, over its row of `last_transmissions`.
/// (`AND true`: SQLite's documented way to keep an upsert's `ON CONFLICT` from being read as
/// part of the SELECT.)
const FOLD_FRAMES: &str = "INSERT INTO last_transmissions (account, fingerprint, received_at) \
     SELECT account, fingerprint, received_at FROM recent_frames \
     WHERE id IN (SELECT MAX(id) FROM recent_frames WHERE id <= ?1 GROUP BY account) AND true \
     ORDER BY account \
     ON CONFLICT (account) DO UPDATE SET fingerprint = excluded.fingerprint, \
     received_at = excluded.received_at";

const CLEAR_FRAMES: &str = "DELETE FROM recent_frames WHERE id <= ?1";

/// Every signal not folded yet, folded, and the mark moved past them: the in-memory store
/// runs these in each commit (it upserts `last_transmissions` itself, so has no frames to
/// fold), the round writer at its start and close.
pub(super) const FOLD_ALL_SIGNALS: [&str; 2] = [FOLD_SIGNALS, MARK_ALL];

/// Entries written in one transaction between two rounds: about half a millisecond of work.
const CHUNK: usize = 500;

/// How long the writer waits for a round before it writes a chunk of a fold under way. The
/// center sends its next round a few hundred µs after the last one is answered: a chunk
/// written at once would delay nearly every round of a fold by a chunk, and at 20,000
/// signals/s paced that made a 40–60 ms stall every second; waiting 1 ms for it took the ACK
/// p99 from 55–67 ms to 22–27 ms (0.3 ms: 35–39, 2–4 ms: no better than 1).
const IDLE: Duration = Duration::from_millis(1);

/// The round writer's fold: what it committed since the last fold began, and the fold under
/// way. Only the round writer inserts signals into a store's file while it is open (SQLite is
/// one node's), so the signals it saw committed are every signal above the mark.
pub(super) struct Folder {
    /// Signals committed since the last fold began: account, received_at, id.
    appended: Vec<(String, Millis, i64)>,
    /// Each account's latest frame committed since the last fold began: fingerprint and
    /// received_at.
    framed: HashMap<String, (String, Millis)>,
    began: Instant,
    every: Duration,
    under_way: Option<Fold>,
}

/// A fold under way, in the order it is written: signal entries in key order (the last
/// chunk moves the mark to `through`), then accounts' latest frames by account, then the
/// appended frames up to id `frames_through` deleted, oldest first. At every step a reader
/// finds each account's latest frame: in `last_transmissions` once folded, and as the last
/// row of the account in `recent_frames` until then (deletion runs oldest first).
struct Fold {
    entries: Vec<(String, Millis, i64)>,
    written: usize,
    through: i64,
    frames: Vec<(String, (String, Millis))>,
    frames_written: usize,
    /// 0 once the appended frames are deleted (or there were none).
    frames_through: i64,
}

impl Folder {
    /// A folder that begins a fold `every` after the last one began.
    pub(super) fn new(every: Duration) -> Folder {
        Folder {
            appended: Vec::new(),
            framed: HashMap::new(),
            began: Instant::now(),
            every,
            under_way: None,
        }
    }

    /// Takes note of a committed round: its signals with the ids SQLite gave them, in order.
    pub(super) fn committed(&mut self, batch: &Batch, ids: &[i64]) {
        self.appended.extend(
            batch
                .signals
                .iter()
                .zip(ids)
                .map(|(s, id)| (s.account.clone(), s.received_at, *id)),
        );
        for t in &batch.transmissions {
            self.framed
                .insert(t.account.clone(), (t.fingerprint.clone(), t.received_at));
        }
    }

    /// How long the writer may wait for a job before it has a chunk to write: `None` when it
    /// has nothing to fold.
    pub(super) fn wait(&self) -> Option<Duration> {
        if self.under_way.is_some() {
            Some(IDLE)
        } else if self.appended.is_empty() && self.framed.is_empty() {
            None
        } else {
            Some(self.every.saturating_sub(self.began.elapsed()))
        }
    }

    /// Whether a fold has been under way for longer than the period between folds: the
    /// writer found no idle moment for it, and it must go on between rounds.
    pub(super) fn behind(&self) -> bool {
        self.under_way.is_some() && self.began.elapsed() >= self.every
    }

    /// Writes the next chunk, beginning a fold if one is due, in a transaction of its own;
    /// the last chunk of a fold also moves the mark and folds the frames. A failed chunk
    /// (the write lock not had within the busy timeout) is tried again at the next step.
    pub(super) fn step(&mut self, conn: &mut Connection) {
        if self.under_way.is_none() {
            let nothing = self.appended.is_empty() && self.framed.is_empty();
            if nothing || self.began.elapsed() < self.every {
                return;
            }
            match self.begin(conn) {
                Ok(fold) => self.under_way = Some(fold),
                Err(e) => return warn(&e),
            }
        }
        let Some(fold) = &mut self.under_way else {
            return;
        };
        match chunk(conn, fold) {
            Ok(true) => self.under_way = None,
            Ok(false) => {}
            Err(e) => warn(&e),
        }
    }

    /// Takes what was committed since the last fold began, sorted by key.
    fn begin(&mut self, conn: &Connection) -> rusqlite::Result<Fold> {
        let frames_through: Option<i64> = if self.framed.is_empty() {
            None
        } else {
            conn.prepare_cached("SELECT MAX(id) FROM recent_frames")?
                .query_row([], |r| r.get(0))?
        };
        let mut entries = std::mem::take(&mut self.appended);
        entries.sort_unstable();
        let mut frames: Vec<_> = std::mem::take(&mut self.framed).into_iter().collect();
        frames.sort_unstable();
        self.began = Instant::now();
        Ok(Fold {
            through: entries.iter().map(|e| e.2).max().unwrap_or(0),
            entries,
            written: 0,
            frames,
            frames_written: 0,
            frames_through: frames_through.unwrap_or(0),
        })
    }

    /// Folds everything not folded yet, whatever was seen committed, in one transaction:
    /// at the start (a crash's leftovers), at the close and when a test asks.
    pub(super) fn fold_all(&mut self, conn: &mut Connection) {
        let folded = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .and_then(|tx| {
                for statement in FOLD_ALL_SIGNALS {
                    tx.prepare_cached(statement)?.execute([])?;
                }
                for statement in [FOLD_FRAMES, CLEAR_FRAMES] {
                    tx.prepare_cached(statement)?.execute(params![i64::MAX])?;
                }
                tx.commit()
            });
        match folded {
            Ok(()) => {
                self.appended.clear();
                self.framed.clear();
                self.under_way = None;
                self.began = Instant::now();
            }
            Err(e) => warn(&e),
        }
    }
}

/// Writes the fold's next chunk; returns whether it was the last.
fn chunk(conn: &mut Connection, fold: &mut Fold) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut written = (fold.written, fold.frames_written, fold.frames_through);
    if fold.written < fold.entries.len() || fold.frames.is_empty() && fold.frames_through == 0 {
        let end = (fold.written + CHUNK).min(fold.entries.len());
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO signal_accounts (account, received_at, id) VALUES (?1, ?2, ?3)",
        )?;
        for (account, received_at, id) in &fold.entries[fold.written..end] {
            insert.execute(params![account, received_at, id])?;
        }
        if end == fold.entries.len() {
            tx.prepare_cached("UPDATE intake_fold SET signals_through = MAX(signals_through, ?1)")?
                .execute(params![fold.through])?;
        }
        written.0 = end;
    } else if fold.frames_written < fold.frames.len() {
        let end = (fold.frames_written + CHUNK).min(fold.frames.len());
        let mut upsert = tx.prepare_cached(
            "INSERT INTO last_transmissions (account, fingerprint, received_at) \
             VALUES (?1, ?2, ?3) ON CONFLICT (account) DO UPDATE SET \
             fingerprint = excluded.fingerprint, received_at = excluded.received_at",
        )?;
        for (account, (fingerprint, received_at)) in &fold.frames[fold.frames_written..end] {
            upsert.execute(params![account, fingerprint, received_at])?;
        }
        written.1 = end;
    } else {
        let deleted = tx
            .prepare_cached(
                "DELETE FROM recent_frames WHERE id IN \
                 (SELECT id FROM recent_frames WHERE id <= ?1 ORDER BY id LIMIT ?2)",
            )?
            .execute(params![fold.frames_through, CHUNK as i64])?;
        if deleted < CHUNK {
            written.2 = 0;
        }
    }
    tx.commit()?;
    (fold.written, fold.frames_written, fold.frames_through) = written;
    Ok(fold.written == fold.entries.len()
        && fold.frames_written == fold.frames.len()
        && fold.frames_through == 0)
}

fn warn(e: &rusqlite::Error) {
    tracing::warn!(error = %e, "could not fold the signals and frames received; trying again");
}

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
