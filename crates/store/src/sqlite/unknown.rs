//! Unknown-account items in SQLite: joined or opened within a batch's transaction, listed,
//! resolved once.

use crate::text::{from_json, from_text, json, to_text};
use crate::{Outcome, Resolution, Result, UnknownItem, UnknownSignal, joined_kind};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Joins each signal to its number's open item, or opens one (inside the batch's transaction).
pub(super) async fn write(
    tx: &mut sqlx::SqliteConnection,
    unknown: &[UnknownSignal],
) -> Result<()> {
    for u in unknown {
        let s = &u.signal;
        let open: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, kind FROM unknown_accounts WHERE account = ? AND resolved_at IS NULL \
             ORDER BY id LIMIT 1",
        )
        .bind(&s.account)
        .fetch_optional(&mut *tx)
        .await?;
        match open {
            Some((id, kind)) => {
                let kind = joined_kind(from_text("unknown_accounts.kind", &kind)?, u.kind);
                sqlx::query(
                    "UPDATE unknown_accounts SET count = count + 1, last_at = ?, kind = ?, \
                     source = ?, line = ?, raw = ?, event = ? WHERE id = ?",
                )
                .bind(s.received_at)
                .bind(to_text(&kind))
                .bind(&s.source)
                .bind(&u.line)
                .bind(&s.raw)
                .bind(json(&s.event))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO unknown_accounts \
                     (account, received_at, last_at, kind, source, line, raw, event, count) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                )
                .bind(&s.account)
                .bind(s.received_at)
                .bind(s.received_at)
                .bind(to_text(&u.kind))
                .bind(&s.source)
                .bind(&u.line)
                .bind(&s.raw)
                .bind(json(&s.event))
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    Ok(())
}

pub(super) fn item(r: &SqliteRow) -> Result<UnknownItem> {
    let kind: watchpost_core::AlarmKind = from_text("unknown_accounts.kind", r.get("kind"))?;
    let outcome: Option<String> = r.get("outcome");
    let resolution = match outcome {
        Some(outcome) => Some(Resolution {
            outcome: from_text::<Outcome>("unknown_accounts.outcome", &outcome)?,
            account: r.get("resolved_account"),
            reason: r.get("reason"),
            by: r
                .get::<Option<String>, _>("resolved_by")
                .unwrap_or_default(),
            at: r.get::<Option<i64>, _>("resolved_at").unwrap_or_default(),
        }),
        None => None,
    };
    Ok(UnknownItem {
        id: r.get("id"),
        account: r.get("account"),
        received_at: r.get("received_at"),
        last_at: r.get("last_at"),
        kind,
        priority: kind.priority(),
        source: r.get("source"),
        line: r.get("line"),
        raw: r.get("raw"),
        event: from_json("unknown_accounts.event", r.get("event"))?,
        count: r.get::<i64, _>("count") as u32,
        resolution,
    })
}

pub(super) async fn list(pool: &sqlx::SqlitePool, all: bool) -> Result<Vec<UnknownItem>> {
    let sql = if all {
        "SELECT * FROM unknown_accounts ORDER BY id"
    } else {
        "SELECT * FROM unknown_accounts WHERE resolved_at IS NULL ORDER BY id"
    };
    sqlx::query(sql)
        .fetch_all(pool)
        .await?
        .iter()
        .map(item)
        .collect()
}

pub(super) async fn one(pool: &sqlx::SqlitePool, id: i64) -> Result<Option<UnknownItem>> {
    sqlx::query("SELECT * FROM unknown_accounts WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(item)
        .transpose()
}

pub(super) async fn resolve(pool: &sqlx::SqlitePool, id: i64, r: &Resolution) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE unknown_accounts SET outcome = ?, resolved_account = ?, reason = ?, \
         resolved_by = ?, resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
    )
    .bind(to_text(&r.outcome))
    .bind(&r.account)
    .bind(&r.reason)
    .bind(&r.by)
    .bind(r.at)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
