//! `watchpost bench noop-receiver`: a DC-09 TCP server that answers every frame with an ACK
//! and stores nothing — what the network, the framing and the load generator cost on their
//! own, the ceiling a durable receiver on the same machine is compared with. The ACK echoes
//! the frame's sequence, receiver, line and account (a panel, and `bench intake`, take no
//! other); nothing is decrypted, checked against a clock or remembered.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use watchpost_wire::{Chunk, CrcForm, FrameSplitter, ack, nak, parse_header_only};

#[derive(clap::Args, Debug, Clone)]
pub struct NoopArgs {
    /// Where to listen (host:port; port 0 picks one, printed on stdout).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

/// Serves until interrupted (Ctrl-C, SIGTERM ends the process).
pub async fn noop_receiver(args: NoopArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen).await?;
    out!("listening on {}", listener.local_addr()?);
    serve(listener).await
}

/// Accepts connections on `listener` and answers their frames, until accept fails.
pub async fn serve(listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream));
    }
}

async fn connection(mut stream: TcpStream) {
    let mut splitter = FrameSplitter::new();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for chunk in splitter.push(&buf[..n]) {
            if stream.write_all(&answer(&chunk)).await.is_err() {
                return;
            }
        }
    }
}

/// An ACK for anything with a readable header, a NAK for the rest.
fn answer(chunk: &Chunk) -> Vec<u8> {
    match chunk {
        Chunk::Frame(raw) => match parse_header_only(raw) {
            Ok((crc, header)) => ack(&header, header.account.as_deref(), crc, None).bytes,
            Err(_) => nak(chrono::Utc::now(), CrcForm::Hex).bytes,
        },
        Chunk::Malformed(_) => nak(chrono::Utc::now(), CrcForm::Hex).bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{IntakeArgs, Mix, run_load};

    #[tokio::test]
    async fn the_generator_gets_an_ack_for_every_frame() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(serve(listener));
        let args = IntakeArgs {
            target: Some(addr.clone()),
            db: None,
            nodes: 1,
            connections: 4,
            seconds: 0.5,
            accounts: 10,
            json: true,
            warmup: 0.1,
            mix: Mix::Realistic,
            rate: None,
            pid: None,
            after: 0.0,
            timeline: None,
        };
        let report = run_load(&addr, &args).await.expect("runs");
        assert!(report.signals > 0, "{report:?}");
        assert_eq!(report.errors, 0, "{report:?}");
    }

    #[test]
    fn junk_gets_a_nak() {
        let reply = answer(&Chunk::Malformed(b"junk".to_vec()));
        let (_, header) = parse_header_only(&reply).expect("a frame");
        assert_eq!(header.id, watchpost_wire::MessageId::Nak);
    }
}
