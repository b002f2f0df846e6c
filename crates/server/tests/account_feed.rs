//! Account changes reach a running center's receivers when they happen (issue 16, item 2):
//! an account enrolled with a key is heard under it on its very first frame, a key changed or
//! removed stops working, and a supervision interval enrolled while the center runs is
//! watched — with no periodic read of every account.

mod common;

use common::Center;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use watchpost_store::AlarmState;
use watchpost_wire::{
    Chunk, CrcForm, FixedPad, Frame, FrameSplitter, Header, Key, MessageId, encode_frame,
    parse_header_only,
};

const FIRST: &str = "0123456789ABCDEF";
const SECOND: &str = "FEDCBA9876543210";

fn hex(ascii: &str) -> String {
    ascii.bytes().map(|b| format!("{b:02X}")).collect()
}

/// Account `number` with the panel key `ascii` (sealed as the center stores it), or none.
fn account(center: &Center, number: &str, ascii: Option<&str>) -> watchpost_core::Account {
    let master = center.secrets.master_key.as_ref().expect("a master key");
    watchpost_core::Account {
        number: number.into(),
        dc09_key: ascii.map(|a| master.seal(number, &hex(a))),
        ..common::account()
    }
}

/// Sends one SIA frame for `account`, encrypted under `ascii` or plain; the reply's kind.
async fn send(center: &Center, account: &str, ascii: Option<&str>, sequence: u16) -> MessageId {
    let key = ascii.map(|a| Key::from_ascii(a).unwrap());
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: key.is_some(),
            sequence,
            receiver: None,
            line: Some("0".into()),
            account: Some(account.into()),
        },
        data: format!("#{account}|Nri1/RP000"),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    let bytes = encode_frame(&frame, key.as_ref(), &mut FixedPad(b'7')).unwrap();
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    tcp.write_all(&bytes).await.unwrap();
    let mut splitter = FrameSplitter::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = match tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer)).await {
            Ok(read) => read.unwrap(),
            // Nothing acknowledged, nothing answered.
            Err(_) => return MessageId::Other("no reply".into()),
        };
        if n == 0 {
            return MessageId::Other("closed".into());
        }
        if let Some(Chunk::Frame(reply)) = splitter.push(&buffer[..n]).into_iter().next() {
            return parse_header_only(&reply).unwrap().1.id;
        }
    }
}

/// Sends until the reply is (`ack`) or is not an ACK; panics after 20 s. The feed is read
/// every second: this waits for it, it does not time it.
async fn until(center: &Center, account: &str, ascii: Option<&str>, ack: bool) {
    for sequence in 1..=200u16 {
        if (send(center, account, ascii, sequence).await == MessageId::Ack) == ack {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{account}: the reply never became {}",
        if ack { "an ACK" } else { "a refusal" }
    );
}

#[tokio::test]
async fn a_key_enrolled_while_the_center_runs_works_on_the_first_frame_and_changes_apply() {
    let center = Center::start(&[common::account()], &[], false).await;
    center
        .store
        .put_account(&account(&center, "5001", Some(FIRST)))
        .await
        .unwrap();
    // The very next frame: looked up in the store, before the feed is read.
    assert_eq!(send(&center, "5001", Some(FIRST), 1).await, MessageId::Ack);

    // Re-keyed: the old key stops working, the new one works.
    let master = center.secrets.master_key.clone().unwrap();
    center
        .store
        .set_dc09_keys(&[("5001".into(), master.seal("5001", &hex(SECOND)))])
        .await
        .unwrap();
    until(&center, "5001", Some(FIRST), false).await;
    assert_eq!(send(&center, "5001", Some(SECOND), 2).await, MessageId::Ack);

    // The key removed: encrypted frames are refused, plain ones heard.
    center
        .store
        .put_account(&account(&center, "5001", None))
        .await
        .unwrap();
    until(&center, "5001", None, true).await;
    assert_ne!(send(&center, "5001", Some(SECOND), 3).await, MessageId::Ack);

    // Removed altogether while keyed: its key goes with it.
    center
        .store
        .put_account(&account(&center, "5002", Some(FIRST)))
        .await
        .unwrap();
    assert_eq!(send(&center, "5002", Some(FIRST), 1).await, MessageId::Ack);
    assert!(center.store.delete_account("5002").await.unwrap());
    until(&center, "5002", Some(FIRST), false).await;
    center.server.stop().await.unwrap();
}

#[tokio::test]
async fn a_supervision_interval_enrolled_while_the_center_runs_is_watched() {
    let center = Center::start(&[common::account()], &[], false).await;
    let supervised = watchpost_core::Account {
        supervision_ms: Some(1_500),
        ..account(&center, "5003", None)
    };
    center.store.put_account(&supervised).await.unwrap();
    let mut failed = false;
    for _ in 0..200 {
        let open = center.store.alarms(AlarmState::Open).await.unwrap();
        if open
            .iter()
            .any(|a| a.account == "5003" && a.kind == "comm_failure")
        {
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed, "the missed interval raised a communication failure");
    center.server.stop().await.unwrap();
}
