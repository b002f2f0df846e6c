//! The human-readable report: per level, one row per alarm kind and one overall, with the
//! intervals a center owner asks about, then utilisation, breaches and dispositions.

use super::Results;
use super::config::Metric;
use super::stats::{Group, LevelSummary};
use std::fmt::Write;

fn cell(group: &Group, metric: Metric, p: &str) -> String {
    match group.metric(metric).and_then(|s| s.percentile(p)) {
        Some(v) => format!("{v:.0}"),
        None => "-".into(),
    }
}

fn row(out: &mut String, name: &str, g: &Group) {
    let _ = writeln!(
        out,
        "  {:<16} {:>7}  {:>5} {:>5}  {:>5} {:>5}  {:>5} {:>5} {:>5}  {:>5} {:>5}  {:>6}",
        name,
        g.alarms,
        cell(g, Metric::QueueWait, "p50"),
        cell(g, Metric::QueueWait, "p90"),
        cell(g, Metric::FirstCall, "p50"),
        cell(g, Metric::FirstCall, "p90"),
        cell(g, Metric::Dispatch, "p50"),
        cell(g, Metric::Dispatch, "p90"),
        cell(g, Metric::Dispatch, "p99"),
        cell(g, Metric::Reached, "p50"),
        cell(g, Metric::Reached, "p90"),
        cell(g, Metric::Closed, "p90"),
    );
}

fn level(out: &mut String, s: &LevelSummary) {
    let _ = writeln!(
        out,
        "\n{} — {} agents, {} alarms over {:.1} h, utilisation {:.0}%, longest queue {}",
        s.level,
        s.agents,
        s.alarms,
        s.simulated_hours,
        s.utilisation * 100.0,
        s.queue.max_depth
    );
    let _ = writeln!(
        out,
        "  {:<16} {:>7}  {:>11}  {:>11}  {:>17}  {:>11}  {:>6}",
        "seconds", "alarms", "queue wait", "first call", "dispatch", "reached", "closed"
    );
    let _ = writeln!(
        out,
        "  {:<16} {:>7}  {:>5} {:>5}  {:>5} {:>5}  {:>5} {:>5} {:>5}  {:>5} {:>5}  {:>6}",
        "", "", "p50", "p90", "p50", "p90", "p50", "p90", "p99", "p50", "p90", "p90"
    );
    for (kind, g) in &s.by_kind {
        row(out, kind.as_str(), g);
    }
    row(out, "all", &s.overall);
    for b in &s.breaches {
        let _ = writeln!(
            out,
            "  {} {} over {} s: {} of {}",
            b.kind,
            b.metric.as_str(),
            b.limit_s,
            b.breached,
            b.of
        );
    }
    let dispositions: Vec<String> = s
        .overall
        .dispositions
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    let _ = writeln!(out, "  dispositions: {}", dispositions.join(", "));
}

pub fn render(results: &Results) -> String {
    let mut out = String::new();
    let o = &results.options;
    let _ = writeln!(
        out,
        "watchpost simulate: seed {}, {} accounts, {} signals, {} agents{}",
        o.seed,
        o.accounts,
        results.signals,
        o.agents,
        if o.storms.is_empty() {
            ""
        } else {
            ", with storm"
        }
    );
    for s in &results.levels {
        level(&mut out, s);
    }
    if let Some(st) = &results.staffing {
        let _ = writeln!(out, "\nagents needed for \"{}\":", st.target.text);
        for l in &st.levels {
            match l.agents {
                Some(n) => {
                    let _ = writeln!(out, "  {:<20} {n}", l.level.as_str());
                }
                None => {
                    let _ = writeln!(out, "  {:<20} not met", l.level.as_str());
                }
            }
        }
    }
    out
}
