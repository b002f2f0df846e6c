//! Scenario files: one account, its signals and its people, played through the real engine
//! and store in virtual time (docs/scenarios.md).

mod format;
mod report;
mod run;

pub use format::{Invalid, Scenario, parse};
pub use report::{AlarmReport, FileReport, alarm_report, check};
pub use run::{Outcome, RunAlarm, RunError, run, run_into};

use std::path::Path;
use watchpost_core::plan_book::PlanBook;

/// How a file ended, for the exit status: 0 passed, 1 an expectation failed, 2 invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Passed,
    Failed,
    Invalid,
}

pub struct FileRun {
    pub report: FileReport,
    pub verdict: Verdict,
    pub warnings: Vec<String>,
}

/// Reads, checks and plays one scenario file under `plans` (`PlanBook::default()`: the
/// built-in plans).
pub async fn run_file(path: &Path, plans: &PlanBook) -> FileRun {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => run_text(&file, &text, plans).await,
        Err(e) => refused(&file, format!("cannot read the file: {e}")),
    }
}

fn refused(file: &str, error: String) -> FileRun {
    FileRun {
        report: FileReport {
            scenario: None,
            file: file.to_string(),
            passed: false,
            failures: vec![error.clone()],
            alarms: vec![],
            error: Some(error),
        },
        verdict: Verdict::Invalid,
        warnings: vec![],
    }
}

/// Checks and plays a scenario's `text` (reported as `file`) under `plans`.
pub async fn run_text(file: &str, text: &str, plans: &PlanBook) -> FileRun {
    let refused = |error: String| refused(file, error);
    let file = file.to_string();
    let scenario = match parse(text) {
        Ok(s) => s,
        Err(Invalid(reason)) => return refused(reason),
    };
    let outcome = match run(&scenario, plans).await {
        Ok(o) => o,
        Err(e) => {
            let mut r = refused(format!("the center failed: {e}"));
            r.report.scenario = Some(scenario.name);
            return r;
        }
    };
    let alarms: Vec<AlarmReport> = outcome
        .alarms
        .iter()
        .map(|a| alarm_report(scenario.start, &a.alarm))
        .collect();
    let failures = scenario
        .expect
        .as_ref()
        .map(|e| check(e, &alarms))
        .unwrap_or_default();
    let passed = failures.is_empty();
    FileRun {
        report: FileReport {
            scenario: Some(scenario.name),
            file,
            passed,
            failures,
            alarms,
            error: None,
        },
        verdict: if passed {
            Verdict::Passed
        } else {
            Verdict::Failed
        },
        warnings: scenario.warnings,
    }
}
