//! What a center reads in bulk, in SQLite: at a start the logs of all the open alarms it
//! takes over and their accounts' dealers, each round the accounts it received signals for:
//! one statement each instead of one per alarm or account.

use crate::text::{from_json, from_text};
use crate::{AlarmId, LogEntry, Result};
use sqlx::Row;
use std::collections::HashMap;
use watchpost_core::Account;
use watchpost_core::account::{Contact, Zone};

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

/// Those of `numbers` enrolled, with their contacts and zones in order: one statement (so one
/// snapshot), its contacts and zones as JSON arrays. Each round reads its accounts here, and
/// through sqlx every statement is a hand-off to its connection's thread and back: with
/// traffic from 100,000 accounts (rounds of a few signals, none of their accounts cached) the
/// five of three statements in a transaction were a third of `serve`'s CPU, most of it
/// switching threads.
pub(super) async fn accounts(pool: &sqlx::SqlitePool, numbers: &[String]) -> Result<Vec<Account>> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT a.*, \
         (SELECT json_group_array(json_array(name, phone, phone2)) FROM (SELECT name, phone, \
             phone2 FROM contacts WHERE account = a.number ORDER BY position)) AS contacts_json, \
         (SELECT json_group_array(json_array(zone, device)) FROM (SELECT zone, device \
             FROM zones WHERE account = a.number ORDER BY zone)) AS zones_json \
         FROM accounts a WHERE a.number IN (SELECT value FROM json_each(?))",
    )
    .bind(serde_json::to_string(numbers).expect("numbers serialise"))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let contacts: Vec<(String, String, Option<String>)> =
                from_json("contacts", &row.get::<String, _>("contacts_json"))?;
            let zones: Vec<(u32, String)> =
                from_json("zones", &row.get::<String, _>("zones_json"))?;
            super::account_row(
                row,
                contacts
                    .into_iter()
                    .map(|(name, phone, phone2)| Contact {
                        name,
                        phone,
                        phone2,
                    })
                    .collect(),
                zones
                    .into_iter()
                    .map(|(zone, device)| {
                        Ok(Zone {
                            zone,
                            device: from_text("zones.device", &device)?,
                        })
                    })
                    .collect::<Result<_>>()?,
            )
        })
        .collect()
}
