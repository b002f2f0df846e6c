//! The account-change feed in PostgreSQL (migration 0020): written beside every write of an
//! account, read by the receivers from where they left off, pruned by age.

use crate::{Result, now_ms};
use sqlx::Row;
use watchpost_core::Millis;

/// Adds a feed entry for each of `numbers`, in the caller's transaction.
pub(super) async fn record(tx: &mut sqlx::PgConnection, numbers: &[&str]) -> Result<()> {
    if numbers.is_empty() {
        return Ok(());
    }
    sqlx::query("INSERT INTO account_changes (account, at) SELECT unnest($1::text[]), $2")
        .bind(numbers)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(super) async fn last(pool: &sqlx::PgPool) -> Result<i64> {
    let row = sqlx::query("SELECT COALESCE(MAX(id), 0)::BIGINT AS last FROM account_changes")
        .fetch_one(pool)
        .await?;
    Ok(row.get("last"))
}

pub(super) async fn after(
    pool: &sqlx::PgPool,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(
        sqlx::query_as(
            "SELECT id, account FROM account_changes WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?,
    )
}

pub(super) async fn forget(pool: &sqlx::PgPool, before: Millis, limit: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM account_changes WHERE id IN \
         (SELECT id FROM account_changes WHERE at < $1 ORDER BY at LIMIT $2)",
    )
    .bind(before)
    .bind(limit)
    .execute(pool)
    .await?
    .rows_affected())
}

pub(super) async fn settings(
    pool: &sqlx::PgPool,
    numbers: &[String],
) -> Result<Vec<(String, Option<String>, Option<Millis>)>> {
    Ok(sqlx::query_as(
        "SELECT number, dc09_key, supervision_ms FROM accounts WHERE number = ANY($1)",
    )
    .bind(numbers)
    .fetch_all(pool)
    .await?)
}
