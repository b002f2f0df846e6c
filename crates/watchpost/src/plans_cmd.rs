//! `watchpost plans show [KIND...]` writes the built-in plans out as a plan file to start from;
//! `watchpost plans check FILE... [--scenarios DIR]...` checks plan files against the guard
//! rails and plays a scenario library under each (docs/plans.md). Exit status 0 all good, 1 a
//! scenario failed under a plan, 2 a plan file (or a scenario file) was refused.

use crate::scenario_cmd::run_files;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use watchpost_core::AlarmKind;
use watchpost_core::plan_book::PlanBook;
use watchpost_core::plan_file::PlanSet;
use watchpost_sim::scenario::Verdict;

#[derive(Subcommand)]
pub enum PlansCommand {
    /// Print the built-in plans of these kinds (all when none is named) as a plan file.
    Show {
        /// burglary, fire, carbon_monoxide, panic, duress, medical, water, freeze,
        /// comm_failure, runaway_account.
        #[arg(value_name = "KIND", value_parser = kind)]
        kinds: Vec<AlarmKind>,
    },
    /// Check plan files and play scenarios under each.
    Check {
        #[arg(required = true, value_name = "PLAN_FILE")]
        files: Vec<PathBuf>,
        /// A scenario file, or a folder of them (every `*.toml` in it); repeatable.
        #[arg(long, value_name = "DIR")]
        scenarios: Vec<PathBuf>,
        /// Scenario reports as JSON lines (docs/scenarios.md) instead of words.
        #[arg(long)]
        json: bool,
    },
}

fn kind(text: &str) -> Result<AlarmKind, String> {
    AlarmKind::ALL
        .into_iter()
        .chain([AlarmKind::CommFailure, AlarmKind::RunawayAccount])
        .find(|k| k.as_str() == text)
        .ok_or_else(|| format!("{text:?} is not an alarm kind"))
}

/// Reads and checks one plan file; the error starts with the file's name.
pub fn read(path: &Path) -> Result<PlanSet, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the plan file: {e}", path.display()))?;
    PlanSet::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub async fn run(command: PlansCommand) -> anyhow::Result<ExitCode> {
    match command {
        PlansCommand::Show { kinds } => {
            let kinds = if kinds.is_empty() {
                AlarmKind::ALL.to_vec()
            } else {
                kinds
            };
            out!("{}", PlanSet::builtin(&kinds).to_toml());
            Ok(ExitCode::SUCCESS)
        }
        PlansCommand::Check {
            files,
            scenarios,
            json,
        } => {
            let mut scenario_files = Vec::new();
            for place in &scenarios {
                collect(place, &mut scenario_files)?;
            }
            let mut worst = Verdict::Passed;
            for path in &files {
                let set = match read(path) {
                    Ok(set) => set,
                    Err(e) => {
                        err!("{e}");
                        worst = Verdict::Invalid;
                        continue;
                    }
                };
                let plans = set.professional.len() + set.practice.len();
                if !json {
                    out!(
                        "{}: {} — {plans} plan(s) keep every guard rail",
                        path.display(),
                        set.reference()
                    );
                }
                if !scenario_files.is_empty() {
                    let verdict =
                        run_files(&scenario_files, &PlanBook::with_default(set), json).await;
                    worst = worst.max(verdict);
                }
            }
            Ok(ExitCode::from(worst as u8))
        }
    }
}

/// `place` if it is a file, else every `*.toml` in it (not below: a library's `invalid/`
/// folder holds files meant to be refused), in name order.
fn collect(place: &Path, into: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if place.is_file() {
        into.push(place.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(place)
        .map_err(|e| anyhow::anyhow!("--scenarios {}: {e}", place.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    into.extend(paths);
    Ok(())
}
