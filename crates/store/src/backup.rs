//! Copies of a SQLite center: the online, consistent backup taken while the center runs, and
//! putting a backup in place of a center's database after checking it is one (README,
//! "Backup and restore").
//!
//! Both copy with `VACUUM INTO` rather than the backup API (`sqlite3_backup_step`): a stepped
//! backup restarts from the first page whenever another connection writes the source between
//! two steps, so under steady intake it may never finish, while a single-step one holds a read
//! snapshot exactly as `VACUUM INTO` does. In WAL mode that snapshot never blocks the writer,
//! so intake goes on during the copy. `VACUUM INTO` also writes no free pages (a key stored in
//! clear before sealing does not travel into backups from a freed page), needs no second
//! SQLite binding beside sqlx's, and leaves a compact file.

use crate::{Result, StoreError};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The tables a file must hold to be a watchpost center.
const CENTER_TABLES: [&str; 5] = [
    "_sqlx_migrations",
    "accounts",
    "signals",
    "alarms",
    "alarm_events",
];

/// What a copy holds, counted in the copy itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub accounts: i64,
    pub signals: i64,
    pub alarms: i64,
    pub open_alarms: i64,
    /// The copy's size, in bytes.
    pub bytes: u64,
}

/// Writes a consistent copy of the SQLite center `db` (a path) to `to`, while a center may be
/// running on it: the state of one moment, every transaction committed before it and none
/// after. The copy is written beside `to` as a hidden `.partial` file (0600), checked with
/// `PRAGMA integrity_check`, made a single self-contained file (rollback journal, no WAL),
/// fsynced and renamed to `to`: a crash leaves no half backup under `to`'s name.
///
/// Errors: `Backup` when `db` holds no center, `to` or one of its side files (`SIDE_FILES`)
/// exists, or the copy fails its check;
/// `Database` from SQLite.
pub async fn backup(db: &Path, to: &Path) -> Result<Summary> {
    if !db.is_file() {
        return Err(backup_error(db, "no such database file"));
    }
    if to.exists() {
        return Err(backup_error(
            to,
            "exists already: give a new name (a backup never replaces a file)",
        ));
    }
    if let Some(left) = SIDE_FILES
        .map(|s| side(to, s))
        .into_iter()
        .find(|f| f.exists())
    {
        return Err(backup_error(
            to,
            &format!(
                "{} exists beside it, and SQLite would play it into the backup the first time \
                 it is opened: remove it or give a new name",
                left.display()
            ),
        ));
    }
    let mut source = connect(db, true).await?;
    // The live database's tables only: its integrity is checked on the copy, not by a
    // scan of the whole file the center writes to.
    center_tables(&mut source, db).await?;
    let partial = beside(to, "partial")?;
    let copied = async {
        vacuum_into(&mut source, &partial).await?;
        source.close().await?;
        settle(&partial, to).await
    };
    let summary = copied.await;
    if summary.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    summary
}

/// Puts the backup `from` in place of the SQLite center `db`: checks that `from` is a
/// watchpost center (its tables) and whole (`PRAGMA integrity_check`), copies it beside `db`
/// as a hidden `.restoring` file (0600), brings the copy's schema up to this version
/// (migrations), removes `db`'s side files (`SIDE_FILES`: a stale WAL would be replayed into
/// the restored file) and renames the copy over `db`.
///
/// Whether `db` may be replaced (it exists, a center runs on it) is the caller's to decide
/// before: this replaces it.
///
/// Errors: `Backup` when `from` is missing, not a SQLite file, not a center or damaged;
/// `Migrate` when it was made by a newer watchpost; `Database` from SQLite.
pub async fn restore(from: &Path, db: &Path) -> Result<Summary> {
    if !from.is_file() {
        return Err(backup_error(from, "no such backup file"));
    }
    let mut source = connect(from, true)
        .await
        .map_err(|e| backup_error(from, &format!("not a SQLite database ({e})")))?;
    check_center(&mut source, from).await?;
    let restoring = beside(db, "restoring")?;
    let migrated = async {
        vacuum_into(&mut source, &restoring).await?;
        source.close().await?;
        let mut copy = connect(&restoring, false).await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut copy).await?;
        copy.close().await?;
        Ok::<_, StoreError>(())
    };
    if let Err(e) = migrated.await {
        let _ = std::fs::remove_file(&restoring);
        return Err(e);
    }
    if let Err(e) = remove_side_files(db) {
        let _ = std::fs::remove_file(&restoring);
        return Err(e);
    }
    settle(&restoring, db).await
}

/// The nodes of the SQLite center `db` seen since `since` (ms; as `Coordination::live_nodes`
/// says), read on one connection that is closed before this returns: a database about to be
/// replaced must not be left open, nor migrated, by the check.
pub async fn nodes_seen(db: &Path, since: watchpost_core::Millis) -> Result<Vec<String>> {
    let mut conn = connect(db, true).await?;
    let nodes = sqlx::query_scalar("SELECT name FROM nodes WHERE seen_at >= ? ORDER BY name")
        .bind(since)
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    Ok(nodes)
}

