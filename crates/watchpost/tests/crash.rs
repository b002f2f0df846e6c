//! Nothing acknowledged is lost: panels load the live center over several TCP connections,
//! the center is SIGKILLed in the middle of it, restarted on the same database, and every
//! frame that was ACKed before the kill must be in the `signals` table exactly once. Some
//! panels never change their sequence number: each of their events must be stored, however
//! often the same one comes again after other frames.

mod common;

use common::panel::{
    Outcome, Sent, connect, encode, exchange, frame, load_frames, send_until, stored, times_stored,
};
use common::{Server, account_toml, enrol, free_addr};
use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use watchpost_wire::{FrameSplitter, MessageId};

const ACCOUNTS: usize = 20;
const CONNECTIONS: usize = 6;
/// Panels that send sequence 0001 on every message, each on a connection of its own.
const CONSTANT: [&str; 2] = ["7101", "7102"];
/// The account the restarted center is probed with, which the load does not use.
const PROBE: &str = "7000";
const LOAD_BEFORE_KILL: Duration = Duration::from_millis(1500);
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// One panel connection: sends frames for its accounts back to back, each waiting for its
/// ACK, until `stop` or until the connection fails (the kill).
fn load(addr: SocketAddr, connection: usize, stop: Arc<AtomicBool>) -> Outcome {
    let stream = connect(addr, IO_TIMEOUT).expect("connect");
    let zone = |n| (connection as u32 + 1) * 1_000_000 + n;
    send_until(
        stream,
        load_frames(ACCOUNTS, CONNECTIONS, connection, zone),
        &stop,
    )
}

/// A panel whose sequence number is always 1: a test report, another, a link test and the
/// second again, over and over. Each repeat comes after another frame: a new event.
fn load_constant(addr: SocketAddr, account: &str, stop: Arc<AtomicBool>) -> Outcome {
    let stream = connect(addr, IO_TIMEOUT).expect("connect");
    let cycle = [
        (MessageId::SiaDcs, format!("#{account}|Nri1/RP1")),
        (MessageId::SiaDcs, format!("#{account}|Nri1/RP2")),
        (MessageId::Null, String::new()),
        (MessageId::SiaDcs, format!("#{account}|Nri1/RP2")),
    ];
    let frames = cycle.into_iter().cycle().map(|(id, data)| Sent {
        account: account.into(),
        bytes: encode(id, account, 1, &data),
        data,
        sequence: 1,
    });
    send_until(stream, frames, &stop)
}

