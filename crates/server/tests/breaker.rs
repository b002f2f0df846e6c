//! Faults found by the issue-13 re-review (branch `breaker`), each as a test that fails on
//! the center as merged and passes once the fault is fixed: a DC-09 connection bought for the
//! whole idle timeout by one junk frame, and an HTTP client that never reads its answers
//! holding its connection past every timeout.

mod common;

use common::Center;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use watchpost_server::listen::{Dc09Listen, HttpListen, ListenConfig};

/// How long until the server closes `tcp` (reads it, sending nothing), up to `limit`;
/// `None` when it is still open then.
async fn closed_within(tcp: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((start + limit).into(), tcp.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// A frame the splitter takes whole (LF, CRC, length, quoted id … CR) but that no receiver
/// accepts: an unknown message id for a made-up account, answered DUH. It costs an attacker
/// a few bytes per connection.
fn junk_frame() -> Vec<u8> {
    let body = b"\"XXXX\"0001L0#ZZZZ[]";
    let mut crc: u16 = 0;
    for &b in body {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    let mut frame = format!("\n{crc:04X}{:04X}", body.len()).into_bytes();
    frame.extend_from_slice(body);
    frame.push(b'\r');
    frame
}

/// Issue 13 item 1: "a panel that says nothing for longer than its supervision allows is
/// dropped". A connection that has sent only frames the receiver refused has said nothing a
/// panel says; it must not be kept for `idle_timeout` (10 min by default) instead of
/// `frame_timeout` (10 s). Measured on a release build under `ulimit -n 1024`: 576 such
/// connections from five addresses (one junk frame each) filled the DC-09 listener and no
/// new panel could connect for as long as they were held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_frame_does_not_buy_a_connection_the_idle_timeout() {
    let rules = ListenConfig {
        dc09: Dc09Listen {
            frame_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(30),
            ..Dc09Listen::default()
        },
        http: HttpListen::default(),
    };
    let center = Center::start_listening(&[common::account()], &[], rules).await;
    let mut tcp = TcpStream::connect(center.server.dc09_addr).await.unwrap();
    tcp.write_all(&junk_frame()).await.unwrap();
    let closed = closed_within(&mut tcp, Duration::from_secs(5)).await;
    assert!(
        closed.is_some_and(|after| after < Duration::from_secs(3)),
        "a connection that sent one refused frame was still open after 5 s \
         (frame_timeout 1 s, idle_timeout 30 s): {closed:?}"
    );
    center.server.stop().await.unwrap();
}

/// Issue 13 item 1, the other half of a slow client: one that sends requests and never reads
/// the answers. `header_timeout` and `request_timeout` only bound what the client sends;
/// nothing bounds a write the client never takes. Measured on a release build under
/// `ulimit -n 1024`: 192 such connections from 17 addresses held the HTTP listener at its cap
/// for as long as the attacker liked (100 s tried), the console refused meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_cut_off() {
    let rules = ListenConfig {
        dc09: Dc09Listen::default(),
        http: HttpListen {
            header_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(2),
            ..HttpListen::default()
        },
    };
    let center = Center::start_listening(&[], &[], rules).await;
    let http: SocketAddr = center.server.http_addr.unwrap();
    let one = reqwest::get(format!("{}/api/openapi.json", center.base))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket.connect(http).await.unwrap();
    let requests = 400;
    let request = b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(requests);
    tcp.write_all(&request).await.unwrap();
    // Far longer than either timeout, reading nothing.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut received = 0usize;
    let mut buffer = vec![0u8; 1 << 16];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        match tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) | Err(_) => break,
            Ok(Ok(n)) => received += n,
        }
    }
    assert!(
        received < requests * one / 2,
        "a client that read nothing for 8 s (header_timeout 1 s, request_timeout 2 s) was \
         still being served: {received} bytes of {} came after",
        requests * one
    );
    center.server.stop().await.unwrap();
}
