//! The receiver's decision for one frame, as a pure function of the bytes, the key, the
//! receiver clock and the timestamp window: ACK, NAK, DUH or silence.

use crate::account::canonical;
use crate::content::{Content, XData, open_payload};
use crate::crc::CrcForm;
use crate::envelope::trim_trailing_nul;
use crate::error::WireError;
use crate::event::{Event, read_events};
use crate::frame::parse_envelope_and_header;
use crate::header::{Header, MessageId};
use crate::key::Key;
use crate::pad::PadSource;
use crate::reply::{self, Reply};
use crate::timestamp::Window;
use chrono::{DateTime, SecondsFormat, Utc};

/// What the receiver does with a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The answer to send, `None` for frames that are themselves answers.
    pub reply: Option<Reply>,
    /// The accepted message, present exactly when the reply is an ACK.
    pub message: Option<Message>,
    /// Why the frame was not simply accepted.
    pub error: Option<WireError>,
}

/// A message the receiver accepted (and ACKed): store it, and reset the account's
/// supervision timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub encrypted: bool,
    /// The canonical account number (`#5a5b` is `5A5B`), from the header, or from the data
    /// block when the header has none; when both name one, they agree.
    pub account: String,
    pub sequence: u16,
    pub receiver: Option<String>,
    pub line: Option<String>,
    /// The data block as sent (decrypted).
    pub data: String,
    pub events: Vec<Event>,
    pub xdata: Vec<XData>,
    pub timestamp: Option<DateTime<Utc>>,
}

/// Decides the answer to `raw` with one optional key for every account.
pub fn receive(
    raw: &[u8],
    key: Option<&Key>,
    now: DateTime<Utc>,
    window: Window,
    pad: &mut dyn PadSource,
) -> Received {
    receive_with(raw, |_| key.cloned(), now, window, pad)
}

/// Decides the answer to `raw`, asking `key_for` for the key of an encrypted frame once its
/// (clear) header has been read, with the header's account as a canonical number (`None`
/// when the header names none).
pub fn receive_with(
    raw: &[u8],
    key_for: impl FnOnce(Option<&str>) -> Option<Key>,
    now: DateTime<Utc>,
    window: Window,
    pad: &mut dyn PadSource,
) -> Received {
    decide(raw, key_for, now, window, pad).into_received()
}

/// Everything learned about a frame; `receive` and `inspect` both present it.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub header: Option<Header>,
    /// The canonical account number, once known.
    pub account: Option<String>,
    /// The account as the panel sent it, which replies echo.
    pub echo: Option<String>,
    pub content: Option<Content>,
    pub events: Vec<Event>,
    pub reply: Option<Reply>,
    pub error: Option<WireError>,
}

impl Outcome {
    fn into_received(self) -> Received {
        let accepted = self
            .reply
            .as_ref()
            .is_some_and(|r| r.kind == reply::ReplyKind::Ack);
        let message = match (accepted, self.header, self.account, self.content) {
            (true, Some(header), Some(account), Some(content)) => Some(Message {
                id: header.id,
                encrypted: header.encrypted,
                account,
                sequence: header.sequence,
                receiver: header.receiver,
                line: header.line,
                data: content.data,
                events: self.events,
                xdata: content.xdata,
                timestamp: content.timestamp,
            }),
            _ => None,
        };
        Received {
            reply: self.reply,
            message,
            error: self.error,
        }
    }

    fn reject(mut self, reply: Reply, error: WireError) -> Outcome {
        self.reply = Some(reply);
        self.error = Some(error);
        self
    }
}

pub(crate) fn decide(
    raw: &[u8],
    key_for: impl FnOnce(Option<&str>) -> Option<Key>,
    now: DateTime<Utc>,
    window: Window,
    pad: &mut dyn PadSource,
) -> Outcome {
    let form = CrcForm::detect(trim_trailing_nul(raw));
    let (crc, header, payload) = match parse_envelope_and_header(raw) {
        Ok(parts) => parts,
        // Most receivers NAK what they cannot read; the panel then retries.
        Err(error) => return Outcome::default().reject(reply::nak(now, form), error.into()),
    };
    let mut out = Outcome {
        account: header.account_number(),
        echo: header.account.clone(),
        header: Some(header.clone()),
        ..Outcome::default()
    };
    let key_for = |out: &Outcome| key_for(out.account.as_deref());

    if header.id.is_reply() {
        // Never answer an answer; read what can be read, for inspection.
        let key = if header.encrypted {
            key_for(&out)
        } else {
            None
        };
        if !header.encrypted || key.is_some() {
            match open_payload(&header, payload, key.as_ref()) {
                Ok(content) => out.content = Some(content),
                Err(error) => out.error = Some(error.into()),
            }
        }
        return out;
    }
    if !header.id.is_event() {
        if !header.encrypted && out.echo.is_none() {
            out.echo = open_payload(&header, payload, None)
                .ok()
                .and_then(|c| read_events(&header.id, &c.data).0)
                .filter(|sent| canonical(sent).is_ok());
        }
        let duh = reply::duh(&header, out.echo.as_deref(), crc);
        let error = WireError::UnsupportedId(header.id.as_str().to_owned());
        return out.reject(duh, error);
    }
    let key = if header.encrypted {
        match key_for(&out) {
            Some(key) => Some(key),
            None => {
                let duh = reply::duh(&header, out.echo.as_deref(), crc);
                let account = out.account.clone().unwrap_or_else(|| "(none)".to_owned());
                return out.reject(duh, WireError::NoKey(account));
            }
        }
    } else {
        None
    };
    let content = match open_payload(&header, payload, key.as_ref()) {
        Ok(content) => content,
        Err(error) => return out.reject(reply::nak(now, crc), error.into()),
    };
    let (data_account, events) = read_events(&header.id, &content.data);
    let timestamp = content.timestamp;
    out.content = Some(content);
    let events = match events {
        Ok(events) => {
            out.events = events;
            Ok(())
        }
        Err(error) => Err(error),
    };

    if let Some(at) = timestamp
        && !window.accepts(at, now)
    {
        let error = WireError::OutsideWindow {
            timestamp: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            now: now.to_rfc3339_opts(SecondsFormat::Secs, true),
            past_secs: window.past_secs,
            future_secs: window.future_secs,
        };
        return out.reject(reply::nak(now, crc), error);
    }
    // A frame is matched to one account or refused: never ACKed for an account it does not
    // name (README, "Account numbers").
    if let Some(sent) = data_account {
        match (canonical(&sent), out.account.clone()) {
            (Err(reason), _) => {
                return out.reject(reply::nak(now, crc), WireError::BadDataAccount(reason));
            }
            (Ok(data), Some(header_account)) if data != header_account => {
                let duh = reply::duh(&header, out.echo.as_deref(), crc);
                let error = WireError::AccountMismatch {
                    header: header_account,
                    data,
                };
                return out.reject(duh, error);
            }
            (Ok(data), _) => {
                out.account = Some(data);
                out.echo = out.echo.or(Some(sent));
            }
        }
    }
    let Some(echo) = out.echo.clone() else {
        return out.reject(reply::nak(now, crc), WireError::NoAccount);
    };
    if let Err(error) = events {
        let duh = reply::duh(&header, Some(&echo), crc);
        return out.reject(duh, error.into());
    }
    let ack = match &key {
        Some(key) => reply::encrypted_ack(&header, Some(&echo), crc, key, now, pad),
        None => reply::ack(&header, Some(&echo), crc, timestamp.map(|_| now)),
    };
    out.reply = Some(ack);
    out
}
