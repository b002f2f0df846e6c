//! `watchpost plans` as a center's administrator uses it: the built-in plans written out and
//! read back, a plan that breaks a guard rail refused with the file, step and rule, a plan
//! proven against scenarios, and `serve` refusing to start on a bad plan file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn watchpost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_watchpost"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_built_in_plans_written_out_check_clean_and_play_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let shown = watchpost(&["plans", "show"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let file = dir.path().join("builtin.toml");
    std::fs::write(&file, &shown.stdout).unwrap();
    // The built-in plans as a plan file change nothing: the whole library passes under it.
    let checked = watchpost(&[
        "plans",
        "check",
        file.to_str().unwrap(),
        "--scenarios",
        "scenarios",
    ]);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked.stdout));
    let out = text(&checked.stdout);
    assert!(
        out.contains("builtin v1 — 16 plan(s) keep every guard rail"),
        "{out}"
    );
    assert!(out.contains("0 failed, 0 invalid"), "{out}");
}

#[test]
fn a_plan_that_breaks_a_guard_rail_is_refused_with_file_step_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loud-duress.toml");
    std::fs::write(
        &file,
        r#"name = "loud-duress"
[professional.duress]
agency = "police"
cancel_before_dispatch = []
cancel_after_dispatch = []
after_dispatch = "ignore"
silent = true
quiet_end = { reached = "dispatched", unreached = "dispatched" }
steps = [{ step = "dispatch" }, { step = "notify", contacts = { from = 1 } }]
"#,
    )
    .unwrap();
    let checked = watchpost(&["plans", "check", file.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(2));
    let err = text(&checked.stderr);
    assert!(
        err.contains("loud-duress.toml: professional.duress.steps[1]: a duress alarm never calls"),
        "{err}"
    );
    // The center does not start on it.
    let served = watchpost(&[
        "serve",
        "--db",
        dir.path().join("c.db").to_str().unwrap(),
        "--create",
        "--center-name",
        "Test Center",
        "--callback-number",
        "+15555550199",
        "--plans",
        file.to_str().unwrap(),
        "--dc09",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
    ]);
    assert!(!served.status.success());
    let err = text(&served.stderr);
    assert!(
        err.contains("alarms.plans: ") && err.contains("steps[1]"),
        "{err}"
    );
}

#[test]
fn a_plan_is_proven_against_its_scenarios_and_shows_what_it_changes() {
    let own = watchpost(&[
        "plans",
        "check",
        "plans/ecv.toml",
        "--scenarios",
        "plans/ecv",
    ]);
    assert_eq!(own.status.code(), Some(0), "{}", text(&own.stdout));
    // Under ECV the library's scenarios that call a third contact no longer hold.
    let library = watchpost(&[
        "plans",
        "check",
        "plans/ecv.toml",
        "--scenarios",
        "scenarios",
    ]);
    assert_eq!(library.status.code(), Some(1));
    let out = text(&library.stdout);
    assert!(
        out.contains("FAIL  burglary: contacts 1 and 2 unreached, contact 3 verifies"),
        "{out}"
    );
    let run = watchpost(&[
        "scenario",
        "run",
        "--plans",
        "plans/verified-response.toml",
        "plans/verified-response/burglary-unverified-guard-only.toml",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stdout));
    let missing = watchpost(&[
        "scenario",
        "run",
        "--plans",
        "nope.toml",
        "scenarios/co-cannot-cancel.toml",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("nope.toml: cannot read the plan file"));
}
