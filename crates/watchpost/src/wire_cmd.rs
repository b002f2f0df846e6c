//! `watchpost wire decode`: what the receiver makes of one raw frame read from stdin, as
//! JSON. The tool an installer uses when a panel won't talk.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use std::io::Read;
use std::process::ExitCode;
use watchpost_wire::{Key, Window, inspect};

#[derive(Subcommand)]
pub enum WireCommand {
    /// Decode one DC-09 frame from stdin and print one JSON object.
    Decode {
        /// The account's AES key as hex (32, 48 or 64 digits).
        #[arg(long, conflicts_with = "key_ascii")]
        key_hex: Option<String>,
        /// The account's AES key as 16, 24 or 32 ASCII characters.
        #[arg(long)]
        key_ascii: Option<String>,
        /// The receiver clock for the timestamp window (default: now).
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
        /// Seconds a timestamp may lag the receiver clock.
        #[arg(long, default_value_t = 40)]
        window_past: u32,
        /// Seconds a timestamp may lead the receiver clock.
        #[arg(long, default_value_t = 20)]
        window_future: u32,
    },
}

pub fn run(command: WireCommand) -> ExitCode {
    let WireCommand::Decode {
        key_hex,
        key_ascii,
        now,
        window_past,
        window_future,
    } = command;
    let key = match (key_hex, key_ascii) {
        (Some(hex), _) => Key::from_hex(&hex).map_err(|e| format!("--key-hex: {e}")),
        (_, Some(ascii)) => Key::from_ascii(&ascii).map_err(|e| format!("--key-ascii: {e}")),
        _ => Err(String::new()),
    };
    let key = match key {
        Ok(key) => Some(key),
        Err(e) if e.is_empty() => None,
        Err(e) => {
            err!("watchpost wire decode: {e}");
            return ExitCode::from(2);
        }
    };
    let mut frame = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut frame) {
        err!("watchpost wire decode: cannot read stdin: {e}");
        return ExitCode::from(2);
    }
    let window = Window::new(window_past, window_future);
    let inspection = inspect(&frame, key.as_ref(), now.unwrap_or_else(Utc::now), window);
    out!(
        "{}",
        serde_json::to_string(&inspection).expect("inspections serialise")
    );
    if inspection.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
