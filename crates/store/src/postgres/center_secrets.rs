//! The center's sealed secrets in PostgreSQL (`crate::center_secrets`): the first node to
//! store the pepper wins, and every other node reads it back.

use super::PgStore;
use crate::{CenterSecrets, Result};
use async_trait::async_trait;

#[async_trait]
impl CenterSecrets for PgStore {
    async fn center_secret(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM center_secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn keep_center_secret(&self, name: &str, sealed: &str) -> Result<String> {
        // Insert if absent, then read: a node that lost the race reads the winner's row
        // (the primary key makes the insert of the loser a no-op).
        sqlx::query(
            "INSERT INTO center_secrets (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(sealed)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM center_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn set_center_secret(&self, name: &str, sealed: &str) -> Result<()> {
        sqlx::query("UPDATE center_secrets SET value = $1 WHERE name = $2")
            .bind(sealed)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
