//! The thread that copies the write-ahead log back into the database file while rounds go
//! on. SQLite's own checkpoint runs in the commit that takes the WAL past
//! `wal_autocheckpoint` pages, on the round writer: at 20,000 signals/s that was a 10–25 ms
//! stall about every half second, a round's signals waiting behind it. A PASSIVE checkpoint
//! on a connection of its own waits for no writer and blocks none, so this one copies most
//! frames (and fsyncs the database) off the writer's path every [`EVERY`], and the writer's
//! own checkpoint only has the last few frames left before it can start the WAL again. At
//! 20,000 signals/s paced the ACK p99 went from 24–33 ms to 12–23 ms (four runs each).

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How often a checkpoint is tried.
const EVERY: Duration = Duration::from_millis(100);

/// The handle the store keeps; the thread ends when the store closes, or when every handle
/// is dropped.
#[derive(Clone)]
pub(super) struct Checkpointer {
    stop: mpsc::Sender<oneshot::Sender<()>>,
}

impl Checkpointer {
    /// Opens a connection to the (already migrated, WAL-mode) database at `path` and starts
    /// the thread. Errors: the file cannot be opened, or no thread can be started.
    pub(super) fn start(path: &Path, busy: Duration) -> crate::Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(busy)?;
        // A checkpoint reads the WAL and writes the database file; it needs no page cache.
        conn.execute_batch("PRAGMA cache_size = -256;")?;
        let (stop, stopped) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || run(&conn, &stopped))
            .map_err(sqlx::Error::Io)?;
        Ok(Checkpointer { stop })
    }

    /// Stops the thread and closes its connection; returns once it has.
    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.stop.send(done).is_ok() {
            let _ = closed.await;
        }
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<oneshot::Sender<()>>) {
    loop {
        match stopped.recv_timeout(EVERY) {
            Ok(done) => {
                let _ = done.send(());
                return;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        // Busy when the writer's own checkpoint is running: the next try comes soon.
        let checkpointed = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(e) = checkpointed
            && e.sqlite_error_code() != Some(rusqlite::ErrorCode::DatabaseBusy)
        {
            tracing::warn!(error = %e, "a background checkpoint of the write-ahead log failed");
        }
    }
}
