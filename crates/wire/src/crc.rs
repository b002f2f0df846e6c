//! CRC-16/ARC over a frame body, and the two ways panels write it: four hex characters or,
//! on some Lupusec panels, two raw bytes.

use crc::{CRC_16_ARC, Crc};

const ARC: Crc<u16> = Crc::<u16>::new(&CRC_16_ARC);

/// CRC-16/ARC (poly 0x8005 reflected, init 0, no xor-out) of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    ARC.checksum(bytes)
}

/// How a frame writes its CRC; a reply is written the same way as the frame it answers,
/// because a panel that sends raw bytes only understands raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrcForm {
    /// Four hex characters (the DC-09 form).
    #[default]
    Hex,
    /// Two raw bytes, high byte first (Lupusec).
    Binary,
}

impl CrcForm {
    /// Detects the raw form: in it the length field `0LLL` starts at byte 3 and the
    /// opening quote of the id sits at byte 7, which cannot happen in the hex form.
    pub fn detect(raw: &[u8]) -> CrcForm {
        if raw.get(3) == Some(&b'0') && raw.get(7) == Some(&b'"') {
            CrcForm::Binary
        } else {
            CrcForm::Hex
        }
    }

    /// Bytes the CRC field takes on the wire.
    pub fn width(self) -> usize {
        match self {
            CrcForm::Hex => 4,
            CrcForm::Binary => 2,
        }
    }

    pub(crate) fn write(self, crc: u16, out: &mut Vec<u8>) {
        match self {
            CrcForm::Hex => out.extend_from_slice(format!("{crc:04X}").as_bytes()),
            CrcForm::Binary => out.extend_from_slice(&crc.to_be_bytes()),
        }
    }

    /// Reads the CRC field, `None` if it is not well formed.
    pub(crate) fn read(self, field: &[u8]) -> Option<u16> {
        match self {
            CrcForm::Hex => parse_hex_u16(field),
            CrcForm::Binary => match field {
                [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
                _ => None,
            },
        }
    }
}

/// Parses ASCII hex digits only: `from_str_radix` alone would also take a leading `+`.
pub(crate) fn parse_hex_u16(field: &[u8]) -> Option<u16> {
    if field.is_empty() || field.len() > 4 || !field.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let text = std::str::from_utf8(field).ok()?;
    u16::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn hex_field_rejects_sign() {
        assert_eq!(parse_hex_u16(b"+123"), None);
        assert_eq!(parse_hex_u16(b"f4d2"), Some(0xF4D2));
    }
}
