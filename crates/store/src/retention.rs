//! What the retention sweep deletes, in small batches, the same way in both backends (README,
//! "Retention"): signals of accounts with no open alarm, closed alarms with their log and
//! verbal-password checks, resolved unknown-account items. Every delete is idempotent and
//! counts only the rows it removed, so nodes sweeping one database at once add up right.
//!
//! The SQL is written once with `?` and numbered for PostgreSQL by `numbered`.

/// A batch of signals received before `?1`, of accounts with no open alarm (their signals stay
/// while an alarm of theirs is open), oldest first, at most `?2`. The newest signal always
/// stays: SQLite gives a new row the largest id plus one, and the fold of SQLite's intake
/// (`sqlite/fold.rs`) needs ids that never come back.
pub(crate) const EXPIRE_SIGNALS: &str = "DELETE FROM signals WHERE id IN (\
     SELECT s.id FROM signals s WHERE s.received_at < ? AND NOT EXISTS (\
         SELECT 1 FROM alarms a WHERE a.account = s.account AND a.closed_at IS NULL) \
     AND s.id < (SELECT MAX(id) FROM signals) \
     ORDER BY s.received_at LIMIT ?)";

/// Alarms closed before `?1`, at most `?2`, that nothing still needs: no recording is listed
/// (the recordings sweep deletes the files first, so no file outlives its row) and no webhook
/// event is still owed to an endpoint.
pub(crate) const EXPIRING_ALARMS: &str = "SELECT a.id FROM alarms a \
     WHERE a.closed_at IS NOT NULL AND a.closed_at < ? \
     AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.alarm = a.id) \
     AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.alarm = a.id) \
     ORDER BY a.closed_at LIMIT ?";

/// What refers to an alarm, deleted before it (the log's foreign key), each with the column
/// that holds the alarm's id; the alarm itself last.
pub(crate) const ALARM_ROWS: [(&str, &str); 3] = [
    ("alarm_events", "alarm_id"),
    ("password_attempts", "alarm"),
    ("alarms", "id"),
];

/// A batch of unknown-account items resolved before `?1`, at most `?2` (open ones stay).
pub(crate) const EXPIRE_UNKNOWN: &str = "DELETE FROM unknown_accounts WHERE id IN (\
     SELECT id FROM unknown_accounts WHERE resolved_at IS NOT NULL AND resolved_at < ? \
     ORDER BY id LIMIT ?)";

/// Recordings to delete: started before `?1`, or of an alarm closed before `?2` (which the
/// alarms' sweep removes next), of closed alarms only, oldest first, at most `?3`.
pub(crate) const EXPIRED_RECORDINGS: &str = "SELECT r.alarm, r.call_id, r.started_at, r.duration_ms, r.bytes, r.file \
     FROM recordings r JOIN alarms a ON a.id = r.alarm \
     WHERE a.closed_at IS NOT NULL AND (r.started_at < ? OR a.closed_at < ?) \
     ORDER BY r.started_at LIMIT ?";

/// `DELETE FROM table WHERE column IN (?, ?, …)` for `n` ids.
pub(crate) fn delete_ids(table: &str, column: &str, n: usize) -> String {
    let marks = vec!["?"; n].join(", ");
    format!("DELETE FROM {table} WHERE {column} IN ({marks})")
}

/// `sql` with its `?` numbered `$1`, `$2`… as PostgreSQL wants them (none of these statements
/// holds a `?` inside a string).
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// The store methods of the sweep for one backend: `$pool` its pool type, `$sql` what makes
/// its SQL from the `?` form, `$begin` the statement that starts a transaction that reads
/// then writes (SQLite: `BEGIN IMMEDIATE`, so a snapshot is never stale when it comes to
/// write). One body for both backends, so they cannot drift apart.
macro_rules! sweep_methods {
    ($pool:ty, $sql:expr, $begin:expr) => {
        pub(crate) async fn expire_signals(
            pool: &$pool,
            before: watchpost_core::Millis,
            limit: i64,
        ) -> crate::Result<u64> {
            expire(pool, &$sql(crate::retention::EXPIRE_SIGNALS), before, limit).await
        }

        pub(crate) async fn expire_unknown(
            pool: &$pool,
            before: watchpost_core::Millis,
            limit: i64,
        ) -> crate::Result<u64> {
            expire(pool, &$sql(crate::retention::EXPIRE_UNKNOWN), before, limit).await
        }

        /// Runs one of the single-statement expiries (`before`, `limit` bound in that order).
        async fn expire(
            pool: &$pool,
            sql: &str,
            before: watchpost_core::Millis,
            limit: i64,
        ) -> crate::Result<u64> {
            let done = sqlx::query(sql)
                .bind(before)
                .bind(limit)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        }

        /// One transaction: the batch's alarms and what refers to them go together.
        pub(crate) async fn expire_alarms(
            pool: &$pool,
            before: watchpost_core::Millis,
            limit: i64,
        ) -> crate::Result<u64> {
            let mut tx = pool.begin_with($begin).await?;
            let ids: Vec<i64> = sqlx::query_scalar(&$sql(crate::retention::EXPIRING_ALARMS))
                .bind(before)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            if ids.is_empty() {
                return Ok(0);
            }
            let mut removed = 0;
            for (table, column) in crate::retention::ALARM_ROWS {
                let sql = $sql(&crate::retention::delete_ids(table, column, ids.len()));
                let mut query = sqlx::query(&sql);
                for id in &ids {
                    query = query.bind(id);
                }
                removed = query.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(removed)
        }

        pub(crate) async fn expired_recordings(
            pool: &$pool,
            before: watchpost_core::Millis,
            alarms_closed_before: watchpost_core::Millis,
            limit: i64,
        ) -> crate::Result<Vec<crate::Recording>> {
            let rows: Vec<crate::recording::RecordingTuple> =
                sqlx::query_as(&$sql(crate::retention::EXPIRED_RECORDINGS))
                    .bind(before)
                    .bind(alarms_closed_before)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
            rows.into_iter().map(crate::Recording::from_tuple).collect()
        }
    };
}
pub(crate) use sweep_methods;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(
            numbered(&delete_ids("alarms", "id", 3)),
            "DELETE FROM alarms WHERE id IN ($1, $2, $3)"
        );
        assert_eq!(numbered(EXPIRE_UNKNOWN).matches('$').count(), 2);
        assert!(!numbered(EXPIRED_RECORDINGS).contains('?'));
    }
}
