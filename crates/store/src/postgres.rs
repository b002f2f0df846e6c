//! The server store: a PostgreSQL database (or CockroachDB / YugabyteDB, which speak the same
//! SQL), reached through a pool, for centers that run more than one node.

use crate::recording::{COLUMNS, RecordingTuple};
use crate::text::{from_json, from_text, json, to_text};
use crate::{
    AlarmId, AlarmRow, AlarmState, ApiKeyRecord, Batch, Inbound, Lease, LogEntry, Recording,
    Result, Role, SessionRecord, SignalRecord, Store, StoreError, Transmission, User,
};
use async_trait::async_trait;
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use std::collections::BTreeMap;
use std::str::FromStr;
use watchpost_core::account::{Contact, Zone};
use watchpost_core::alarm::CallId;
use watchpost_core::password::VerbalPassword;
use watchpost_core::{Account, Millis};

/// An account's details as stored: NULL when it has none.
fn details_json(a: &Account) -> Option<String> {
    (!a.details.is_empty()).then(|| json(&a.details))
}

/// Rows per multi-row INSERT: far below PostgreSQL's 65535 bind parameters.
const CHUNK: usize = 200;
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

mod bulk;
mod center_secrets;
mod changes;
mod coordination;
mod dealers;
mod plans;
mod report;
mod retention;
mod search;
mod unknown;
mod verification;
mod webhooks;

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

/// An `INTEGER` column: 4 bytes on PostgreSQL and YugabyteDB, 8 on CockroachDB.
fn int(r: &PgRow, column: &str) -> Result<i64> {
    match r.try_get::<i32, _>(column) {
        Ok(n) => Ok(n.into()),
        Err(sqlx::Error::ColumnDecode { .. }) => Ok(r.try_get::<i64, _>(column)?),
        Err(e) => Err(e.into()),
    }
}

/// INTEGER is INT4 in PostgreSQL and INT8 in CockroachDB: `int` reads either.
fn alarm_row(r: &PgRow) -> Result<AlarmRow> {
    Ok(AlarmRow {
        id: r.get("id"),
        account: r.get("account"),
        kind: r.get("kind"),
        mode: r.get("mode"),
        priority: int(r, "priority")? as u8,
        opened_at: r.get("opened_at"),
        closed_at: r.get("closed_at"),
        disposition: r.get("disposition"),
    })
}

fn signal_record(r: &PgRow) -> Result<SignalRecord> {
    Ok(SignalRecord {
        account: r.get("account"),
        received_at: r.get("received_at"),
        source: r.get("source"),
        event: from_json("signals.event", r.get("event"))?,
        raw: r.get("raw"),
    })
}

fn user_row(r: &PgRow) -> Result<User> {
    let role: String = r.get("role");
    Ok(User {
        name: r.get("name"),
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("users.role = {role:?}")))?,
        password_hash: r.get("password_hash"),
        failed_logins: int(r, "failed_logins")? as u32,
        locked_until: r.get("locked_until"),
        waits_lifted_at: r.get("waits_lifted_at"),
        disabled: r.get("disabled"),
        created_at: r.get("created_at"),
        phone: r.get("phone"),
        dealer: r.get("dealer"),
    })
}

