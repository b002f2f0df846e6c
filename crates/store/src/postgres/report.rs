//! The period report's facts in PostgreSQL: each log entry is read as `jsonb` once.

use super::PgStore;
use crate::Result;
use crate::report::{ReportQuery, Reports, facts_of};
use async_trait::async_trait;
use futures::TryStreamExt;
use watchpost_core::period_report::AlarmFacts;

facts_of!(sqlx::postgres::PgRow);

/// The same query as SQLite's (`sqlite/report.rs` shows the entries' shapes).
const QUERY: &str = "SELECT a.id, a.account, a.kind, a.opened_at, \
     COALESCE(MAX(CASE WHEN j.body #>> '{action,action}' = 'close' \
         THEN j.body #>> '{action,disposition}' END), a.disposition) AS disposition, \
     COALESCE(MIN(CASE WHEN j.body #>> '{action,action}' = 'close' THEN e.at END), \
         a.closed_at) AS closed_at, \
     MIN(CASE WHEN j.body #>> '{input,input}' = 'call_placed' THEN e.at END) AS first_call_at, \
     MIN(CASE WHEN j.body #>> '{action,action}' = 'request_dispatch' THEN e.at END) \
         AS first_dispatch_at, \
     MAX(CASE WHEN j.body #>> '{input,input}' = 'agent_close' \
         THEN j.body #>> '{input,resolution}' END) AS resolution, \
     MAX(CASE WHEN e.seq = 0 AND j.body #>> '{spec,plan,silent}' = 'true' THEN 1 ELSE 0 END)::BIGINT \
         AS silent \
     FROM alarms a LEFT JOIN alarm_events e ON e.alarm_id = a.id \
     LEFT JOIN LATERAL (SELECT e.body::jsonb AS body) j ON TRUE \
     WHERE a.opened_at >= $1 AND a.opened_at < $2 \
       AND ($3::TEXT IS NULL OR a.account IN (SELECT number FROM accounts WHERE dealer = $3)) \
       AND ($4::TEXT IS NULL OR a.account = $4) \
     GROUP BY a.id ORDER BY a.id";

#[async_trait]
impl Reports for PgStore {
    async fn report_alarms(&self, query: &ReportQuery) -> Result<Vec<AlarmFacts>> {
        let (dealer, account) = query.binds();
        // Row by row: a long period's rows are never all held at once, only their facts.
        Ok(sqlx::query(QUERY)
            .bind(query.from)
            .bind(query.to)
            .bind(dealer)
            .bind(account)
            .fetch(&self.pool)
            .map_ok(|row| facts(&row))
            .try_collect()
            .await?)
    }
}
