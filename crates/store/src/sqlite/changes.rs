//! The account-change feed in SQLite (migration 0020): written beside every write of an
//! account, read by the receivers from where they left off, pruned by age.

use crate::{Result, now_ms};
use watchpost_core::Millis;

/// `numbers` as one bound JSON array: no limit on how many, one statement.
fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("a list serialises")
}

/// Adds a feed entry for each of `numbers`, in the caller's transaction.
pub(super) async fn record(tx: &mut sqlx::SqliteConnection, numbers: &[&str]) -> Result<()> {
    if numbers.is_empty() {
        return Ok(());
    }
    sqlx::query("INSERT INTO account_changes (account, at) SELECT value, ? FROM json_each(?)")
        .bind(now_ms())
        .bind(json_list(numbers))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

pub(super) async fn last(pool: &sqlx::SqlitePool) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM account_changes")
            .fetch_one(pool)
            .await?,
    )
}

pub(super) async fn after(
    pool: &sqlx::SqlitePool,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    Ok(
        sqlx::query_as("SELECT id, account FROM account_changes WHERE id > ? ORDER BY id LIMIT ?")
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn forget(writer: &sqlx::SqlitePool, before: Millis, limit: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM account_changes WHERE id IN \
         (SELECT id FROM account_changes WHERE at < ? ORDER BY at LIMIT ?)",
    )
    .bind(before)
    .bind(limit)
    .execute(writer)
    .await?
    .rows_affected())
}

pub(super) async fn settings(
    pool: &sqlx::SqlitePool,
    numbers: &[String],
) -> Result<Vec<(String, Option<String>, Option<Millis>)>> {
    Ok(sqlx::query_as(
        "SELECT number, dc09_key, supervision_ms FROM accounts \
         WHERE number IN (SELECT value FROM json_each(?))",
    )
    .bind(json_list(numbers))
    .fetch_all(pool)
    .await?)
}
