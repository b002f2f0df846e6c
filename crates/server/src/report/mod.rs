//! Period reports (issue 15, item 6; README "Reports"): the report of a period for the center,
//! a dealer or an account, read from the store and written as JSON, CSV or an HTML page with
//! charts. `watchpost report` and `GET /api/reports` both come here.

mod chart;
mod csv_file;
mod html;

pub use csv_file::to_csv;
pub use html::{Styles, to_html};

use chrono::{DateTime, LocalResult, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use watchpost_core::Millis;
use watchpost_core::period_report::{Audience, PeriodReport, compute, rfc3339};
use watchpost_store::{Database, ReportQuery, ReportScope, StoreError};

/// What a report covers: alarms opened at or after `from`, before `to` (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Millis,
    pub to: Millis,
}

impl Period {
    /// From the texts of `from` and `to`: each an RFC 3339 time (`2026-11-01T00:00:00Z`) or a
    /// date (`2026-11-01`) in `zone` (the center's `center.timezone`). A date as `from` is
    /// the start of that day, as `to` the end of it, so `--from 2026-11-01 --to 2026-11-30` is
    /// the whole of November as the center's clocks showed it (a day of a change to or from
    /// summer time is 23 or 25 hours long). Errors name the field (`from`, `to`) and the reason.
    pub fn parse(from: &str, to: &str, zone: Tz) -> Result<Period, (&'static str, String)> {
        let period = Period {
            from: instant("from", from, false, zone)?,
            to: instant("to", to, true, zone)?,
        };
        if period.to <= period.from {
            return Err(("to", format!("{to:?} is not after from ({from:?})")));
        }
        Ok(period)
    }
}

fn instant(
    field: &'static str,
    text: &str,
    end_of_day: bool,
    zone: Tz,
) -> Result<Millis, (&'static str, String)> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    let refused = || {
        (
            field,
            format!(
                "{text:?} is neither a date (2026-11-01) nor an RFC 3339 time \
                 (2026-11-01T00:00:00Z)"
            ),
        )
    };
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| refused())?;
    let day = if end_of_day {
        day.succ_opt()
    } else {
        Some(day)
    };
    day.and_then(|day| day_starts(day, zone))
        .ok_or_else(refused)
}

/// When `day` begins in `zone`, in ms: its midnight, or where summer time skips midnight
/// (some zones change at 00:00), the first instant of the day that exists.
fn day_starts(day: NaiveDate, zone: Tz) -> Option<Millis> {
    let midnight = day.and_time(Default::default());
    let start = match zone.from_local_datetime(&midnight) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
        LocalResult::None => zone
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()?,
    };
    Some(start.timestamp_millis())
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Html,
}

impl Format {
    /// `json`, `csv` or `html`; the error says which are known.
    pub fn parse(text: &str) -> Result<Format, String> {
        match text {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            _ => Err(format!(
                "{text:?} is not a report format: use json, csv or html"
            )),
        }
    }
}

/// A report as it is written: the period in RFC 3339, whose alarms in words, and the figures.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    /// `the center`, `dealer D1 (Acme Alarms)`, `account 1001`.
    pub scope: String,
    #[serde(flatten)]
    pub figures: PeriodReport,
}

/// Whether the center knows the account `number` (canonical): enrolled now, or removed with
/// alarms of it still kept (a report of its past is an auditor's question). An account it
/// never knew is a slip of the keyboard, whose report of nothing would read as a quiet one.
pub async fn known_account(store: &dyn Database, number: &str) -> Result<bool, StoreError> {
    Ok(store.account(number).await?.is_some() || !store.recent_alarms(number, 1).await?.is_empty())
}

/// The report of `period` for `scope`. A report of a dealer's accounts, or one a dealer's
/// user asks for (`audience`), never counts a silent (duress) alarm: dealers never see them.
pub async fn build(
    store: &dyn Database,
    period: Period,
    scope: ReportScope,
    audience: Audience,
) -> Result<Report, StoreError> {
    let scope_words = match &scope {
        ReportScope::Center => "the center".to_string(),
        ReportScope::Dealer(id) => match store.dealer(id).await? {
            Some(d) => format!("dealer {id} ({})", d.name),
            None => format!("dealer {id}"),
        },
        ReportScope::Account(number) => format!("account {number}"),
    };
    let audience = match scope {
        ReportScope::Dealer(_) => Audience::Dealer,
        _ => audience,
    };
    let facts = store
        .report_alarms(&ReportQuery {
            from: period.from,
            to: period.to,
            scope,
        })
        .await?;
    Ok(Report {
        from: rfc3339(period.from),
        to: rfc3339(period.to),
        scope: scope_words,
        figures: compute(period.from, period.to, &facts, audience),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: Millis = 86_400_000;
    const HOUR_MS: Millis = 3_600_000;

    #[test]
    fn a_date_as_to_takes_in_the_whole_day() {
        let november = Period::parse("2026-11-01", "2026-11-30", Tz::UTC).unwrap();
        assert_eq!(november.to - november.from, 30 * DAY_MS);
        let exact =
            Period::parse("2026-11-01T06:00:00Z", "2026-11-01T06:00:00.001Z", Tz::UTC).unwrap();
        assert_eq!(exact.to - exact.from, 1);
        assert_eq!(
            Period::parse("2026-11-02", "2026-11-01", Tz::UTC)
                .unwrap_err()
                .0,
            "to"
        );
        assert_eq!(
            Period::parse("yesterday", "2026-11-01", Tz::UTC)
                .unwrap_err()
                .0,
            "from"
        );
    }

    #[test]
    fn dates_are_days_of_the_centers_clocks() {
        let chicago = Tz::America__Chicago;
        let utc = Period::parse("2026-11-01", "2026-11-30", Tz::UTC).unwrap();
        let november = Period::parse("2026-11-01", "2026-11-30", chicago).unwrap();
        // 1 November 00:00 in Chicago is 05:00 UTC (summer time, UTC-5) ...
        assert_eq!(november.from - utc.from, 5 * HOUR_MS);
        // ... and the month ends at 06:00 UTC (standard time since 1 November, UTC-6): the
        // day summer time ended had 25 hours.
        assert_eq!(november.to - utc.to, 6 * HOUR_MS);
        assert_eq!(november.to - november.from, 30 * DAY_MS + HOUR_MS);
        // An exact time stays what it says.
        let exact = Period::parse("2026-11-01T06:00:00Z", "2026-11-02", chicago).unwrap();
        assert_eq!(exact.from, utc.from + 6 * HOUR_MS);
        // Where summer time skips midnight (Santiago, 6 September 2026), the day starts at 01:00.
        let skipped = Period::parse("2026-09-06", "2026-09-06", Tz::America__Santiago).unwrap();
        assert_eq!(skipped.to - skipped.from, 23 * HOUR_MS);
    }
}
