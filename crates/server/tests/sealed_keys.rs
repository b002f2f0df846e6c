//! DC-09 keys sealed at rest (issue 13, item 11): a key enrolled through the API never reaches
//! the database file in clear, and the center with the master key still reads frames under
//! it; keys stored in clear are sealed at start; without the master key a center with keyed
//! accounts does not start and a keyed account cannot be enrolled; a rotation re-seals every
//! key and the center, given the new key, still decrypts.

mod common;

use common::{Center, test_master_key};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use watchpost_core::Settings;
use watchpost_server::SecretsConfig;
use watchpost_server::secrets::{self, MasterKey};
use watchpost_store::Role;
use watchpost_wire::{
    Chunk, CrcForm, FixedPad, Frame, FrameSplitter, Header, Key, MessageId, encode_frame,
    parse_frame,
};

/// The panel's key, as the account file gives it (ASCII), and the hex the store would hold.
const KEY: &str = "0123456789ABCDEF";
const KEY_HEX: &str = "30313233343536373839414243444546";

fn keyed(number: &str) -> watchpost_core::Account {
    watchpost_core::Account {
        number: number.into(),
        dc09_key: Some(KEY_HEX.into()),
        ..common::account()
    }
}

/// Sends one encrypted SIA frame for `account` over TCP; the reply's kind.
async fn send_encrypted(center: &Center, account: &str, sequence: u16) -> MessageId {
    let key = Key::from_ascii(KEY).unwrap();
    let frame = Frame {
        crc: CrcForm::Hex,
        header: Header {
            id: MessageId::SiaDcs,
            encrypted: true,
            sequence,
            receiver: None,
            line: Some("0".into()),
            account: Some(account.into()),
        },
        data: format!("#{account}|Nri1/PA001"),
        xdata: vec![],
        timestamp: Some(chrono::Utc::now()),
    };
    let bytes = encode_frame(&frame, Some(&key), &mut FixedPad(b'7')).unwrap();
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    tcp.write_all(&bytes).await.unwrap();
    let mut splitter = FrameSplitter::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer))
            .await
            .expect("a reply in time")
            .unwrap();
        assert!(n > 0, "the receiver closed the connection");
        if let Some(Chunk::Frame(reply)) = splitter.push(&buffer[..n]).into_iter().next() {
            return parse_frame(&reply, Some(&key))
                .map(|f| f.header.id)
                .unwrap_or(MessageId::Nak);
        }
    }
}

/// Enrols account `number` with the panel key through `PUT /api/accounts/{number}` as root.
async fn enrol(center: &Center, number: &str) -> (StatusCode, Value) {
    let client = Client::new();
    let token = common::sign_in(&client, &center.base, "root").await;
    let table = json!({
        "number": number, "premises": "residential", "address": "1 Oak St, Springfield, IL",
        "country": "US", "region": "IL", "monitoring": "professional",
        "enrolled": "2026-01-01T00:00:00Z", "verbal_password": "blue falcon",
        "contacts": [{"name": "Cy Park", "phone": "+12175550111"}],
        "dc09_key_ascii": KEY,
    });
    let response = client
        .put(format!("{}/api/accounts/{number}", center.base))
        .bearer_auth(token)
        .json(&table)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Everything SQLite keeps of the center on disk: the database, its WAL and shared memory.
fn database_bytes(center: &Center) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["center.db", "center.db-wal", "center.db-shm"] {
        if let Ok(bytes) = std::fs::read(center.dir.path().join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

async fn stored_keys(center: &Center) -> Vec<(String, String)> {
    center.store.dc09_keys().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolled_key_is_sealed_on_disk_and_the_center_still_decrypts() {
    let center = Center::start(&[], &[("root", Role::Admin)], true).await;
    let (status, enrolled) = enrol(&center, "7001").await;
    assert_eq!(status, StatusCode::CREATED, "{enrolled}");
    assert_eq!(enrolled["dc09_encrypted"], true);

    let stored = stored_keys(&center).await;
    assert_eq!(stored.len(), 1);
    let id = test_master_key().master_key.unwrap().id().to_string();
    assert!(
        stored[0].1.starts_with(&format!("sealed:v1:{id}:")),
        "{stored:?}"
    );
    let disk = database_bytes(&center);
    assert!(!disk.is_empty());
    assert!(
        !holds(&disk, KEY_HEX),
        "the key's hex is in the database file"
    );
    assert!(!holds(&disk, KEY), "the key is in the database file");

    // A restart reads the keys at once (while running, the account-change feed brings them).
    let center = center.restart().await;
    assert_eq!(send_encrypted(&center, "7001", 1).await, MessageId::Ack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_in_clear_are_sealed_at_start_and_without_the_master_key_nothing_starts() {
    // A key stored in clear (as before sealing existed) is sealed when the center starts.
    let center = Center::start(&[keyed("5678")], &[], false).await;
    let stored = stored_keys(&center).await;
    assert!(secrets::is_sealed(&stored[0].1), "{stored:?}");
    assert_eq!(send_encrypted(&center, "5678", 1).await, MessageId::Ack);

    // Without the master key, a center with a keyed account refuses to start.
    let refused = Center::try_start(
        &[keyed("5678")],
        &[],
        false,
        Settings::default(),
        Default::default(),
        SecretsConfig::default(),
    )
    .await
    .err()
    .expect("a keyed center started without its master key");
    let message = refused.to_string();
    assert!(
        message.contains("accounts with a DC-09 key: 1 (e.g. 5678), but no master key is set")
            && message.contains("WATCHPOST_MASTER_KEY")
            && message.contains("master_key_file"),
        "{message}"
    );

    // Without keyed accounts it starts, and refuses to enrol one, naming the field.
    let center = Center::try_start(
        &[],
        &[("root", Role::Admin)],
        true,
        Settings::default(),
        Default::default(),
        SecretsConfig::default(),
    )
    .await
    .unwrap();
    let (status, refused) = enrol(&center, "7001").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["field"], "account.dc09_key_ascii");
    assert!(
        refused["error"].as_str().unwrap().contains("no master key"),
        "{refused}"
    );
    assert!(stored_keys(&center).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_reseals_every_key_and_the_center_decrypts_with_the_new_one() {
    let mut center = Center::start(&[keyed("5678"), keyed("5679")], &[], false).await;
    let old = test_master_key().master_key.unwrap();
    let new = MasterKey::from_bytes([0x17; 32]);
    let before = stored_keys(&center).await;

    // A wrong "old" key: nothing changes.
    let wrong = MasterKey::from_bytes([0x99; 32]);
    assert!(
        secrets::rotate(&*center.store, Some(&wrong), &new)
            .await
            .is_err()
    );
    assert_eq!(stored_keys(&center).await, before);

    assert_eq!(
        secrets::rotate(&*center.store, Some(&old), &new)
            .await
            .unwrap(),
        2
    );
    let after = stored_keys(&center).await;
    for (account, value) in &after {
        assert!(
            value.starts_with(&format!("sealed:v1:{}:", new.id())),
            "{value}"
        );
        assert_eq!(new.unseal(account, value).unwrap(), KEY_HEX);
    }
    // The old key no longer opens them: a center given it would not start.
    let error = secrets::seal_stored(&*center.store, Some(&old))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("sealed under master key {}", new.id())),
        "{error}"
    );

    center.secrets = SecretsConfig {
        master_key: Some(std::sync::Arc::new(new)),
    };
    let center = center.restart().await;
    assert_eq!(send_encrypted(&center, "5679", 1).await, MessageId::Ack);
}
