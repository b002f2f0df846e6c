//! The center's sealed secrets in SQLite (`crate::center_secrets`).

use super::SqliteStore;
use crate::{CenterSecrets, Result};
use async_trait::async_trait;

#[async_trait]
impl CenterSecrets for SqliteStore {
    async fn center_secret(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM center_secrets WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn keep_center_secret(&self, name: &str, sealed: &str) -> Result<String> {
        // One statement on the one writer: the row written, or the one already there.
        Ok(sqlx::query_scalar(
            "INSERT INTO center_secrets (name, value) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET value = value RETURNING value",
        )
        .bind(name)
        .bind(sealed)
        .fetch_one(&self.writer)
        .await?)
    }

    async fn set_center_secret(&self, name: &str, sealed: &str) -> Result<()> {
        sqlx::query("UPDATE center_secrets SET value = ? WHERE name = ?")
            .bind(sealed)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
