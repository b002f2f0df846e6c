//! Coordination between nodes on SQLite. SQLite is one machine's file, so in practice one
//! node; the leases still fence off a previous process of the same center (and a second
//! process started on the same file by mistake).

use super::SqliteStore;
use crate::text::{from_json, json};
use crate::{
    AlarmId, AlarmVersion, Coordination, Inbound, InboxItem, Lease, LeaseRow, LogEntry, Partition,
    Result,
};
use async_trait::async_trait;
use watchpost_core::{Input, Millis};

#[async_trait]
impl Coordination for SqliteStore {
    async fn heartbeat(&self, node: &str, now: Millis) -> Result<()> {
        sqlx::query(
            "INSERT INTO nodes (name, seen_at) VALUES (?, ?) \
             ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(node)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn live_nodes(&self, since: Millis) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT name FROM nodes WHERE seen_at >= ? ORDER BY name")
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn leases(&self) -> Result<Vec<LeaseRow>> {
        let rows: Vec<(i64, String, i64, i64)> =
            sqlx::query_as("SELECT part, node, token, expires_at FROM leases ORDER BY part")
                .fetch_all(&self.writer)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(part, node, token, expires_at)| LeaseRow {
                partition: part as Partition,
                node,
                token,
                expires_at,
            })
            .collect())
    }

    async fn acquire(
        &self,
        partition: Partition,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Lease>> {
        let token: Option<i64> = sqlx::query_scalar(
            "UPDATE leases SET node = ?, token = token + 1, expires_at = ? \
             WHERE part = ? AND (expires_at < ? OR node = ?) RETURNING token",
        )
        .bind(node)
        .bind(until)
        .bind(i64::from(partition))
        .bind(now)
        .bind(node)
        .fetch_optional(&self.writer)
        .await?;
        Ok(token.map(|token| Lease { partition, token }))
    }

    async fn renew(&self, node: &str, held: &[Lease], until: Millis) -> Result<Vec<Lease>> {
        let mut still = Vec::with_capacity(held.len());
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        for lease in held {
            let renewed = sqlx::query(
                "UPDATE leases SET expires_at = ? WHERE part = ? AND token = ? AND node = ?",
            )
            .bind(until)
            .bind(i64::from(lease.partition))
            .bind(lease.token)
            .bind(node)
            .execute(&mut *tx)
            .await?;
            if renewed.rows_affected() == 1 {
                still.push(*lease);
            }
        }
        tx.commit().await?;
        Ok(still)
    }

    async fn release(&self, lease: Lease) -> Result<()> {
        sqlx::query("UPDATE leases SET expires_at = 0 WHERE part = ? AND token = ?")
            .bind(i64::from(lease.partition))
            .bind(lease.token)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn allocate_alarm_ids(&self, count: i64) -> Result<AlarmId> {
        let last: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + ? WHERE name = 'alarm_id' RETURNING value",
        )
        .bind(count)
        .fetch_one(&self.writer)
        .await?;
        Ok(last - count + 1)
    }

    async fn inbox(&self, partitions: &[Partition], limit: i64) -> Result<Vec<InboxItem>> {
        if partitions.is_empty() {
            return Ok(vec![]);
        }
        let mut query = sqlx::QueryBuilder::new(
            "SELECT id, part, body FROM inbox WHERE outcome IS NULL AND part IN (",
        );
        let mut list = query.separated(", ");
        for p in partitions {
            list.push_bind(i64::from(*p));
        }
        query.push(") ORDER BY id LIMIT ").push_bind(limit);
        let rows: Vec<(i64, i64, String)> = query.build_query_as().fetch_all(&self.writer).await?;
        rows.into_iter()
            .map(|(id, part, body)| {
                Ok(InboxItem {
                    id,
                    partition: part as Partition,
                    inbound: from_json("inbox.body", &body)?,
                })
            })
            .collect()
    }

    async fn post_command(
        &self,
        partition: Partition,
        at: Millis,
        alarm: AlarmId,
        input: &Input,
        actor: &str,
    ) -> Result<i64> {
        let body = json(&Inbound::Command {
            alarm,
            input: input.clone(),
            actor: actor.to_string(),
        });
        Ok(sqlx::query_scalar(
            "INSERT INTO inbox (part, posted_at, body) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(i64::from(partition))
        .bind(at)
        .bind(body)
        .fetch_one(&self.writer)
        .await?)
    }

    async fn command_outcome(&self, id: i64) -> Result<Option<String>> {
        let outcome: Option<Option<String>> =
            sqlx::query_scalar("SELECT outcome FROM inbox WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.writer)
                .await?;
        match outcome {
            Some(Some(outcome)) => {
                sqlx::query("DELETE FROM inbox WHERE id = ?")
                    .bind(id)
                    .execute(&self.writer)
                    .await?;
                Ok(Some(outcome))
            }
            Some(None) => Ok(None),
            None => Err(crate::StoreError::Corrupt(format!(
                "inbox item {id} is gone before its outcome was read"
            ))),
        }
    }

    async fn forget_answered(&self, before: Millis) -> Result<()> {
        sqlx::query("DELETE FROM inbox WHERE outcome IS NOT NULL AND posted_at < ?")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn alarm_versions(&self, closed_since: Millis) -> Result<Vec<AlarmVersion>> {
        let rows: Vec<(i64, String, Option<i64>, Option<i64>)> = sqlx::query_as(
            // Two index range reads (open, recently closed) rather than an OR, which could
            // scan every alarm ever kept.
            "SELECT a.id, a.account, a.closed_at, \
             (SELECT MAX(e.seq) FROM alarm_events e WHERE e.alarm_id = a.id) \
             FROM alarms a WHERE a.closed_at IS NULL \
             UNION ALL \
             SELECT a.id, a.account, a.closed_at, \
             (SELECT MAX(e.seq) FROM alarm_events e WHERE e.alarm_id = a.id) \
             FROM alarms a WHERE a.closed_at >= ?",
        )
        .bind(closed_since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(alarm, account, closed_at, last)| AlarmVersion {
                alarm,
                partition: crate::partition_of(&account),
                next_seq: last.map_or(0, |s| s as u32 + 1),
                open: closed_at.is_none(),
            })
            .collect())
    }

    async fn logs_from(&self, from: &[(AlarmId, u32)]) -> Result<Vec<(AlarmId, LogEntry)>> {
        let mut entries = Vec::new();
        for chunk in from.chunks(100) {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT alarm_id, CAST(seq AS BIGINT), at, actor, body FROM alarm_events WHERE ",
            );
            let mut or = query.separated(" OR ");
            for (alarm, seq) in chunk {
                or.push("(alarm_id = ")
                    .push_bind_unseparated(*alarm)
                    .push_unseparated(" AND seq >= ")
                    .push_bind_unseparated(i64::from(*seq))
                    .push_unseparated(")");
            }
            query.push(" ORDER BY alarm_id, seq");
            let rows: Vec<(i64, i64, i64, String, String)> =
                query.build_query_as().fetch_all(&self.pool).await?;
            for (alarm, seq, at, actor, body) in rows {
                let body = from_json("alarm_events.body", &body)?;
                entries.push((
                    alarm,
                    LogEntry {
                        seq: seq as u32,
                        at,
                        actor,
                        body,
                    },
                ));
            }
        }
        Ok(entries)
    }

    async fn record_heard(&self, heard: &[(String, Millis)]) -> Result<()> {
        // One row per account: an upsert may not touch the same row twice.
        let mut latest = std::collections::BTreeMap::new();
        for (account, at) in heard {
            let kept = latest.entry(account.as_str()).or_insert(*at);
            *kept = (*kept).max(*at);
        }
        let heard: Vec<(&str, Millis)> = latest.into_iter().collect();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in heard.chunks(200) {
            let mut insert =
                sqlx::QueryBuilder::new("INSERT INTO panels_heard (account, heard_at) ");
            insert.push_values(chunk, |mut row, (account, at)| {
                row.push_bind(account).push_bind(at);
            });
            insert.push(
                " ON CONFLICT (account) DO UPDATE SET heard_at = excluded.heard_at \
                 WHERE excluded.heard_at > panels_heard.heard_at",
            );
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn heard_since(&self, since: Millis) -> Result<Vec<(String, Millis)>> {
        Ok(
            sqlx::query_as("SELECT account, heard_at FROM panels_heard WHERE heard_at >= ?")
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
