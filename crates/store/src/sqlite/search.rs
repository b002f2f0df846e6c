//! Finding accounts by what an agent remembers of them (number, contact name, address), and
//! the log of what people did to an account outside its alarms, in SQLite.

use crate::{AccountEvent, AlarmRow, Result, SignalRecord};
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

/// Sets the account's `test_until` alone (an admin's edit of the rest made meanwhile stays)
/// and records `e`, in one transaction; false, writing nothing, when no such account exists.
pub(super) async fn set_test_until(
    pool: &sqlx::SqlitePool,
    e: &AccountEvent,
    until: Option<i64>,
) -> Result<bool> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let updated = sqlx::query("UPDATE accounts SET test_until = ? WHERE number = ?")
        .bind(until)
        .bind(&e.account)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO account_events (account, at, actor, what) VALUES (?, ?, ?, ?)")
        .bind(&e.account)
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.what)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
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

/// The account's most recent alarms, newest first (the `alarms_by_account` index).
pub(super) async fn recent_alarms(
    pool: &sqlx::SqlitePool,
    account: &str,
    limit: i64,
) -> Result<Vec<AlarmRow>> {
    let rows = sqlx::query(
        "SELECT * FROM alarms WHERE account = ? ORDER BY opened_at DESC, id DESC LIMIT ?",
    )
    .bind(account)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(super::alarm_row).collect())
}

/// The account's most recent signals, newest first (`signal_accounts`, and what is not folded
/// into it yet).
pub(super) async fn recent_signals(
    pool: &sqlx::SqlitePool,
    account: &str,
    limit: i64,
) -> Result<Vec<SignalRecord>> {
    let rows = sqlx::query(super::fold::RECENT_SIGNALS)
        .bind(account)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(super::signal_record).collect()
}
