//! A crash loop leaves nothing growing (issue 16, item 3): `serve` is SIGKILLed under load
//! many times in a row, each time started again on the same database. Every frame ACKed in
//! any run is stored exactly once (the frame in flight at each kill is retransmitted after
//! the restart, as a panel would); each restart answers again (its first ACK is timed and
//! printed, not asserted: timings are `watchpost bench scale`'s); and what a start leaves
//! behind is bounded: the retransmission table is rid of the stale rows of earlier runs
//! although no run lasts the resend window, bookkeeping tables do not gain rows per start,
//! the WAL stays bounded, and open files and resident memory at start do not climb.

mod common;

use common::panel::{
    Outcome, Sent, connect, exchange, frame, load_frames, send_until, sqlite, stored, times_stored,
};
use common::{Server, account_toml, enrol, free_addr};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use watchpost_wire::FrameSplitter;

const RESTARTS: usize = 16;
const ACCOUNTS: usize = 20;
const CONNECTIONS: usize = 6;
/// The account each start is probed with (its first ACK), which the load does not use.
const PROBE: &str = "7000";
const LOAD_FOR: Duration = Duration::from_millis(700);
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows of `last_transmissions` left by an earlier run, a day old: more than one start's
/// bounded prune takes (`retransmit::PRUNE_LIMIT`, 10,000), so several starts must each go
/// on with it.
const STALE_ROWS: i64 = 25_000;
/// The resend window (`retransmit::RESEND_WINDOW_MS`): rows older than this are stale.
const RESEND_WINDOW_MS: i64 = 2 * 60 * 1000;
/// Tables that keep what happened, and so grow with the load by design.
const APPEND_ONLY: [&str; 8] = [
    "signals",
    // Each signal's entry by account (the fold of migration 0022).
    "signal_accounts",
    "alarms",
    "alarm_events",
    "audit",
    "account_events",
    "webhook_events",
    "inbox",
];

/// What one run of the loop found at its start.
struct AtStart {
    first_ack: Duration,
    open_files: usize,
    rss_kb: u64,
    db_bytes: u64,
    wal_bytes: u64,
    stale: i64,
    rows: BTreeMap<String, i64>,
}

/// One panel connection of run `run`: frames back to back until `stop` or the kill; nothing
/// when the center does not take the connection.
fn load(addr: SocketAddr, run: usize, connection: usize, stop: Arc<AtomicBool>) -> Outcome {
    let Some(stream) = connect(addr, IO_TIMEOUT) else {
        return Outcome::default();
    };
    // Unique in the whole loop: the run and the connection are in the zone.
    let zone = |n| ((run * CONNECTIONS + connection) as u32 + 1) * 100_000 + n;
    send_until(
        stream,
        load_frames(ACCOUNTS, CONNECTIONS, connection, zone),
        &stop,
    )
}

