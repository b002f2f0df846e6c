//! `inspect`: the receiver's view of one frame as a serialisable record, for the CLI.
//! Field names and order are a CLI contract.

use crate::key::Key;
use crate::pad::FixedPad;
use crate::receive::decide;
use crate::text::bytes_as_latin1;
use crate::timestamp::Window;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// What the receiver makes of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The frame was accepted (or is a well-formed answer that needs none).
    pub ok: bool,
    /// The id without the `*` of encryption.
    pub id: Option<String>,
    pub encrypted: bool,
    pub sequence: Option<u16>,
    pub receiver: Option<String>,
    pub line: Option<String>,
    pub account: Option<String>,
    pub events: Vec<InspectedEvent>,
    /// RFC 3339, UTC.
    pub timestamp: Option<String>,
    /// `ACK`, `NAK` or `DUH`.
    pub reply: Option<&'static str>,
    /// The exact reply bytes, one character per byte.
    pub reply_frame: Option<String>,
    /// A sentence saying why, when `ok` is false.
    pub error: Option<String>,
}

/// One event in an `Inspection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectedEvent {
    pub code: String,
    pub zone: Option<u32>,
    /// Alarm kind (`burglary`, `fire`, ...) when the event is an alarm.
    pub kind: Option<&'static str>,
}

/// Pad byte of the `*ACK` in `inspect`, so its output is reproducible.
const INSPECT_PAD: u8 = b'0';

/// Runs the receiver's decision on `frame` and reports everything it learned.
pub fn inspect(frame: &[u8], key: Option<&Key>, now: DateTime<Utc>, window: Window) -> Inspection {
    let out = decide(
        frame,
        |_| key.cloned(),
        now,
        window,
        &mut FixedPad(INSPECT_PAD),
    );
    let header = out.header.as_ref();
    Inspection {
        ok: out.error.is_none(),
        id: header.map(|h| h.id.as_str().to_owned()),
        encrypted: header.is_some_and(|h| h.encrypted),
        sequence: header.map(|h| h.sequence),
        receiver: header.and_then(|h| h.receiver.clone()),
        line: header.and_then(|h| h.line.clone()),
        account: out.account.clone(),
        events: out
            .events
            .iter()
            .map(|e| InspectedEvent {
                code: e.code.clone(),
                zone: e.zone,
                kind: e.kind().map(|k| k.as_str()),
            })
            .collect(),
        timestamp: out
            .content
            .as_ref()
            .and_then(|c| c.timestamp)
            .map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
        reply: out.reply.as_ref().map(|r| r.kind.as_str()),
        reply_frame: out.reply.as_ref().map(|r| bytes_as_latin1(&r.bytes)),
        error: out.error.as_ref().map(ToString::to_string),
    }
}
