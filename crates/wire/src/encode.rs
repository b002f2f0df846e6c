//! Writing any DC-09 frame, in clear or encrypted, so tests and the panel simulator can
//! produce what real panels send.

use crate::account::canonical;
use crate::content::XData;
use crate::crypto;
use crate::envelope::{MAX_BODY, seal_envelope};
use crate::frame::Frame;
use crate::header::{MessageId, write_header};
use crate::key::Key;
use crate::pad::PadSource;
use crate::timestamp::write_timestamp;
use thiserror::Error;

/// Why a frame cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("the sequence number {0} is above 9999")]
    Sequence(u16),
    #[error("the id must be printable ASCII without '\"' or '*'")]
    Id,
    #[error("the receiver number must be 1 to 6 hex digits")]
    Receiver,
    #[error("the line number must be 0 to 6 hex digits")]
    Line,
    #[error("the account must be 1 to 16 letters and digits")]
    Account,
    #[error("the data may not contain ']'")]
    Data,
    #[error("an x-data block needs a printable ASCII type letter and a value without ']'")]
    XData,
    #[error("an encrypted frame needs a timestamp")]
    MissingTimestamp,
    #[error("an encrypted frame needs a key")]
    NoKey,
    #[error("the frame body is {0} bytes, more than the 4095 the length field can say")]
    TooLong(usize),
}

/// Writes `frame`; encrypted (per `frame.header.encrypted`) with `key`, taking pad bytes from
/// `pad`. The ciphertext is upper-case hex with no closing `]`, as panels send it.
pub fn encode_frame(
    frame: &Frame,
    key: Option<&Key>,
    pad: &mut dyn PadSource,
) -> Result<Vec<u8>, EncodeError> {
    validate(frame)?;
    let header = &frame.header;
    let mut body = Vec::new();
    write_header(&mut body, header, header.account.as_deref());
    body.push(b'[');
    let mut content = Vec::new();
    content.extend_from_slice(frame.data.as_bytes());
    content.push(b']');
    for block in &frame.xdata {
        content.push(b'[');
        let mut letter = [0u8; 4];
        content.extend_from_slice(block.kind.encode_utf8(&mut letter).as_bytes());
        content.extend_from_slice(block.value.as_bytes());
        content.push(b']');
    }
    if let Some(at) = frame.timestamp {
        write_timestamp(&mut content, at);
    }
    if header.encrypted {
        let key = key.ok_or(EncodeError::NoKey)?;
        if frame.timestamp.is_none() {
            return Err(EncodeError::MissingTimestamp);
        }
        let mut plaintext = vec![b'|'];
        plaintext.extend_from_slice(&content);
        let ciphertext = crypto::seal(key, &plaintext, pad);
        body.extend_from_slice(hex::encode_upper(ciphertext).as_bytes());
    } else {
        body.extend_from_slice(&content);
    }
    if body.len() > MAX_BODY {
        return Err(EncodeError::TooLong(body.len()));
    }
    Ok(seal_envelope(&body, frame.crc))
}

fn validate(frame: &Frame) -> Result<(), EncodeError> {
    let header = &frame.header;
    if header.sequence > 9999 {
        return Err(EncodeError::Sequence(header.sequence));
    }
    let id = header.id.as_str();
    let other_is_known = matches!(&header.id, MessageId::Other(_))
        && !matches!(MessageId::from_name(id), MessageId::Other(_));
    if id.is_empty()
        || id.len() > 32
        || other_is_known
        || !id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'*')
    {
        return Err(EncodeError::Id);
    }
    if let Some(receiver) = &header.receiver
        && (!(1..=6).contains(&receiver.len()) || !is_hex(receiver))
    {
        return Err(EncodeError::Receiver);
    }
    if let Some(line) = &header.line
        && (line.len() > 6 || !is_hex(line))
    {
        return Err(EncodeError::Line);
    }
    if let Some(account) = &header.account
        && canonical(account).is_err()
    {
        return Err(EncodeError::Account);
    }
    if frame.data.contains(']') {
        return Err(EncodeError::Data);
    }
    if frame.xdata.iter().any(bad_xdata) {
        return Err(EncodeError::XData);
    }
    Ok(())
}

fn bad_xdata(block: &XData) -> bool {
    !block.kind.is_ascii_graphic()
        || block.kind == '['
        || block.kind == ']'
        || block.value.contains(']')
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit())
}
