//! Taking access away from the command line (issue 13, item 5): users are disabled, enabled,
//! given a new password, signed out everywhere and unlocked; API keys are listed (never the
//! key) and revoked; every change is in `watchpost audit list` with who made it.

mod common;

use common::{BIN, account_toml, cli, enrol};
use std::process::Command;

#[test]
fn users_and_keys_are_revoked_and_every_change_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    enrol(dir.path(), &db, &account_toml("4F39", ""));
    let as_user = |args: &[&str], stdin: &str| {
        let mut all = args.to_vec();
        all.extend(["--db", db_arg]);
        cli(&all, stdin)
    };
    as_user(
        &["users", "add", "amy", "--role", "agent"],
        "correct horse\n",
    );
    let key = as_user(&["keys", "add", "--account", "4f39", "--label", "door"], "");
    let key = key.trim();
    let listed = as_user(&["keys", "list", "--account", "4F39"], "");
    let id = listed.split_whitespace().next().unwrap().to_string();
    assert_eq!(id.len(), 12, "{listed}");
    assert!(
        listed.contains("4F39") && listed.contains("door"),
        "{listed}"
    );
    assert!(!listed.contains(key), "{listed}");
    assert!(listed.contains("last used never"), "{listed}");
    assert!(as_user(&["keys", "revoke", &id], "").contains("revoked"));
    assert_eq!(as_user(&["keys", "list"], "").trim(), "no API keys");

    let out = as_user(&["users", "disable", "amy"], "");
    assert!(out.contains("amy disabled"), "{out}");
    let listed = as_user(&["users", "list"], "");
    assert!(listed.contains("DISABLED"), "{listed}");
    as_user(&["users", "enable", "amy"], "");
    assert!(!as_user(&["users", "list"], "").contains("DISABLED"));
    as_user(&["users", "passwd", "amy"], "battery staple\n");
    assert!(as_user(&["users", "logout", "amy"], "").contains("0 session(s) ended"));
    as_user(&["users", "unlock", "amy"], "");

    // Refusals name what is wrong and change nothing.
    let short = Command::new(BIN)
        .args(["users", "disable", "bob", "--db", db_arg])
        .output()
        .unwrap();
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("no user is called \"bob\""));
    let bad = Command::new(BIN)
        .args(["keys", "revoke", "12", "--db", db_arg])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("id: "));

    let audit = as_user(&["audit", "list"], "");
    let actions: Vec<&str> = audit
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.unlock",
            "user.logout",
            "user.passwd",
            "user.enable",
            "user.disable",
            "key.revoke",
            "key.add",
            "user.add"
        ],
        "{audit}"
    );
    assert!(audit.lines().all(|l| l.contains(" cli:")), "{audit}");
    assert!(!audit.contains(key));
}
