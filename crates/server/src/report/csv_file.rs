//! A report as one CSV file of several tables (README "Reports"): every row's first field is
//! its table's name, and each table's first row is its header. `grep '^false_alarms,'` gives
//! one table, header first.

use super::Report;
use watchpost_core::period_report::{Count, Times, TroubleAccount, rfc3339};

/// Seconds as CSV writes them: `20`, `20.5`; empty when there were none.
fn seconds(s: Option<f64>) -> String {
    s.map(|s| s.to_string()).unwrap_or_default()
}

/// The whole report as CSV text.
pub fn to_csv(report: &Report) -> Result<String, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let f = &report.figures;
    out.write_record(["summary", "measure", "value"])?;
    for (measure, value) in [
        ("from", report.from.clone()),
        ("to", report.to.clone()),
        ("scope", report.scope.clone()),
        ("alarms", f.alarms.to_string()),
        ("open", f.open.to_string()),
        ("counted", f.counted.to_string()),
        ("false_alarms", f.false_alarms.to_string()),
    ] {
        out.write_record(["summary", measure, &value])?;
    }
    counts(&mut out, "by_kind", true, false, &f.by_kind)?;
    counts(&mut out, "by_disposition", false, true, &f.by_disposition)?;
    let pairs = &f.by_kind_and_disposition;
    counts(&mut out, "by_kind_and_disposition", true, true, pairs)?;
    out.write_record([
        "false_alarms",
        "account",
        "alarms",
        "false_alarms",
        "false_rate",
    ])?;
    for a in &f.false_alarms_by_account {
        out.write_record([
            "false_alarms",
            &a.account,
            &a.alarms.to_string(),
            &a.false_alarms.to_string(),
            &format!("{:.4}", a.false_rate),
        ])?;
    }
    out.write_record([
        "response_times",
        "measure",
        "alarms",
        "median_s",
        "p90_s",
        "max_s",
    ])?;
    let times = [
        ("signal_to_first_call", &f.response_times.to_first_call),
        ("signal_to_dispatch", &f.response_times.to_dispatch),
    ];
    for (measure, t) in times {
        let Times {
            alarms,
            median_s,
            p90_s,
            max_s,
        } = t;
        out.write_record([
            "response_times",
            measure,
            &alarms.to_string(),
            &seconds(*median_s),
            &seconds(*p90_s),
            &seconds(*max_s),
        ])?;
    }
    for (table, rows) in [
        ("runaway_accounts", &f.runaway_accounts),
        ("comm_failure_accounts", &f.comm_failure_accounts),
    ] {
        troubles(&mut out, table, rows)?;
    }
    String::from_utf8(out.into_inner().map_err(|e| e.into_error())?)
        .map_err(|e| csv::Error::from(std::io::Error::other(e)))
}

/// A table of counts; `kinds`, `dispositions`: whether its rows have each.
fn counts(
    out: &mut csv::Writer<Vec<u8>>,
    table: &str,
    kinds: bool,
    dispositions: bool,
    rows: &[Count],
) -> Result<(), csv::Error> {
    let mut header = vec![table];
    header.extend(kinds.then_some("kind"));
    header.extend(dispositions.then_some("disposition"));
    header.push("alarms");
    out.write_record(&header)?;
    for c in rows {
        let mut row = vec![table.to_string()];
        row.extend(c.kind.clone());
        row.extend(c.disposition.clone());
        row.push(c.alarms.to_string());
        out.write_record(&row)?;
    }
    Ok(())
}

fn troubles(
    out: &mut csv::Writer<Vec<u8>>,
    table: &str,
    rows: &[TroubleAccount],
) -> Result<(), csv::Error> {
    out.write_record([
        table,
        "account",
        "alarms",
        "open",
        "first_opened_at",
        "last_opened_at",
        "longest_s",
    ])?;
    for t in rows {
        out.write_record([
            table,
            &t.account,
            &t.alarms.to_string(),
            &t.open.to_string(),
            &rfc3339(t.first_opened_at),
            &rfc3339(t.last_opened_at),
            &seconds(t.longest_s),
        ])?;
    }
    Ok(())
}
