//! The thread that writes the center's rounds to a SQLite file. It owns one connection of its
//! own (rusqlite, on the same SQLite library as sqlx) with `synchronous=NORMAL`, and takes a
//! whole round in one hand-off: a channel message, answered by a oneshot once the round's one
//! transaction is committed. Through sqlx every statement of a round was a hand-off to sqlx's
//! connection thread and back (acquire, PRAGMA, BEGIN, the fence, each insert, COMMIT,
//! PRAGMA), and on the 2-core machine those thread switches, not SQLite, filled the core.
//! Here the statements are prepared once (rusqlite's statement cache) and run one row each
//! with no hand-off between them.
//!
//! What a round commits is durable only once `Wal::sync` (`Store::sync`) has returned after
//! the commit (`wal.rs`). That holds because this connection lives as long as the store: it
//! is opened with it and closed only by `Store::close`, after which the store answers nothing
//! (the last connection to close checkpoints the WAL, fsynced, into the database). It only
//! ever writes rounds, so no other write commits on it without waiting for the disk; sqlx's
//! writer connection keeps `synchronous=FULL` for every other write.
//!
//! Two connections now write the one file: each takes SQLite's write lock with
//! `BEGIN IMMEDIATE` and waits for the other under `busy_timeout`, so neither can find its
//! read snapshot stale when it comes to write (which fails at once, unwaited).

use super::fold::Folder;
use super::held::Held;
use crate::text::{json, to_text};
use crate::{Batch, Inbound, Result, StoreError, UnknownSignal, joined_kind};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;

/// Prepared statements kept by the connection: one per distinct statement a round or a fold
/// runs.
const STATEMENT_CACHE: usize = 40;

/// How often a fold of what rounds appended begins (`fold.rs`): each account's page is
/// written once a fold, and readers scan about this much of unfolded signals, twice while a
/// fold is under way. This crate's own tests fold only when they ask, so that they can read
/// what is not folded yet.
const FOLD_EVERY: Duration = if cfg!(test) {
    Duration::from_secs(3600)
} else {
    Duration::from_secs(1)
};

/// What the thread is asked to do.
enum Job {
    /// Write a round in one transaction; answered with its signals' ids, in order.
    Round(Arc<Batch>, oneshot::Sender<Result<Vec<i64>>>),
    /// Take the write lock and let it go (`Store::ping`).
    Ping(oneshot::Sender<Result<()>>),
    /// Close the connection and end the thread (`Store::close`).
    Close(oneshot::Sender<()>),
    /// Fold now, whenever the last fold was.
    #[cfg(test)]
    Fold(oneshot::Sender<()>),
}

/// The handle the store keeps; cloned with it, one thread behind all clones.
#[derive(Clone)]
pub(super) struct RoundWriter {
    jobs: mpsc::Sender<Job>,
}

/// The error for a job sent after `close` (or to a thread that panicked): what sqlx's pools
/// answer once closed.
fn gone() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

