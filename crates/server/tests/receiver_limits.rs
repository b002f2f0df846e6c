//! What the DC-09 receivers let in, on real loopback sockets (sources told apart by their
//! loopback address, 127.0.0.2, 127.0.0.3...): no answer over UDP to a datagram that is not a
//! frame, a flooding source limited while another source's panel is still acknowledged, frames
//! from unknown accounts stored only within their limits and never acknowledged beyond them
//! (TCP and UDP), and the allow-list of panel networks.

mod common;

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use watchpost_server::{Config, Rate, ReceiverLimits, Server};
use watchpost_wire::{
    Chunk, FixedPad, Frame, FrameSplitter, Header, MessageId, encode_frame, parse_frame,
};

/// Well within any test: a reply not there by then is not coming.
const SILENCE: Duration = Duration::from_millis(400);
/// How long an expected reply may take on a loaded machine.
const REPLY: Duration = Duration::from_secs(5);

fn sia(account: &str, sequence: u16, block: &str) -> Vec<u8> {
    common::sia_frame(account, sequence, &format!("N{block}"))
}

/// A burglary alarm on zone `sequence` (each a new event, never a resend).
fn alarm(account: &str, sequence: u16) -> Vec<u8> {
    sia(account, sequence, &format!("ri1/BA{sequence}"))
}

fn hourly(count: u32) -> Option<Rate> {
    Some(Rate {
        count,
        per: Duration::from_secs(3600),
    })
}

/// A center on a temporary database with account 4F39 enrolled and these limits.
async fn start(limits: ReceiverLimits) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let store = watchpost_store::open(&db).await.unwrap();
    store.put_accounts(&[common::account()]).await.unwrap();
    drop(store);
    let server = Server::start(Config {
        limits,
        ..common::config(&db)
    })
    .await
    .unwrap();
    (server, dir)
}

/// A UDP socket on loopback address 127.0.0.`n`: a source of its own.
async fn source(n: u8) -> UdpSocket {
    UdpSocket::bind(format!("127.0.0.{n}:0")).await.unwrap()
}

/// The next datagram within `wait`, if any.
async fn answer(udp: &UdpSocket, wait: Duration) -> Option<Vec<u8>> {
    let mut buffer = [0u8; 2048];
    match tokio::time::timeout(wait, udp.recv_from(&mut buffer)).await {
        Ok(got) => Some(buffer[..got.unwrap().0].to_vec()),
        Err(_) => None,
    }
}

fn id_of(reply: &[u8]) -> MessageId {
    parse_frame(reply, None).expect("a frame").header.id
}

/// Sends `bytes` and returns the answer (within `REPLY`).
async fn exchange(udp: &UdpSocket, to: SocketAddr, bytes: &[u8]) -> MessageId {
    udp.send_to(bytes, to).await.unwrap();
    id_of(&answer(udp, REPLY).await.expect("an answer"))
}

/// Sends `bytes` and checks that nothing comes back (within `SILENCE`).
async fn unanswered(udp: &UdpSocket, to: SocketAddr, bytes: &[u8]) -> bool {
    udp.send_to(bytes, to).await.unwrap();
    answer(udp, SILENCE).await.is_none()
}

