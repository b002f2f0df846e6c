//! A panel's side of DC-09 for the process-level tests: frames as a panel encodes them, one
//! exchange (send, wait for the answer), and what of them a center's database holds.

use sqlx::Connection;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use watchpost_wire::{
    Chunk, CrcForm, FixedPad, Frame, FrameSplitter, Header, MessageId, encode_frame, parse_frame,
};

/// One transmitted frame: who sent it, the data block the center stores as `raw`, and the
/// exact bytes (a retransmission repeats them).
#[derive(Clone, Debug)]
pub struct Sent {
    pub account: String,
    pub data: String,
    pub sequence: u16,
    pub bytes: Vec<u8>,
}

pub fn frame(account: &str, sequence: u16, data: &str) -> Vec<u8> {
    encode(MessageId::SiaDcs, account, sequence, data)
}

pub fn encode(id: MessageId, account: &str, sequence: u16, data: &str) -> Vec<u8> {
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id,
            encrypted: false,
            sequence,
            receiver: Some("1".into()),
            line: Some("1".into()),
            account: Some(account.into()),
        },
        data: data.into(),
        xdata: Vec::new(),
        timestamp: Some(chrono::Utc::now()),
    };
    encode_frame(&frame, None, &mut FixedPad(b'0')).expect("a valid frame")
}

/// Sends `sent` and waits for the reply; `Ok(true)` for an ACK of its sequence, `Ok(false)`
/// for any other answer, `Err` when the connection failed first.
pub fn exchange(
    stream: &mut TcpStream,
    splitter: &mut FrameSplitter,
    sent: &Sent,
) -> std::io::Result<bool> {
    stream.write_all(&sent.bytes)?;
    let mut buffer = [0u8; 1024];
    loop {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if let Some(chunk) = splitter.push(&buffer[..n]).into_iter().next() {
            let Chunk::Frame(reply) = chunk else {
                return Ok(false);
            };
            let acked = parse_frame(&reply, None)
                .is_ok_and(|r| r.header.id == MessageId::Ack && r.header.sequence == sent.sequence);
            if !acked {
                eprintln!(
                    "{} seq {}: answered {:?}",
                    sent.account,
                    sent.sequence,
                    String::from_utf8_lossy(&reply)
                );
            }
            return Ok(acked);
        }
    }
}

/// What one panel connection did: frames ACKed, frames answered otherwise, and the frame that
/// was on the wire when the connection died.
#[derive(Default)]
pub struct Outcome {
    pub acked: Vec<Sent>,
    pub refused: Vec<Sent>,
    pub in_flight: Option<Sent>,
}

/// A panel's connection to `addr`, `timeout` on each read and write; `None` when the center
/// does not take it.
pub fn connect(addr: SocketAddr, timeout: Duration) -> Option<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
    stream.set_nodelay(true).unwrap();
    Some(stream)
}

/// Sends `frames` on `stream` one at a time, each waiting for its answer, until `stop` is set,
/// the frames run out, or the connection fails (a kill): the frame then on the wire is
/// `in_flight`.
pub fn send_until(
    mut stream: TcpStream,
    frames: impl IntoIterator<Item = Sent>,
    stop: &AtomicBool,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut splitter = FrameSplitter::new();
    for sent in frames {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match exchange(&mut stream, &mut splitter, &sent) {
            Ok(true) => outcome.acked.push(sent),
            Ok(false) => outcome.refused.push(sent),
            Err(_) => {
                outcome.in_flight = Some(sent);
                break;
            }
        }
    }
    outcome
}

/// One connection's share of a load from the accounts `7001 + i`, `i` in `0..accounts`: those
/// with `i % connections == connection`, so that each account's frames go on one connection
/// with one frame in flight, as a panel's do (a frame resent after a restart is then still
/// its account's most recent one). Test reports, every eighth a burglary alarm; `zone(n)`
/// numbers the `n`th frame's zone, which makes every data block unique.
pub fn load_frames(
    accounts: usize,
    connections: usize,
    connection: usize,
    zone: impl Fn(u32) -> u32,
) -> impl Iterator<Item = Sent> {
    let mine: Vec<usize> = (0..accounts)
        .filter(|a| a % connections == connection)
        .collect();
    (1u32..).map(move |n| {
        let account = format!("{}", 7001 + mine[n as usize % mine.len()]);
        let code = if n.is_multiple_of(8) { "BA" } else { "RP" };
        let data = format!("#{account}|Nri1/{code}{}", zone(n));
        let sequence = (n % 9999 + 1) as u16;
        Sent {
            bytes: frame(&account, sequence, &data),
            account,
            data,
            sequence,
        }
    })
}

/// Runs `work` on a connection of its own to the SQLite file `db`, outside any runtime.
pub fn sqlite<T>(
    db: &std::path::Path,
    work: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> T,
) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .expect("open the database");
        work(&mut conn).await
    })
}

/// How many times `sent` is stored, by the counts of [`stored`].
pub fn times_stored(counts: &HashMap<(String, String), i64>, sent: &Sent) -> i64 {
    counts
        .get(&(sent.account.clone(), sent.data.clone()))
        .copied()
        .unwrap_or(0)
}

/// How many times each (account, raw) of a DC-09 signal is in the database.
pub fn stored(db: &std::path::Path) -> HashMap<(String, String), i64> {
    sqlite(db, async |conn| {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT account, raw, COUNT(*) FROM signals WHERE source = 'sia' \
             GROUP BY account, raw",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("read signals");
        rows.into_iter().map(|(a, r, n)| ((a, r), n)).collect()
    })
}
