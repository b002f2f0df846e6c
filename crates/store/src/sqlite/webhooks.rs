//! Webhook endpoints, outbox and deliveries in SQLite. Writes go through the one writer
//! connection, so the outbox rows of a batch are in its transaction.

use super::SqliteStore;
use crate::webhooks::ATTEMPTS_KEPT;
use crate::{Attempt, Endpoint, OutboxEvent, Pending, Result, Webhooks};
use async_trait::async_trait;
use sqlx::Row;
use watchpost_core::Millis;

/// Writes each event that some endpoint wants, with a pending row per such endpoint, in the
/// batch's transaction: two statements per chunk of events. Nothing is written when no
/// endpoint exists.
pub(super) async fn write_outbox(
    tx: &mut sqlx::SqliteConnection,
    outbox: &[OutboxEvent],
) -> Result<()> {
    if outbox.is_empty() {
        return Ok(());
    }
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM webhook_endpoints)")
        .fetch_one(&mut *tx)
        .await?;
    if !any {
        return Ok(());
    }
    for chunk in outbox.chunks(super::CHUNK) {
        // One pending row per event and endpoint that wants it, in outbox order, then the
        // events that got one.
        let mut pending = sqlx::QueryBuilder::new(
            "INSERT INTO webhook_pending (endpoint, event) SELECT e.id, v.column2 FROM (",
        );
        pending.push_values(chunk.iter().enumerate(), |mut row, (i, event)| {
            row.push_bind(i as i64)
                .push_bind(&event.id)
                .push_bind(format!("%,{},%", event.kind))
                .push_bind(&event.dealer);
        });
        pending.push(
            ") AS v JOIN webhook_endpoints e ON (e.dealer IS NULL OR e.dealer = v.column4) \
             AND e.events LIKE v.column3 ORDER BY v.column1, e.id",
        );
        if pending.build().execute(&mut *tx).await?.rows_affected() == 0 {
            continue;
        }
        let mut events = sqlx::QueryBuilder::new(
            "INSERT INTO webhook_events (id, type, account, dealer, alarm, created_at, body) \
             SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, \
             v.column7 FROM (",
        );
        events.push_values(chunk, |mut row, event| {
            row.push_bind(&event.id)
                .push_bind(&event.kind)
                .push_bind(&event.account)
                .push_bind(&event.dealer)
                .push_bind(event.alarm)
                .push_bind(event.created_at)
                .push_bind(&event.body);
        });
        events.push(
            ") AS v WHERE EXISTS (SELECT 1 FROM webhook_pending p WHERE p.event = v.column1)",
        );
        events.build().execute(&mut *tx).await?;
    }
    Ok(())
}

fn endpoint(r: &sqlx::sqlite::SqliteRow) -> Endpoint {
    Endpoint {
        id: r.get("id"),
        url: r.get("url"),
        secret: r.get("secret"),
        events: Endpoint::events_from(r.get("events")),
        dealer: r.get("dealer"),
        created_at: r.get("created_at"),
    }
}

fn attempt(r: &sqlx::sqlite::SqliteRow) -> Attempt {
    Attempt {
        endpoint: r.get("endpoint"),
        event: r.get("event"),
        kind: r.get("type"),
        at: r.get("at"),
        attempt: r.get::<i64, _>("attempt") as u32,
        status: r.get::<Option<i64>, _>("status").map(|s| s as u16),
        error: r.get("error"),
        delivered: r.get("delivered"),
    }
}

