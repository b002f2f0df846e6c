//! The routing part of a DC-09 body: `"id"`, sequence, receiver, line and account, read and
//! written.

use crate::account::canonical;
use crate::cursor::Cursor;
use crate::error::FrameError;

/// The message type named by the id token (without the `*` of encryption).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessageId {
    SiaDcs,
    AdmCid,
    Null,
    Ack,
    Nak,
    Duh,
    Rsp,
    /// A well-formed id this crate does not know.
    Other(String),
}

impl Header {
    /// The header's account as a canonical number (`#5a5b` is `5A5B`).
    pub fn account_number(&self) -> Option<String> {
        self.account.as_deref().and_then(|a| canonical(a).ok())
    }
}

impl MessageId {
    pub fn from_name(name: &str) -> MessageId {
        match name {
            "SIA-DCS" => MessageId::SiaDcs,
            "ADM-CID" => MessageId::AdmCid,
            "NULL" => MessageId::Null,
            "ACK" => MessageId::Ack,
            "NAK" => MessageId::Nak,
            "DUH" => MessageId::Duh,
            "RSP" => MessageId::Rsp,
            other => MessageId::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            MessageId::SiaDcs => "SIA-DCS",
            MessageId::AdmCid => "ADM-CID",
            MessageId::Null => "NULL",
            MessageId::Ack => "ACK",
            MessageId::Nak => "NAK",
            MessageId::Duh => "DUH",
            MessageId::Rsp => "RSP",
            MessageId::Other(name) => name,
        }
    }

    /// ACK, NAK and DUH answer a message; a receiver never answers them.
    pub fn is_reply(&self) -> bool {
        matches!(self, MessageId::Ack | MessageId::Nak | MessageId::Duh)
    }

    /// Ids carrying events or a link test that a receiver acknowledges.
    pub fn is_event(&self) -> bool {
        matches!(
            self,
            MessageId::SiaDcs | MessageId::AdmCid | MessageId::Null
        )
    }
}

/// Everything before the `[` of the data block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub id: MessageId,
    /// The id had a leading `*`.
    pub encrypted: bool,
    /// 0..=9999.
    pub sequence: u16,
    /// Hex digits after `R`, `None` when there is no `R`.
    pub receiver: Option<String>,
    /// Hex digits after `L`; `Some("")` for a bare `L`, `None` when there is no `L`.
    pub line: Option<String>,
    /// Account after `#` as sent (replies echo it), `None` when the header has none. What
    /// the center receives is `Message::account`, the canonical number.
    pub account: Option<String>,
}

const MAX_ID_LEN: usize = 32;

/// Reads the header and leaves the cursor on the `[`.
pub(crate) fn parse_header(cur: &mut Cursor<'_>) -> Result<Header, FrameError> {
    if !cur.eat(b'"') {
        return Err(FrameError::BadId);
    }
    let token = cur.take_until(b'"').ok_or(FrameError::BadId)?;
    let (encrypted, name) = match token {
        [b'*', name @ ..] => (true, name),
        name => (false, name),
    };
    if name.is_empty()
        || name.len() > MAX_ID_LEN
        || !name.iter().all(|b| b.is_ascii_graphic() && *b != b'*')
    {
        return Err(FrameError::BadId);
    }
    let id = MessageId::from_name(&String::from_utf8_lossy(name));
    let sequence = read_sequence(cur.take(4).ok_or(FrameError::BadSequence)?)?;

    let receiver = if cur.eat(b'R') {
        let digits = cur.take_while(|b| b.is_ascii_hexdigit());
        if !(1..=6).contains(&digits.len()) {
            return Err(FrameError::BadReceiver);
        }
        Some(ascii(digits))
    } else {
        None
    };
    let line = if cur.eat(b'L') {
        let digits = cur.take_while(|b| b.is_ascii_hexdigit());
        Some(line_of(&id, digits)?)
    } else {
        None
    };
    // A NAK writes `A0` where other frames have `#acct` (`R0L0A0`); it carries nothing.
    if cur.eat(b'A') {
        cur.take_while(|b| b.is_ascii_hexdigit());
    }
    let account = if cur.eat(b'#') {
        let sent = ascii(cur.take_while(|b| b.is_ascii_alphanumeric()));
        canonical(&sent).map_err(FrameError::BadAccount)?;
        Some(sent)
    } else {
        None
    };
    if cur.peek() != Some(b'[') {
        return Err(FrameError::NoData);
    }
    Ok(Header {
        id,
        encrypted,
        sequence,
        receiver,
        line,
        account,
    })
}

fn read_sequence(field: &[u8]) -> Result<u16, FrameError> {
    if !field.iter().all(u8::is_ascii_digit) {
        return Err(FrameError::BadSequence);
    }
    Ok(field
        .iter()
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0')))
}

/// `A` is a hex digit, so in a NAK's `L0A0` the line digits swallow the `A0`; split it off.
fn line_of(id: &MessageId, digits: &[u8]) -> Result<String, FrameError> {
    let digits = match (id, digits.iter().position(|b| *b == b'A')) {
        (MessageId::Nak, Some(at)) => digits.get(..at).unwrap_or_default(),
        _ => digits,
    };
    if digits.len() > 6 {
        return Err(FrameError::BadLine);
    }
    Ok(ascii(digits))
}

/// The bytes were checked to be ASCII, so this never replaces anything.
fn ascii(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `"id"` with its `*`, then sequence, `R`, `L` and `#acct` as present.
pub(crate) fn write_header(out: &mut Vec<u8>, header: &Header, account: Option<&str>) {
    out.push(b'"');
    if header.encrypted {
        out.push(b'*');
    }
    out.extend_from_slice(header.id.as_str().as_bytes());
    out.push(b'"');
    write_routing(out, header, account);
}

/// Sequence, `R`, `L` and `#acct`: what every reply echoes.
pub(crate) fn write_routing(out: &mut Vec<u8>, header: &Header, account: Option<&str>) {
    crate::timestamp::push_digits(out, u32::from(header.sequence % 10_000), 4);
    if let Some(receiver) = &header.receiver {
        out.push(b'R');
        out.extend_from_slice(receiver.as_bytes());
    }
    if let Some(line) = &header.line {
        out.push(b'L');
        out.extend_from_slice(line.as_bytes());
    }
    if let Some(account) = account {
        out.push(b'#');
        out.extend_from_slice(account.as_bytes());
    }
}
