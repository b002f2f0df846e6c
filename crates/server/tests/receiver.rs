//! The live receivers on real loopback sockets: frames split byte by byte and coalesced,
//! retransmissions stored once, encrypted frames, NAKs that leave the connection usable,
//! UDP, alarms opened by what was received, and supervision opening and closing a
//! comm_failure alarm.

mod common;

use common::Center;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use watchpost_core::account::Account;
use watchpost_server::Server;
use watchpost_store::AlarmState;
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
    encode_frame(&frame, key, &mut FixedPad(b'7')).unwrap()
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

    // Three frames in one write, one of them a retransmission of the first.
    let mut burst = sia("1234", 2, "ri1/FA03");
    burst.extend(sia("1234", 1, "ri1/BA12"));
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
    // A link test (NULL, no event) is all it takes.
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    tcp.write_all(&frame("9ABC", 1, MessageId::Null, "", None))
        .await
        .unwrap();
    assert_eq!(id_of(&replies(&mut tcp, 1).await[0]), MessageId::Ack);
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
}
