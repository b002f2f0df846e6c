//! `watchpost scenario run FILE... [--json] [--plans PLAN_FILE]`: plays scenario files and
//! reports, per docs/scenarios.md. Exit status 0 all passed, 1 an expectation failed, 2 a file
//! (or the plan file) was refused.

use clap::Subcommand;
use futures::StreamExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use watchpost_core::plan_book::PlanBook;
use watchpost_sim::scenario::{FileRun, Verdict, run_file};

#[derive(Subcommand)]
pub enum ScenarioCommand {
    /// Run scenario files and check their [expect] tables.
    Run {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// One JSON report object per file, one per line.
        #[arg(long)]
        json: bool,
        /// Run under this plan file as the center's default plans (docs/plans.md) instead
        /// of the built-in ones.
        #[arg(long, value_name = "PLAN_FILE")]
        plans: Option<PathBuf>,
    },
}

pub async fn run(command: ScenarioCommand) -> ExitCode {
    let ScenarioCommand::Run { files, json, plans } = command;
    let book = match plans {
        None => PlanBook::default(),
        Some(path) => match crate::plans_cmd::read(&path) {
            Ok(set) => PlanBook::with_default(set),
            Err(e) => {
                err!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    ExitCode::from(run_files(&files, &book, json).await as u8)
}

/// Plays `files` under `plans`, printing each report (human or JSON lines) and a summary;
/// the worst verdict.
pub async fn run_files(files: &[PathBuf], plans: &PlanBook, json: bool) -> Verdict {
    let started = Instant::now();
    let mut worst = Verdict::Passed;
    let mut counts = [0usize; 3];
    // Files are independent: run a few at once, report in the order given.
    let mut results = futures::stream::iter(files)
        .map(|path| async move { (path, run_file(path, plans).await) })
        .buffered(8);
    while let Some((path, result)) = results.next().await {
        for warning in &result.warnings {
            err!("{}: warning: {warning}", path.display());
        }
        counts[result.verdict as usize] += 1;
        worst = worst.max(result.verdict);
        if json {
            out!(
                "{}",
                serde_json::to_string(&result.report).expect("reports serialise")
            );
            if let Some(error) = &result.report.error {
                err!("{}: {error}", path.display());
            }
        } else {
            print_human(&result);
        }
    }
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if !json {
        out!(
            "{} scenarios: {} passed, {} failed, {} invalid in {:.1} ms ({:.2} ms per file)",
            files.len(),
            counts[Verdict::Passed as usize],
            counts[Verdict::Failed as usize],
            counts[Verdict::Invalid as usize],
            elapsed,
            elapsed / files.len().max(1) as f64
        );
    }
    worst
}

fn print_human(result: &FileRun) {
    let r = &result.report;
    match result.verdict {
        Verdict::Invalid => {
            out!(
                "INVALID {}: {}",
                r.file,
                r.error.as_deref().unwrap_or("refused")
            );
            return;
        }
        Verdict::Passed => out!(
            "PASS  {}  [{}]",
            r.scenario.as_deref().unwrap_or(""),
            r.file
        ),
        Verdict::Failed => out!(
            "FAIL  {}  [{}]",
            r.scenario.as_deref().unwrap_or(""),
            r.file
        ),
    }
    for a in &r.alarms {
        let calls: Vec<String> = a
            .calls
            .iter()
            .map(|c| format!("{} {}", c.to, c.result.unwrap_or("unfinished")))
            .collect();
        let dispatch: Vec<&str> = a.dispatch.iter().map(|d| d.agency).collect();
        out!(
            "      {} ({}) {} at {}s · calls: {} · dispatch: {}",
            a.kind,
            a.mode,
            a.disposition.unwrap_or("open"),
            a.closed_at_s.map_or("-".into(), |s| s.to_string()),
            if calls.is_empty() {
                "none".into()
            } else {
                calls.join(", ")
            },
            if dispatch.is_empty() {
                "none".into()
            } else {
                dispatch.join(", ")
            },
        );
    }
    for failure in &r.failures {
        out!("      - {failure}");
    }
}
