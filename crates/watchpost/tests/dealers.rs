//! Dealers from the command line (issue 14, item 6): `dealers add` and `list`, dealer users
//! with `users add --role dealer_admin --dealer ID`, accounts files naming their dealer, and
//! the refusals (a dealer's role without a dealer, a center role with one, an unknown dealer),
//! each naming the field and changing nothing.

mod common;

use common::{BIN, account_toml, cli, enrol};
use std::process::Command;

/// Runs `watchpost ARGS` expecting a refusal (exit 2); its stderr.
fn refused(args: &[&str], stdin: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "watchpost {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn dealers_their_users_and_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db = db.to_str().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--db", db]);
        cli(&all, stdin)
    };
    let refuse = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--db", db]);
        refused(&all, stdin)
    };
    assert!(run(&["dealers", "add", "d1", "Acme Alarms"], "").contains("dealer D1 (Acme Alarms)"));
    run(&["dealers", "add", "D2", "Bolt Security"], "");
    let bad = refuse(&["dealers", "add", "D_1", "Bad"], "");
    assert!(
        bad.contains("id: ") && bad.contains("A-Z, 0-9 and -"),
        "{bad}"
    );

    let out = run(
        &[
            "users",
            "add",
            "dana",
            "--role",
            "dealer_admin",
            "--dealer",
            "d1",
        ],
        "correct horse\n",
    );
    assert!(
        out.contains("dana (dealer_admin of dealer D1) added"),
        "{out}"
    );
    let no_dealer = refuse(
        &["users", "add", "x", "--role", "dealer_viewer"],
        "correct horse\n",
    );
    assert!(
        no_dealer.contains("dealer: a dealer_viewer must name their dealer"),
        "{no_dealer}"
    );
    let unknown = refuse(
        &[
            "users",
            "add",
            "x",
            "--role",
            "dealer_viewer",
            "--dealer",
            "D9",
        ],
        "correct horse\n",
    );
    assert!(unknown.contains("dealer: no dealer \"D9\""), "{unknown}");
    let center = refuse(
        &["users", "add", "x", "--role", "agent", "--dealer", "D1"],
        "correct horse\n",
    );
    assert!(
        center.contains("dealer: agent is a center role, which belongs to no dealer"),
        "{center}"
    );
    let users = run(&["users", "list"], "");
    assert!(
        users.contains("dana") && users.contains("dealer D1"),
        "{users}"
    );
    assert!(!users.contains("x "), "{users}");

    enrol(
        dir.path(),
        db,
        &format!(
            "{}{}",
            account_toml("1001", "dealer = \"d1\""),
            account_toml("3001", "")
        ),
    );
    let file = dir.path().join("unknown.toml");
    std::fs::write(&file, account_toml("2001", "dealer = \"D9\"")).unwrap();
    let unknown = refuse(&["accounts", "import", file.to_str().unwrap()], "");
    assert!(
        unknown.contains("account 2001: dealer: no dealer \"D9\""),
        "{unknown}"
    );

    let listed = run(&["dealers", "list"], "");
    let d1 = listed.lines().find(|l| l.starts_with("D1 ")).unwrap();
    assert!(
        d1.contains("Acme Alarms  1 account(s), 1 user(s)"),
        "{listed}"
    );
    let d2 = listed.lines().find(|l| l.starts_with("D2 ")).unwrap();
    assert!(d2.contains("0 account(s), 0 user(s)"), "{listed}");
}
