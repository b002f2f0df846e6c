//! The live receivers on real loopback sockets: frames split byte by byte and coalesced,
//! retransmissions stored once and new events never taken for them (constant sequence
//! numbers, link tests in between, encrypted resends, restarts), encrypted frames, NAKs that leave the connection usable,
//! UDP, alarms opened by what was received, and supervision opening and closing a
//! comm_failure alarm.

mod common;

use common::Center;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use watchpost_core::account::Account;
use watchpost_core::router::Event;
use watchpost_server::Server;
use watchpost_store::{AlarmState, Db};
use watchpost_wire::{Chunk, encode_frame, parse_frame};
use watchpost_wire::{CrcForm, FixedPad, Frame, FrameSplitter, Header, Key, MessageId};

const KEY: &str = "0123456789ABCDEF";

fn account(number: &str, key: Option<&str>, supervision_ms: Option<i64>) -> Account {
    Account {
        number: number.into(),
        dc09_key: key.map(|k| watchpost_core::account_file::key_from_ascii(k).unwrap()),
        supervision_ms,
        ..common::account()
    }
}

fn frame(account: &str, sequence: u16, id: MessageId, data: &str, key: Option<&Key>) -> Vec<u8> {
    padded(account, sequence, id, data, key, b'7')
}

/// An encrypted frame's pad is random: a resend has another one.
fn padded(
    account: &str,
    sequence: u16,
    id: MessageId,
    data: &str,
    key: Option<&Key>,
    pad: u8,
) -> Vec<u8> {
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id,
            encrypted: key.is_some(),
            sequence,
            receiver: None,
            line: Some("0".into()),
            account: Some(account.into()),
        },
        data: data.into(),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    encode_frame(&frame, key, &mut FixedPad(pad)).unwrap()
}

fn sia(account: &str, sequence: u16, block: &str) -> Vec<u8> {
    frame(
        account,
        sequence,
        MessageId::SiaDcs,
        &format!("#{account}|N{block}"),
        None,
    )
}

async fn start(accounts: &[Account]) -> (Server, tempfile::TempDir) {
    let center = Center::start(accounts, &[], false).await;
    (center.server, center.dir)
}

/// Reads replies until `count` whole frames arrived.
async fn replies(stream: &mut TcpStream, count: usize) -> Vec<Vec<u8>> {
    let mut splitter = FrameSplitter::new();
    let mut got = Vec::new();
    let mut buffer = [0u8; 4096];
    while got.len() < count {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("a reply in time")
            .unwrap();
        assert!(n > 0, "the receiver closed the connection");
        for chunk in splitter.push(&buffer[..n]) {
            if let Chunk::Frame(f) = chunk {
                got.push(f);
            }
        }
    }
    got
}

/// Sends one frame and waits for its answer.
async fn exchange(tcp: &mut TcpStream, bytes: &[u8]) -> MessageId {
    tcp.write_all(bytes).await.unwrap();
    id_of(&replies(tcp, 1).await[0])
}

/// Sends one datagram and waits for its answer (read with `key` when encrypted).
async fn exchange_udp(
    udp: &UdpSocket,
    to: std::net::SocketAddr,
    bytes: &[u8],
    key: Option<&Key>,
) -> MessageId {
    udp.send_to(bytes, to).await.unwrap();
    let mut buffer = [0u8; 1024];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), udp.recv_from(&mut buffer))
        .await
        .expect("a UDP reply")
        .unwrap();
    parse_frame(&buffer[..n], key).unwrap().header.id
}

/// The data blocks stored for an account, in order.
async fn raws(store: &Db, account: &str) -> Vec<String> {
    let signals = store.signals(account).await.unwrap();
    signals.into_iter().map(|s| s.raw).collect()
}

/// Each alarm's kind and disposition, in opening order.
async fn alarms(store: &Db) -> Vec<(String, Option<String>)> {
    let alarms = store.alarms(AlarmState::All).await.unwrap();
    alarms
        .into_iter()
        .map(|a| (a.kind, a.disposition))
        .collect()
}

