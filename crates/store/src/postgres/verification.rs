//! Verbal-password checks in PostgreSQL, shared by every node: locking the account's row for
//! the transaction (`FOR UPDATE`, which CockroachDB and YugabyteDB also take) makes counting
//! and recording atomic across nodes.

use super::PgStore;
use crate::verification::retry_at;
use crate::{Miss, MissLimit, PasswordCheck, Reservation, Result, Verification};
use async_trait::async_trait;
use watchpost_core::Millis;

#[async_trait]
impl Verification for PgStore {
    async fn reserve_password_check(
        &self,
        check: &PasswordCheck,
        limit: MissLimit,
    ) -> Result<Reservation> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT number FROM accounts WHERE number = $1 FOR UPDATE")
            .bind(&check.account)
            .execute(&mut *tx)
            .await?;
        let misses: Vec<Millis> = sqlx::query_scalar(
            "SELECT at FROM password_attempts WHERE account = $1 AND at > $2 \
             AND (matched IS NULL OR NOT matched) ORDER BY at DESC",
        )
        .bind(&check.account)
        .bind(check.at - limit.window_ms)
        .fetch_all(&mut *tx)
        .await?;
        if let Some(retry_at) = retry_at(&misses, limit) {
            return Ok(Reservation::Refused { retry_at });
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO password_attempts (account, alarm, call_id, agent, at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&check.account)
        .bind(check.alarm)
        .bind(i64::from(check.call))
        .bind(&check.agent)
        .bind(check.at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Reservation::Granted(id))
    }

    async fn settle_password_check(&self, id: i64, matched: bool) -> Result<()> {
        sqlx::query("UPDATE password_attempts SET matched = $1 WHERE id = $2")
            .bind(matched)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn password_misses(&self, account: Option<&str>, since: Millis) -> Result<Vec<Miss>> {
        let rows: Vec<(String, i64, Millis)> = sqlx::query_as(
            "SELECT account, alarm, at FROM password_attempts WHERE at >= $1 \
             AND ($2::TEXT IS NULL OR account = $2) AND (matched IS NULL OR NOT matched) \
             ORDER BY at, id",
        )
        .bind(since)
        .bind(account)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account, alarm, at)| Miss { account, alarm, at })
            .collect())
    }
}