/// The files SQLite keeps beside a database `NAME` (`NAME-wal`…). Whichever it finds when it
/// opens `NAME` it plays into it, whatever database wrote it: a WAL is replayed (even into a
/// file in rollback mode), a hot journal rolled back. So none may be left beside a file put
/// in place.
const SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

fn side(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes `path`'s side files (`SIDE_FILES`); `Backup` naming the one that cannot be.
fn remove_side_files(path: &Path) -> Result<()> {
    for suffix in SIDE_FILES {
        match std::fs::remove_file(side(path, suffix)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(backup_error(
                    path,
                    &format!("cannot remove its {suffix} file: {e}"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The hidden file `.NAME.SUFFIX` beside `path`, made empty and 0600 (whatever the umask):
/// `VACUUM INTO` writes only into a missing or empty file, and a leftover of a crashed run,
/// with its side files, is ours to replace.
fn beside(path: &Path, suffix: &str) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| backup_error(path, "is not a file name"))?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let hidden = folder.join(format!(".{}.{suffix}", name.to_string_lossy()));
    let _ = std::fs::remove_file(&hidden);
    remove_side_files(&hidden)?;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&hidden)
        .map_err(|e| backup_error(&hidden, &e.to_string()))?;
    Ok(hidden)
}

async fn connect(path: &Path, read_only: bool) -> Result<SqliteConnection> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .busy_timeout(Duration::from_secs(10));
    Ok(SqliteConnection::connect_with(&options).await?)
}

async fn vacuum_into(source: &mut SqliteConnection, to: &Path) -> Result<()> {
    sqlx::query("VACUUM INTO ?")
        .bind(to.to_string_lossy().into_owned())
        .execute(source)
        .await?;
    Ok(())
}

/// Checks the copy `partial`, makes it one self-contained file, counts what it holds, fsyncs
/// it and renames it to `to` (fsyncing the folder, so the rename is durable too).
async fn settle(partial: &Path, to: &Path) -> Result<Summary> {
    let mut copy = connect(partial, false).await?;
    integrity(&mut copy, partial).await?;
    sqlx::query("PRAGMA journal_mode = DELETE")
        .execute(&mut copy)
        .await?;
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let accounts = count("SELECT COUNT(*) FROM accounts")
        .fetch_one(&mut copy)
        .await?;
    let signals = count("SELECT COUNT(*) FROM signals")
        .fetch_one(&mut copy)
        .await?;
    let alarms = count("SELECT COUNT(*) FROM alarms")
        .fetch_one(&mut copy)
        .await?;
    let open_alarms = count("SELECT COUNT(*) FROM alarms WHERE closed_at IS NULL")
        .fetch_one(&mut copy)
        .await?;
    copy.close().await?;
    let io = |e: std::io::Error| backup_error(to, &e.to_string());
    let file = std::fs::File::open(partial).map_err(io)?;
    file.sync_all().map_err(io)?;
    let bytes = file.metadata().map_err(io)?.len();
    std::fs::rename(partial, to).map_err(io)?;
    let folder = to.parent().filter(|f| !f.as_os_str().is_empty());
    std::fs::File::open(folder.unwrap_or(Path::new(".")))
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    Ok(Summary {
        accounts,
        signals,
        alarms,
        open_alarms,
        bytes,
    })
}

/// `Backup` unless `PRAGMA integrity_check` finds nothing wrong.
async fn integrity(conn: &mut SqliteConnection, path: &Path) -> Result<()> {
    let found: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(conn)
        .await?;
    if found != ["ok"] {
        let shown: Vec<&str> = found.iter().take(3).map(String::as_str).collect();
        return Err(backup_error(
            path,
            &format!("fails SQLite's integrity check: {}", shown.join("; ")),
        ));
    }
    Ok(())
}

/// `Backup` unless the file is a whole watchpost center.
async fn check_center(conn: &mut SqliteConnection, path: &Path) -> Result<()> {
    center_tables(conn, path).await?;
    integrity(conn, path).await
}

/// `Backup` unless the file is a SQLite database with a watchpost center's tables.
async fn center_tables(conn: &mut SqliteConnection, path: &Path) -> Result<()> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| backup_error(path, &format!("not a SQLite database ({e})")))?;
    let missing: Vec<&str> = CENTER_TABLES
        .into_iter()
        .filter(|t| !tables.iter().any(|have| have == t))
        .collect();
    if !missing.is_empty() {
        return Err(backup_error(
            path,
            &format!(
                "is not a watchpost database (no table {})",
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

fn backup_error(path: &Path, cause: &str) -> StoreError {
    StoreError::Backup {
        file: path.display().to_string(),
        cause: cause.to_string(),
    }
}
