//! The command line as an installer or an administrator uses it: `wire decode` on WIRE.md's
//! vectors, `accounts import`, which writes everything or nothing, and the examples the
//! README tells a newcomer to run.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The master key the commands run with (the example accounts include a panel that encrypts).
const MASTER_KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

fn watchpost(args: &[&str], stdin: &[u8]) -> Output {
    watchpost_with_key(args, stdin, Some(MASTER_KEY))
}

/// `watchpost ARGS` with this master key in `WATCHPOST_MASTER_KEY`, or none.
fn watchpost_with_key(args: &[&str], stdin: &[u8], key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_watchpost"));
    match key {
        Some(key) => command.env("WATCHPOST_MASTER_KEY", key),
        None => command.env_remove("WATCHPOST_MASTER_KEY"),
    };
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn wire_decode_reads_a_burglary_and_answers_ack() {
    let out = watchpost(
        &["wire", "decode"],
        b"\n68AF0025\"SIA-DCS\"0001L0#1234[#1234|Nri1/BA12]\r",
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["account"], "1234");
    assert_eq!(v["reply"], "ACK");
    assert_eq!(
        v["events"],
        serde_json::json!([{"code": "BA", "zone": 12, "kind": "burglary"}])
    );
    // The contract's field order, as printed.
    let text = String::from_utf8_lossy(&out.stdout);
    let order = [
        "ok",
        "id",
        "encrypted",
        "sequence",
        "receiver",
        "line",
        "account",
        "events",
        "timestamp",
        "reply",
        "reply_frame",
        "error",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|key| text.find(&format!("\"{key}\":")).expect(key))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn wire_decode_decrypts_with_the_key_at_the_frames_time() {
    let frame = b"\nAEAE0137\"*SIA-DCS\"0018L0#12345[4cea0b8eb4752a51724c2c55f3801a6e35cb21d25e014290c29995e7cdbbb4659747c1e185c3627db922513d6d5cbb33440d09eefa204e96d62c9c9fc6ffaa5abeccfce859dd540f74cba79c04a048a9b597c12b027f6366a3817d1dd6e26e2019d33075a67ab4a74221f57450070a7f0de890d087c64e76db6893c192ef5e16762ef9934bbfc516d041ad71c47d4dd0\r";
    let args = [
        "wire",
        "decode",
        "--key-ascii",
        "0123456789ABCDEF",
        "--now",
        "2018-10-26T07:50:30Z",
    ];
    let out = watchpost(&args, frame);
    let v = json(&out);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["encrypted"], true);
    assert_eq!(v["timestamp"], "2018-10-26T07:50:26Z");
    assert_eq!(v["reply"], "ACK");
    assert!(v["reply_frame"].as_str().unwrap().contains("\"*ACK\""));
    // An hour later the timestamp is out of the window: NAK with the receiver's time.
    let late = watchpost(&[&args[..5], &["2018-10-26T08:50:30Z"]].concat(), frame);
    assert_eq!(late.status.code(), Some(1));
    let v = json(&late);
    assert_eq!(v["reply"], "NAK");
    assert!(v["error"].is_string());
}

#[test]
fn wire_decode_naks_a_bad_crc_and_refuses_a_bad_key() {
    let out = watchpost(
        &["wire", "decode"],
        b"\n68AE0025\"SIA-DCS\"0001L0#1234[#1234|Nri1/BA12]\r",
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["reply"], "NAK");
    let bad_key = watchpost(&["wire", "decode", "--key-hex", "abc"], b"");
    assert_eq!(bad_key.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("--key-hex"));
}

const GOOD: &str = r#"
[[accounts]]
number = "1001"
premises = "residential"
address = "1 Oak St, Springfield, IL"
country = "US"
region = "IL"
monitoring = "professional"
enrolled = "2026-01-01T00:00:00Z"
verbal_password = "blue falcon"
dc09_key_ascii = "0123456789ABCDEF"
supervision_s = 90
[[accounts.contacts]]
name = "Ann Lee"
phone = "+15555550101"

[[accounts]]
number = "1002"
premises = "commercial"
address = "2 Oak St, Springfield, IL"
country = "US"
region = "IL"
monitoring = "professional"
enrolled = "2026-01-01T00:00:00Z"
verbal_password = "red kite"
[[accounts.contacts]]
name = "Bob Lee"
phone = "+15555550102"
"#;

const QUEBEC: &str = r#"
[account]
number = "2001"
premises = "residential"
address = "1 rue Principale, Montréal, QC"
country = "CA"
region = "QC"
monitoring = "professional"
enrolled = "2026-01-01T00:00:00Z"
verbal_password = "blue falcon"
[[account.contacts]]
name = "Ann Lee"
phone = "+15145550101"
"#;

#[test]
fn accounts_import_writes_everything_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    let quebec = dir.path().join("quebec.toml");
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&quebec, QUEBEC).unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();

    let refused = watchpost(
        &[
            "accounts",
            "import",
            good.to_str().unwrap(),
            quebec.to_str().unwrap(),
            "--db",
            db_arg,
        ],
        b"",
    );
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("quebec.toml: account.region: Quebec"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was written");

    let imported = watchpost(
        &["accounts", "import", good.to_str().unwrap(), "--db", db_arg],
        b"",
    );
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(String::from_utf8_lossy(&imported.stdout).contains("imported 2 accounts"));
    // The database (and its WAL, shared memory) is its operator's alone.
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("center.db")
        {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
        }
    }
    let listed = watchpost(&["alarms", "--db", db_arg, "--json"], b"");
    assert_eq!(listed.status.code(), Some(0));
    assert!(listed.stdout.is_empty(), "no alarms yet");
}

