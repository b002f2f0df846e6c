//! A report as a readable HTML page with charts (inline SVG, `chart`), no script. Its
//! stylesheet is the console asset `report.css`: linked when the center serves the page (its
//! Content-Security-Policy forbids inline styles), written into the page when it is a file.

use super::Report;
use super::chart::{Bar, bars};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use watchpost_core::period_report::{FALSE_ALARM_RULE, Times, TroubleAccount, rfc3339};

/// Where the page's stylesheet comes from.
pub enum Styles {
    /// Written into the page: for a file opened on its own.
    Inline,
    /// `<link>`ed from this URL: for a page the center serves.
    Linked(String),
}

const CSS: &str = include_str!("../console/assets/report.css");
/// Bars of counts, of false alarms, of times.
const BLUE: &str = "#2563eb";
const RED: &str = "#dc2626";
const AMBER: &str = "#d97706";
/// The false-alarm chart shows at most this many accounts; the table shows them all.
const TOP: usize = 15;

/// `canceled_by_contact` → `canceled by contact`.
fn words(code: &str) -> String {
    code.replace('_', " ")
}

fn seconds(s: Option<f64>) -> String {
    match s {
        None => "—".into(),
        Some(s) if s < 120.0 => format!("{s} s"),
        Some(s) => format!("{s} s ({:.1} min)", s / 60.0),
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// The whole page.
pub fn to_html(report: &Report, styles: &Styles) -> String {
    let f = &report.figures;
    let title = format!("Alarm report: {}", report.scope);
    let count_bars = |rows: &[watchpost_core::period_report::Count], by_kind: bool| -> Vec<Bar> {
        rows.iter()
            .map(|c| Bar {
                label: words(
                    if by_kind {
                        c.kind.as_deref()
                    } else {
                        c.disposition.as_deref()
                    }
                    .unwrap_or_default(),
                ),
                value: c.alarms as f64,
                text: c.alarms.to_string(),
                fill: BLUE,
            })
            .collect()
    };
    let false_bars: Vec<Bar> = f
        .false_alarms_by_account
        .iter()
        .filter(|a| a.false_alarms > 0)
        .take(TOP)
        .map(|a| Bar {
            label: a.account.clone(),
            value: a.false_alarms as f64,
            text: format!(
                "{} of {} ({})",
                a.false_alarms,
                a.alarms,
                percent(a.false_rate)
            ),
            fill: RED,
        })
        .collect();
    let times = [
        ("first call", &f.response_times.to_first_call),
        ("dispatch request", &f.response_times.to_dispatch),
    ];
    let time_bars: Vec<Bar> = times
        .iter()
        .flat_map(|(name, t)| {
            [
                ("median", t.median_s),
                ("90th percentile", t.p90_s),
                ("max", t.max_s),
            ]
            .into_iter()
            .filter_map(move |(which, s)| {
                s.map(|s| Bar {
                    label: format!("{name}, {which}"),
                    value: s,
                    text: format!("{s} s"),
                    fill: AMBER,
                })
            })
        })
        .collect();
    let overall = if f.counted > 0 {
        percent(f.false_alarms as f64 / f.counted as f64)
    } else {
        "—".into()
    };
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · watchpost" }
                @match styles {
                    Styles::Inline => style { (PreEscaped(CSS)) },
                    Styles::Linked(url) => link rel="stylesheet" href=(url);,
                }
            }
            body.report {
                header {
                    h1 { (title) }
                    p.period { "Alarms opened from " time datetime=(report.from) { (report.from) }
                        " to " time datetime=(report.to) { (report.to) } " (UTC, the end excluded)." }
                }
                section.cards {
                    div.card { div.figure { (f.alarms) } div.what { "alarms" } }
                    div.card { div.figure { (f.open) } div.what { "still open" } }
                    div.card { div.figure { (f.false_alarms) " / " (f.counted) }
                        div.what { "false alarms (" (overall) ")" } }
                    div.card { div.figure { (seconds(f.response_times.to_first_call.median_s)) }
                        div.what { "median signal → first call" } }
                    div.card { div.figure { (seconds(f.response_times.to_dispatch.median_s)) }
                        div.what { "median signal → dispatch request" } }
                }
                section #by-kind {
                    h2 { "Alarms by kind" }
                    (bars("Alarms by kind", &count_bars(&f.by_kind, true)))
                }
                section #by-disposition {
                    h2 { "Alarms by disposition" }
                    (bars("Alarms by disposition", &count_bars(&f.by_disposition, false)))
                    @if !f.by_kind_and_disposition.is_empty() {
                        table {
                            thead { tr { th { "Kind" } th { "Disposition" } th.num { "Alarms" } } }
                            tbody {
                                @for c in &f.by_kind_and_disposition {
                                    tr {
                                        td { (words(c.kind.as_deref().unwrap_or_default())) }
                                        td { (words(c.disposition.as_deref().unwrap_or_default())) }
                                        td.num { (c.alarms) }
                                    }
                                }
                            }
                        }
                    }
                }
                section #false-alarms {
                    h2 { "False alarms by account" }
                    p.note { "The accounts that caused the most false alarms first. " (FALSE_ALARM_RULE) }
                    (bars("False alarms by account", &false_bars))
                    @if !f.false_alarms_by_account.is_empty() {
                        table {
                            thead { tr { th { "Account" } th.num { "Alarms" }
                                th.num { "False alarms" } th.num { "Rate" } } }
                            tbody {
                                @for a in &f.false_alarms_by_account {
                                    tr {
                                        td { (a.account) }
                                        td.num { (a.alarms) }
                                        td.num { (a.false_alarms) }
                                        td.num { (percent(a.false_rate)) }
                                    }
                                }
                            }
                        }
                    }
                }
                section #response-times {
                    h2 { "Response times" }
                    p.note { "From the signal that opened each alarm to the first call the \
                        center placed, and to the first dispatch request; trouble conditions \
                        (communication failures, runaway accounts) aside." }
                    (bars("Response times in seconds", &time_bars))
                    table {
                        thead { tr { th { "From the signal to" } th.num { "Alarms" }
                            th.num { "Median" } th.num { "90th percentile" } th.num { "Max" } } }
                        tbody {
                            @for (name, t) in times {
                                (times_row(name, t))
                            }
                        }
                    }
                }
                (troubles("runaway", "Runaway accounts", &f.runaway_accounts))
                (troubles("comm-failure", "Communication failures", &f.comm_failure_accounts))
            }
        }
    };
    page.into_string()
}

