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

/// Loading into a center's database: versions only grow, a required scenario stops a version
/// that breaks it, a rollback is one command and keeps the history, and each change is
/// audited.
#[test]
fn plans_in_the_center_are_versioned_required_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let db = db.to_str().unwrap();
    let imported = watchpost(&[
        "accounts",
        "import",
        "examples/accounts/elm-street.toml",
        "--db",
        db,
    ]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let ok = |args: &[&str]| {
        let out = watchpost(&[args, &["--db", db]].concat());
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let refused = |args: &[&str]| {
        let out = watchpost(&[args, &["--db", db]].concat());
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stdout)
        );
        text(&out.stderr)
    };
    assert_eq!(ok(&["plans", "load", "plans/ecv.toml"]), "ecv v1 loaded\n");
    assert!(refused(&["plans", "load", "plans/ecv.toml"]).contains("ecv v1 is this same file"));
    ok(&[
        "plans",
        "require",
        "ecv",
        "plans/ecv/burglary-two-people-called-then-dispatch.toml",
    ]);
    // Calling a third person before the dispatch breaks the required scenario.
    let three = dir.path().join("ecv-three.toml");
    let text3 = std::fs::read_to_string(repo().join("plans/ecv.toml"))
        .unwrap()
        .replace("from = 1, to = 2 }", "from = 1, to = 3 }");
    std::fs::write(&three, text3).unwrap();
    let why = refused(&["plans", "load", three.to_str().unwrap()]);
    assert!(
        why.contains(
            "would break 1 required scenario(s): burglary-two-people-called-then-dispatch.toml"
        ),
        "{why}"
    );
    let fixed = dir.path().join("ecv-fixed.toml");
    let text2 = std::fs::read_to_string(repo().join("plans/ecv.toml"))
        .unwrap()
        .replace("Enhanced call verification: two calls", "ECV: two calls");
    std::fs::write(&fixed, text2).unwrap();
    assert_eq!(
        ok(&["plans", "load", fixed.to_str().unwrap()]),
        "ecv v2 loaded\n"
    );
    assert_eq!(ok(&["plans", "rollback", "ecv"]), "ecv v3 is v1 again\n");
    let history = ok(&["plans", "history", "ecv"]);
    assert!(
        history.contains("v3") && history.contains("rolled back to v1"),
        "{history}"
    );
    assert!(ok(&["plans", "get", "ecv", "--version", "2"]).contains("ECV: two calls"));
    ok(&["plans", "assign", "ecv", "--center"]);
    assert!(refused(&["plans", "assign", "ecv", "--account", "0000"]).contains("--account: 0000"));
    assert!(refused(&["plans", "assign", "nope", "--center"]).contains("name: "));
    let list = ok(&["plans", "list"]);
    assert!(
        list.contains("ecv v3") && list.contains("applies to: the center"),
        "{list}"
    );
    let audit = ok(&["audit", "list"]);
    for action in ["plan.load", "plan.require", "plan.assign"] {
        assert!(audit.contains(action), "{audit}");
    }
}
