//! A whole DC-09 frame as a value, and reading one from raw bytes.

use crate::content::{XData, open_payload};
use crate::crc::CrcForm;
use crate::cursor::Cursor;
use crate::envelope::open_envelope;
use crate::error::FrameError;
use crate::header::{Header, parse_header};
use crate::key::Key;
use chrono::{DateTime, Utc};

/// A parsed (or to-be-encoded) DC-09 frame, decrypted if it was encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// How the CRC was (or will be) written.
    pub crc: CrcForm,
    pub header: Header,
    /// Between `[` and `]`, e.g. `#1234|Nri1/BA12`.
    pub data: String,
    pub xdata: Vec<XData>,
    pub timestamp: Option<DateTime<Utc>>,
}

/// Reads a frame: checks LF/CR, length and CRC, reads the header and, for an encrypted
/// frame, decrypts with `key` (an encrypted frame without a key is `FrameError::NoKey`).
pub fn parse_frame(raw: &[u8], key: Option<&Key>) -> Result<Frame, FrameError> {
    let (crc, header, payload) = parse_envelope_and_header(raw)?;
    let content = open_payload(&header, payload, key)?;
    Ok(Frame {
        crc,
        header,
        data: content.data,
        xdata: content.xdata,
        timestamp: content.timestamp,
    })
}

/// Reads everything up to the `[`, without touching the (possibly encrypted) payload, so a
/// receiver can pick the key by account first.
pub fn parse_header_only(raw: &[u8]) -> Result<(CrcForm, Header), FrameError> {
    parse_envelope_and_header(raw).map(|(crc, header, _)| (crc, header))
}

pub(crate) fn parse_envelope_and_header(
    raw: &[u8],
) -> Result<(CrcForm, Header, &[u8]), FrameError> {
    let envelope = open_envelope(raw)?;
    let mut cur = Cursor::new(envelope.body);
    let header = parse_header(&mut cur)?;
    Ok((envelope.crc_form, header, cur.rest()))
}
