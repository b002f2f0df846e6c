//! The JSON report of docs/scenarios.md, field for field, and the `[expect]` checks against it.
//! A contract read by tools outside the project: extend, never rename or drop.

use super::format::Expect;
use serde::Serialize;
pub use watchpost_core::report::{AlarmReport, alarm_report};

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub scenario: Option<String>,
    pub file: String,
    pub passed: bool,
    pub failures: Vec<String>,
    pub alarms: Vec<AlarmReport>,
    /// Set when the file was refused or could not run (exit status 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Every failed expectation, as a sentence.
pub fn check(expect: &Expect, alarms: &[AlarmReport]) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(wanted) = &expect.dispositions {
        let wanted: Vec<&str> = wanted.iter().map(|d| d.as_str()).collect();
        let got: Vec<&str> = alarms
            .iter()
            .map(|a| a.disposition.unwrap_or("open"))
            .collect();
        let compared = if wanted.len() == 1 {
            got.first().map(|g| vec![*g]).unwrap_or_default()
        } else {
            got.clone()
        };
        if compared != wanted {
            let show = |v: &[&str]| match v {
                [one] => format!("{one:?}"),
                _ => format!("{v:?}"),
            };
            failures.push(format!(
                "disposition: expected {}, got {}",
                show(&wanted),
                if got.is_empty() {
                    "no alarm".to_string()
                } else {
                    show(&got)
                }
            ));
        }
    }
    if let Some(wanted) = &expect.dispatch {
        let wanted: Vec<&str> = wanted.iter().map(|a| a.as_str()).collect();
        let mut got: Vec<(f64, &str)> = alarms
            .iter()
            .flat_map(|a| a.dispatch.iter().map(|d| (d.requested_at_s, d.agency)))
            .collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        let got: Vec<&str> = got.into_iter().map(|(_, agency)| agency).collect();
        if got != wanted {
            failures.push(format!("dispatch: expected {wanted:?}, got {got:?}"));
        }
    }
    if let Some(wanted) = &expect.calls {
        let mut got: Vec<(f64, String)> = alarms
            .iter()
            .flat_map(|a| {
                a.calls.iter().map(|c| {
                    (
                        c.placed_at_s,
                        format!("{}: {}", c.to, c.result.unwrap_or("unfinished")),
                    )
                })
            })
            .collect();
        got.sort_by(|a, b| a.0.total_cmp(&b.0));
        let got: Vec<String> = got.into_iter().map(|(_, call)| call).collect();
        if &got != wanted {
            failures.push(format!("calls: expected {wanted:?}, got {got:?}"));
        }
    }
    failures
}