/// The next whole frame on `tcp` within `wait`; `None` for silence; panics if closed.
async fn tcp_answer(tcp: &mut TcpStream, wait: Duration) -> Option<MessageId> {
    let mut splitter = FrameSplitter::new();
    let mut buffer = [0u8; 2048];
    loop {
        let n = tokio::time::timeout(wait, tcp.read(&mut buffer))
            .await
            .ok()?
            .unwrap();
        assert!(n > 0, "the receiver closed the connection");
        if let Some(Chunk::Frame(f)) = splitter.push(&buffer[..n]).into_iter().next() {
            return Some(id_of(&f));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_datagram_that_is_not_a_frame_gets_no_answer_and_tcp_still_naks() {
    let (server, _dir) = start(ReceiverLimits::default()).await;
    let to = server.dc09_addr;
    let udp = source(1).await;
    let mut bad_crc = alarm("4F39", 1);
    bad_crc[2] = if bad_crc[2] == b'0' { b'1' } else { b'0' };
    let mut no_cr = alarm("4F39", 1);
    no_cr.pop();
    let not_frames: [&[u8]; 5] = [b"x", b"\n", b"GET / HTTP/1.0\r\n\r\n", &bad_crc, &no_cr];
    for datagram in not_frames {
        assert!(unanswered(&udp, to, datagram).await, "{datagram:?}");
    }
    // A frame that reads but is refused still gets its NAK: the panel learns the clock.
    let stale = Frame {
        timestamp: Some(chrono::Utc::now() - chrono::Duration::hours(2)),
        ..parse_frame(&alarm("4F39", 2), None).unwrap()
    };
    let stale = encode_frame(&stale, None, &mut FixedPad(b'7')).unwrap();
    assert_eq!(exchange(&udp, to, &stale).await, MessageId::Nak);
    assert_eq!(exchange(&udp, to, &alarm("4F39", 3)).await, MessageId::Ack);
    // TCP answers a connected panel's garbage with a NAK, as before.
    let mut tcp = TcpStream::connect(to).await.unwrap();
    tcp.write_all(&bad_crc).await.unwrap();
    assert_eq!(tcp_answer(&mut tcp, REPLY).await, Some(MessageId::Nak));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_source_is_limited_while_another_sources_panel_is_acked() {
    let (server, _dir) = start(ReceiverLimits {
        udp_per_source: hourly(20),
        ..ReceiverLimits::default()
    })
    .await;
    let to = server.dc09_addr;
    let flood = source(2).await;
    let panel = source(3).await;
    // 500 link tests and 500 pieces of garbage from one source, as fast as it can.
    let link = |seq: u16| {
        let frame = Frame {
            header: Header {
                id: MessageId::Null,
                ..parse_frame(&alarm("4F39", seq), None).unwrap().header
            },
            data: String::new(),
            ..parse_frame(&alarm("4F39", seq), None).unwrap()
        };
        encode_frame(&frame, None, &mut FixedPad(b'7')).unwrap()
    };
    for seq in 0..500u16 {
        flood.send_to(&link(seq), to).await.unwrap();
        flood.send_to(b"\x00", to).await.unwrap();
    }
    // The other source's panel: every frame acknowledged, during and after the flood.
    for seq in 1..=15u16 {
        assert_eq!(
            exchange(&panel, to, &alarm("4F39", seq)).await,
            MessageId::Ack,
            "panel frame {seq}"
        );
    }
    let mut answered = 0;
    while answer(&flood, SILENCE).await.is_some() {
        answered += 1;
    }
    assert!(
        answered <= 20,
        "the flooding source got {answered} answers, over its rate of 20"
    );
    assert!(
        answered > 0,
        "its first frames, within its rate, are answered"
    );
    // The panel's 15 alarms were all stored.
    let signals = server.store.signals("4F39").await.unwrap();
    assert_eq!(signals.len(), 15);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_from_unknown_accounts_are_stored_within_their_limits_and_never_acked_beyond() {
    let (server, _dir) = start(ReceiverLimits {
        unknown_per_account: hourly(5),
        unknown_total: hourly(8),
        unknown_open_items: 2,
        ..ReceiverLimits::default()
    })
    .await;
    let to = server.dc09_addr;
    let udp = source(4).await;
    // Each frame's expected fate: acknowledged (and stored) or unanswered.
    let expect = |account: &'static str, seq: u16, acked: bool| {
        let udp = &udp;
        async move {
            let frame = alarm(account, seq);
            if acked {
                assert_eq!(
                    exchange(udp, to, &frame).await,
                    MessageId::Ack,
                    "{account} {seq}"
                );
            } else {
                assert!(
                    unanswered(udp, to, &frame).await,
                    "{account} {seq}: answered"
                );
            }
        }
    };
    // One number's own rate: 5 of 7.
    for seq in 1..=7 {
        expect("9001", seq, seq <= 5).await;
    }
    // A second number opens the second item; a third finds the items at their cap.
    expect("9002", 1, true).await;
    expect("9003", 1, false).await;
    // All unknown numbers together: 8, so the second number gets 2 more of 3.
    for seq in 2..=4 {
        expect("9002", seq, seq <= 3).await;
    }
    // Over TCP the same: refused without an answer, and the connection still serves the
    // enrolled panel.
    let mut tcp = TcpStream::connect(to).await.unwrap();
    tcp.write_all(&alarm("9001", 20)).await.unwrap();
    assert_eq!(tcp_answer(&mut tcp, SILENCE).await, None);
    tcp.write_all(&alarm("4F39", 1)).await.unwrap();
    assert_eq!(tcp_answer(&mut tcp, REPLY).await, Some(MessageId::Ack));

    // Exactly what was acknowledged is stored.
    let store = server.store.clone();
    let rows = |account: &'static str| {
        let store = store.clone();
        async move { store.signals(account).await.unwrap().len() }
    };
    assert_eq!(
        (rows("9001").await, rows("9002").await, rows("9003").await),
        (5, 3, 0)
    );
    let items = store.unknown_items(false).await.unwrap();
    let mut numbers: Vec<&str> = items.iter().map(|i| i.account.as_str()).collect();
    numbers.sort();
    assert_eq!(numbers, ["9001", "9002"]);
    // An enrolled account is never limited by them.
    assert_eq!(exchange(&udp, to, &alarm("4F39", 2)).await, MessageId::Ack);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_allowed_networks_are_heard() {
    let (server, _dir) = start(ReceiverLimits {
        allow: vec![
            "127.0.0.5/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ],
        ..ReceiverLimits::default()
    })
    .await;
    let to = server.dc09_addr;
    let allowed = source(5).await;
    let other = source(6).await;
    assert!(unanswered(&other, to, &alarm("4F39", 1)).await);
    assert_eq!(
        exchange(&allowed, to, &alarm("4F39", 2)).await,
        MessageId::Ack
    );
    // TCP from elsewhere: closed at once, nothing read.
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.6:0".parse().unwrap()).unwrap();
    let mut tcp = socket.connect(to).await.unwrap();
    let _ = tcp.write_all(&alarm("4F39", 3)).await;
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(SILENCE, tcp.read(&mut buffer))
        .await
        .expect("closed at once, not left open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.5:0".parse().unwrap()).unwrap();
    let mut tcp = socket.connect(to).await.unwrap();
    tcp.write_all(&alarm("4F39", 4)).await.unwrap();
    assert_eq!(tcp_answer(&mut tcp, REPLY).await, Some(MessageId::Ack));
    let signals = server.store.signals("4F39").await.unwrap();
    assert_eq!(
        signals.len(),
        2,
        "only the allowed source's frames are stored"
    );
    server.stop().await.unwrap();
}
