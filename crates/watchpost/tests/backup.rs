//! A backup taken under load and restored (issue 15, item 4): panels load a live center over
//! several connections, `watchpost backup` copies its database meanwhile, and the copy is
//! restored into a new file. Every frame the panels saw ACKed before the backup began must be
//! in the restored database, and a center must start on it and answer. The restore refuses to
//! replace a database without `--force`, and the live one even with it.

mod common;

use common::panel::{Sent, exchange, frame, stored};
use common::{BIN, MASTER_KEY, Server, account_toml, enrol, free_addr};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use watchpost_wire::FrameSplitter;

const CONNECTIONS: usize = 4;
const PROBE: &str = "7000";
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// One panel connection: frames back to back until `stop`, each ACKed frame with the moment
/// its ACK arrived and how long it took.
fn load(
    addr: SocketAddr,
    connection: usize,
    stop: Arc<AtomicBool>,
) -> Vec<(Sent, Instant, Duration)> {
    let mut acked = Vec::new();
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut splitter = FrameSplitter::new();
    let account = format!("{}", 7001 + connection);
    let mut n: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let data = format!("#{account}|Nri1/RP{n}");
        let sequence = (n % 9999 + 1) as u16;
        let sent = Sent {
            bytes: frame(&account, sequence, &data),
            account: account.clone(),
            data,
            sequence,
        };
        let asked = Instant::now();
        match exchange(&mut stream, &mut splitter, &sent) {
            Ok(true) => acked.push((sent, Instant::now(), asked.elapsed())),
            Ok(false) => {}
            Err(e) => panic!("connection {connection} failed under load: {e}"),
        }
    }
    acked
}

fn watchpost(args: &[&str]) -> Output {
    Command::new(BIN)
        .env("WATCHPOST_MASTER_KEY", MASTER_KEY)
        .args(args)
        .output()
        .expect("run watchpost")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_backup_taken_under_load_restores_every_signal_acked_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let accounts: String = (0..=CONNECTIONS)
        .map(|i| account_toml(&format!("{}", 7000 + i), ""))
        .collect();
    enrol(dir.path(), &db, &accounts);
    let addr = free_addr();
    let server = Server::start(dir.path(), &db, addr, "live", Duration::from_secs(10));
    let stop = Arc::new(AtomicBool::new(false));
    let panels: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let stop = stop.clone();
            std::thread::spawn(move || load(addr, c, stop))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));

    let backup = dir.path().join("center-backup.db");
    let began = Instant::now();
    let out = watchpost(&[
        "backup",
        "--db",
        db.to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    let ended = Instant::now();
    assert!(out.status.success(), "backup failed: {}", text(&out));
    // The live database may not be replaced while its center runs, even with --force.
    let live = watchpost(&[
        "restore",
        backup.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--force",
    ]);
    assert!(!live.status.success());
    assert!(
        text(&live).contains("a center is running on"),
        "{}",
        text(&live)
    );
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<(Sent, Instant, Duration)> = panels
        .into_iter()
        .flat_map(|p| p.join().expect("a panel thread"))
        .collect();
    drop(server);

    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the backup is its operator's alone");

    let restored = dir.path().join("restored.db");
    let out = watchpost(&[
        "restore",
        backup.to_str().unwrap(),
        "--db",
        restored.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "restore failed: {}", text(&out));
    let again = watchpost(&[
        "restore",
        backup.to_str().unwrap(),
        "--db",
        restored.to_str().unwrap(),
    ]);
    assert!(
        !again.status.success(),
        "an existing database is replaced only with --force"
    );
    assert!(text(&again).contains("--force"), "{}", text(&again));
    let not_a_center = dir.path().join("accounts.toml");
    let refused = watchpost(&[
        "restore",
        not_a_center.to_str().unwrap(),
        "--db",
        dir.path().join("x.db").to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("not a SQLite database"),
        "{}",
        text(&refused)
    );

    let counts = stored(&restored);
    let in_copy = |s: &Sent| counts.contains_key(&(s.account.clone(), s.data.clone()));
    let before: Vec<&Sent> = acked
        .iter()
        .filter(|(_, at, _)| *at < began)
        .map(|(s, _, _)| s)
        .collect();
    let lost: Vec<&&Sent> = before.iter().filter(|s| !in_copy(s)).collect();
    assert!(
        before.len() >= CONNECTIONS,
        "the load hardly ran: {} ACKs",
        before.len()
    );
    assert!(
        lost.is_empty(),
        "{} of {} frames ACKed before the backup are not in it: {:?}",
        lost.len(),
        before.len(),
        lost.first()
    );
    let during: Vec<Duration> = acked
        .iter()
        .filter(|(_, at, _)| *at >= began && *at <= ended)
        .map(|(_, _, took)| *took)
        .collect();
    let slowest = during.iter().max().copied().unwrap_or_default();
    println!(
        "backup: {} frames ACKed before the backup began, all in the restored copy; backup \
         took {:.1?}, {} ACKs during it (slowest {:.1?}); {} DC-09 rows in the copy, {} ACKed in all",
        before.len(),
        ended - began,
        during.len(),
        slowest,
        counts.values().sum::<i64>(),
        acked.len()
    );

    // A center starts on the restored copy and answers.
    let addr = free_addr();
    let mut server = Server::start(
        dir.path(),
        &restored,
        addr,
        "restored",
        Duration::from_secs(10),
    );
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let data = format!("#{PROBE}|Nri1/RP1");
    let probe = Sent {
        bytes: frame(PROBE, 1, &data),
        account: PROBE.into(),
        data,
        sequence: 1,
    };
    let answer = exchange(&mut stream, &mut FrameSplitter::new(), &probe);
    assert!(matches!(answer, Ok(true)), "{answer:?}\n{}", server.logs());
    drop(stream);
    assert!(
        server.terminate(Duration::from_secs(10)).success(),
        "{}",
        server.logs()
    );
}

/// The write-ahead log of another database (a table `stray` in it), as a crashed or careless
/// process leaves it: SQLite replays such a file into whatever database it finds it beside.
fn stray_wal(dir: &std::path::Path) -> Vec<u8> {
    use sqlx::{ConnectOptions, sqlite::SqliteConnectOptions, sqlite::SqliteJournalMode};
    let other = dir.join("other.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut conn = SqliteConnectOptions::new()
            .filename(&other)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("wal_autocheckpoint", "0")
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE stray (x)")
            .execute(&mut conn)
            .await
            .unwrap();
        // Read while the connection is open: closing it checkpoints the log away.
        std::fs::read(dir.join("other.db-wal")).unwrap()
    })
}

/// The tables of a SQLite file, as anyone opening it finds them.
fn tables(db: &std::path::Path) -> Vec<String> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", db.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let names = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        names
    })
}

