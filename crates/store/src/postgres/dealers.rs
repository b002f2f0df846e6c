//! Dealers and the accounts each owns, in PostgreSQL.

use crate::{Dealer, Result};
use sqlx::Row;

fn dealer_row(r: &sqlx::postgres::PgRow) -> Dealer {
    Dealer {
        id: r.get("id"),
        name: r.get("name"),
        created_at: r.get("created_at"),
    }
}

pub(super) async fn put(writer: &sqlx::PgPool, d: &Dealer) -> Result<()> {
    sqlx::query(
        "INSERT INTO dealers (id, name, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
    )
    .bind(&d.id)
    .bind(&d.name)
    .bind(d.created_at)
    .execute(writer)
    .await?;
    Ok(())
}

pub(super) async fn one(pool: &sqlx::PgPool, id: &str) -> Result<Option<Dealer>> {
    Ok(sqlx::query("SELECT * FROM dealers WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(dealer_row))
}

pub(super) async fn all(pool: &sqlx::PgPool) -> Result<Vec<Dealer>> {
    Ok(sqlx::query("SELECT * FROM dealers ORDER BY id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(dealer_row)
        .collect())
}

pub(super) async fn accounts(
    pool: &sqlx::PgPool,
    dealer: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT number FROM accounts WHERE dealer = $1 AND number > $2 ORDER BY number LIMIT $3",
    )
    .bind(dealer)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