impl RoundWriter {
    /// Opens the writer's connection to the (already migrated) database at `path`, with the
    /// settings sqlx's connections have (`foreign_keys`, `temp_store`, `wal_autocheckpoint`,
    /// `busy_timeout`), `synchronous=NORMAL` and a page cache of `cache_kib` (negative: KiB),
    /// and starts its thread. Errors: the file cannot be opened or a setting is refused.
    pub(super) fn open(
        path: &Path,
        busy: Duration,
        cache_kib: &str,
        held: Arc<Held>,
    ) -> Result<RoundWriter> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(busy)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 10000; \
             PRAGMA cache_size = {cache_kib};"
        ))?;
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-rounds".into())
            .spawn(move || serve(conn, queue, &held))
            .map_err(sqlx::Error::Io)?;
        Ok(RoundWriter { jobs })
    }

    /// Writes `batch` in one transaction that does not wait for the disk; returns its
    /// signals' ids in order. Errors: `Fenced` when a lease of the batch is no longer
    /// current, any SQLite error; either way nothing of the batch is written.
    pub(super) async fn write(&self, batch: Arc<Batch>) -> Result<Vec<i64>> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Job::Round(batch, done))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Takes SQLite's write lock on the writer's connection and lets it go.
    pub(super) async fn ping(&self) -> Result<()> {
        let (done, answer) = oneshot::channel();
        self.jobs.send(Job::Ping(done)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Folds once the rounds sent before are written.
    #[cfg(test)]
    pub(super) async fn fold(&self) {
        let (done, answer) = oneshot::channel();
        if self.jobs.send(Job::Fold(done)).is_ok() {
            let _ = answer.await;
        }
    }

    /// Closes the connection once the rounds sent before are written.
    pub(super) async fn close(&self) {
        let (done, answer) = oneshot::channel();
        if self.jobs.send(Job::Close(done)).is_ok() {
            let _ = answer.await;
        }
    }
}

/// The thread: one job at a time, in the order sent. A caller that stopped waiting is not an
/// error here: its round is written (or not) all the same, and it was never acknowledged.
/// When no job waits it folds what rounds appended, a chunk at a time (`fold.rs`); at the
/// start it folds whatever a crash left.
fn serve(mut conn: Connection, queue: mpsc::Receiver<Job>, held: &Held) {
    let mut folder = Folder::new(FOLD_EVERY);
    folder.fold_all(&mut conn);
    loop {
        let job = match folder.wait() {
            None => queue.recv().ok(),
            Some(wait) => match queue.recv_timeout(wait) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    folder.step(&mut conn);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            },
        };
        let Some(job) = job else { return };
        match job {
            Job::Round(batch, done) => {
                let written = write_round(&mut conn, &batch, held);
                if let Ok(ids) = &written {
                    folder.committed(&batch, ids);
                }
                let _ = done.send(written);
                // Chunks go where no round waits; only a fold that found no such moment for
                // a whole period goes on between rounds (a saturated writer).
                if folder.behind() {
                    folder.step(&mut conn);
                }
            }
            Job::Ping(done) => {
                let pinged = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .and_then(|tx| tx.rollback())
                    .map_err(StoreError::from);
                let _ = done.send(pinged);
            }
            #[cfg(test)]
            Job::Fold(done) => {
                folder.fold_all(&mut conn);
                let _ = done.send(());
            }
            Job::Close(done) => {
                folder.fold_all(&mut conn);
                drop(conn);
                let _ = done.send(());
                return;
            }
        }
    }
}

/// Writes `batch` in one transaction on `conn`: the same rows `super::write_batch` writes
/// through sqlx (the in-memory store's path), one prepared statement per row. Its webhook
/// deliveries are `held` from before the commit until a sync covers it.
fn write_round(conn: &mut Connection, batch: &Batch, held: &Held) -> Result<Vec<i64>> {
    let mut deliveries = None;
    let written = write_in(conn, batch, held, &mut deliveries);
    if let Some(seqs) = deliveries {
        held.settle(seqs, written.is_ok());
    }
    written
}

/// `write_round`'s transaction; `deliveries` is set to the pending rows held, if any.
fn write_in(
    conn: &mut Connection,
    batch: &Batch,
    held: &Held,
    deliveries: &mut Option<(i64, i64)>,
) -> Result<Vec<i64>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    fence(&tx, batch)?;
    let mut ids = Vec::with_capacity(batch.signals.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO signals (account, received_at, source, event, raw) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for s in &batch.signals {
            insert.execute(params![
                s.account,
                s.received_at,
                s.source,
                json(&s.event),
                s.raw
            ])?;
            ids.push(tx.last_insert_rowid());
        }
    }
    unknown(&tx, &batch.unknown)?;
    if let Some(seqs) = outbox(&tx, batch)? {
        held.hold(seqs);
        *deliveries = Some(seqs);
    }
    if !batch.opened.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO alarms (id, account, kind, mode, priority, opened_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (id, spec) in &batch.opened {
            insert.execute(params![
                id,
                spec.account,
                spec.kind.as_str(),
                spec.mode.as_str(),
                spec.kind.priority() as i64,
                spec.opened_at
            ])?;
        }
    }
    if !batch.entries.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO alarm_events (alarm_id, seq, at, actor, body, fence) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (alarm, entry) in &batch.entries {
            insert.execute(params![
                alarm,
                entry.seq as i64,
                entry.at,
                entry.actor,
                json(&entry.body),
                batch.fences.get(alarm).copied().unwrap_or(0)
            ])?;
        }
    }
    if !batch.transmissions.is_empty() {
        // Appended; the fold keeps each account's latest (`fold.rs`).
        let mut append = tx.prepare_cached(
            "INSERT INTO recent_frames (account, fingerprint, received_at) VALUES (?1, ?2, ?3)",
        )?;
        for t in &batch.transmissions {
            append.execute(params![t.account, t.fingerprint, t.received_at])?;
        }
    }
    if !batch.forwarded.is_empty() {
        let mut insert =
            tx.prepare_cached("INSERT INTO inbox (part, posted_at, body) VALUES (?1, ?2, ?3)")?;
        for (partition, signal) in &batch.forwarded {
            let body = json(&Inbound::Signal {
                signal: signal.clone(),
            });
            insert.execute(params![i64::from(*partition), signal.received_at, body])?;
        }
    }
    // Routed signals leave the inbox; answered commands keep their outcome for the node
    // that posted them.
    for (id, outcome) in &batch.settled {
        match outcome {
            None => tx
                .prepare_cached("DELETE FROM inbox WHERE id = ?1")?
                .execute(params![id])?,
            Some(outcome) => tx
                .prepare_cached("UPDATE inbox SET outcome = ?1 WHERE id = ?2")?
                .execute(params![outcome, id])?,
        };
    }
    if !batch.closed.is_empty() {
        let mut update =
            tx.prepare_cached("UPDATE alarms SET closed_at = ?1, disposition = ?2 WHERE id = ?3")?;
        for (alarm, at, disposition) in &batch.closed {
            update.execute(params![at, disposition.as_str(), alarm])?;
        }
    }
    tx.commit()?;
    Ok(ids)
}

