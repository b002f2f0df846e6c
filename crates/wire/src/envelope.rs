//! The outer layer of a DC-09 frame, both ways: `LF crc 0LLL body CR`, where the length and
//! the CRC cover the body from the opening `"` of the id to the byte before CR.

use crate::crc::{CrcForm, crc16};
use crate::error::FrameError;

/// Largest body the three hex digits of the length field can announce.
pub const MAX_BODY: usize = 0xFFF;

const LF: u8 = 0x0A;
const CR: u8 = 0x0D;

/// A frame whose length and CRC were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Envelope<'a> {
    pub crc_form: CrcForm,
    pub body: &'a [u8],
}

/// Some panels send a 0x00 after CR; it is not part of the frame.
pub(crate) fn trim_trailing_nul(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|b| *b != 0).map_or(0, |at| at + 1);
    raw.get(..end).unwrap_or_default()
}

/// Bytes before the body: LF, the CRC field and `0LLL`.
pub(crate) fn prefix_len(form: CrcForm) -> usize {
    1 + form.width() + 4
}

/// Reads `0LLL`; `None` unless it is '0' and three hex digits.
pub(crate) fn read_length(field: &[u8]) -> Option<usize> {
    match field {
        [b'0', digits @ ..] if digits.len() == 3 => {
            crate::crc::parse_hex_u16(digits).map(usize::from)
        }
        _ => None,
    }
}

/// Checks LF, CR, length and CRC, and returns the body.
pub(crate) fn open_envelope(raw: &[u8]) -> Result<Envelope<'_>, FrameError> {
    let raw = trim_trailing_nul(raw);
    if raw.first() != Some(&LF) {
        return Err(FrameError::NoLineFeed);
    }
    let crc_form = CrcForm::detect(raw);
    let prefix = prefix_len(crc_form);
    if raw.len() < prefix + 1 {
        return Err(FrameError::TooShort(raw.len()));
    }
    let crc_field = raw.get(1..1 + crc_form.width()).unwrap_or_default();
    let declared_crc = crc_form.read(crc_field).ok_or(FrameError::BadCrcField)?;
    let length_field = raw.get(1 + crc_form.width()..prefix).unwrap_or_default();
    let declared_len = read_length(length_field).ok_or(FrameError::BadLengthField)?;
    if raw.last() != Some(&CR) {
        return Err(FrameError::NoCarriageReturn);
    }
    let body = raw.get(prefix..raw.len() - 1).unwrap_or_default();
    // Eldes panels count (and checksum) the CR as part of the body.
    let covered = if declared_len == body.len() {
        body
    } else if declared_len == body.len() + 1 {
        raw.get(prefix..).unwrap_or_default()
    } else {
        return Err(FrameError::LengthMismatch {
            declared: declared_len,
            actual: body.len(),
        });
    };
    let computed = crc16(covered);
    if computed != declared_crc {
        return Err(FrameError::CrcMismatch {
            declared: declared_crc,
            computed,
        });
    }
    Ok(Envelope { crc_form, body })
}

/// Wraps a body into a frame. The caller keeps bodies within `MAX_BODY`.
pub(crate) fn seal_envelope(body: &[u8], form: CrcForm) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 10);
    out.push(LF);
    form.write(crc16(body), &mut out);
    out.extend_from_slice(format!("0{:03X}", body.len() & MAX_BODY).as_bytes());
    out.extend_from_slice(body);
    out.push(CR);
    out
}
