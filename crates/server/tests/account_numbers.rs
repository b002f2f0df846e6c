//! An account number is one account however the panel spells it, on real loopback sockets:
//! a lower-case account opens the enrolled account's alarm (plain, encrypted, Contact ID), a
//! frame whose header and data block name different accounts is refused and nothing is
//! stored, a keyed account's plain frame is refused whichever block names it, letters beyond
//! hex are heard, and leading zeros are part of the number.

mod common;

use common::Center;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use watchpost_core::account::{Account, DeviceType, Zone};
use watchpost_store::{AlarmState, Db};
use watchpost_wire::{Chunk, CrcForm, FixedPad, Frame, FrameSplitter, Header, Key, MessageId};
use watchpost_wire::{crc16, encode_frame, parse_frame};

const KEY: &str = "0123456789ABCDEF";

/// The test account with a smoke detector on zone 4, under `number`.
fn account(number: &str, key: Option<&str>) -> Account {
    let mut account = common::account();
    account.number = number.into();
    account.dc09_key = key.map(|k| watchpost_core::account_file::key_from_ascii(k).unwrap());
    account.zones.push(Zone {
        zone: 4,
        device: DeviceType::Smoke,
    });
    account
}

/// A plain frame around `body` (from the opening `"` to the byte before CR).
fn plain(body: &str) -> Vec<u8> {
    format!("\n{:04X}{:04X}{body}\r", crc16(body.as_bytes()), body.len()).into_bytes()
}

fn encrypted(header_account: &str, data: &str, key: &Key) -> Vec<u8> {
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: true,
            sequence: 7,
            receiver: None,
            line: Some("0".into()),
            account: Some(header_account.into()),
        },
        data: data.into(),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    encode_frame(&frame, Some(key), &mut FixedPad(b'7')).unwrap()
}

/// Sends each frame and waits for its reply; returns the reply ids.
async fn exchange(tcp: &mut TcpStream, frames: &[Vec<u8>], key: Option<&Key>) -> Vec<MessageId> {
    let mut splitter = FrameSplitter::new();
    let mut ids = Vec::new();
    let mut buffer = [0u8; 4096];
    for frame in frames {
        tcp.write_all(frame).await.unwrap();
        let reply = 'reply: loop {
            let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer))
                .await
                .expect("a reply in time")
                .unwrap();
            assert!(n > 0, "the receiver closed the connection");
            for chunk in splitter.push(&buffer[..n]) {
                if let Chunk::Frame(reply) = chunk {
                    break 'reply reply;
                }
            }
        };
        ids.push(parse_frame(&reply, key).expect("a reply").header.id);
    }
    ids
}

async fn fires(store: &Db, account: &str) -> usize {
    let alarms = store.alarms(AlarmState::Open).await.unwrap();
    alarms
        .iter()
        .filter(|a| a.account == account && a.kind == "fire")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_case_account_opens_the_enrolled_accounts_alarm() {
    let center = Center::start(
        &[account("5A5B", None), account("7C7D", Some(KEY))],
        &[],
        false,
    )
    .await;
    let server = &center.server;
    let key = Key::from_ascii(KEY).unwrap();
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();

    // The frame as the issue reports it, byte for byte.
    let issue = b"\nCFE00024\"SIA-DCS\"0043L0#5a5b[#5a5b|Nri1/FA4]\r".to_vec();
    assert_eq!(exchange(&mut tcp, &[issue], None).await, [MessageId::Ack]);
    assert_eq!(
        fires(&center.store, "5A5B").await,
        1,
        "the fire alarm opened"
    );
    let stored = center.store.signals("5A5B").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(center.store.signals("5a5b").await.unwrap().is_empty());

    // Encrypted, lower case in the header and the data block: found the key, *ACK, alarm.
    let frame = encrypted("7c7d", "#7c7d|Nri1/FA4", &key);
    assert_eq!(
        exchange(&mut tcp, &[frame], Some(&key)).await,
        [MessageId::Ack]
    );
    assert_eq!(fires(&center.store, "7C7D").await, 1);

    // Contact ID over DC-09, lower case: 1110 is a fire alarm (new signals join the alarm).
    let cid = plain("\"ADM-CID\"0044L0#5a5b[#5a5b|1110 01 004]");
    assert_eq!(exchange(&mut tcp, &[cid], None).await, [MessageId::Ack]);
    let stored = center.store.signals("5A5B").await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].source, "cid");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_that_cannot_be_matched_to_one_account_are_refused_and_not_stored() {
    let center = Center::start(
        &[
            account("1234", None),
            account("1235", None),
            account("7C7D", Some(KEY)),
            account("0123", None),
            account("G7X2", None),
        ],
        &[],
        false,
    )
    .await;
    let server = &center.server;
    let mut tcp = TcpStream::connect(server.dc09_addr).await.unwrap();
    let refused = [
        // Header and data block name different accounts.
        plain("\"SIA-DCS\"0001L0#1234[#1235|Nri1/FA4]"),
        // A keyed account's plain frame, named in the header (any case) or only in the data.
        plain("\"SIA-DCS\"0002L0#7c7d[#7c7d|Nri1/FA4]"),
        plain("\"SIA-DCS\"0003L0[#7C7D|Nri1/FA4]"),
        // A malformed data-block account.
        plain("\"SIA-DCS\"0004L0#1234[#12 34|Nri1/FA4]"),
    ];
    assert_eq!(
        exchange(&mut tcp, &refused, None).await,
        [
            MessageId::Duh,
            MessageId::Duh,
            MessageId::Duh,
            MessageId::Nak
        ]
    );
    for number in ["1234", "1235", "7C7D"] {
        assert!(center.store.signals(number).await.unwrap().is_empty());
    }
    assert!(
        center
            .store
            .alarms(AlarmState::All)
            .await
            .unwrap()
            .is_empty()
    );

    // Letters beyond hex are heard; leading zeros are part of the number, so `#123` is not
    // account 0123 (stored under 123, which is not enrolled, and opens nothing).
    let heard = [
        plain("\"SIA-DCS\"0005L0#g7x2[#g7x2|Nri1/FA4]"),
        plain("\"SIA-DCS\"0006L0#0123[#0123|Nri1/FA4]"),
        plain("\"SIA-DCS\"0007L0#123[#123|Nri1/FA4]"),
    ];
    assert_eq!(
        exchange(&mut tcp, &heard, None).await,
        [MessageId::Ack, MessageId::Ack, MessageId::Ack]
    );
    assert_eq!(fires(&center.store, "G7X2").await, 1);
    assert_eq!(fires(&center.store, "0123").await, 1);
    assert_eq!(center.store.signals("0123").await.unwrap().len(), 1);
    assert_eq!(center.store.signals("123").await.unwrap().len(), 1);
    assert_eq!(fires(&center.store, "123").await, 0);
    center.server.stop().await.unwrap();
}
