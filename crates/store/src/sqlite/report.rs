//! The period report's facts in SQLite: `json_extract` reads each log entry where it lies.

use super::SqliteStore;
use crate::Result;
use crate::report::{ReportQuery, Reports, facts_of};
use async_trait::async_trait;
use futures::TryStreamExt;
use watchpost_core::period_report::AlarmFacts;

facts_of!(sqlx::sqlite::SqliteRow);

/// Log entries are `LogBody` as JSON: `{"entry":"input","input":{"input":"call_placed",…}}`,
/// `{"entry":"action","action":{"action":"request_dispatch",…}}`, and the opening (seq 0)
/// `{"entry":"opened","spec":{…,"plan":{…,"silent":true}}}`.
/// The disposition and closing time are the log's `close` action's: a closed alarm whose
/// agency tasks are still owed stays open in its row (`watchpost_center`), but it did close.
const QUERY: &str = "SELECT a.id, a.account, a.kind, a.opened_at, \
     COALESCE(MAX(CASE WHEN json_extract(e.body, '$.action.action') = 'close' \
         THEN json_extract(e.body, '$.action.disposition') END), a.disposition) AS disposition, \
     COALESCE(MIN(CASE WHEN json_extract(e.body, '$.action.action') = 'close' THEN e.at END), \
         a.closed_at) AS closed_at, \
     MIN(CASE WHEN json_extract(e.body, '$.input.input') = 'call_placed' THEN e.at END) \
         AS first_call_at, \
     MIN(CASE WHEN json_extract(e.body, '$.action.action') = 'request_dispatch' THEN e.at END) \
         AS first_dispatch_at, \
     MAX(CASE WHEN json_extract(e.body, '$.input.input') = 'agent_close' \
         THEN json_extract(e.body, '$.input.resolution') END) AS resolution, \
     MAX(CASE WHEN e.seq = 0 AND json_extract(e.body, '$.spec.plan.silent') THEN 1 ELSE 0 END) \
         AS silent \
     FROM alarms a LEFT JOIN alarm_events e ON e.alarm_id = a.id \
     WHERE a.opened_at >= ?1 AND a.opened_at < ?2 \
       AND (?3 IS NULL OR a.account IN (SELECT number FROM accounts WHERE dealer = ?3)) \
       AND (?4 IS NULL OR a.account = ?4) \
     GROUP BY a.id ORDER BY a.id";

#[async_trait]
impl Reports for SqliteStore {
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
