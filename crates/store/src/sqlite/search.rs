//! Finding accounts by what an agent remembers of them (number, contact name, address), and
//! the log of what people did to an account outside its alarms, in SQLite.

use crate::{AccountEvent, Result};
use sqlx::Row;

/// `text` as a LIKE pattern matching it anywhere, lower case, its wildcards escaped.
fn anywhere(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub(super) async fn search(pool: &sqlx::SqlitePool, text: &str, limit: i64) -> Result<Vec<String>> {
    let pattern = anywhere(text);
    let rows = sqlx::query(
        "SELECT number FROM accounts WHERE LOWER(number) LIKE ? ESCAPE '\\' \
         OR LOWER(address) LIKE ? ESCAPE '\\' \
         UNION SELECT account FROM contacts WHERE LOWER(name) LIKE ? ESCAPE '\\' \
         ORDER BY 1 LIMIT ?",
    )
    .bind(&pattern)
    .bind(&pattern)
    .bind(&pattern)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(super) async fn log(pool: &sqlx::SqlitePool, e: &AccountEvent) -> Result<()> {
    sqlx::query("INSERT INTO account_events (account, at, actor, what) VALUES (?, ?, ?, ?)")
        .bind(&e.account)
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.what)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn events(
    pool: &sqlx::SqlitePool,
    account: &str,
    limit: i64,
) -> Result<Vec<AccountEvent>> {
    let rows = sqlx::query(
        "SELECT account, at, actor, what FROM account_events WHERE account = ? \
         ORDER BY at DESC, id DESC LIMIT ?",
    )
    .bind(account)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| AccountEvent {
            account: r.get("account"),
            at: r.get("at"),
            actor: r.get("actor"),
            what: r.get("what"),
        })
        .collect())
}
