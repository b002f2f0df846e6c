//! Dealers and the accounts each owns, in SQLite.

use crate::{Dealer, Result};
use sqlx::Row;

fn dealer_row(r: &sqlx::sqlite::SqliteRow) -> Dealer {
    Dealer {
        id: r.get("id"),
        name: r.get("name"),
        created_at: r.get("created_at"),
    }
}

pub(super) async fn put(writer: &sqlx::SqlitePool, d: &Dealer) -> Result<()> {
    sqlx::query(
        "INSERT INTO dealers (id, name, created_at) VALUES (?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
    )
    .bind(&d.id)
    .bind(&d.name)
    .bind(d.created_at)
    .execute(writer)
    .await?;
    Ok(())
}

pub(super) async fn one(pool: &sqlx::SqlitePool, id: &str) -> Result<Option<Dealer>> {
    Ok(sqlx::query("SELECT * FROM dealers WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(dealer_row))
}

pub(super) async fn all(pool: &sqlx::SqlitePool) -> Result<Vec<Dealer>> {
    Ok(sqlx::query("SELECT * FROM dealers ORDER BY id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(dealer_row)
        .collect())
}

pub(super) async fn accounts(
    pool: &sqlx::SqlitePool,
    dealer: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT number FROM accounts WHERE dealer = ? AND number > ? ORDER BY number LIMIT ?",
    )
    .bind(dealer)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
