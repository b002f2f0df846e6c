//! Scenario files as tests: every file of the project's library passes, and so does every
//! example of the scenario format's reference set when it sits beside the repository; every
//! file under scenarios/invalid is refused with a reason naming its field.

use std::path::{Path, PathBuf};
use watchpost_sim::scenario::{Verdict, run_file};

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
    let files = toml_files(dir);
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let mut failed = Vec::new();
    for file in &files {
        let run = run_file(file).await;
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
        let run = run_file(file).await;
        assert_eq!(run.verdict, Verdict::Invalid, "{}", file.display());
        let error = run.report.error.expect("a reason");
        assert!(!error.contains('\n'), "one line: {error}");
        assert!(error.contains(':'), "names a field: {error}");
    }
}

#[tokio::test]
async fn a_missing_file_is_refused_not_fatal() {
    let run = run_file(Path::new("/nonexistent/scenario.toml")).await;
    assert_eq!(run.verdict, Verdict::Invalid);
}