/// Refuses the transaction unless every lease is still current: the UPDATE also locks them,
/// so no other node can take one until this transaction ends (an `acquire` waits, then finds
/// the token it would replace already written under).
async fn fence(tx: &mut sqlx::PgConnection, leases: &[Lease]) -> Result<()> {
    let mut distinct = leases.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    for chunk in distinct.chunks(100) {
        let mut check = sqlx::QueryBuilder::new("UPDATE leases SET token = token WHERE ");
        let mut or = check.separated(" OR ");
        for lease in chunk {
            or.push("(part = ")
                .push_bind_unseparated(i32::from(lease.partition))
                .push_unseparated(" AND token = ")
                .push_bind_unseparated(lease.token)
                .push_unseparated(")");
        }
        let held = check.build().execute(&mut *tx).await?.rows_affected();
        if held != chunk.len() as u64 {
            // BIGINT whatever INTEGER is (4 bytes here, 8 on CockroachDB).
            let current: Vec<(i64, i64)> =
                sqlx::query_as("SELECT CAST(part AS BIGINT), token FROM leases")
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

/// One connection, or why not within `CONNECT_TIMEOUT`.
async fn connect_once(options: &sqlx::postgres::PgConnectOptions) -> Result<sqlx::PgConnection> {
    let connected = tokio::time::timeout(CONNECT_TIMEOUT, sqlx::ConnectOptions::connect(options))
        .await
        .map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer from the database server within {CONNECT_TIMEOUT:?}"),
            ))
        })??;
    Ok(connected)
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/database`) and migrates it.
    pub async fn connect(url: &str) -> Result<PgStore> {
        let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
        // One connection of its own first: a pool that cannot connect only says it timed out,
        // this says why (refused, unknown database, authentication).
        sqlx::Connection::close(connect_once(&options).await?).await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// Whether the database at `url` already holds a center (it has been migrated). Creates
    /// nothing.
    pub async fn holds_center(url: &str) -> Result<bool> {
        let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
        let mut conn = connect_once(&options).await?;
        let (migrated,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations')",
        )
        .fetch_one(&mut conn)
        .await?;
        sqlx::Connection::close(conn).await?;
        Ok(migrated)
    }

    /// Inserts or replaces accounts, their contacts and zones, in `tx`. An account named twice
    /// is written as its last occurrence, as if each replaced the one before.
    async fn insert_accounts(tx: &mut sqlx::PgConnection, accounts: &[Account]) -> Result<()> {
        // In key order, so concurrent imports lock rows in the same order and cannot deadlock;
        // one row per key, since one upsert may not touch a row twice.
        let accounts: Vec<&Account> = accounts
            .iter()
            .map(|a| (a.number.as_str(), a))
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect();
        for chunk in accounts.chunks(CHUNK) {
            // An upsert, not a delete and insert: a concurrent replace of the same account
            // waits for this one instead of failing on the key.
            let mut upsert = sqlx::QueryBuilder::new(
                "INSERT INTO accounts (number, premises, address, country, region, monitoring, \
                 enrolled_at, password_hash, responder, test_until, dc09_key, supervision_ms, \
                 details, dealer, premises_phone) ",
            );
            upsert.push_values(chunk, |mut row, a| {
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
            upsert.push(
                " ON CONFLICT (number) DO UPDATE SET premises = excluded.premises, \
                 address = excluded.address, country = excluded.country, \
                 region = excluded.region, monitoring = excluded.monitoring, \
                 enrolled_at = excluded.enrolled_at, password_hash = excluded.password_hash, \
                 responder = excluded.responder, test_until = excluded.test_until, \
                 dc09_key = excluded.dc09_key, supervision_ms = excluded.supervision_ms, \
                 details = excluded.details, dealer = excluded.dealer, \
                 premises_phone = excluded.premises_phone",
            );
            upsert.build().execute(&mut *tx).await?;
            let numbers: Vec<&str> = chunk.iter().map(|a| a.number.as_str()).collect();
            for table in ["contacts", "zones"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE account = ANY($1)"))
                    .bind(&numbers)
                    .execute(&mut *tx)
                    .await?;
            }
            let contacts: Vec<(&str, i64, &Contact)> = chunk
                .iter()
                .flat_map(|a| {
                    a.contacts
                        .iter()
                        .enumerate()
                        .map(|(position, c)| (a.number.as_str(), position as i64, c))
                })
                .collect();
            for rows in contacts.chunks(CHUNK) {
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
            for rows in zones.chunks(CHUNK) {
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
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn put_account(&self, a: &Account) -> Result<()> {
        self.put_accounts(std::slice::from_ref(a)).await
    }

    async fn put_accounts(&self, accounts: &[Account]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::insert_accounts(&mut tx, accounts).await?;
        let numbers: Vec<&str> = accounts.iter().map(|a| a.number.as_str()).collect();
        changes::record(&mut tx, &numbers).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn last_transmissions(&self, accounts: &[String]) -> Result<Vec<Transmission>> {
        let mut found = Vec::new();
        for chunk in accounts.chunks(CHUNK) {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT account, fingerprint, received_at FROM last_transmissions WHERE account IN (",
            );
            let mut list = query.separated(", ");
            for account in chunk {
                list.push_bind(account);
            }
            query.push(")");
            let rows: Vec<(String, String, Millis)> =
                query.build_query_as().fetch_all(&self.pool).await?;
            found.extend(rows.into_iter().map(|(account, fingerprint, received_at)| {
                Transmission {
                    account,
                    fingerprint,
                    received_at,
                }
            }));
        }
        Ok(found)
    }

    async fn forget_transmissions(&self, before: Millis, limit: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM last_transmissions WHERE account IN (SELECT account FROM \
             last_transmissions WHERE received_at < $1 ORDER BY received_at LIMIT $2)",
        )
        .bind(before)
        .bind(limit)
        .execute(&self.pool)
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
        changes::forget(&self.pool, before, limit).await
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
        // Byte order, as SQLite compares text, whatever collation the database was made with.
        Ok(sqlx::query_scalar(
            "SELECT number FROM accounts WHERE number COLLATE \"C\" > $1 \
             ORDER BY number COLLATE \"C\" LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn enrolled_among(&self, numbers: &[String]) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT number FROM accounts WHERE number = ANY($1)")
                .bind(numbers)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn accounts_with_phone(&self, phone: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT account FROM contacts WHERE phone = $1 OR phone2 = $1 \
             UNION SELECT number FROM accounts WHERE premises_phone = $1 ORDER BY 1",
        )
        .bind(phone)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_account(&self, number: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM accounts WHERE number = $1")
            .bind(number)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM api_keys WHERE account = $1")
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
        // One snapshot for the account and its contacts and zones, as SQLite's reader would
        // see them between two writes.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let Some(row) = sqlx::query("SELECT * FROM accounts WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let contacts = sqlx::query(
            "SELECT name, phone, phone2 FROM contacts WHERE account = $1 ORDER BY position",
        )
        .bind(number)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| Contact {
            name: r.get("name"),
            phone: r.get("phone"),
            phone2: r.get("phone2"),
        })
        .collect();
        let zones = sqlx::query("SELECT zone, device FROM zones WHERE account = $1 ORDER BY zone")
            .bind(number)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| {
                Ok(Zone {
                    zone: r.get::<i64, _>("zone") as u32,
                    device: from_text("zones.device", r.get("device"))?,
                })
            })
            .collect::<Result<_>>()?;
        tx.commit().await?;
        let hash: String = row.get("password_hash");
        Ok(Some(Account {
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
        }))
    }

    async fn write(&self, batch: &Batch) -> Result<Vec<i64>> {
        if batch.is_empty() {
            return Ok(vec![]);
        }
        let mut tx = self.pool.begin().await?;
        fence(&mut tx, &batch.leases).await?;
        let mut ids = Vec::with_capacity(batch.signals.len());
        // Many rows per statement: one round trip per chunk, not per signal.
        for chunk in batch.signals.chunks(CHUNK) {
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
            // Ids grow in VALUES order; RETURNING's own order is not promised.
            chunk_ids.sort_unstable();
            ids.extend(chunk_ids);
        }
        unknown::write(&mut tx, &batch.unknown).await?;
        webhooks::write_outbox(&mut tx, &batch.outbox).await?;
        for chunk in batch.opened.chunks(CHUNK) {
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
        for chunk in batch.entries.chunks(CHUNK) {
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
        for chunk in batch.forwarded.chunks(CHUNK) {
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO inbox (part, posted_at, body) ");
            insert.push_values(chunk, |mut row, (partition, signal)| {
                row.push_bind(i32::from(*partition))
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
                sqlx::query("UPDATE inbox SET outcome = $1 WHERE id = $2")
                    .bind(outcome)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (alarm, at, disposition) in &batch.closed {
            sqlx::query("UPDATE alarms SET closed_at = $1, disposition = $2 WHERE id = $3")
                .bind(at)
                .bind(disposition.as_str())
                .bind(alarm)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn log(&self, alarm: AlarmId) -> Result<Vec<LogEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, body FROM alarm_events WHERE alarm_id = $1 ORDER BY seq",
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
                    seq: int(&r, "seq")? as u32,
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
        sqlx::query(&format!("SELECT * FROM alarms {filter} ORDER BY id"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(alarm_row)
            .collect()
    }

    async fn signals(&self, account: &str) -> Result<Vec<SignalRecord>> {
        sqlx::query("SELECT * FROM signals WHERE account = $1 ORDER BY id")
            .bind(account)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(signal_record)
            .collect()
    }

    async fn set_dc09_keys(&self, keys: &[(String, String)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (account, key) in keys {
            sqlx::query("UPDATE accounts SET dc09_key = $1 WHERE number = $2")
                .bind(key)
                .bind(account)
                .execute(&mut *tx)
                .await?;
        }
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
        let mut tx = self.pool.begin().await?;
        let replaced = sqlx::query(
            "UPDATE accounts SET password_hash = $1 WHERE number = $2 AND password_hash = $3",
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
        search::set_test_until(&self.pool, event, until).await
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
        unknown::resolve(&self.pool, id, resolution).await
    }

    async fn put_dealer(&self, dealer: &crate::Dealer) -> Result<()> {
        dealers::put(&self.pool, dealer).await
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
             created_at, phone, disabled, dealer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user(&self, name: &str) -> Result<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_row)
            .transpose()
    }

    async fn users(&self) -> Result<Vec<User>> {
        // Byte order, as SQLite sorts text, whatever collation the database was made with.
        sqlx::query("SELECT * FROM users ORDER BY name COLLATE \"C\"")
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
             locked_until = CASE WHEN $1::BIGINT IS NULL THEN locked_until \
                 ELSE GREATEST(locked_until, $1::BIGINT) END \
             WHERE name = $2 RETURNING *",
        )
        .bind(waits_until)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_row)
        .transpose()
    }

    async fn reset_login_failures(&self, name: &str) -> Result<()> {
        sqlx::query("UPDATE users SET failed_logins = 0 WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn lift_login_waits(&self, name: &str, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, waits_lifted_at = $1 \
             WHERE name = $2",
        )
        .bind(at)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn end_sessions(&self, name: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn put_session(&self, s: &SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_name, created_at, expires_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.token_hash)
        .bind(&s.user)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(s.last_seen)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>> {
        Ok(sqlx::query("SELECT * FROM sessions WHERE token_hash = $1")
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
        sqlx::query("UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(last_seen)
            .bind(expires_at)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: Millis) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn put_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (key_hash, account, label, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&k.key_hash)
        .bind(&k.account)
        .bind(&k.label)
        .bind(k.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn api_key(&self, key_hash: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT account FROM api_keys WHERE key_hash = $1")
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn api_keys(&self, account: Option<&str>) -> Result<Vec<ApiKeyRecord>> {
        Ok(sqlx::query(
            "SELECT * FROM api_keys WHERE $1::TEXT IS NULL OR account = $1 \
             ORDER BY account COLLATE \"C\", created_at, key_hash",
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
        sqlx::query("UPDATE api_keys SET last_used = $1 WHERE key_hash = $2")
            .bind(at)
            .bind(key_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_api_key(&self, key_hash: &str) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM api_keys WHERE key_hash = $1")
            .bind(key_hash)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    async fn put_audit(&self, e: &crate::AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.subject)
        .bind(&e.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn audit(&self, limit: i64) -> Result<Vec<crate::AuditEntry>> {
        Ok(
            sqlx::query("SELECT * FROM audit ORDER BY at DESC, id DESC LIMIT $1")
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
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (alarm, call_id) DO UPDATE SET \
             started_at = excluded.started_at, duration_ms = excluded.duration_ms, \
             bytes = excluded.bytes, file = excluded.file",
        )
        .bind(r.alarm)
        .bind(i64::from(r.call))
        .bind(r.started_at)
        .bind(i64::from(r.duration_ms))
        .bind(i64::try_from(r.bytes).unwrap_or(i64::MAX))
        .bind(&r.file)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn recordings(&self, alarm: AlarmId) -> Result<Vec<Recording>> {
        let rows: Vec<RecordingTuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM recordings WHERE alarm = $1 ORDER BY call_id"
        ))
        .bind(alarm)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Recording::from_tuple).collect()
    }

    async fn recording(&self, alarm: AlarmId, call: CallId) -> Result<Option<Recording>> {
        let row: Option<RecordingTuple> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM recordings WHERE alarm = $1 AND call_id = $2"
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
        retention::expire_signals(&self.pool, before, limit).await
    }

    async fn expire_alarms(&self, before: Millis, limit: i64) -> Result<u64> {
        retention::expire_alarms(&self.pool, before, limit).await
    }

    async fn expire_unknown_items(&self, before: Millis, limit: i64) -> Result<u64> {
        retention::expire_unknown(&self.pool, before, limit).await
    }

    async fn delete_recording(&self, alarm: AlarmId, call: CallId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM recordings WHERE alarm = $1 AND call_id = $2")
            .bind(alarm)
            .bind(i64::from(call))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