fn id_of(reply: &[u8]) -> MessageId {
    parse_frame(reply, None)
        .expect("a well-formed reply")
        .header
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_frames_split_and_coalesced_are_acked_stored_once_and_open_alarms() {
    let (server, _dir) = start(&[account("1234", None, None)]).await;
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();

    // One frame, byte by byte.
    for byte in sia("1234", 1, "ri1/BA12") {
        tcp.write_all(&[byte]).await.unwrap();
        tcp.flush().await.unwrap();
    }
    let first = replies(&mut tcp, 1).await;
    assert_eq!(id_of(&first[0]), MessageId::Ack);

    // Three frames in one write, the first a retransmission of the frame before.
    let mut burst = sia("1234", 1, "ri1/BA12");
    burst.extend(sia("1234", 2, "ri1/FA03"));
    burst.extend(sia("1234", 3, "ri1/OP001"));
    tcp.write_all(&burst).await.unwrap();
    let acks = replies(&mut tcp, 3).await;
    assert!(acks.iter().all(|r| id_of(r) == MessageId::Ack));

    // Garbage and a bad CRC get a NAK; the connection still works afterwards.
    let mut bad = sia("1234", 4, "ri1/BA13");
    bad[2] = if bad[2] == b'0' { b'1' } else { b'0' };
    tcp.write_all(&bad).await.unwrap();
    assert_eq!(id_of(&replies(&mut tcp, 1).await[0]), MessageId::Nak);
    tcp.write_all(&sia("1234", 5, "ri1/BA14")).await.unwrap();
    assert_eq!(id_of(&replies(&mut tcp, 1).await[0]), MessageId::Ack);

    let store = server.store.clone();
    server.stop().await.unwrap();
    let signals = store.signals("1234").await.unwrap();
    let raws: Vec<&str> = signals.iter().map(|s| s.raw.as_str()).collect();
    assert_eq!(
        raws,
        [
            "#1234|Nri1/BA12",
            "#1234|Nri1/FA03",
            "#1234|Nri1/OP001",
            "#1234|Nri1/BA14"
        ],
        "each ACKed signal stored exactly once, the NAKed one not at all"
    );
    // The disarm canceled the burglary and the fire; the later burglary opened a new alarm.
    let alarms = store.alarms(AlarmState::All).await.unwrap();
    let summary: Vec<(&str, Option<&str>)> = alarms
        .iter()
        .map(|a| (a.kind.as_str(), a.disposition.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("burglary", Some("canceled_by_disarm")),
            ("fire", Some("canceled_by_disarm")),
            ("burglary", None)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_frames_need_the_accounts_key_and_udp_is_heard() {
    let (server, _dir) = start(&[account("5678", Some(KEY), None)]).await;
    let key = Key::from_ascii(KEY).unwrap();
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    let data = "#5678|Nri1/PA001";
    tcp.write_all(&frame("5678", 1, MessageId::SiaDcs, data, Some(&key)))
        .await
        .unwrap();
    let reply = &replies(&mut tcp, 1).await[0];
    let parsed = parse_frame(reply, Some(&key)).unwrap();
    assert_eq!(parsed.header.id, MessageId::Ack);
    assert!(parsed.header.encrypted, "an encrypted frame gets *ACK");

    let wrong = Key::from_ascii("FEDCBA9876543210").unwrap();
    let other = "#5678|Nri1/MA002";
    tcp.write_all(&frame("5678", 2, MessageId::SiaDcs, other, Some(&wrong)))
        .await
        .unwrap();
    let refused = id_of(&replies(&mut tcp, 1).await[0]);
    assert_ne!(
        refused,
        MessageId::Ack,
        "a frame under the wrong key is not accepted"
    );

    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let cid = "#5678|1131 01 003";
    udp.send_to(
        &frame("5678", 4, MessageId::AdmCid, cid, Some(&key)),
        server.dc09_addr,
    )
    .await
    .unwrap();
    let mut buffer = [0u8; 1024];
    let (n, _) = tokio::time::timeout(Duration::from_secs(5), udp.recv_from(&mut buffer))
        .await
        .expect("a UDP reply")
        .unwrap();
    assert_eq!(
        parse_frame(&buffer[..n], Some(&key)).unwrap().header.id,
        MessageId::Ack
    );

    let store = server.store.clone();
    server.stop().await.unwrap();
    let raws: Vec<String> = store
        .signals("5678")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.raw)
        .collect();
    assert_eq!(raws, [data, cid]);
    let kinds: Vec<String> = store
        .alarms(AlarmState::All)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds, ["panic", "burglary"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_supervision_interval_opens_comm_failure_until_the_panel_is_heard() {
    let (server, _dir) = start(&[account("9ABC", None, Some(1_000))]).await;
    let store = server.store.clone();
    let open_failures = || async {
        store
            .alarms(AlarmState::Open)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.kind == "comm_failure")
            .count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_failures().await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no comm failure raised"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A link test (NULL, no event) is all it takes; its resend restores nothing more.
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    let link_test = frame("9ABC", 1, MessageId::Null, "", None);
    assert_eq!(exchange(&mut tcp, &link_test).await, MessageId::Ack);
    assert_eq!(exchange(&mut tcp, &link_test).await, MessageId::Ack);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_failures().await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "comm failure not restored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await.unwrap();
    let closed = store.alarms(AlarmState::Closed).await.unwrap();
    assert_eq!(closed[0].kind, "comm_failure");
    assert_eq!(closed[0].priority, 4);
    assert_eq!(closed[0].disposition.as_deref(), Some("restored"));
    let signals = store.signals("9ABC").await.unwrap();
    let restored = signals.iter().filter(|s| s.event == Event::CommRestored);
    assert_eq!(
        restored.count(),
        1,
        "one restore for one return: {signals:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_constant_sequence_panels_repeated_disarm_closes_the_burglary() {
    // Byte for byte as a panel that sends sequence 0001 on every message sent them.
    let mut panel = account("5550001234", None, None);
    panel.contacts.truncate(1);
    let (server, _dir) = start(&[panel]).await;
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    let frames: [&[u8]; 4] = [
        b"\n83F5002B\"SIA-DCS\"0001L#5550001234[#5550001234|NOP1]\r",
        b"\n1537002B\"SIA-DCS\"0001L#5550001234[#5550001234|NCL1]\r",
        b"\n7AA4002B\"SIA-DCS\"0001L#5550001234[#5550001234|NBA4]\r",
        b"\n83F5002B\"SIA-DCS\"0001L#5550001234[#5550001234|NOP1]\r",
    ];
    for frame in frames {
        assert_eq!(exchange(&mut tcp, frame).await, MessageId::Ack);
    }
    let store = server.store.clone();
    server.stop().await.unwrap();
    assert_eq!(
        raws(&store, "5550001234").await,
        [
            "#5550001234|NOP1",
            "#5550001234|NCL1",
            "#5550001234|NBA4",
            "#5550001234|NOP1"
        ],
        "the last disarm came after other frames: a new event"
    );
    assert_eq!(
        alarms(&store).await,
        [("burglary".into(), Some("canceled_by_disarm".into()))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_constant_sequence_panel_has_every_event_stored_over_tcp_and_udp() {
    let (server, _dir) = start(&[account("1234", None, None), account("5678", None, None)]).await;
    let blocks = ["ri1/BA12", "ri1/OP001", "ri1/BA12", "ri1/OP001", "ri1/BA12"];
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for block in blocks {
        assert_eq!(
            exchange(&mut tcp, &sia("1234", 1, block)).await,
            MessageId::Ack
        );
        let datagram = sia("5678", 1, block);
        let answer = exchange_udp(&udp, server.dc09_addr, &datagram, None).await;
        assert_eq!(answer, MessageId::Ack);
    }
    let store = server.store.clone();
    server.stop().await.unwrap();
    for account in ["1234", "5678"] {
        let expected: Vec<String> = blocks.iter().map(|b| format!("#{account}|N{b}")).collect();
        assert_eq!(raws(&store, account).await, expected, "account {account}");
    }
    let burglary = |disposition: Option<&str>| ("burglary".into(), disposition.map(Into::into));
    let canceled = burglary(Some("canceled_by_disarm"));
    assert_eq!(
        alarms(&store).await,
        [
            canceled.clone(),
            canceled.clone(),
            canceled.clone(),
            canceled,
            burglary(None),
            burglary(None)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_resent_before_anything_else_is_acked_and_stored_once() {
    let (server, _dir) = start(&[account("1234", None, None), account("5678", None, None)]).await;
    let alarm = sia("1234", 5, "ri1/BA12");
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    assert_eq!(exchange(&mut tcp, &alarm).await, MessageId::Ack);
    // The ACK was lost: the panel resends on the same connection, then on a new one.
    assert_eq!(exchange(&mut tcp, &alarm).await, MessageId::Ack);
    let mut again = TcpStream::connect(server.dc09_addr).await.unwrap();
    assert_eq!(exchange(&mut again, &alarm).await, MessageId::Ack);
    assert_eq!(
        exchange(&mut again, &sia("1234", 6, "ri1/OP001")).await,
        MessageId::Ack
    );

    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let datagram = sia("5678", 9, "ri1/BA12");
    for _ in 0..3 {
        let answer = exchange_udp(&udp, server.dc09_addr, &datagram, None).await;
        assert_eq!(answer, MessageId::Ack);
    }
    // A resend racing its original, from two connections at once: one of them is first.
    let racing = sia("5678", 10, "ri1/FA03");
    let mut first = TcpStream::connect(server.dc09_addr).await.unwrap();
    let mut second = TcpStream::connect(server.dc09_addr).await.unwrap();
    let (a, b) = tokio::join!(
        exchange(&mut first, &racing),
        exchange(&mut second, &racing)
    );
    assert_eq!((a, b), (MessageId::Ack, MessageId::Ack));

    let store = server.store.clone();
    server.stop().await.unwrap();
    assert_eq!(
        raws(&store, "1234").await,
        ["#1234|Nri1/BA12", "#1234|Nri1/OP001"]
    );
    assert_eq!(
        raws(&store, "5678").await,
        ["#5678|Nri1/BA12", "#5678|Nri1/FA03"]
    );
    assert_eq!(alarms(&store).await.len(), 3, "one burglary each, one fire");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_resend_with_another_pad_is_recognised_and_a_later_repeat_is_not() {
    let (server, _dir) = start(&[account("5678", Some(KEY), None)]).await;
    let key = Key::from_ascii(KEY).unwrap();
    let sent = |data: &str, pad: u8| padded("5678", 1, MessageId::SiaDcs, data, Some(&key), pad);
    let alarm = sent("#5678|Nri1/BA12", b'7');
    let resend = sent("#5678|Nri1/BA12", b'3');
    assert_ne!(alarm, resend, "another pad, other bytes");
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    let acked = |reply: Vec<u8>| parse_frame(&reply, Some(&key)).unwrap().header.id;
    tcp.write_all(&alarm).await.unwrap();
    assert_eq!(acked(replies(&mut tcp, 1).await.remove(0)), MessageId::Ack);
    let answer = exchange_udp(&udp, server.dc09_addr, &resend, Some(&key)).await;
    assert_eq!(answer, MessageId::Ack);
    // The same sequence number for a disarm and the burglary again: new events.
    for frame in [
        sent("#5678|Nri1/OP001", b'5'),
        sent("#5678|Nri1/BA12", b'3'),
    ] {
        tcp.write_all(&frame).await.unwrap();
        assert_eq!(acked(replies(&mut tcp, 1).await.remove(0)), MessageId::Ack);
    }
    let store = server.store.clone();
    server.stop().await.unwrap();
    assert_eq!(
        raws(&store, "5678").await,
        ["#5678|Nri1/BA12", "#5678|Nri1/OP001", "#5678|Nri1/BA12"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_test_in_between_makes_a_repeat_a_new_event() {
    let (server, _dir) = start(&[account("1234", None, None)]).await;
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    let alarm = sia("1234", 1, "ri1/BA12");
    assert_eq!(exchange(&mut tcp, &alarm).await, MessageId::Ack);
    let link_test = frame("1234", 1, MessageId::Null, "", None);
    assert_eq!(exchange(&mut tcp, &link_test).await, MessageId::Ack);
    assert_eq!(exchange(&mut tcp, &alarm).await, MessageId::Ack);
    let store = server.store.clone();
    server.stop().await.unwrap();
    assert_eq!(raws(&store, "1234").await, ["#1234|Nri1/BA12"; 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_after_a_restart_is_recognised_and_a_new_event_is_not_taken_for_one() {
    let center = Center::start(&[account("1234", None, None)], &[], false).await;
    let alarm = sia("1234", 1, "ri1/BA12");
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    assert_eq!(exchange(&mut tcp, &alarm).await, MessageId::Ack);
    drop(tcp);
    // Stored and committed; the panel never saw the ACK and resends to the new process.
    let center = center.restart().await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    assert_eq!(exchange(&mut tcp, &alarm).await, MessageId::Ack);
    let disarm = sia("1234", 1, "ri1/OP001");
    assert_eq!(exchange(&mut tcp, &disarm).await, MessageId::Ack);
    drop(tcp);
    let center = center.restart().await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    assert_eq!(exchange(&mut tcp, &alarm).await, MessageId::Ack);
    let store = center.store.clone();
    center.server.stop().await.unwrap();
    assert_eq!(
        raws(&store, "1234").await,
        ["#1234|Nri1/BA12", "#1234|Nri1/OP001", "#1234|Nri1/BA12"]
    );
}