#[async_trait]
impl Webhooks for SqliteStore {
    async fn put_endpoint(&self, e: &Endpoint) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, url, secret, events, dealer, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&e.id)
        .bind(&e.url)
        .bind(&e.secret)
        .bind(e.events_column())
        .bind(&e.dealer)
        .bind(e.created_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn endpoints(&self) -> Result<Vec<Endpoint>> {
        let rows = sqlx::query("SELECT * FROM webhook_endpoints ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(endpoint).collect())
    }

    async fn set_endpoint_secrets(&self, secrets: &[(String, String)]) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        for (id, secret) in secrets {
            sqlx::query("UPDATE webhook_endpoints SET secret = ? WHERE id = ?")
                .bind(secret)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_endpoint(&self, id: &str) -> Result<bool> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM webhook_pending WHERE endpoint = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM webhook_attempts WHERE endpoint = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM webhook_events WHERE NOT EXISTS \
             (SELECT 1 FROM webhook_pending p WHERE p.event = webhook_events.id)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(gone > 0)
    }

    async fn pending(&self, endpoint: &str, limit: i64) -> Result<Vec<Pending>> {
        let rows = sqlx::query(
            "SELECT p.seq, p.endpoint, p.attempts, p.next_at, v.id, v.type, v.account, \
             v.dealer, v.alarm, v.created_at, v.body FROM webhook_pending p \
             JOIN webhook_events v ON v.id = p.event WHERE p.endpoint = ? ORDER BY p.seq LIMIT ?",
        )
        .bind(endpoint)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        // A round's deliveries wait for the sync that makes the round durable; the ones after
        // a held one wait too, so each endpoint still hears its events in order.
        let held = self.file.as_ref().map(|f| &f.held);
        Ok(rows
            .iter()
            .take_while(|r| held.is_none_or(|held| !held.holds(r.get("seq"))))
            .map(|r| Pending {
                seq: r.get("seq"),
                endpoint: r.get("endpoint"),
                attempts: r.get::<i64, _>("attempts") as u32,
                next_at: r.get("next_at"),
                event: OutboxEvent {
                    id: r.get("id"),
                    kind: r.get("type"),
                    account: r.get("account"),
                    dealer: r.get("dealer"),
                    alarm: r.get("alarm"),
                    created_at: r.get("created_at"),
                    body: r.get("body"),
                },
            })
            .collect())
    }

    async fn pending_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT endpoint, COUNT(*) FROM webhook_pending GROUP BY endpoint ORDER BY endpoint",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn record_attempt(&self, seq: i64, a: &Attempt, next_at: Millis) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO webhook_attempts \
             (endpoint, event, type, at, attempt, status, error, delivered) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&a.endpoint)
        .bind(&a.event)
        .bind(&a.kind)
        .bind(a.at)
        .bind(i64::from(a.attempt))
        .bind(a.status.map(i64::from))
        .bind(&a.error)
        .bind(a.delivered)
        .execute(&mut *tx)
        .await?;
        if a.delivered {
            sqlx::query("DELETE FROM webhook_pending WHERE seq = ?")
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM webhook_events WHERE id = ? AND NOT EXISTS \
                 (SELECT 1 FROM webhook_pending p WHERE p.event = ?)",
            )
            .bind(&a.event)
            .bind(&a.event)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE webhook_pending SET attempts = ?, next_at = ? WHERE seq = ?")
                .bind(i64::from(a.attempt))
                .bind(next_at)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE endpoint = ? AND id <= \
             (SELECT id FROM webhook_attempts WHERE endpoint = ? ORDER BY id DESC \
              LIMIT 1 OFFSET ?)",
        )
        .bind(&a.endpoint)
        .bind(&a.endpoint)
        .bind(ATTEMPTS_KEPT)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn attempts(&self, endpoint: &str, limit: i64) -> Result<Vec<Attempt>> {
        let rows = sqlx::query(
            "SELECT * FROM webhook_attempts WHERE endpoint = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(endpoint)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(attempt).collect())
    }

    async fn webhook_lease(&self, node: &str, now: Millis, until: Millis) -> Result<bool> {
        let held = sqlx::query(
            "UPDATE webhook_lease SET node = ?, expires_at = ? \
             WHERE id = 0 AND (node = ? OR expires_at < ?)",
        )
        .bind(node)
        .bind(until)
        .bind(node)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(held == 1)
    }
}
