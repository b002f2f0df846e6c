//! `watchpost webhooks` (issue 14, item 7): `add` prints the secret once and stores it only
//! sealed, refuses a URL that is not http(s) naming `url` and an unknown event type naming
//! `events`, and needs the master key; `list` never shows the secret; `log` and `remove` take
//! the id; adding and removing are in the audit trail.

mod common;

use common::{BIN, MASTER_KEY, account_toml, cli, enrol};
use std::process::Command;

#[test]
fn webhooks_are_added_listed_logged_and_removed_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    enrol(dir.path(), &db, &account_toml("4F39", ""));
    let run = |args: &[&str], master: bool| {
        let mut command = Command::new(BIN);
        if master {
            command.env("WATCHPOST_MASTER_KEY", MASTER_KEY);
        } else {
            command.env_remove("WATCHPOST_MASTER_KEY");
        }
        command.args(args).args(["--db", db_arg]).output().unwrap()
    };
    let text = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    for (args, field) in [
        (
            &["webhooks", "add", "--url", "ftp://dealer.example/"][..],
            "url: ",
        ),
        (
            &["webhooks", "add", "--url", "dealer.example/hooks"][..],
            "url: ",
        ),
        (
            &[
                "webhooks",
                "add",
                "--url",
                "https://d.example/",
                "--events",
                "alarm.boom",
            ][..],
            "events: ",
        ),
    ] {
        let out = run(args, true);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with(field),
            "{}",
            text(&out)
        );
    }
    let out = run(&["webhooks", "add", "--url", "https://d.example/"], false);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("master key"), "{}", text(&out));

    let out = run(
        &[
            "webhooks",
            "add",
            "--url",
            "https://dealer.example/hooks",
            "--dealer",
            "D7",
            "--events",
            "alarm.opened,alarm.closed",
            "--signals",
        ],
        true,
    );
    assert!(out.status.success(), "{}", text(&out));
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    let (id, secret) = printed.trim().split_once(' ').unwrap();
    assert!(
        id.starts_with("wh_") && secret.starts_with("whsec_"),
        "{printed}"
    );
    let stored = std::fs::read(&db).unwrap();
    let hex = &secret["whsec_".len()..];
    assert!(
        !String::from_utf8_lossy(&stored).contains(hex),
        "the secret is stored sealed"
    );

    let listed = cli(&["webhooks", "list", "--db", db_arg], "");
    assert!(listed.contains(id) && listed.contains("D7"), "{listed}");
    assert!(
        listed.contains("alarm.opened,alarm.closed,signal.received"),
        "{listed}"
    );
    assert!(
        listed.contains("0 pending") && !listed.contains(hex),
        "{listed}"
    );
    let log = cli(&["webhooks", "log", id, "--db", db_arg], "");
    assert_eq!(log.trim(), "no deliveries yet");
    let out = run(&["webhooks", "log", "wh_nope"], true);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).starts_with("id: "), "{}", text(&out));

    assert!(cli(&["webhooks", "remove", id, "--db", db_arg], "").contains("removed"));
    let out = run(&["webhooks", "remove", id], true);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        cli(&["webhooks", "list", "--db", db_arg], "").trim(),
        "no webhooks"
    );
    let audit = cli(&["audit", "list", "--db", db_arg], "");
    for action in ["webhook.add", "webhook.remove"] {
        assert!(
            audit.lines().any(|l| l.contains(action) && l.contains(id)),
            "{audit}"
        );
    }
    assert!(!audit.contains(hex), "{audit}");
}
