//! The command-line paths a newcomer takes: a command whose output is closed ends quietly
//! (and `serve` goes on), database errors name the database and the cause, `serve` does not
//! start on a database it would have to create unless told to, read-only commands create
//! nothing, and `accounts import` says what it created and replaces nothing unless told to.

mod common;

use common::{BIN, CALLBACK_NUMBER, CENTER_NAME, Server, account_toml, cli, enrol, free_addr};
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `watchpost ARGS` with its stdout a pipe whose reading end is closed at once, as `|
/// head` does once it has what it wants. Returns how it ended and its stderr.
fn with_closed_output(args: &[&str], stdin: &str) -> (ExitStatus, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Ended quietly: success or the status of a command stopped by its closed output.
fn assert_quiet(args: &[&str], (status, stderr): (ExitStatus, String)) {
    assert!(
        matches!(status.code(), Some(0 | 141)),
        "{args:?} ended with {status}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_command_ends_quietly_when_its_output_is_closed() {
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    let scenario_files: Vec<String> = std::fs::read_dir(scenarios)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".toml"))
        .take(5)
        .collect();
    let scenario_args: Vec<&str> = ["scenario", "run"]
        .into_iter()
        .chain(scenario_files.iter().map(String::as_str))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(&accounts, account_toml("4F39", "")).unwrap();
    let accounts_arg = accounts.to_str().unwrap();
    let frame = "\n68AF0025\"SIA-DCS\"0001L0#1234[#1234|Nri1/BA12]\r";
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (scenario_args, ""),
        (vec!["simulate", "--alarms", "200"], ""),
        (vec!["wire", "decode"], frame),
        (vec!["accounts", "import", accounts_arg, "--db", db_arg], ""),
        (
            vec!["users", "add", "amy", "--role", "agent", "--db", db_arg],
            "correct horse battery\n",
        ),
        (vec!["users", "list", "--db", db_arg], ""),
        (vec!["dealers", "add", "D1", "Acme", "--db", db_arg], ""),
        (vec!["dealers", "list", "--db", db_arg], ""),
        (vec!["keys", "add", "--account", "4F39", "--db", db_arg], ""),
        (vec!["--help"], ""),
    ];
    for (args, stdin) in commands {
        assert_quiet(&args, with_closed_output(&args, stdin));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_goes_on_when_its_output_is_closed_and_alarms_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    enrol(dir.path(), &db, &account_toml("4F39", ""));
    let key = cli(&["keys", "add", "--account", "4F39", "--db", db_arg], "")
        .trim()
        .to_string();
    let (dc09, http) = (free_addr(), free_addr());
    // No master key here, though `enrol` keyed the verbal password with the center's pepper:
    // the center still starts (alarms must flow), and says it cannot check that password.
    let mut serve = Command::new(BIN)
        .args([
            "serve",
            "--db",
            db_arg,
            "--dc09",
            &dc09.to_string(),
            "--http",
        ])
        .arg(http.to_string())
        .args([
            "--center-name",
            CENTER_NAME,
            "--callback-number",
            CALLBACK_NUMBER,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(serve.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(http).is_err() {
        assert!(Instant::now() < deadline, "serve is not listening");
        assert!(serve.try_wait().unwrap().is_none(), "serve died");
        std::thread::sleep(Duration::from_millis(50));
    }
    let client = reqwest::Client::new();
    for zone in ["BA003", "FA001"] {
        let signal = client
            .post(format!("http://{http}/api/signals"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "sia": zone }))
            .send()
            .await
            .unwrap();
        assert_eq!(signal.status().as_u16(), 202, "serve still answers");
    }
    let args = ["alarms", "--json", "--db", db_arg];
    assert_quiet(&args, with_closed_output(&args, ""));
    assert_eq!(
        common::alarms(&db).len(),
        2,
        "both alarms are listed when read"
    );

    // It stops as asked, though it cannot say so.
    let pid = serve.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = serve.wait_with_output().unwrap();
    assert!(out.status.success(), "{}: {}", out.status, stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn database_errors_name_the_database_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-such-folder").join("center.db");
    let nowhere_arg = nowhere.to_str().unwrap();
    let folder = format!(
        "the folder {} does not exist",
        nowhere.parent().unwrap().display()
    );
    let accounts = dir.path().join("accounts.toml");
    std::fs::write(&accounts, account_toml("4F39", "")).unwrap();

    let import = run(&[
        "accounts",
        "import",
        accounts.to_str().unwrap(),
        "--db",
        nowhere_arg,
    ]);
    assert_eq!(import.status.code(), Some(2));
    assert_eq!(
        stderr(&import).trim_end(),
        format!("watchpost: database {nowhere_arg}: {folder}")
    );
    let add = run(&[
        "users",
        "add",
        "amy",
        "--role",
        "agent",
        "--db",
        nowhere_arg,
    ]);
    assert!(stderr(&add).contains(&folder), "{}", stderr(&add));
    let serve = run(&[
        "serve",
        "--db",
        nowhere_arg,
        "--create",
        "--center-name",
        CENTER_NAME,
        "--callback-number",
        CALLBACK_NUMBER,
    ]);
    assert_eq!(serve.status.code(), Some(2));
    assert!(
        stderr(&serve).contains(&format!("database {nowhere_arg}: {folder}")),
        "{}",
        stderr(&serve)
    );

    let folder_as_db = run(&["alarms", "--db", dir.path().to_str().unwrap()]);
    assert!(
        stderr(&folder_as_db).contains("it is a folder, not a database file"),
        "{}",
        stderr(&folder_as_db)
    );

    // A PostgreSQL URL is named with its password masked, and the cause said.
    let closed = free_addr();
    let url = format!("postgres://watchpost:hunter2@{closed}/center");
    let unreachable = run(&["alarms", "--db", &url]);
    assert_eq!(unreachable.status.code(), Some(2));
    let said = stderr(&unreachable);
    assert!(
        said.starts_with(&format!(
            "watchpost: database postgres://watchpost:***@{closed}/center: "
        )),
        "{said}"
    );
    assert!(said.to_lowercase().contains("refused"), "{said}");
    assert!(!said.contains("hunter2"));
}

#[test]
fn serve_starts_only_on_a_center_unless_told_to_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let misspelt = dir.path().join("centre.db");
    let misspelt_arg = misspelt.to_str().unwrap();
    let named = [
        "--center-name",
        CENTER_NAME,
        "--callback-number",
        CALLBACK_NUMBER,
    ];
    let refused = run(&[&["serve", "--db", misspelt_arg][..], &named].concat());
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        stderr(&refused).trim_end(),
        format!(
            "watchpost: database {misspelt_arg} holds no center: check the name, or give \
             --create (or database.create = true) to start a new, empty one"
        )
    );
    assert!(!misspelt.exists(), "nothing was created");

    // Read-only commands never create one either.
    for args in [
        vec!["alarms", "--db", misspelt_arg],
        vec!["users", "list", "--db", misspelt_arg],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains(&format!("database {misspelt_arg} holds no center")),
            "{}",
            stderr(&out)
        );
        assert!(!misspelt.exists(), "{args:?} created nothing");
    }

    let (dc09, http) = (free_addr(), free_addr());
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--create",
            "--db",
            misspelt_arg,
            "--dc09",
            &dc09.to_string(),
        ])
        .args(["--http", &http.to_string()])
        .args(named);
    let mut server = Server::spawn(
        dir.path(),
        command,
        dc09,
        http,
        "created",
        Duration::from_secs(20),
    );
    assert!(
        server
            .stdout_text()
            .contains(&format!("created a new, empty center in {misspelt_arg}")),
        "{}",
        server.logs()
    );
    assert!(server.terminate(Duration::from_secs(10)).success());
    // Stopped cleanly, the center is one file: nothing waits in a WAL beside it.
    for side in ["-wal", "-shm"] {
        let file = format!("{misspelt_arg}{side}");
        assert!(!Path::new(&file).exists(), "{file} is left behind");
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn accounts_import_says_what_it_created_and_replaces_only_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let db_arg = db.to_str().unwrap();
    let first = write(
        dir.path(),
        "first.toml",
        &(account_toml("1001", "") + &account_toml("1002", "")),
    );
    let created = run(&["accounts", "import", &first, "--db", db_arg]);
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    assert_eq!(
        stdout(&created),
        format!("imported 2 accounts into {db_arg}\ncreated: 1001, 1002\n")
    );
    assert!(
        stderr(&created).contains(&format!("created a new center database {db_arg}")),
        "{}",
        stderr(&created)
    );

    // 1001 is enrolled: without --replace nothing of the second file is imported.
    let second = write(
        dir.path(),
        "second.toml",
        &(account_toml("1003", "") + &account_toml("1001", "")),
    );
    let refused = run(&["accounts", "import", &second, "--db", db_arg]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        stderr(&refused),
        format!(
            "{second}: account 1001 is already enrolled (give --replace to replace it)\n\
             nothing imported: 1 already enrolled\n"
        )
    );
    let third = write(dir.path(), "third.toml", &account_toml("1003", ""));
    let alone = run(&["accounts", "import", &third, "--db", db_arg]);
    assert_eq!(
        stdout(&alone),
        format!("imported 1 accounts into {db_arg}\ncreated: 1003\n"),
        "1003 was not imported by the refused run"
    );
    assert!(stderr(&alone).is_empty(), "{}", stderr(&alone));

    let replaced = run(&["accounts", "import", &second, "--replace", "--db", db_arg]);
    assert_eq!(replaced.status.code(), Some(0), "{}", stderr(&replaced));
    assert_eq!(
        stdout(&replaced),
        format!("imported 2 accounts into {db_arg}\nreplaced: 1003, 1001\n")
    );
}
