//! What the period report reads (issue 15, item 6; `watchpost_core::period_report`): one row
//! of facts per alarm opened in a period, for the center, a dealer or an account. The facts
//! come from the alarm's row and a single pass over its log inside the database, so a long
//! period never brings every log into memory.

use crate::Result;
use async_trait::async_trait;
use watchpost_core::Millis;
use watchpost_core::period_report::AlarmFacts;

/// Whose alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    Center,
    /// The alarms of the accounts the dealer owns now (as the API sees them).
    Dealer(String),
    Account(String),
}

/// The alarms opened at or after `from` and before `to` (ms since the epoch) in `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub from: Millis,
    pub to: Millis,
    pub scope: ReportScope,
}

impl ReportQuery {
    /// The dealer and account to bind: `NULL` for what the scope does not restrict.
    pub(crate) fn binds(&self) -> (Option<&str>, Option<&str>) {
        match &self.scope {
            ReportScope::Center => (None, None),
            ReportScope::Dealer(id) => (Some(id), None),
            ReportScope::Account(number) => (None, Some(number)),
        }
    }
}

#[async_trait]
pub trait Reports: Send + Sync {
    /// The facts of each alarm `query` selects, by id.
    async fn report_alarms(&self, query: &ReportQuery) -> Result<Vec<AlarmFacts>>;
}

/// `fn facts(&ROW) -> AlarmFacts`: one row of the report query, of either database (both
/// queries name their columns alike).
macro_rules! facts_of {
    ($row:ty) => {
        fn facts(r: &$row) -> watchpost_core::period_report::AlarmFacts {
            use sqlx::Row;
            watchpost_core::period_report::AlarmFacts {
                id: r.get("id"),
                account: r.get("account"),
                kind: r.get("kind"),
                disposition: r.get("disposition"),
                opened_at: r.get("opened_at"),
                closed_at: r.get("closed_at"),
                first_call_at: r.get("first_call_at"),
                first_dispatch_at: r.get("first_dispatch_at"),
                resolution: r.get("resolution"),
                silent: r.get::<i64, _>("silent") != 0,
            }
        }
    };
}
pub(crate) use facts_of;
