//! The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a committed
//! transaction survives a power cut. The center's rounds are written by a thread of their own
//! (`round_writer`), commit without waiting for the disk and are made durable by one shared
//! fsync (`Store::write_unsynced`, `Store::sync`).

use crate::recording::{COLUMNS, RecordingTuple};
use crate::text::{from_json, from_text, json, to_text};
use crate::{
    AlarmId, AlarmRow, AlarmState, ApiKeyRecord, Batch, Inbound, Lease, LogEntry, Recording,
    Result, Role, SessionRecord, SignalRecord, Store, StoreError, Transmission, User,
};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use watchpost_core::account::{Contact, Zone};
use watchpost_core::alarm::CallId;
use watchpost_core::password::VerbalPassword;
use watchpost_core::{Account, Millis};

mod bulk;
mod center_secrets;
mod changes;
mod checkpointer;
mod coordination;
mod dealers;
mod fold;
mod held;
mod plans;
mod report;
mod retention;
mod round_writer;
mod search;
mod unknown;
mod verification;
mod wal;
mod webhooks;

/// An account's details as stored: NULL when it has none.
fn details_json(a: &Account) -> Option<String> {
    (!a.details.is_empty()).then(|| json(&a.details))
}

/// Rows per multi-row statement.
const CHUNK: usize = 200;
/// Rows per multi-row INSERT of accounts, contacts or zones: 15 columns × 500 = 7,500
/// parameters, well under SQLite's 32,766.
const ACCOUNT_ROWS: usize = 500;

/// The writers' page caches (negative: KiB, SQLite's convention).
const WRITER_CACHE_KIB: &str = "-16384";
/// How long a write waits for SQLite's write lock held by another connection.
const BUSY: Duration = Duration::from_secs(10);
/// Each reader's page cache (KiB, negative).
const READER_CACHE_KIB: &str = "-2048";

#[derive(Clone)]
pub struct SqliteStore {
    /// Reads; many at once (WAL lets them run beside the writer).
    pool: SqlitePool,
    /// Writes other than rounds, one connection: writers queue here instead of sleeping on
    /// SQLite's lock.
    writer: SqlitePool,
    /// The file `sync` makes durable, and the thread that writes rounds to it; none for an
    /// in-memory database (its rounds go through `writer`).
    file: Option<File>,
}

/// What only a store on a file has.
#[derive(Clone)]
struct File {
    wal: std::sync::Arc<wal::Wal>,
    rounds: round_writer::RoundWriter,
    checkpointer: checkpointer::Checkpointer,
    /// Webhook deliveries of rounds not yet synced: not handed to the endpoints.
    held: std::sync::Arc<held::Held>,
}

fn alarm_row(r: &sqlx::sqlite::SqliteRow) -> AlarmRow {
    AlarmRow {
        id: r.get("id"),
        account: r.get("account"),
        kind: r.get("kind"),
        mode: r.get("mode"),
        priority: r.get::<i64, _>("priority") as u8,
        opened_at: r.get("opened_at"),
        closed_at: r.get("closed_at"),
        disposition: r.get("disposition"),
    }
}

fn contact(r: &sqlx::sqlite::SqliteRow) -> Contact {
    Contact {
        name: r.get("name"),
        phone: r.get("phone"),
        phone2: r.get("phone2"),
    }
}

fn zone(r: &sqlx::sqlite::SqliteRow) -> Result<Zone> {
    Ok(Zone {
        zone: r.get::<i64, _>("zone") as u32,
        device: from_text("zones.device", r.get("device"))?,
    })
}

/// An account from its row in `accounts` and its contacts and zones, in order.
fn account_row(
    row: &sqlx::sqlite::SqliteRow,
    contacts: Vec<Contact>,
    zones: Vec<Zone>,
) -> Result<Account> {
    let hash: String = row.get("password_hash");
    Ok(Account {
        number: row.get("number"),
        premises: from_text("accounts.premises", row.get("premises"))?,
        address: row.get("address"),
        country: row.get("country"),
        region: row.get("region"),
        monitoring: from_text("accounts.monitoring", row.get("monitoring"))?,
        enrolled_at: row.get("enrolled_at"),
        verbal_password: VerbalPassword::from_phc(hash).map_err(StoreError::Corrupt)?,
        responder: from_text("accounts.responder", row.get("responder"))?,
        test_until: row.get("test_until"),
        contacts,
        zones,
        dc09_key: row.get("dc09_key"),
        supervision_ms: row.get("supervision_ms"),
        details: match row.get::<Option<String>, _>("details") {
            Some(text) => from_json("accounts.details", &text)?,
            None => Default::default(),
        },
        dealer: row.get("dealer"),
        premises_phone: row.get("premises_phone"),
    })
}

fn signal_record(r: &sqlx::sqlite::SqliteRow) -> Result<SignalRecord> {
    Ok(SignalRecord {
        account: r.get("account"),
        received_at: r.get("received_at"),
        source: r.get("source"),
        event: from_json("signals.event", r.get("event"))?,
        raw: r.get("raw"),
    })
}

fn user_row(r: &sqlx::sqlite::SqliteRow) -> Result<User> {
    let role: String = r.get("role");
    Ok(User {
        name: r.get("name"),
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("users.role = {role:?}")))?,
        password_hash: r.get("password_hash"),
        failed_logins: r.get::<i64, _>("failed_logins") as u32,
        locked_until: r.get("locked_until"),
        waits_lifted_at: r.get("waits_lifted_at"),
        disabled: r.get("disabled"),
        created_at: r.get("created_at"),
        phone: r.get("phone"),
        dealer: r.get("dealer"),
    })
}