#[test]
fn nothing_acknowledged_is_lost_when_the_center_is_killed() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("watchpost.db");
    let accounts: String = (0..ACCOUNTS)
        .map(|i| format!("{}", 7001 + i))
        .chain(CONSTANT.map(String::from))
        .chain([PROBE.to_string()])
        .map(|number| account_toml(&number, ""))
        .collect();
    enrol(dir.path(), &db, &accounts);
    let enrolled = started.elapsed();

    let addr = free_addr();
    let mut server = Server::start(dir.path(), &db, addr, "first", Duration::from_secs(10));
    let stop = Arc::new(AtomicBool::new(false));
    let panels: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let stop = stop.clone();
            std::thread::spawn(move || load(addr, c, stop))
        })
        .collect();
    let constant: Vec<_> = CONSTANT
        .iter()
        .map(|account| {
            let stop = stop.clone();
            std::thread::spawn(move || load_constant(addr, account, stop))
        })
        .collect();
    std::thread::sleep(LOAD_BEFORE_KILL);
    let first_logs = server.logs();
    server.kill();
    // Connections fail at once when the process dies; `stop` covers one that would not.
    stop.store(true, Ordering::Relaxed);
    let join = |panel: std::thread::JoinHandle<Outcome>| panel.join().expect("a panel thread");
    let outcomes: Vec<Outcome> = panels.into_iter().map(join).collect();
    let constant: Vec<Outcome> = constant.into_iter().map(join).collect();
    let acked: Vec<Sent> = outcomes.iter().flat_map(|o| o.acked.clone()).collect();
    let refused: Vec<Sent> = outcomes
        .iter()
        .chain(&constant)
        .flat_map(|o| o.refused.clone())
        .collect();
    let in_flight: Vec<Sent> = outcomes
        .iter()
        .chain(&constant)
        .filter_map(|o| o.in_flight.clone())
        .collect();
    assert!(
        refused.is_empty(),
        "{} frames were answered with something else than an ACK\n{first_logs}",
        refused.len()
    );
    assert!(
        acked.len() >= CONNECTIONS,
        "the load hardly ran: {} ACKs\n{first_logs}",
        acked.len()
    );

    // The center must come back on the same database and answer again.
    let mut server = Server::start(dir.path(), &db, addr, "second", Duration::from_secs(10));
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).expect("connect again");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut splitter = FrameSplitter::new();
    let probe_data = format!("#{PROBE}|Nri1/RP99999999");
    let probe = Sent {
        account: PROBE.into(),
        sequence: 1,
        bytes: frame(PROBE, 1, &probe_data),
        data: probe_data,
    };
    let probe_acked = exchange(&mut stream, &mut splitter, &probe);
    assert!(
        matches!(probe_acked, Ok(true)),
        "a frame after the restart was not ACKed: {probe_acked:?}\n{}",
        server.logs()
    );
    // Panels retransmit what was never ACKed, byte for byte.
    let mut retransmitted = 0;
    for sent in &in_flight {
        let answer = exchange(&mut stream, &mut splitter, sent);
        assert!(
            matches!(answer, Ok(true)),
            "a retransmission after the restart was not ACKed: {answer:?}\n{}",
            server.logs()
        );
        retransmitted += 1;
    }
    drop(stream);
    let status = server.terminate(Duration::from_secs(10));
    assert!(
        status.success(),
        "serve exited with {status}\n{}",
        server.logs()
    );

    let counts = stored(&db);
    let count = |s: &Sent| times_stored(&counts, s);
    let lost: Vec<&Sent> = acked.iter().filter(|s| count(s) == 0).collect();
    let doubled: Vec<&Sent> = acked.iter().filter(|s| count(s) > 1).collect();
    let acked_stored = acked.iter().filter(|s| count(s) == 1).count();
    let test_rows: i64 = counts
        .iter()
        .filter(|((_, raw), _)| raw.contains("/RP") || raw.contains("/BA"))
        .map(|(_, n)| n)
        .sum();
    // A frame stored but not yet ACKed when the process died comes again after the restart:
    // the panel retransmits it, and the receiver must recognise it.
    // (A constant-sequence panel's frame is checked with its account's other events below.)
    let unique_in_flight: Vec<&Sent> = outcomes.iter().flat_map(|o| &o.in_flight).collect();
    let in_flight_doubled = unique_in_flight.iter().filter(|s| count(s) > 1).count();
    println!(
        "crash: {} frames ACKed before SIGKILL at {:?}, {} of them stored exactly once; \
         {} in flight at the kill, retransmitted after the restart ({} of those stored twice); \
         {} DC-09 signal rows in all; enrolment {:.1?}, whole test {:.1?}",
        acked.len(),
        LOAD_BEFORE_KILL,
        acked_stored,
        retransmitted,
        in_flight_doubled,
        test_rows,
        enrolled,
        started.elapsed()
    );
    assert!(
        lost.is_empty(),
        "{} ACKed frames are not in the database, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    assert!(
        doubled.is_empty(),
        "{} ACKed frames are stored more than once, e.g. {:?}",
        doubled.len(),
        doubled.first()
    );
    assert_eq!(count(&probe), 1, "the frame sent after the restart");
    assert!(
        unique_in_flight.iter().all(|s| count(s) == 1),
        "a frame in flight at the kill and retransmitted after the restart is missing or \
         stored twice: {in_flight_doubled} doubled"
    );
    // A constant-sequence panel's event is stored once for each time it was ACKed, and once
    // more for the frame in flight at the kill (stored before it or after the restart).
    let mut expected: HashMap<(String, String), i64> = HashMap::new();
    for outcome in &constant {
        let sent = outcome.acked.iter().chain(&outcome.in_flight);
        for s in sent.filter(|s| !s.data.is_empty()) {
            *expected
                .entry((s.account.clone(), s.data.clone()))
                .or_default() += 1;
        }
    }
    let repeated: i64 = expected.values().sum();
    let constant_rows: HashMap<(String, String), i64> = counts
        .iter()
        .filter(|((account, _), _)| CONSTANT.contains(&account.as_str()))
        .map(|(key, n)| (key.clone(), *n))
        .collect();
    println!(
        "crash: constant-sequence panels: {} frames ACKed, {repeated} events expected, {} \
         stored",
        constant.iter().map(|o| o.acked.len()).sum::<usize>(),
        constant_rows.values().sum::<i64>()
    );
    assert!(
        expected.values().all(|n| *n > 2),
        "the constant-sequence panels hardly ran: {expected:?}"
    );
    assert_eq!(
        constant_rows, expected,
        "a constant-sequence panel's repeated events, stored vs ACKed"
    );
    let twice: Vec<_> = counts
        .iter()
        .filter(|((account, _), n)| **n > 1 && !CONSTANT.contains(&account.as_str()))
        .collect();
    assert!(twice.is_empty(), "frames stored twice: {twice:?}");
}
