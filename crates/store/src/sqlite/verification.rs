//! Verbal-password checks in SQLite. The writer is one connection, so counting and recording
//! in one transaction there is atomic for the whole process.

use super::SqliteStore;
use crate::verification::retry_at;
use crate::{Miss, MissLimit, PasswordCheck, Reservation, Result, Verification};
use async_trait::async_trait;
use watchpost_core::Millis;

#[async_trait]
impl Verification for SqliteStore {
    async fn reserve_password_check(
        &self,
        check: &PasswordCheck,
        limit: MissLimit,
    ) -> Result<Reservation> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let misses: Vec<Millis> = sqlx::query_scalar(
            "SELECT at FROM password_attempts WHERE account = ? AND at > ? \
             AND (matched IS NULL OR NOT matched) ORDER BY at DESC",
        )
        .bind(&check.account)
        .bind(check.at - limit.window_ms)
        .fetch_all(&mut *tx)
        .await?;
        if let Some(retry_at) = retry_at(&misses, limit) {
            return Ok(Reservation::Refused { retry_at });
        }
        let id = sqlx::query(
            "INSERT INTO password_attempts (account, alarm, call_id, agent, at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&check.account)
        .bind(check.alarm)
        .bind(i64::from(check.call))
        .bind(&check.agent)
        .bind(check.at)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        tx.commit().await?;
        Ok(Reservation::Granted(id))
    }

    async fn settle_password_check(&self, id: i64, matched: bool) -> Result<()> {
        sqlx::query("UPDATE password_attempts SET matched = ? WHERE id = ?")
            .bind(matched)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn password_misses(&self, account: Option<&str>, since: Millis) -> Result<Vec<Miss>> {
        let rows: Vec<(String, i64, Millis)> = sqlx::query_as(
            "SELECT account, alarm, at FROM password_attempts WHERE at >= ? \
             AND (? IS NULL OR account = ?) AND (matched IS NULL OR NOT matched) \
             ORDER BY at, id",
        )
        .bind(since)
        .bind(account)
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account, alarm, at)| Miss { account, alarm, at })
            .collect())
    }
}
