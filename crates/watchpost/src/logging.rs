//! The process's log (issue 15, item 3): human text when stderr is a terminal, JSON lines
//! (tracing-subscriber's JSON formatter, one object a line, fields as keys) otherwise, or as
//! `--log-format` / `log.format` say. The level comes from `RUST_LOG` (default `warn`).

use crate::config::ops::LogFormat;
use std::io::IsTerminal;

/// Starts the log in `format`, or the one stderr calls for.
pub fn init(format: Option<LogFormat>) {
    let format = format.unwrap_or(if std::io::stderr().is_terminal() {
        LogFormat::Text
    } else {
        LogFormat::Json
    });
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => log.init(),
        LogFormat::Json => log.json().init(),
    }
}
