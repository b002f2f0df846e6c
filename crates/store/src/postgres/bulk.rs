//! What a starting center reads in bulk, in PostgreSQL: the logs of all the open alarms it
//! takes over and their accounts' dealers, one statement each instead of one per alarm.

use super::int;
use crate::text::from_json;
use crate::{AlarmId, LogEntry, Result};
use sqlx::Row;
use std::collections::HashMap;

pub(super) async fn logs(
    pool: &sqlx::PgPool,
    alarms: &[AlarmId],
) -> Result<HashMap<AlarmId, Vec<LogEntry>>> {
    let rows = sqlx::query(
        "SELECT alarm_id, seq, at, actor, body FROM alarm_events \
         WHERE alarm_id = ANY($1) ORDER BY alarm_id, seq",
    )
    .bind(alarms)
    .fetch_all(pool)
    .await?;
    let mut logs: HashMap<AlarmId, Vec<LogEntry>> = HashMap::new();
    for r in rows {
        logs.entry(r.get("alarm_id")).or_default().push(LogEntry {
            seq: int(&r, "seq")? as u32,
            at: r.get("at"),
            actor: r.get("actor"),
            body: from_json("alarm_events.body", r.get("body"))?,
        });
    }
    Ok(logs)
}

pub(super) async fn dealers(
    pool: &sqlx::PgPool,
    numbers: &[String],
) -> Result<HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT number, dealer FROM accounts WHERE dealer IS NOT NULL AND number = ANY($1)",
    )
    .bind(numbers)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}