#[test]
fn a_file_sqlite_would_replay_never_lands_in_a_backup_or_a_restored_center() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    enrol(dir.path(), &db, &account_toml("7000", ""));
    let wal = stray_wal(dir.path());
    let path = |name: &str| dir.path().join(name);
    let arg = |name: &str| path(name).to_str().unwrap().to_string();

    // Beside the backup's name: refused, naming it; nothing is written.
    std::fs::write(path("b1.db-wal"), &wal).unwrap();
    let out = watchpost(&["backup", "--db", &arg("center.db"), &arg("b1.db")]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("b1.db-wal exists beside it"),
        "{}",
        text(&out)
    );
    assert!(!path("b1.db").exists());

    // Beside the hidden copy (a crashed run's): ours to remove, the backup is whole.
    std::fs::write(path(".b2.db.partial-wal"), &wal).unwrap();
    let out = watchpost(&["backup", "--db", &arg("center.db"), &arg("b2.db")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(tables(&path("b2.db")).contains(&"accounts".to_string()));

    // Beside the restored database and its hidden copy: removed, the restored center whole.
    std::fs::write(path("r.db-wal"), &wal).unwrap();
    std::fs::write(path(".r.db.restoring-wal"), &wal).unwrap();
    let out = watchpost(&["restore", &arg("b2.db"), "--db", &arg("r.db")]);
    assert!(out.status.success(), "{}", text(&out));
    let restored = tables(&path("r.db"));
    assert!(restored.contains(&"accounts".to_string()), "{restored:?}");
    assert!(!restored.contains(&"stray".to_string()), "{restored:?}");

    // A file that is not a center, or not SQLite at all, is refused as such, and leaves no
    // hidden copy behind.
    std::fs::write(path("notes.db"), "not a database").unwrap();
    for (source, says) in [
        ("other.db", "is not a watchpost database"),
        ("notes.db", "not a SQLite database"),
    ] {
        let out = watchpost(&["backup", "--db", &arg(source), &arg("b3.db")]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(says), "{source}: {}", text(&out));
        let out = watchpost(&["restore", &arg(source), "--db", &arg("r3.db")]);
        assert!(text(&out).contains(says), "{source}: {}", text(&out));
    }
    let hidden: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
}