fn times_row(name: &str, t: &Times) -> Markup {
    html! {
        tr {
            td { (name) }
            td.num { (t.alarms) }
            td.num { (seconds(t.median_s)) }
            td.num { (seconds(t.p90_s)) }
            td.num { (seconds(t.max_s)) }
        }
    }
}

fn troubles(id: &str, heading: &str, rows: &[TroubleAccount]) -> Markup {
    let chart: Vec<Bar> = rows
        .iter()
        .take(TOP)
        .map(|t| Bar {
            label: t.account.clone(),
            value: t.alarms as f64,
            text: t.alarms.to_string(),
            fill: AMBER,
        })
        .collect();
    html! {
        section id=(id) {
            h2 { (heading) }
            (bars(heading, &chart))
            @if !rows.is_empty() {
                table {
                    thead { tr { th { "Account" } th.num { "Alarms" } th.num { "Still open" }
                        th { "First" } th { "Last" } th.num { "Longest" } } }
                    tbody {
                        @for t in rows {
                            tr {
                                td { (t.account) }
                                td.num { (t.alarms) }
                                td.num { (t.open) }
                                td { (rfc3339(t.first_opened_at)) }
                                td { (rfc3339(t.last_opened_at)) }
                                td.num { (seconds(t.longest_s)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