/// Refuses the transaction unless every lease is still current: the UPDATE also locks them,
/// so no other node can take one until this transaction ends.
async fn fence(tx: &mut sqlx::SqliteConnection, leases: &[Lease]) -> Result<()> {
    let mut distinct = leases.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    for chunk in distinct.chunks(100) {
        let mut check = sqlx::QueryBuilder::new("UPDATE leases SET token = token WHERE ");
        let mut or = check.separated(" OR ");
        for lease in chunk {
            or.push("(part = ")
                .push_bind_unseparated(i64::from(lease.partition))
                .push_unseparated(" AND token = ")
                .push_bind_unseparated(lease.token)
                .push_unseparated(")");
        }
        let held = check.build().execute(&mut *tx).await?.rows_affected();
        if held != chunk.len() as u64 {
            let current: Vec<(i64, i64)> = sqlx::query_as("SELECT part, token FROM leases")
                .fetch_all(&mut *tx)
                .await?;
            let lost = chunk
                .iter()
                .find(|l| !current.contains(&(i64::from(l.partition), l.token)))
                .map_or(chunk[0].partition, |l| l.partition);
            return Err(StoreError::Fenced(lost));
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY)
            // Statement journals never need to outlive a statement.
            .pragma("temp_store", "memory")
            // Checkpoint less often: each one copies pages back and fsyncs the database.
            .pragma("wal_autocheckpoint", "10000");
        // Page caches are per connection and kept while it lives. The writer's holds the
        // pages every commit touches (the tails of the signal and log tables, their
        // indexes); the readers mostly look rows up by key, and the operating system's
        // cache holds the file anyway: a few MiB each keeps a large center's memory flat.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE_KIB))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(
                options
                    .read_only(true)
                    .pragma("cache_size", READER_CACHE_KIB),
            )
            .await?;
        let wal = wal::Wal::beside(path).map_err(sqlx::Error::Io)?;
        let held = std::sync::Arc::new(held::Held::default());
        let rounds = round_writer::RoundWriter::open(path, BUSY, WRITER_CACHE_KIB, held.clone())?;
        let checkpointer = checkpointer::Checkpointer::start(path, BUSY)?;
        Ok(SqliteStore {
            pool,
            writer,
            file: Some(File {
                wal: std::sync::Arc::new(wal),
                rounds,
                checkpointer,
                held,
            }),
        })
    }

    /// A private in-memory database, for scenario runs and tests.
    pub async fn memory() -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // Every connection to :memory: is its own database: keep exactly one, forever.
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore {
            writer: pool.clone(),
            pool,
            file: None,
        })
    }

    /// Inserts or replaces accounts, their contacts and zones, in `tx`, a few hundred rows
    /// per statement: an import of 100,000 accounts is a few thousand statements, not half a
    /// million. An account named twice is written as its last occurrence, as if each
    /// replaced the one before.
    async fn insert_accounts(tx: &mut sqlx::SqliteConnection, accounts: &[Account]) -> Result<()> {
        // One row per number (one INSERT may not hold a key twice), in key order: the
        // primary-key B-tree is then filled from one end.
        let accounts: Vec<&Account> = accounts
            .iter()
            .map(|a| (a.number.as_str(), a))
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect();
        for chunk in accounts.chunks(ACCOUNT_ROWS) {
            // Replacing deletes first; the contacts and zones go with it (ON DELETE CASCADE).
            let numbers: Vec<&str> = chunk.iter().map(|a| a.number.as_str()).collect();
            sqlx::query("DELETE FROM accounts WHERE number IN (SELECT value FROM json_each(?))")
                .bind(serde_json::Value::from(numbers).to_string())
                .execute(&mut *tx)
                .await?;
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO accounts (number, premises, address, country, region, monitoring, \
                 enrolled_at, password_hash, responder, test_until, dc09_key, supervision_ms, \
                 details, dealer, premises_phone) ",
            );
            insert.push_values(chunk, |mut row, a| {
                row.push_bind(&a.number)
                    .push_bind(to_text(&a.premises))
                    .push_bind(&a.address)
                    .push_bind(&a.country)
                    .push_bind(&a.region)
                    .push_bind(to_text(&a.monitoring))
                    .push_bind(a.enrolled_at)
                    .push_bind(a.verbal_password.phc())
                    .push_bind(to_text(&a.responder))
                    .push_bind(a.test_until)
                    .push_bind(&a.dc09_key)
                    .push_bind(a.supervision_ms)
                    .push_bind(details_json(a))
                    .push_bind(&a.dealer)
                    .push_bind(&a.premises_phone);
            });
            insert.build().execute(&mut *tx).await?;
            let contacts: Vec<(&str, i64, &Contact)> = chunk
                .iter()
                .flat_map(|a| {
                    a.contacts
                        .iter()
                        .enumerate()
                        .map(|(position, c)| (a.number.as_str(), position as i64, c))
                })
                .collect();
            for rows in contacts.chunks(ACCOUNT_ROWS) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO contacts (account, position, name, phone, phone2) ",
                );
                insert.push_values(rows, |mut row, (account, position, c)| {
                    row.push_bind(*account)
                        .push_bind(*position)
                        .push_bind(&c.name)
                        .push_bind(&c.phone)
                        .push_bind(&c.phone2);
                });
                insert.build().execute(&mut *tx).await?;
            }
            let zones: Vec<(&str, &Zone)> = chunk
                .iter()
                .flat_map(|a| a.zones.iter().map(|z| (a.number.as_str(), z)))
                .collect();
            for rows in zones.chunks(ACCOUNT_ROWS) {
                let mut insert =
                    sqlx::QueryBuilder::new("INSERT INTO zones (account, zone, device) ");
                insert.push_values(rows, |mut row, (account, z)| {
                    row.push_bind(*account)
                        .push_bind(z.zone as i64)
                        .push_bind(to_text(&z.device));
                });
                insert.build().execute(&mut *tx).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        if let Some(file) = &self.file {
            // The connection the center's rounds commit through.
            return file.rounds.ping().await;
        }
        // Dropped unfinished (the caller's timeout), the transaction rolls back.
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        tx.rollback().await?;
        Ok(())
    }

    async fn close(&self) {
        if let Some(file) = &self.file {
            file.checkpointer.close().await;
            file.rounds.close().await;
        }
        self.pool.close().await;
        self.writer.close().await;
    }

    async fn put_account(&self, a: &Account) -> Result<()> {
        self.put_accounts(std::slice::from_ref(a)).await
    }

    async fn put_accounts(&self, accounts: &[Account]) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Self::insert_accounts(&mut tx, accounts).await?;
        let numbers: Vec<&str> = accounts.iter().map(|a| a.number.as_str()).collect();
        changes::record(&mut tx, &numbers).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn last_transmissions(&self, accounts: &[String]) -> Result<Vec<Transmission>> {
        let mut found = std::collections::HashMap::new();
        for chunk in accounts.chunks(CHUNK) {
            let list: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
            let sql = fold::last_frames(&list.join(", "));
            let mut query = sqlx::query_as::<_, (String, String, Millis)>(&sql);
            for account in chunk {
                query = query.bind(account);
            }
            // Oldest first: a later row of an account replaces an earlier one.
            for (account, fingerprint, received_at) in query.fetch_all(&self.pool).await? {
                found.insert(account.clone(), (fingerprint, received_at));
            }
        }
        Ok(found
            .into_iter()
            .map(|(account, (fingerprint, received_at))| Transmission {
                account,
                fingerprint,
                received_at,
            })
            .collect())
    }

    async fn forget_transmissions(&self, before: Millis, limit: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM last_transmissions WHERE account IN (SELECT account FROM \
             last_transmissions WHERE received_at < ? ORDER BY received_at LIMIT ?)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }

    async fn last_account_change(&self) -> Result<i64> {
        changes::last(&self.pool).await
    }

    async fn account_changes(&self, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
        changes::after(&self.pool, after, limit).await
    }

    async fn forget_account_changes(&self, before: Millis, limit: i64) -> Result<u64> {
        changes::forget(&self.writer, before, limit).await
    }

    async fn receiver_settings(
        &self,
        numbers: &[String],
    ) -> Result<Vec<(String, Option<String>, Option<Millis>)>> {
        changes::settings(&self.pool, numbers).await
    }

    async fn logs(
        &self,
        alarms: &[AlarmId],
    ) -> Result<std::collections::HashMap<AlarmId, Vec<LogEntry>>> {
        bulk::logs(&self.pool, alarms).await
    }

    async fn account_dealers(
        &self,
        numbers: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        bulk::dealers(&self.pool, numbers).await
    }

    async fn account_numbers(&self, after: &str, limit: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT number FROM accounts WHERE number > ? ORDER BY number LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn enrolled_among(&self, numbers: &[String]) -> Result<Vec<String>> {
        // One bound JSON array rather than a placeholder each: no limit on how many.
        let numbers = serde_json::Value::from(numbers.to_vec()).to_string();
        Ok(sqlx::query_scalar(
            "SELECT number FROM accounts WHERE number IN (SELECT value FROM json_each(?))",
        )
        .bind(numbers)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn accounts_with_phone(&self, phone: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT account FROM contacts WHERE phone = ?1 OR phone2 = ?1 \
             UNION SELECT number FROM accounts WHERE premises_phone = ?1 ORDER BY 1",
        )
        .bind(phone)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_account(&self, number: &str) -> Result<bool> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let done = sqlx::query("DELETE FROM accounts WHERE number = ?")
            .bind(number)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM api_keys WHERE account = ?")
            .bind(number)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            changes::record(&mut tx, &[number]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn count_accounts(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn account(&self, number: &str) -> Result<Option<Account>> {
        let Some(row) = sqlx::query("SELECT * FROM accounts WHERE number = ?")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let contacts = sqlx::query(
            "SELECT name, phone, phone2 FROM contacts WHERE account = ? ORDER BY position",
        )
        .bind(number)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(contact)
        .collect();
        let zones = sqlx::query("SELECT zone, device FROM zones WHERE account = ? ORDER BY zone")
            .bind(number)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(zone)
            .collect::<Result<_>>()?;
        account_row(&row, contacts, zones).map(Some)
    }

    async fn accounts(&self, numbers: &[String]) -> Result<Vec<Account>> {
        bulk::accounts(&self.pool, numbers).await
    }

    async fn write(&self, batch: &Batch) -> Result<Vec<i64>> {
        if batch.is_empty() {
            return Ok(vec![]);
        }
        if self.file.is_some() {
            // The round writer's commit, then the fsync `synchronous=FULL` would have made.
            let ids = self
                .write_unsynced(std::sync::Arc::new(batch.clone()))
                .await?;
            self.sync().await?;
            return Ok(ids);
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let ids = write_batch(&mut tx, batch).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn write_unsynced(&self, batch: std::sync::Arc<Batch>) -> Result<Vec<i64>> {
        if batch.is_empty() {
            return Ok(vec![]);
        }
        match &self.file {
            Some(file) => file.rounds.write(batch).await,
            // In memory there is no disk to wait for (and no second connection to open).
            None => self.write(&batch).await,
        }
    }

    async fn sync(&self) -> Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let covered = file.held.covering();
        let wal = file.wal.clone();
        tokio::task::spawn_blocking(move || wal.sync())
            .await
            .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
            .map_err(sqlx::Error::Io)?;
        file.held.release(covered);
        Ok(())
    }

    async fn release_memory(&self) -> Result<()> {
        sqlx::query("PRAGMA shrink_memory")
            .execute(&self.writer)
            .await?;
        // Each reader idle now, taken once (all held until the last is), none waited for:
        // one in use is shrunk next time.
        let mut idle = Vec::new();
        while let Some(conn) = self.pool.try_acquire() {
            idle.push(conn);
        }
        for conn in &mut idle {
            sqlx::query("PRAGMA shrink_memory")
                .execute(&mut **conn)
                .await?;
        }
        Ok(())
    }

    async fn log(&self, alarm: AlarmId) -> Result<Vec<LogEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, body FROM alarm_events WHERE alarm_id = ? ORDER BY seq",
        )
        .bind(alarm)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(StoreError::NoSuchAlarm(alarm));
        }
        rows.into_iter()
            .map(|r| {
                Ok(LogEntry {
                    seq: r.get::<i64, _>("seq") as u32,
                    at: r.get("at"),
                    actor: r.get("actor"),
                    body: from_json("alarm_events.body", r.get("body"))?,
                })
            })
            .collect()
    }

    async fn alarms(&self, state: AlarmState) -> Result<Vec<AlarmRow>> {
        let filter = match state {
            AlarmState::Open => "WHERE closed_at IS NULL",
            AlarmState::Closed => "WHERE closed_at IS NOT NULL",
            AlarmState::All => "",
        };
        let rows = sqlx::query(&format!("SELECT * FROM alarms {filter} ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(alarm_row).collect())
    }

    async fn signals(&self, account: &str) -> Result<Vec<SignalRecord>> {
        sqlx::query(&fold::signals_of())
            .bind(account)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(signal_record)
            .collect()
    }

    async fn set_dc09_keys(&self, keys: &[(String, String)]) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // One statement for all of them: a first start seals every key stored in clear
        // (100,000 at a large center), and a statement each kept the receivers waiting
        // seconds for their keys.
        sqlx::query(
            "UPDATE accounts SET dc09_key = v.key FROM (SELECT value ->> 0 AS number, \
             value ->> 1 AS key FROM json_each(?)) AS v WHERE accounts.number = v.number",
        )
        .bind(serde_json::to_string(keys).expect("pairs of strings serialise"))
        .execute(&mut *tx)
        .await?;
        let numbers: Vec<&str> = keys.iter().map(|(account, _)| account.as_str()).collect();
        changes::record(&mut tx, &numbers).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn upgrade_verbal_password(
        &self,
        account: &str,
        old: &VerbalPassword,
        new: &VerbalPassword,
    ) -> Result<bool> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let replaced = sqlx::query(
            "UPDATE accounts SET password_hash = ? WHERE number = ? AND password_hash = ?",
        )
        .bind(new.phc())
        .bind(account)
        .bind(old.phc())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if replaced {
            changes::record(&mut tx, &[account]).await?;
        }
        tx.commit().await?;
        Ok(replaced)
    }

    async fn dc09_keys(&self) -> Result<Vec<(String, String)>> {
        Ok(
            sqlx::query_as("SELECT number, dc09_key FROM accounts WHERE dc09_key IS NOT NULL")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn supervised(&self) -> Result<Vec<(String, Millis)>> {
        Ok(sqlx::query_as(
            "SELECT number, supervision_ms FROM accounts WHERE supervision_ms IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn search_accounts(&self, text: &str, limit: i64) -> Result<Vec<String>> {
        search::search(&self.pool, text, limit).await
    }

    async fn set_test_until(
        &self,
        event: &crate::AccountEvent,
        until: Option<Millis>,
    ) -> Result<bool> {
        search::set_test_until(&self.writer, event, until).await
    }

    async fn account_events(&self, account: &str, limit: i64) -> Result<Vec<crate::AccountEvent>> {
        search::events(&self.pool, account, limit).await
    }

    async fn recent_alarms(&self, account: &str, limit: i64) -> Result<Vec<AlarmRow>> {
        search::recent_alarms(&self.pool, account, limit).await
    }

    async fn recent_signals(&self, account: &str, limit: i64) -> Result<Vec<SignalRecord>> {
        search::recent_signals(&self.pool, account, limit).await
    }

    async fn unknown_items(&self, all: bool) -> Result<Vec<crate::UnknownItem>> {
        unknown::list(&self.pool, all).await
    }

    async fn unknown_item(&self, id: i64) -> Result<Option<crate::UnknownItem>> {
        unknown::one(&self.pool, id).await
    }

    async fn resolve_unknown(&self, id: i64, resolution: &crate::Resolution) -> Result<bool> {
        unknown::resolve(&self.writer, id, resolution).await
    }

    async fn put_dealer(&self, dealer: &crate::Dealer) -> Result<()> {
        dealers::put(&self.writer, dealer).await
    }

    async fn dealer(&self, id: &str) -> Result<Option<crate::Dealer>> {
        dealers::one(&self.pool, id).await
    }

    async fn dealers(&self) -> Result<Vec<crate::Dealer>> {
        dealers::all(&self.pool).await
    }

    async fn dealer_accounts(&self, dealer: &str, after: &str, limit: i64) -> Result<Vec<String>> {
        dealers::accounts(&self.pool, dealer, after, limit).await
    }

    async fn put_user(&self, u: &User) -> Result<()> {
        // An upsert, not a delete and insert: the user's sessions must not cascade away.
        sqlx::query(
            "INSERT INTO users (name, role, password_hash, failed_logins, locked_until, \
             created_at, phone, disabled, dealer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, \
             password_hash = excluded.password_hash, failed_logins = excluded.failed_logins, \
             locked_until = excluded.locked_until, created_at = excluded.created_at, \
             phone = excluded.phone, disabled = excluded.disabled, dealer = excluded.dealer",
        )
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(&u.password_hash)
        .bind(u.failed_logins as i64)
        .bind(u.locked_until)
        .bind(u.created_at)
        .bind(&u.phone)
        .bind(u.disabled)
        .bind(&u.dealer)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn user(&self, name: &str) -> Result<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_row)
            .transpose()
    }

    async fn users(&self) -> Result<Vec<User>> {
        sqlx::query("SELECT * FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_row)
            .collect()
    }

    async fn record_login_failure(
        &self,
        name: &str,
        waits_until: Option<Millis>,
    ) -> Result<Option<User>> {
        // One statement, so failures counted on several nodes at once all add up.
        sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN ?1 IS NULL THEN locked_until \
                 ELSE MAX(COALESCE(locked_until, ?1), ?1) END \
             WHERE name = ?2 RETURNING *",
        )
        .bind(waits_until)
        .bind(name)
        .fetch_optional(&self.writer)
        .await?
        .as_ref()
        .map(user_row)
        .transpose()
    }

    async fn reset_login_failures(&self, name: &str) -> Result<()> {
        sqlx::query("UPDATE users SET failed_logins = 0 WHERE name = ?")
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn lift_login_waits(&self, name: &str, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, waits_lifted_at = ? \
             WHERE name = ?",
        )
        .bind(at)
        .bind(name)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn end_sessions(&self, name: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_name = ?")
            .bind(name)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    async fn put_session(&self, s: &SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_name, created_at, expires_at, last_seen) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&s.token_hash)
        .bind(&s.user)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.last_seen)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        Ok(sqlx::query("SELECT * FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| SessionRecord {
                token_hash: r.get("token_hash"),
                user: r.get("user_name"),
                created_at: r.get("created_at"),
                expires_at: r.get("expires_at"),
                last_seen: r.get("last_seen"),
            }))
    }

    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen: Millis,
        expires_at: Millis,
    ) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = ?, expires_at = ? WHERE token_hash = ?")
            .bind(last_seen)
            .bind(expires_at)
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Millis) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    async fn put_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (key_hash, account, label, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&k.key_hash)
        .bind(&k.account)
        .bind(&k.label)
        .bind(k.created_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn api_key(&self, key_hash: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT account FROM api_keys WHERE key_hash = ?")
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn api_keys(&self, account: Option<&str>) -> Result<Vec<ApiKeyRecord>> {
        Ok(sqlx::query(
            "SELECT * FROM api_keys WHERE ?1 IS NULL OR account = ?1 \
             ORDER BY account, created_at, key_hash",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| ApiKeyRecord {
            key_hash: r.get("key_hash"),
            account: r.get("account"),
            label: r.get("label"),
            created_at: r.get("created_at"),
            last_used: r.get("last_used"),
        })
        .collect())
    }

    async fn touch_api_key(&self, key_hash: &str, at: Millis) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used = ? WHERE key_hash = ?")
            .bind(at)
            .bind(key_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn delete_api_key(&self, key_hash: &str) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM api_keys WHERE key_hash = ?")
            .bind(key_hash)
            .execute(&self.writer)
            .await?
            .rows_affected()
            > 0)
    }

    async fn put_audit(&self, e: &crate::AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.subject)
        .bind(&e.detail)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn audit(&self, limit: i64) -> Result<Vec<crate::AuditEntry>> {
        Ok(
            sqlx::query("SELECT * FROM audit ORDER BY at DESC, id DESC LIMIT ?")
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| crate::AuditEntry {
                    at: r.get("at"),
                    actor: r.get("actor"),
                    action: r.get("action"),
                    subject: r.get("subject"),
                    detail: r.get("detail"),
                })
                .collect(),
        )
    }

    async fn put_recording(&self, r: &Recording) -> Result<()> {
        sqlx::query(
            "INSERT INTO recordings (alarm, call_id, started_at, duration_ms, bytes, file) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (alarm, call_id) DO UPDATE SET \
             started_at = excluded.started_at, duration_ms = excluded.duration_ms, \
             bytes = excluded.bytes, file = excluded.file",
        )
        .bind(r.alarm)
        .bind(i64::from(r.call))
        .bind(r.started_at)
        .bind(i64::from(r.duration_ms))
        .bind(i64::try_from(r.bytes).unwrap_or(i64::MAX))
        .bind(&r.file)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn recordings(&self, alarm: AlarmId) -> Result<Vec<Recording>> {
        let rows: Vec<RecordingTuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM recordings WHERE alarm = ? ORDER BY call_id"
        ))
        .bind(alarm)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Recording::from_tuple).collect()
    }

    async fn recording(&self, alarm: AlarmId, call: CallId) -> Result<Option<Recording>> {
        let row: Option<RecordingTuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM recordings WHERE alarm = ? AND call_id = ?"
        ))
        .bind(alarm)
        .bind(i64::from(call))
        .fetch_optional(&self.pool)
        .await?;
        row.map(Recording::from_tuple).transpose()
    }

    async fn expired_recordings(
        &self,
        before: Millis,
        alarms_closed_before: Millis,
        limit: i64,
    ) -> Result<Vec<Recording>> {
        retention::expired_recordings(&self.pool, before, alarms_closed_before, limit).await
    }

    async fn expire_signals(&self, before: Millis, limit: i64) -> Result<u64> {
        retention::expire_signals(&self.writer, before, limit).await
    }

    async fn expire_alarms(&self, before: Millis, limit: i64) -> Result<u64> {
        retention::expire_alarms(&self.writer, before, limit).await
    }

    async fn expire_unknown_items(&self, before: Millis, limit: i64) -> Result<u64> {
        retention::expire_unknown(&self.writer, before, limit).await
    }

    async fn delete_recording(&self, alarm: AlarmId, call: CallId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM recordings WHERE alarm = ? AND call_id = ?")
            .bind(alarm)
            .bind(i64::from(call))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Writes `batch` in the open transaction `tx`; returns the ids given to its signals, in
/// order. The in-memory store's rounds; a file's go through `round_writer`, which must write
/// the same rows (a test compares them).
async fn write_batch(tx: &mut sqlx::SqliteConnection, batch: &Batch) -> Result<Vec<i64>> {
    fence(&mut *tx, &batch.leases).await?;
    let mut ids = Vec::with_capacity(batch.signals.len());
    // Many rows per statement: one round trip to SQLite per chunk, not per signal.
    for chunk in batch.signals.chunks(200) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO signals (account, received_at, source, event, raw) ",
        );
        insert.push_values(chunk, |mut row, s| {
            row.push_bind(&s.account)
                .push_bind(s.received_at)
                .push_bind(&s.source)
                .push_bind(json(&s.event))
                .push_bind(&s.raw);
        });
        insert.push(" RETURNING id");
        let mut chunk_ids: Vec<i64> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
        // Row ids grow in VALUES order; RETURNING's own order is not promised.
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
    }
    // No round writer folds here: every commit does (`fold.rs`).
    for statement in fold::FOLD_ALL_SIGNALS {
        sqlx::query(statement).execute(&mut *tx).await?;
    }
    unknown::write(&mut *tx, &batch.unknown).await?;
    webhooks::write_outbox(&mut *tx, &batch.outbox).await?;
    for chunk in batch.opened.chunks(200) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO alarms (id, account, kind, mode, priority, opened_at) ",
        );
        insert.push_values(chunk, |mut row, (id, spec)| {
            row.push_bind(id)
                .push_bind(&spec.account)
                .push_bind(spec.kind.as_str())
                .push_bind(spec.mode.as_str())
                .push_bind(spec.kind.priority() as i64)
                .push_bind(spec.opened_at);
        });
        insert.build().execute(&mut *tx).await?;
    }
    for chunk in batch.entries.chunks(200) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO alarm_events (alarm_id, seq, at, actor, body, fence) ",
        );
        insert.push_values(chunk, |mut row, (alarm, entry)| {
            row.push_bind(alarm)
                .push_bind(entry.seq as i64)
                .push_bind(entry.at)
                .push_bind(&entry.actor)
                .push_bind(json(&entry.body))
                .push_bind(batch.fences.get(alarm).copied().unwrap_or(0));
        });
        insert.build().execute(&mut *tx).await?;
    }
    for chunk in Transmission::latest(&batch.transmissions).chunks(CHUNK) {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO last_transmissions (account, fingerprint, received_at) ",
        );
        insert.push_values(chunk, |mut row, t| {
            row.push_bind(&t.account)
                .push_bind(&t.fingerprint)
                .push_bind(t.received_at);
        });
        insert.push(
            " ON CONFLICT (account) DO UPDATE SET fingerprint = excluded.fingerprint, \
             received_at = excluded.received_at",
        );
        insert.build().execute(&mut *tx).await?;
    }
    for chunk in batch.forwarded.chunks(200) {
        let mut insert = sqlx::QueryBuilder::new("INSERT INTO inbox (part, posted_at, body) ");
        insert.push_values(chunk, |mut row, (partition, signal)| {
            row.push_bind(i64::from(*partition))
                .push_bind(signal.received_at)
                .push_bind(json(&Inbound::Signal {
                    signal: signal.clone(),
                }));
        });
        insert.build().execute(&mut *tx).await?;
    }
    // Routed signals leave the inbox many at a time; answered commands (few) keep their
    // outcome for the node that posted them.
    let routed: Vec<i64> = batch
        .settled
        .iter()
        .filter(|(_, outcome)| outcome.is_none())
        .map(|(id, _)| *id)
        .collect();
    for chunk in routed.chunks(CHUNK) {
        let mut delete = sqlx::QueryBuilder::new("DELETE FROM inbox WHERE id IN (");
        let mut list = delete.separated(", ");
        for id in chunk {
            list.push_bind(id);
        }
        delete.push(")");
        delete.build().execute(&mut *tx).await?;
    }
    for (id, outcome) in &batch.settled {
        if let Some(outcome) = outcome {
            sqlx::query("UPDATE inbox SET outcome = ? WHERE id = ?")
                .bind(outcome)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    for (alarm, at, disposition) in &batch.closed {
        sqlx::query("UPDATE alarms SET closed_at = ?, disposition = ? WHERE id = ?")
            .bind(at)
            .bind(disposition.as_str())
            .bind(alarm)
            .execute(&mut *tx)
            .await?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OutboxEvent, UnknownSignal};
    use std::sync::Arc;
    use watchpost_core::router::{Event, open_spec};
    use watchpost_core::{AlarmKind, Disposition, Settings, SignalClass};

    fn signal(account: &str, at: Millis, event: Event) -> SignalRecord {
        SignalRecord {
            account: account.into(),
            received_at: at,
            source: "sia".into(),
            event,
            raw: format!("test {account} {at}"),
        }
    }

    fn batch(at: Millis) -> Batch {
        Batch {
            signals: vec![signal("4F39", at, Event::CommFailure)],
            ..Batch::default()
        }
    }

    /// sqlx's writer connection's `synchronous` setting: 2 is FULL, 1 NORMAL.
    async fn writer_sync(store: &SqliteStore) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.writer)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_unsynced_write_is_stored_and_other_writes_still_wait_for_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.db")).await.unwrap();
        assert_eq!(writer_sync(&store).await, 2);
        store.write_unsynced(Arc::new(batch(1))).await.unwrap();
        store.sync().await.unwrap();
        assert_eq!(writer_sync(&store).await, 2, "FULL for every other write");
        assert_eq!(store.signals("4F39").await.unwrap().len(), 1);

        // A batch refused inside its transaction (a lease this node does not hold) writes
        // nothing, and the writer goes on with the next.
        let mut fenced = batch(2);
        fenced.leases.push(Lease {
            partition: 0,
            token: 1,
        });
        assert!(matches!(
            store.write_unsynced(Arc::new(fenced)).await,
            Err(StoreError::Fenced(0))
        ));
        assert_eq!(store.signals("4F39").await.unwrap().len(), 1);
        let ids = store.write_unsynced(Arc::new(batch(3))).await.unwrap();
        assert_eq!(ids.len(), 1);
        store.ping().await.expect("the round writer answers");
        store.close().await;
        assert!(store.write_unsynced(Arc::new(batch(4))).await.is_err());
        assert!(
            !dir.path().join("c.db-wal").exists(),
            "closing closes the round writer too: the last connection removes the WAL"
        );
    }

    /// Giving back cache memory never waits for a reader in use (the API's), and leaves
    /// every connection usable.
    #[tokio::test]
    async fn releasing_cache_memory_waits_for_no_reader_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.db")).await.unwrap();
        store.write(&batch(1)).await.unwrap();
        let mut busy = Vec::new();
        for _ in 0..4 {
            busy.push(store.pool.acquire().await.unwrap());
        }
        let released = tokio::time::timeout(Duration::from_secs(5), store.release_memory());
        released
            .await
            .expect("not waiting for busy readers")
            .unwrap();
        drop(busy);
        store.release_memory().await.unwrap();
        assert_eq!(store.signals("4F39").await.unwrap().len(), 1);
        store.write(&batch(2)).await.unwrap();
        assert_eq!(store.signals("4F39").await.unwrap().len(), 2);
        store.close().await;
    }

    #[tokio::test]
    async fn in_memory_an_unsynced_write_is_a_write() {
        let store = SqliteStore::memory().await.unwrap();
        store.write_unsynced(Arc::new(batch(1))).await.unwrap();
        store.sync().await.unwrap();
        assert_eq!(store.signals("4F39").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn accounts_in_bulk_are_what_each_reads_alone() {
        use watchpost_core::account::{Contact, DeviceType, Zone};
        let store = SqliteStore::memory().await.unwrap();
        let mut full = crate::testing::account("3001");
        full.contacts.push(Contact {
            name: "Bo".into(),
            phone: "+15555550102".into(),
            phone2: Some("+15555550103".into()),
        });
        full.zones = vec![
            Zone {
                zone: 2,
                device: DeviceType::Smoke,
            },
            Zone {
                zone: 1,
                device: DeviceType::Motion,
            },
        ];
        full.premises_phone = Some("+15555550104".into());
        let mut bare = crate::testing::account("3002");
        bare.contacts.clear();
        store.put_accounts(&[full, bare]).await.unwrap();
        let mut read = store
            .accounts(&["3002".into(), "3001".into(), "9999".into()])
            .await
            .unwrap();
        read.sort_by(|a, b| a.number.cmp(&b.number));
        let alone = vec![
            store.account("3001").await.unwrap().unwrap(),
            store.account("3002").await.unwrap().unwrap(),
        ];
        assert_eq!(read, alone);
        assert_eq!(read[0].zones[0].zone, 1, "zones in order");
        assert!(store.accounts(&[]).await.unwrap().is_empty());
    }

    /// Every row of the tables a batch writes, as SQLite quotes them, sorted.
    async fn rows(store: &SqliteStore) -> Vec<String> {
        let mut all = Vec::new();
        for table in [
            "signals",
            "unknown_accounts",
            "webhook_pending",
            "webhook_events",
            "alarms",
            "alarm_events",
            "last_transmissions",
            "recent_frames",
            "signal_accounts",
            "intake_fold",
            "inbox",
            "leases",
        ] {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                    .bind(table)
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            let quoted: Vec<String> = columns.iter().map(|c| format!("quote({c})")).collect();
            let sql = format!(
                "SELECT '{table}: ' || {} FROM {table} ORDER BY 1",
                quoted.join(" || '|' || ")
            );
            all.extend(
                sqlx::query_scalar::<_, String>(&sql)
                    .fetch_all(&store.pool)
                    .await
                    .unwrap(),
            );
        }
        all
    }

    /// Two batches that write every table a round can: signals, unknown-account items (one
    /// opened, one joined), webhook deliveries (two endpoints, by dealer), an alarm opened with
    /// fenced log entries and closed, frames, forwarded signals, settled inbox items.
    fn rounds() -> [Batch; 2] {
        let fire = Event::Panel {
            class: SignalClass::Alarm(AlarmKind::Fire),
            code: "FA".into(),
            zone: Some(1),
        };
        let account = crate::testing::account("4F39");
        let spec = open_spec(&account, AlarmKind::Fire, &fire, 10, &Settings::default());
        let entry = |seq: u32, at: Millis| LogEntry {
            seq,
            at,
            actor: "panel".into(),
            body: crate::LogBody::Opened {
                spec: Box::new(spec.clone()),
            },
        };
        let unknown = |at: Millis, kind: AlarmKind| UnknownSignal {
            signal: signal("9999", at, fire.clone()),
            kind,
            line: Some("R1 L0".into()),
        };
        let event = |id: &str, kind: &str, dealer: Option<&str>| OutboxEvent {
            id: id.into(),
            kind: kind.into(),
            account: "4F39".into(),
            dealer: dealer.map(String::from),
            alarm: Some(7),
            created_at: 10,
            body: format!("{{\"id\":\"{id}\"}}"),
        };
        let frame = |at: Millis, fingerprint: &str| Transmission {
            account: "4F39".into(),
            fingerprint: fingerprint.into(),
            received_at: at,
        };
        let lease = Lease {
            partition: 3,
            token: 0,
        };
        let first = Batch {
            signals: vec![
                signal("4F39", 10, fire.clone()),
                signal("9999", 11, fire.clone()),
                signal("9999", 12, fire.clone()),
            ],
            opened: vec![(7, spec.clone())],
            entries: vec![(7, entry(0, 10)), (7, entry(1, 11))],
            transmissions: vec![frame(10, "a"), frame(11, "b")],
            forwarded: vec![
                (5, signal("5555", 13, Event::CommFailure)),
                (6, signal("6666", 14, Event::CommFailure)),
            ],
            leases: vec![lease, lease],
            fences: [(7, 42)].into_iter().collect(),
            unknown: vec![
                unknown(11, AlarmKind::Burglary),
                unknown(12, AlarmKind::Fire),
            ],
            outbox: vec![
                event("e1", "signal", None),
                event("e2", "signal", Some("D1")),
                event("e3", "other", None),
            ],
            ..Batch::default()
        };
        let second = Batch {
            signals: vec![signal("4F39", 20, Event::CommFailure)],
            entries: vec![(7, entry(2, 20))],
            closed: vec![(7, 20, Disposition::OnTest)],
            settled: vec![(1, None), (2, Some("done".into()))],
            leases: vec![lease],
            unknown: vec![unknown(20, AlarmKind::Burglary)],
            ..Batch::default()
        };
        [first, second]
    }

    async fn endpoints(store: &SqliteStore) {
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, secret, events, dealer, created_at) VALUES \
             ('p1', 'https://a', 's', ',signal,', NULL, 0), \
             ('p2', 'https://b', 's', ',signal,', 'D1', 0), \
             ('p3', 'https://c', 's', ',signal,', 'D2', 0)",
        )
        .execute(&store.writer)
        .await
        .unwrap();
    }

    /// A round's webhook deliveries reach no endpoint before the sync that makes the round
    /// durable has returned; a write that waits for the disk itself is delivered at once.
    #[tokio::test]
    async fn a_rounds_webhook_deliveries_wait_for_its_sync() {
        use crate::Webhooks;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.db")).await.unwrap();
        endpoints(&store).await;
        let round = |id: &str, at: Millis| Batch {
            signals: vec![signal("4F39", at, Event::CommFailure)],
            outbox: vec![OutboxEvent {
                id: id.into(),
                kind: "signal".into(),
                account: "4F39".into(),
                dealer: None,
                alarm: None,
                created_at: at,
                body: "{}".into(),
            }],
            ..Batch::default()
        };
        let pending = async |store: &SqliteStore| -> Vec<String> {
            let pending = store.pending("p1", 10).await.unwrap();
            pending.into_iter().map(|p| p.event.id).collect()
        };
        store
            .write_unsynced(Arc::new(round("e1", 1)))
            .await
            .unwrap();
        assert!(
            pending(&store).await.is_empty(),
            "held until the round is on disk"
        );
        store.sync().await.unwrap();
        assert_eq!(pending(&store).await, ["e1"]);
        store
            .write_unsynced(Arc::new(round("e2", 2)))
            .await
            .unwrap();
        assert_eq!(pending(&store).await, ["e1"], "e1 durable, e2 not yet");
        store.write(&round("e3", 3)).await.unwrap();
        assert_eq!(pending(&store).await, ["e1", "e2", "e3"]);
        store.close().await;
    }

    #[tokio::test]
    async fn the_round_writer_writes_the_rows_sqlx_writes() {
        let dir = tempfile::tempdir().unwrap();
        let file = SqliteStore::open(&dir.path().join("c.db")).await.unwrap();
        let memory = SqliteStore::memory().await.unwrap();
        endpoints(&file).await;
        endpoints(&memory).await;
        for round in rounds() {
            let round = Arc::new(round);
            let by_thread = file.write_unsynced(round.clone()).await.unwrap();
            let by_sqlx = memory.write_unsynced(round).await.unwrap();
            assert_eq!(by_thread, by_sqlx, "the same signal ids, in order");
        }
        file.sync().await.unwrap();
        let file_rounds = &file.file.as_ref().unwrap().rounds;
        let unfolded = rows(&file).await;
        assert!(
            unfolded.iter().any(|r| r.starts_with("recent_frames: ")),
            "frames wait for the fold"
        );
        file_rounds.fold().await;
        let written = rows(&file).await;
        assert_eq!(written, rows(&memory).await);
        // The test covers what it says: every table got rows.
        for table in [
            "unknown_accounts",
            "webhook_pending",
            "webhook_events",
            "inbox",
        ] {
            assert!(
                written.iter().any(|r| r.starts_with(&format!("{table}: "))),
                "{table} written"
            );
        }
        assert!(written.iter().any(|r| r.contains("'done'")), "{written:#?}");
        file.close().await;
    }
}