/// Rows per table, and `last_transmissions` rows older than `stale_before`.
fn rows(db: &Path, stale_before: i64) -> (BTreeMap<String, i64>, i64) {
    sqlite(db, async |conn| {
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '_sqlx%'",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        let mut counts = BTreeMap::new();
        for (table,) in tables {
            let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM \"{table}\""))
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            counts.insert(table, n);
        }
        let (stale,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM last_transmissions WHERE received_at < ?")
                .bind(stale_before)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        (counts, stale)
    })
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Open files of `pid` other than sockets: connections come and go with the panels (the
/// probe's may not be closed yet), files and pipes would stay.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| !target.to_string_lossy().starts_with("socket:"))
        .count()
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Sends `sent` on a new connection until it is ACKed (the receiver may still be starting);
/// panics after `within`.
fn ack_within(server: &Server, sent: &Sent, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(mut stream) = TcpStream::connect_timeout(&server.addr, IO_TIMEOUT) {
            stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            let mut splitter = FrameSplitter::new();
            if matches!(exchange(&mut stream, &mut splitter, sent), Ok(true)) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} not ACKed within {within:?}\n{}",
            sent.data,
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn probe(run: usize) -> Sent {
    let data = format!("#{PROBE}|Nri1/RP{}", 90_000_000 + run);
    Sent {
        account: PROBE.into(),
        sequence: 1,
        bytes: frame(PROBE, 1, &data),
        data,
    }
}

#[test]
fn a_crash_loop_loses_nothing_acknowledged_and_leaves_nothing_growing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watchpost.db");
    let wal = dir.path().join("watchpost.db-wal");
    let accounts: String = (0..=ACCOUNTS)
        .map(|i| account_toml(&format!("{}", 7000 + i), ""))
        .collect();
    enrol(dir.path(), &db, &accounts);
    let began = chrono::Utc::now().timestamp_millis();
    // An earlier run's frames, a day old: stale however soon the loop restarts.
    sqlite(&db, async |conn| {
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1) \
             INSERT INTO last_transmissions (account, fingerprint, received_at) \
             SELECT CAST(800000 + i AS TEXT), 'SIA-DCS|0001|#x|Nri1/RP001', ?2 FROM n",
        )
        .bind(STALE_ROWS)
        .bind(began - 24 * 60 * 60 * 1000)
        .execute(&mut *conn)
        .await
        .unwrap();
    });
    let stale_before = began - RESEND_WINDOW_MS;

    let addr = free_addr();
    let mut acked: Vec<Sent> = Vec::new();
    let mut in_flight: Vec<Sent> = Vec::new();
    let mut starts: Vec<AtStart> = Vec::new();
    for run in 0..=RESTARTS {
        let spawned = Instant::now();
        let server = Server::start(dir.path(), &db, addr, &format!("run{run}"), IO_TIMEOUT * 6);
        let mut server = server;
        let probe = probe(run);
        ack_within(&server, &probe, IO_TIMEOUT * 6);
        let first_ack = spawned.elapsed();
        acked.push(probe);
        let open_files = open_files(server.pid());
        let rss_kb = rss_kb(server.pid());
        // What the last run had on the wire when it was killed, sent again byte for byte.
        for sent in in_flight.drain(..) {
            ack_within(&server, &sent, IO_TIMEOUT);
            acked.push(sent);
        }
        let (rows, stale) = rows(&db, stale_before);
        starts.push(AtStart {
            first_ack,
            open_files,
            rss_kb,
            db_bytes: file_len(&db),
            wal_bytes: file_len(&wal),
            stale,
            rows,
        });
        if run == RESTARTS {
            let status = server.terminate(Duration::from_secs(10));
            assert!(status.success(), "serve exited with {status}");
            break;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let panels: Vec<_> = (0..CONNECTIONS)
            .map(|c| {
                let stop = stop.clone();
                std::thread::spawn(move || load(addr, run, c, stop))
            })
            .collect();
        std::thread::sleep(LOAD_FOR);
        let logs = server.logs();
        server.kill();
        stop.store(true, Ordering::Relaxed);
        let mut ran = 0;
        for panel in panels {
            let outcome = panel.join().expect("a panel thread");
            assert!(
                outcome.refused.is_empty(),
                "run {run}: frames refused\n{logs}"
            );
            ran += outcome.acked.len();
            acked.extend(outcome.acked);
            in_flight.extend(outcome.in_flight);
        }
        assert!(ran >= CONNECTIONS, "run {run}: the load hardly ran\n{logs}");
    }

    println!(
        "{:>4} {:>9} {:>6} {:>8} {:>9} {:>9} {:>7} {:>8}",
        "run", "1st ACK", "fds", "RSS kB", "db kB", "WAL kB", "stale", "signals"
    );
    for (run, s) in starts.iter().enumerate() {
        println!(
            "{run:>4} {:>7.0}ms {:>6} {:>8} {:>9} {:>9} {:>7} {:>8}",
            s.first_ack.as_secs_f64() * 1000.0,
            s.open_files,
            s.rss_kb,
            s.db_bytes / 1024,
            s.wal_bytes / 1024,
            s.stale,
            s.rows.get("signals").copied().unwrap_or(0)
        );
    }

    // Every ACKed frame stored exactly once.
    let counts = stored(&db);
    let count = |s: &Sent| times_stored(&counts, s);
    let lost: Vec<&Sent> = acked.iter().filter(|s| count(s) == 0).collect();
    let doubled: Vec<&Sent> = acked.iter().filter(|s| count(s) > 1).collect();
    println!(
        "crash loop: {RESTARTS} SIGKILLs under load, {} frames ACKed, {} lost, {} stored twice",
        acked.len(),
        lost.len(),
        doubled.len()
    );
    assert!(lost.is_empty(), "ACKed and not stored: {:?}", lost.first());
    assert!(doubled.is_empty(), "stored twice: {:?}", doubled.first());

    // The stale retransmission rows go, a bounded step per start, though no run lasted the
    // resend window.
    let last = starts.last().unwrap();
    assert_eq!(
        last.stale, 0,
        "stale last_transmissions rows left after {RESTARTS} restarts: {}",
        last.stale
    );
    // Bookkeeping tables gain nothing per start once the load has touched every account.
    let settled = &starts[2];
    for (table, n) in &last.rows {
        if APPEND_ONLY.contains(&table.as_str()) {
            continue;
        }
        let before = settled.rows.get(table).copied().unwrap_or(0);
        assert!(
            *n <= before.max(ACCOUNTS as i64 + 1),
            "{table}: {before} rows at the third start, {n} at the last: it grows per start"
        );
    }
    // The WAL is checkpointed within its bound (`wal_autocheckpoint`, 10,000 pages).
    let wal_most = starts.iter().map(|s| s.wal_bytes).max().unwrap();
    assert!(
        wal_most <= 64 << 20,
        "WAL grew to {wal_most} bytes across restarts"
    );
    // Open files (not counting sockets) and memory at start do not climb with the restarts.
    let first = &starts[1..4];
    let later = &starts[starts.len() - 3..];
    let most = |s: &[AtStart], f: fn(&AtStart) -> u64| s.iter().map(f).max().unwrap();
    let fds = |s: &AtStart| s.open_files as u64;
    assert!(
        // Readers open on demand, three descriptors each (file, WAL, shared memory): two
        // more open at one start than at another is no growth.
        most(later, fds) <= most(first, fds) + 6,
        "open files at start climb: {} then {}",
        most(first, fds),
        most(later, fds)
    );
    let rss = |s: &AtStart| s.rss_kb;
    assert!(
        most(later, rss) <= most(first, rss) * 3 / 2 + 16 * 1024,
        "resident memory at start climbs: {} kB then {} kB",
        most(first, rss),
        most(later, rss)
    );
}
