//! Plan sets in SQLite: each change bumps the stamp in the same transaction, so a node that
//! sees the stamp move reads every change that moved it.

use super::SqliteStore;
use crate::{PlanScope, PlanVersion, Plans, RequiredScenario, Result};
use async_trait::async_trait;
use sqlx::Row;

fn version_row(r: &sqlx::sqlite::SqliteRow) -> PlanVersion {
    PlanVersion {
        name: r.get("name"),
        version: r.get::<i64, _>("version") as u32,
        text: r.get("text"),
        changed_by: r.get("changed_by"),
        changed_at: r.get("changed_at"),
        note: r.get("note"),
    }
}

const BUMP: &str = "UPDATE plans_stamp SET stamp = stamp + 1 WHERE id = 1";

#[async_trait]
impl Plans for SqliteStore {
    async fn put_plan_version(&self, v: &PlanVersion) -> Result<bool> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // Only the next version: two loads at once cannot both become it.
        let inserted = sqlx::query(
            "INSERT INTO plan_versions (name, version, text, changed_by, changed_at, note) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE ?2 = 1 + COALESCE( \
             (SELECT MAX(version) FROM plan_versions WHERE name = ?1), 0) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&v.name)
        .bind(i64::from(v.version))
        .bind(&v.text)
        .bind(&v.changed_by)
        .bind(v.changed_at)
        .bind(&v.note)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if inserted {
            sqlx::query(BUMP).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn plan_versions(&self, name: &str) -> Result<Vec<PlanVersion>> {
        Ok(
            sqlx::query("SELECT * FROM plan_versions WHERE name = ?1 ORDER BY version")
                .bind(name)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(version_row)
                .collect(),
        )
    }

    async fn latest_plans(&self) -> Result<Vec<PlanVersion>> {
        Ok(sqlx::query(
            "SELECT * FROM plan_versions v WHERE version = \
             (SELECT MAX(version) FROM plan_versions WHERE name = v.name) ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(version_row)
        .collect())
    }

    async fn assign_plan(&self, scope: &PlanScope, plan: Option<&str>) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        match plan {
            Some(plan) => {
                sqlx::query(
                    "INSERT INTO plan_assignments (scope, plan) VALUES (?1, ?2) \
                     ON CONFLICT (scope) DO UPDATE SET plan = excluded.plan",
                )
                .bind(scope.key())
                .bind(plan)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM plan_assignments WHERE scope = ?1")
                    .bind(scope.key())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn plan_assignments(&self) -> Result<Vec<(PlanScope, String)>> {
        let rows = sqlx::query("SELECT scope, plan FROM plan_assignments ORDER BY scope")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let scope: String = r.get("scope");
                Some((PlanScope::parse(&scope)?, r.get("plan")))
            })
            .collect())
    }

    async fn put_required_scenario(&self, s: &RequiredScenario) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO plan_required_scenarios (plan, name, text) VALUES (?1, ?2, ?3) \
             ON CONFLICT (plan, name) DO UPDATE SET text = excluded.text",
        )
        .bind(&s.plan)
        .bind(&s.name)
        .bind(&s.text)
        .execute(&mut *tx)
        .await?;
        sqlx::query(BUMP).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn required_scenarios(&self, plan: &str) -> Result<Vec<RequiredScenario>> {
        let rows = sqlx::query(
            "SELECT plan, name, text FROM plan_required_scenarios WHERE plan = ?1 ORDER BY name",
        )
        .bind(plan)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| RequiredScenario {
                plan: r.get("plan"),
                name: r.get("name"),
                text: r.get("text"),
            })
            .collect())
    }

    async fn plans_stamp(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT stamp FROM plans_stamp WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