#[test]
fn keys_are_imported_sealed_and_a_rotation_reseals_them() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, GOOD).unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    let import = ["accounts", "import", good.to_str().unwrap(), "--db", db_arg];

    // No master key: the keyed account is refused, naming the file and the field.
    let refused = watchpost_with_key(&import, b"", None);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("good.toml: accounts[0].dc09_key_ascii: this center has no master key"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing was written");

    let imported = watchpost(&import, b"");
    assert_eq!(imported.status.code(), Some(0));
    let raw = std::fs::read(&db).unwrap();
    let clear = hex_of("0123456789ABCDEF");
    assert!(
        !raw.windows(clear.len())
            .any(|w| w.eq_ignore_ascii_case(clear.as_bytes())),
        "the key is in the database file in clear"
    );

    // Rotation: a bad new key file is refused; a good one re-seals.
    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, "tooshort").unwrap();
    let rotate = [
        "secrets",
        "rotate",
        "--new-key-file",
        new_key.to_str().unwrap(),
        "--db",
        db_arg,
    ];
    let bad = watchpost(&rotate, b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--new-key-file: the key in"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    std::fs::write(&new_key, "17".repeat(32)).unwrap();
    let wrong_old = watchpost_with_key(&rotate, b"", Some(&"99".repeat(32)));
    assert_eq!(wrong_old.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&wrong_old.stderr).contains("nothing was changed"),
        "{}",
        String::from_utf8_lossy(&wrong_old.stderr)
    );
    let rotated = watchpost(&rotate, b"");
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert_eq!(
        rotated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(
        stdout.contains("re-sealed 1 DC-09 keys under master key"),
        "{stdout}"
    );
    // Now the keys open under the new key: rotating again with it as the current one works.
    let again = watchpost_with_key(&rotate, b"", Some(&"17".repeat(32)));
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02X}")).collect()
}

