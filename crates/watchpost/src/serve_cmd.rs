//! `watchpost serve`: runs the live center until SIGTERM or Ctrl-C.

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use watchpost_core::Settings;
use watchpost_server::{Config, Server};
use watchpost_wire::Window;

#[derive(Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "watchpost.db")]
    db: PathBuf,
    /// Where the DC-09 receivers listen (TCP and UDP).
    #[arg(long, default_value = "127.0.0.1:7100")]
    dc09: SocketAddr,
    /// Where the HTTP API listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: SocketAddr,
    /// Seconds a DC-09 timestamp may lag the receiver clock.
    #[arg(long, default_value_t = 40)]
    window_past: u32,
    /// Seconds a DC-09 timestamp may lead the receiver clock.
    #[arg(long, default_value_t = 20)]
    window_future: u32,
    /// How long a dispatched alarm stays open for follow-up (seconds).
    #[arg(long, default_value_t = 3600)]
    follow_up: u64,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings {
        follow_up_ms: args.follow_up as i64 * 1000,
        ..Settings::default()
    };
    let mut server = Server::start(Config {
        db: args.db.clone(),
        dc09: args.dc09,
        http: Some(args.http),
        window: Window::new(args.window_past, args.window_future),
        settings,
    })
    .await?;
    println!("watchpost: database {}", args.db.display());
    println!(
        "watchpost: DC-09 receiver on tcp://{0} and udp://{0}",
        server.dc09_addr
    );
    if let Some(http) = server.http_addr {
        println!("watchpost: HTTP API on http://{http}/api (OpenAPI: /api/openapi.json)");
    }
    let (_, none) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(trace_actions(std::mem::replace(&mut server.effects, none)));
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let failure = tokio::select! {
        _ = tokio::signal::ctrl_c() => None,
        _ = terminate.recv() => None,
        e = server.failed() => Some(e),
    };
    if let Some(e) = failure {
        return Err(e.into());
    }
    println!("watchpost: stopping");
    server.stop().await?;
    println!("watchpost: stopped");
    Ok(())
}

/// Until the console takes them (manual telephony and dispatch), actions are recorded in the
/// alarms' logs and traced here.
async fn trace_actions(
    mut effects: tokio::sync::mpsc::UnboundedReceiver<Vec<watchpost_center::Effect>>,
) {
    while let Some(batch) = effects.recv().await {
        for effect in batch {
            tracing::info!(alarm = effect.alarm, action = ?effect.action, "action");
        }
    }
}
