//! A panel that floods, over real sockets: thousands of burglary frames on several TCP
//! connections are all ACKed and stored, counted on the alarm (API and console) under one
//! runaway item; a fire in the flood opens its alarm, a disarm cancels the burglary, the
//! flooded alarm replays from its log as it is live, and the item closes once the panel
//! calms down.

mod common;

use common::{Center, account};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use watchpost_core::{RunawayLimit, Settings};
use watchpost_store::{AlarmRow, AlarmState, Db, Role, replay};
use watchpost_wire::{Chunk, FrameSplitter, MessageId, parse_frame};

const ACCOUNT: &str = "4F39";
const CONNECTIONS: u16 = 4;

fn sia(sequence: u16, block: &str) -> Vec<u8> {
    common::sia_frame(ACCOUNT, sequence, &format!("N{block}"))
}

/// Sends each frame and waits for its reply; true when every reply is an ACK.
async fn send_all(addr: SocketAddr, frames: Vec<Vec<u8>>) -> bool {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut splitter = FrameSplitter::new();
    let mut buffer = [0u8; 4096];
    for frame in frames {
        tcp.write_all(&frame).await.unwrap();
        let reply = loop {
            let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buffer))
                .await
                .expect("a reply in time")
                .unwrap();
            assert!(n > 0, "the receiver closed the connection");
            let chunks = splitter.push(&buffer[..n]);
            if let Some(Chunk::Frame(reply)) = chunks.into_iter().next() {
                break reply;
            }
        };
        if parse_frame(&reply, None).unwrap().header.id != MessageId::Ack {
            return false;
        }
    }
    true
}

/// `count` burglary frames over several connections at once, sequences from `first`.
async fn flood(addr: SocketAddr, first: u16, count: u16) {
    let per = count / CONNECTIONS;
    let senders: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let frames = (0..per)
                .map(|i| sia(first + c * per + i, "ri1/BA003"))
                .collect();
            tokio::spawn(send_all(addr, frames))
        })
        .collect();
    for sender in senders {
        assert!(sender.await.unwrap(), "every flood frame is ACKed");
    }
}

async fn one(addr: SocketAddr, sequence: u16, block: &str) {
    assert!(
        send_all(addr, vec![sia(sequence, block)]).await,
        "{block} ACKed"
    );
}

async fn alarms(store: &Db, kind: &str) -> Vec<AlarmRow> {
    let all = store.alarms(AlarmState::All).await.unwrap();
    all.into_iter().filter(|a| a.kind == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_acked_stored_and_counted_and_a_fire_or_a_disarm_in_it_is_acted_on() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let addr = center.server.dc09_addr;
    let store = center.store.clone();

    flood(addr, 1, 1000).await;
    one(addr, 1001, "ri1/FA001").await;
    flood(addr, 1002, 1000).await;
    one(addr, 2002, "ri1/OP001").await;
    flood(addr, 2003, 500).await;

    assert_eq!(
        store.signals(ACCOUNT).await.unwrap().len(),
        2502,
        "every ACKed frame is stored"
    );
    let fires = alarms(&store, "fire").await;
    assert_eq!(fires.len(), 1, "the fire in the flood opened its alarm");
    let burglaries = alarms(&store, "burglary").await;
    assert_eq!(burglaries.len(), 2, "{burglaries:?}");
    assert_eq!(
        burglaries[0].disposition.as_deref(),
        Some("canceled_by_disarm"),
        "the disarm in the flood canceled the burglary"
    );
    assert_eq!(fires[0].disposition.as_deref(), Some("canceled_by_disarm"));
    let items = alarms(&store, "runaway_account").await;
    assert_eq!(items.len(), 1, "exactly one runaway item: {items:?}");
    assert!(items[0].closed_at.is_none(), "the panel still floods");

    // The API shows the count and the grouped row; the console shows the row.
    let base = &center.base;
    let token = common::sign_in(&reqwest::Client::new(), base, "amy").await;
    let client = reqwest::Client::new();
    let get = |path: String| {
        client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
    };
    let first: Value = get(format!("/api/alarms/{}", burglaries[0].id))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // 30 signals are listed, the opening one included; the 31st takes the account over.
    assert_eq!(first["grouped_signals"], 1970);
    let grouped: Vec<&Value> = first["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["event"] == "grouped")
        .collect();
    assert_eq!(grouped.len(), 1, "the fire opened elsewhere: one row");
    assert_eq!(
        grouped[0]["detail"],
        "… and 1970 more signals: BA zone 3 ×1970"
    );
    let second = burglaries[1].id;
    let page = client
        .get(format!("{base}/console/alarms/{second}"))
        .header("cookie", format!("wp_session={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("… and 499 more signals: BA zone 3 ×499"),
        "the new burglary opened, the rest of the flood counted on it:\n{page}"
    );
    let queue: Value = get("/api/alarms?state=open".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = queue["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["burglary", "runaway_account"],
        "the item is in the queue"
    );

    let live = center.server.board.get(second).unwrap();
    let replayed = replay(&store.log(second).await.unwrap()).unwrap();
    assert_eq!(replayed, live, "the flooded alarm replays as it is live");
    center.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runaway_item_closes_once_the_panel_calms_down() {
    let settings = Settings {
        runaway: Some(RunawayLimit {
            signals: 20,
            window_ms: 1_000,
        }),
        ..Settings::default()
    };
    let center = Center::start_with(&[account()], &[], false, settings).await;
    let store = center.store.clone();
    flood(center.server.dc09_addr, 1, 200).await;
    let calmed_from = tokio::time::Instant::now();
    let items = alarms(&store, "runaway_account").await;
    assert_eq!(items.len(), 1);
    let deadline = calmed_from + Duration::from_secs(10);
    let item = loop {
        let item = alarms(&store, "runaway_account").await.remove(0);
        if item.closed_at.is_some() {
            break item;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the runaway item did not close"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(item.disposition.as_deref(), Some("restored"));
    let after = calmed_from.elapsed();
    assert!(
        after < Duration::from_millis(1_500),
        "closed {after:?} after the last signal, for a 1 s window"
    );
    assert!(center.server.board.get(item.id).is_none(), "off the queue");
    center.server.stop().await.unwrap();
}