fn examples(dir: &str, extension: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// The clock the example frames were written at (their timestamps lie just before it).
const EXAMPLES_NOW: &str = "2026-03-10T14:05:10Z";

#[test]
fn the_readme_examples_import_and_decode() {
    let accounts = examples("accounts", "toml");
    assert!(accounts.len() >= 5, "{accounts:?}");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let mut args = vec!["accounts", "import"];
    args.extend(accounts.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--db", db.to_str().unwrap()]);
    let imported = watchpost(&args, b"");
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert_eq!(imported.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "no unknown keys: {stderr}");
    let account_files: Vec<String> = accounts
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();

    let frames = examples("frames", "dc09");
    assert!(frames.len() >= 2, "{frames:?}");
    let mut encrypted = 0;
    for frame in &frames {
        let key_file = frame.with_extension("key");
        let key = std::fs::read_to_string(&key_file).ok();
        let mut args = vec!["wire", "decode", "--now", EXAMPLES_NOW];
        if let Some(key) = &key {
            args.extend(["--key-hex", key.trim()]);
        }
        let out = watchpost(&args, &std::fs::read(frame).unwrap());
        let v = json(&out);
        let name = frame.display();
        assert_eq!(out.status.code(), Some(0), "{name}: {v}");
        assert_eq!(v["reply"], "ACK", "{name}: {v}");
        assert!(
            v["events"][0]["kind"].is_string(),
            "{name} raises an alarm: {v}"
        );
        assert_eq!(
            v["encrypted"],
            key.is_some(),
            "{name}: a key beside it, and only then"
        );
        // Sent by an example account, which holds the same key.
        let account = v["account"].as_str().unwrap();
        let number = format!("number = \"{account}\"");
        let file = account_files
            .iter()
            .find(|text| text.contains(&number))
            .unwrap_or_else(|| panic!("{name}: account {account} is in no example file"));
        if let Some(key) = &key {
            encrypted += 1;
            assert!(file.contains(key.trim()), "{name}: the account has the key");
        }
    }
    assert!(encrypted >= 1, "an encrypted example");
}

/// One `[account]` table numbered `number`, at `address`.
fn account_file(number: &str, address: &str) -> String {
    format!(
        r#"[account]
number = "{number}"
premises = "residential"
address = "{address}"
country = "US"
region = "IL"
monitoring = "self"
"#
    )
}

#[tokio::test]
async fn accounts_import_takes_any_case_as_one_account_and_refuses_a_leading_zero_twin() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    let import = |number: &str, address: &str, options: &[&str]| {
        let file = dir.path().join(format!("{number}.toml"));
        std::fs::write(&file, account_file(number, address)).unwrap();
        let mut args = vec!["accounts", "import", file.to_str().unwrap(), "--db", db_arg];
        args.extend(options);
        watchpost(&args, b"")
    };
    let created = import("5a5b", "1 Oak St", &[]);
    assert_eq!(created.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&created.stdout).contains("created: 5A5B"));
    let again = import("5A5B", "2 Oak St", &[]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "5A5B is the account 5a5b made"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("account 5A5B is already enrolled"));
    let replaced = import("5A5B", "2 Oak St", &["--replace"]);
    assert_eq!(replaced.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&replaced.stdout).contains("replaced: 5A5B"));
    let twin = import("05a5b", "3 Oak St", &["--replace"]);
    assert_eq!(twin.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&twin.stderr);
    assert!(
        stderr.contains(
            "05a5b.toml: account.number: \"05A5B\" differs from enrolled account \"5A5B\" only by leading zeros"
        ),
        "{stderr}"
    );
    let bad = import("5a-5b", "4 Oak St", &[]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("account.number: \"5a-5b\" has '-' at position 3"),
        "{stderr}"
    );

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{db_arg}"))
        .await
        .unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT number, address FROM accounts")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, [("5A5B".to_string(), "2 Oak St".to_string())]);

    let key = watchpost(&["keys", "add", "--account", "5a5b", "--db", db_arg], b"");
    assert_eq!(key.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&key.stderr).contains(" for account 5A5B: shown this once"));
}