/// Refuses the transaction unless every lease of the batch is still current (the check of
/// `super::fence`): the UPDATE also locks them until the transaction ends. The first lease
/// found taken, in partition order, is the one named.
fn fence(tx: &rusqlite::Transaction<'_>, batch: &Batch) -> Result<()> {
    if batch.leases.is_empty() {
        return Ok(());
    }
    let mut distinct = batch.leases.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let mut check =
        tx.prepare_cached("UPDATE leases SET token = token WHERE part = ?1 AND token = ?2")?;
    for lease in distinct {
        if check.execute(params![i64::from(lease.partition), lease.token])? != 1 {
            return Err(StoreError::Fenced(lease.partition));
        }
    }
    Ok(())
}

/// Joins each signal to its number's open unknown-account item, or opens one (the rule of
/// `super::unknown::write`).
fn unknown(tx: &rusqlite::Transaction<'_>, unknown: &[UnknownSignal]) -> Result<()> {
    for u in unknown {
        let s = &u.signal;
        let open: Option<(i64, String)> = tx
            .prepare_cached(
                "SELECT id, kind FROM unknown_accounts WHERE account = ?1 \
                 AND resolved_at IS NULL ORDER BY id LIMIT 1",
            )?
            .query_row(params![s.account], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match open {
            Some((id, kind)) => {
                let kind = joined_kind(
                    crate::text::from_text("unknown_accounts.kind", &kind)?,
                    u.kind,
                );
                tx.prepare_cached(
                    "UPDATE unknown_accounts SET count = count + 1, last_at = ?1, kind = ?2, \
                     source = ?3, line = ?4, raw = ?5, event = ?6 WHERE id = ?7",
                )?
                .execute(params![
                    s.received_at,
                    to_text(&kind),
                    s.source,
                    u.line,
                    s.raw,
                    json(&s.event),
                    id
                ])?;
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO unknown_accounts \
                     (account, received_at, last_at, kind, source, line, raw, event, count) \
                     VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
                )?
                .execute(params![
                    s.account,
                    s.received_at,
                    to_text(&u.kind),
                    s.source,
                    u.line,
                    s.raw,
                    json(&s.event)
                ])?;
            }
        }
    }
    Ok(())
}

/// Keeps each webhook event some endpoint wants, with a pending delivery per such endpoint
/// (the rule of `super::webhooks::write_outbox`); nothing when no endpoint exists. Returns
/// the first and last `webhook_pending.seq` written: consecutive, as each is the table's
/// largest plus one while this transaction holds the write lock.
fn outbox(tx: &rusqlite::Transaction<'_>, batch: &Batch) -> Result<Option<(i64, i64)>> {
    if batch.outbox.is_empty() {
        return Ok(None);
    }
    let any: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_endpoints)")?
        .query_row([], |r| r.get(0))?;
    if !any {
        return Ok(None);
    }
    let mut seqs: Option<(i64, i64)> = None;
    let mut pending = tx.prepare_cached(
        "INSERT INTO webhook_pending (endpoint, event) SELECT e.id, ?1 FROM webhook_endpoints e \
         WHERE (e.dealer IS NULL OR e.dealer = ?2) AND e.events LIKE ?3 ORDER BY e.id",
    )?;
    let mut events = tx.prepare_cached(
        "INSERT INTO webhook_events (id, type, account, dealer, alarm, created_at, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for event in &batch.outbox {
        let wanted = pending.execute(params![
            event.id,
            event.dealer,
            format!("%,{},%", event.kind)
        ])?;
        if wanted > 0 {
            let last = tx.last_insert_rowid();
            let first = seqs.map_or(last - wanted as i64 + 1, |(first, _)| first);
            seqs = Some((first, last));
            events.execute(params![
                event.id,
                event.kind,
                event.account,
                event.dealer,
                event.alarm,
                event.created_at,
                event.body
            ])?;
        }
    }
    Ok(seqs)
}
