//! What a center reads in bulk, in SQLite: at a start the logs of all the open alarms it
//! takes over and their accounts' dealers, each round the accounts it received signals for:
//! one statement each instead of one per alarm or account.

use crate::text::from_json;
use crate::{AlarmId, LogEntry, Result};
use sqlx::Row;
use std::collections::HashMap;
use watchpost_core::Account;

pub(super) async fn logs(
    pool: &sqlx::SqlitePool,
    alarms: &[AlarmId],
) -> Result<HashMap<AlarmId, Vec<LogEntry>>> {
    let rows = sqlx::query(
        "SELECT alarm_id, seq, at, actor, body FROM alarm_events \
         WHERE alarm_id IN (SELECT value FROM json_each(?)) ORDER BY alarm_id, seq",
    )
    .bind(serde_json::to_string(alarms).expect("ids serialise"))
    .fetch_all(pool)
    .await?;
    let mut logs: HashMap<AlarmId, Vec<LogEntry>> = HashMap::new();
    for r in rows {
        logs.entry(r.get("alarm_id")).or_default().push(LogEntry {
            seq: r.get::<i64, _>("seq") as u32,
            at: r.get("at"),
            actor: r.get("actor"),
            body: from_json("alarm_events.body", r.get("body"))?,
        });
    }
    Ok(logs)
}

pub(super) async fn dealers(
    pool: &sqlx::SqlitePool,
    numbers: &[String],
) -> Result<HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT number, dealer FROM accounts \
         WHERE dealer IS NOT NULL AND number IN (SELECT value FROM json_each(?))",
    )
    .bind(serde_json::to_string(numbers).expect("numbers serialise"))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Those of `numbers` enrolled, with their contacts and zones in order: three statements, in
/// one read transaction so the three agree.
pub(super) async fn accounts(pool: &sqlx::SqlitePool, numbers: &[String]) -> Result<Vec<Account>> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let numbers = serde_json::to_string(numbers).expect("numbers serialise");
    let mut tx = pool.begin().await?;
    let rows =
        sqlx::query("SELECT * FROM accounts WHERE number IN (SELECT value FROM json_each(?))")
            .bind(&numbers)
            .fetch_all(&mut *tx)
            .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut contacts: HashMap<String, Vec<_>> = HashMap::new();
    for r in sqlx::query(
        "SELECT account, name, phone, phone2 FROM contacts \
         WHERE account IN (SELECT value FROM json_each(?)) ORDER BY account, position",
    )
    .bind(&numbers)
    .fetch_all(&mut *tx)
    .await?
    {
        contacts
            .entry(r.get("account"))
            .or_default()
            .push(super::contact(&r));
    }
    let mut zones: HashMap<String, Vec<_>> = HashMap::new();
    for r in sqlx::query(
        "SELECT account, zone, device FROM zones \
         WHERE account IN (SELECT value FROM json_each(?)) ORDER BY account, zone",
    )
    .bind(&numbers)
    .fetch_all(&mut *tx)
    .await?
    {
        zones
            .entry(r.get("account"))
            .or_default()
            .push(super::zone(&r)?);
    }
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            let number: String = row.get("number");
            super::account_row(
                row,
                contacts.remove(&number).unwrap_or_default(),
                zones.remove(&number).unwrap_or_default(),
            )
        })
        .collect()
}
