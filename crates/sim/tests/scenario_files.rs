//! Scenario files as tests: every file of the project's library passes, and so does every
//! example of the scenario format's reference set when it sits beside the repository; every
//! file under scenarios/invalid is refused with a reason naming its field.

use std::path::{Path, PathBuf};
use watchpost_core::plan_book::PlanBook;
use watchpost_core::plan_file::PlanSet;
use watchpost_sim::scenario::{Verdict, parse, run, run_file};

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn all_pass(dir: &Path) {
    all_pass_under(dir, &PlanBook::default()).await;
}

async fn all_pass_under(dir: &Path, plans: &PlanBook) {
    let files = toml_files(dir);
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let mut failed = Vec::new();
    for file in &files {
        let run = run_file(file, plans).await;
        if run.verdict != Verdict::Passed {
            failed.push(format!("{}: {:?}", file.display(), run.report.failures));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[tokio::test]
#[ignore = "reads ../shared/scenarios/examples, beside the repository; .ci/run runs it"]
async fn shared_examples_pass() {
    all_pass(&repo().join("../shared/scenarios/examples")).await;
}

#[tokio::test]
async fn the_scenario_library_passes() {
    all_pass(&repo().join("scenarios")).await;
}

#[tokio::test]
async fn invalid_files_are_refused_with_a_reason() {
    let files = toml_files(&repo().join("scenarios/invalid"));
    assert!(files.len() >= 5);
    for file in &files {
        let run = run_file(file, &Default::default()).await;
        assert_eq!(run.verdict, Verdict::Invalid, "{}", file.display());
        let error = run.report.error.expect("a reason");
        assert!(!error.contains('\n'), "one line: {error}");
        assert!(error.contains(':'), "names a field: {error}");
    }
}

#[tokio::test]
async fn a_missing_file_is_refused_not_fatal() {
    let run = run_file(Path::new("/nonexistent/scenario.toml"), &Default::default()).await;
    assert_eq!(run.verdict, Verdict::Invalid);
}

/// Each shipped plan (`plans/NAME.toml`) passes the scenarios that document it
/// (`plans/NAME/`), and at least one of them fails under the built-in plans: the plan is what
/// makes the difference. Each alarm records the plan set and version it ran.
#[tokio::test]
async fn every_shipped_plan_passes_its_scenarios_and_changes_the_outcome() {
    let plans = toml_files(&repo().join("plans"));
    assert!(plans.len() >= 4, "{plans:?}");
    for plan in &plans {
        let set = PlanSet::parse(&std::fs::read_to_string(plan).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", plan.display()));
        let dir = plan.with_extension("");
        let book = PlanBook::with_default(set.clone());
        all_pass_under(&dir, &book).await;
        let mut differs = false;
        for file in toml_files(&dir) {
            differs |= run_file(&file, &Default::default()).await.verdict == Verdict::Failed;
            let scenario = parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let outcome = run(&scenario, &book).await.unwrap();
            for alarm in &outcome.alarms {
                assert_eq!(
                    alarm.alarm.spec().plan_set.as_ref(),
                    Some(&set.reference()),
                    "{}",
                    file.display()
                );
                let opened = serde_json::to_string(&alarm.log[0]).unwrap();
                assert!(
                    opened.contains(&format!("\"name\":\"{}\"", set.name)),
                    "the first log entry names the plan set: {opened}"
                );
            }
        }
        assert!(
            differs,
            "{}: no scenario tells it from the built-in plans",
            plan.display()
        );
    }
}
