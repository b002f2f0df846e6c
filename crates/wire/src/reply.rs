//! The receiver's answers: ACK (plain or `*ACK`), NAK and DUH, written in the same CRC form
//! as the frame they answer.

use crate::crc::CrcForm;
use crate::crypto;
use crate::envelope::seal_envelope;
use crate::header::{Header, write_routing};
use crate::key::Key;
use crate::pad::PadSource;
use crate::timestamp::write_timestamp;
use chrono::{DateTime, Utc};

/// Which answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyKind {
    Ack,
    Nak,
    Duh,
}

impl ReplyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Ack => "ACK",
            ReplyKind::Nak => "NAK",
            ReplyKind::Duh => "DUH",
        }
    }
}

/// An answer ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
    pub bytes: Vec<u8>,
}

/// `"ACK"<seq><R><L>#acct[]`, with `timestamp` appended when given.
pub fn ack(
    header: &Header,
    account: Option<&str>,
    crc: CrcForm,
    timestamp: Option<DateTime<Utc>>,
) -> Reply {
    let mut body = b"\"ACK\"".to_vec();
    write_routing(&mut body, header, account);
    body.extend_from_slice(b"[]");
    if let Some(at) = timestamp {
        write_timestamp(&mut body, at);
    }
    Reply {
        kind: ReplyKind::Ack,
        bytes: seal_envelope(&body, crc),
    }
}

/// `"*ACK"<seq><R><L>#acct[HEX` where HEX is the upper-case hex of AES(pad `|]` timestamp).
/// Like every encrypted DC-09 block there is no closing `]` after the hex: the `]` is inside
/// the ciphertext, and transmitters (dc09_spt, say) hex-decode everything up to the CR.
pub fn encrypted_ack(
    header: &Header,
    account: Option<&str>,
    crc: CrcForm,
    key: &Key,
    now: DateTime<Utc>,
    pad: &mut dyn PadSource,
) -> Reply {
    let mut body = b"\"*ACK\"".to_vec();
    write_routing(&mut body, header, account);
    let mut content = b"|]".to_vec();
    write_timestamp(&mut content, now);
    let ciphertext = crypto::seal(key, &content, pad);
    body.push(b'[');
    body.extend_from_slice(hex::encode_upper(ciphertext).as_bytes());
    Reply {
        kind: ReplyKind::Ack,
        bytes: seal_envelope(&body, crc),
    }
}

/// `"NAK"0000R0L0A0[]_HH:MM:SS,MM-DD-YYYY` with the receiver's clock, never encrypted, so
/// the panel can set its clock from it.
pub fn nak(now: DateTime<Utc>, crc: CrcForm) -> Reply {
    let mut body = b"\"NAK\"0000R0L0A0[]".to_vec();
    write_timestamp(&mut body, now);
    Reply {
        kind: ReplyKind::Nak,
        bytes: seal_envelope(&body, crc),
    }
}

/// `"DUH"<seq><R><L>#acct[]`: the frame was understood but cannot be handled.
pub fn duh(header: &Header, account: Option<&str>, crc: CrcForm) -> Reply {
    let mut body = b"\"DUH\"".to_vec();
    write_routing(&mut body, header, account);
    body.extend_from_slice(b"[]");
    Reply {
        kind: ReplyKind::Duh,
        bytes: seal_envelope(&body, crc),
    }
}
