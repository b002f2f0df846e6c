//! What follows the header: `[data]`, x-data blocks and the timestamp, either in clear or
//! as hex of AES ciphertext that decrypts to `pad|data]x-data timestamp`.

use crate::crypto;
use crate::cursor::Cursor;
use crate::error::FrameError;
use crate::header::Header;
use crate::key::Key;
use crate::text;
use crate::timestamp::{TIMESTAMP_LEN, parse_timestamp};
use chrono::{DateTime, Utc};

/// One `[Xvalue]` block: X/Y/Z position, M MAC, V verification, I text, L location ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XData {
    /// The type letter.
    pub kind: char,
    pub value: String,
}

/// The readable part of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Content {
    pub data: String,
    pub xdata: Vec<XData>,
    pub timestamp: Option<DateTime<Utc>>,
}

/// Reads the payload (starting at `[`), decrypting it when the header says so.
pub(crate) fn open_payload(
    header: &Header,
    payload: &[u8],
    key: Option<&Key>,
) -> Result<Content, FrameError> {
    let inner = payload.strip_prefix(b"[").ok_or(FrameError::NoData)?;
    if !header.encrypted {
        return parse_content(inner);
    }
    let key = key.ok_or(FrameError::NoKey)?;
    let plaintext = decrypt_hex(key, inner)?;
    let after_pad = crypto::strip_pad(&plaintext).ok_or(FrameError::Undecryptable)?;
    let content = parse_content(after_pad)?;
    if content.timestamp.is_none() {
        return Err(FrameError::MissingTimestamp);
    }
    Ok(content)
}

/// DC-09 sends the ciphertext with no closing `]`; one is tolerated.
fn decrypt_hex(key: &Key, inner: &[u8]) -> Result<Vec<u8>, FrameError> {
    let digits = inner.strip_suffix(b"]").unwrap_or(inner);
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(FrameError::NotHexCiphertext);
    }
    if digits.is_empty() || !digits.len().is_multiple_of(32) {
        return Err(FrameError::CiphertextLength(digits.len()));
    }
    let ciphertext = hex::decode(digits).map_err(|_| FrameError::NotHexCiphertext)?;
    crypto::decrypt(key, &ciphertext).ok_or(FrameError::CiphertextLength(digits.len()))
}

/// Parses `data]`, then `[x-data]` blocks, then an optional timestamp, then nothing.
pub(crate) fn parse_content(after_open: &[u8]) -> Result<Content, FrameError> {
    let mut cur = Cursor::new(after_open);
    let data = cur.take_until(b']').ok_or(FrameError::UnterminatedData)?;
    let mut xdata = Vec::new();
    while cur.eat(b'[') {
        let block = cur.take_until(b']').ok_or(FrameError::BadXData)?;
        xdata.push(parse_xdata(block)?);
    }
    let timestamp = match cur.rest() {
        [] => None,
        rest @ [b'_', ..] => Some(read_timestamp(rest)?),
        _ => return Err(FrameError::TrailingBytes),
    };
    Ok(Content {
        data: text::decode(data),
        xdata,
        timestamp,
    })
}

fn parse_xdata(block: &[u8]) -> Result<XData, FrameError> {
    match block {
        [kind, value @ ..] if kind.is_ascii_graphic() && *kind != b'[' => Ok(XData {
            kind: char::from(*kind),
            value: text::decode(value),
        }),
        _ => Err(FrameError::BadXData),
    }
}

fn read_timestamp(rest: &[u8]) -> Result<DateTime<Utc>, FrameError> {
    if rest.len() > TIMESTAMP_LEN
        && rest
            .get(..TIMESTAMP_LEN)
            .and_then(parse_timestamp)
            .is_some()
    {
        return Err(FrameError::TrailingBytes);
    }
    parse_timestamp(rest).ok_or(FrameError::BadTimestamp)
}
