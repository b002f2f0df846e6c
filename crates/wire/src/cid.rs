//! Contact ID (DC-05): the DC-09 data form `QXYZ GG CCC` and the 16-digit phone-line form
//! `ACCT MT Q XYZ GG CCC S` with its mod-15 checksum.

use thiserror::Error;

/// Why Contact ID text was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CidError {
    #[error("'{0}' is not QXYZ GG CCC (qualifier, event code, group, zone: 9 decimal digits)")]
    Event(String),
    #[error("a Contact ID phone message has 16 digits, this one has {0}")]
    Length(usize),
    #[error("'{0}' is not a Contact ID digit (0-9 or B-F; A is not used)")]
    Digit(char),
    #[error("the message type is {0}, not 18 or 98")]
    MessageType(String),
    #[error("the account '{0}' is not 4 Contact ID digits")]
    Account(String),
    #[error("the checksum digit is {found} but the digits need {expected}")]
    Checksum { expected: char, found: char },
}

/// One Contact ID event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CidEvent {
    /// 1 new event / opening, 3 restore / closing, 6 still present.
    pub qualifier: u8,
    /// Three-digit event code, e.g. 131.
    pub code: u16,
    /// Partition (GG).
    pub group: u8,
    /// Zone, or user for open/close events (CCC).
    pub zone: u16,
}

impl CidEvent {
    /// `QXYZ GG CCC`.
    pub fn to_dc09(&self) -> String {
        format!(
            "{}{:03} {:02} {:03}",
            self.qualifier % 10,
            self.code % 1000,
            self.group % 100,
            self.zone % 1000
        )
    }

    /// The nine digits `QXYZGGCCC`.
    fn digits(&self) -> String {
        self.to_dc09().replace(' ', "")
    }
}

/// Reads the DC-09 form `QXYZ GG CCC` (spaces optional).
pub fn parse_dc09(text: &str) -> Result<CidEvent, CidError> {
    let digits: Vec<u8> = text.bytes().filter(|b| *b != b' ').collect();
    event_from_digits(&digits).ok_or_else(|| CidError::Event(text.to_owned()))
}

fn event_from_digits(digits: &[u8]) -> Option<CidEvent> {
    let [q, x, y, z, g1, g2, c1, c2, c3] = digits else {
        return None;
    };
    Some(CidEvent {
        qualifier: u8::try_from(decimal(&[*q])?).ok()?,
        code: u16::try_from(decimal(&[*x, *y, *z])?).ok()?,
        group: u8::try_from(decimal(&[*g1, *g2])?).ok()?,
        zone: u16::try_from(decimal(&[*c1, *c2, *c3])?).ok()?,
    })
}

fn decimal(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// A Contact ID message as sent over a phone line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneMessage {
    /// Four digits, 0-9 and B-F, upper case.
    pub account: String,
    /// 18 (or 98).
    pub message_type: u8,
    pub event: CidEvent,
}

/// Value of a Contact ID digit: 0 counts as 10, B-F as 11-15, A is not used.
fn digit_value(c: char) -> Result<u32, CidError> {
    match c.to_ascii_uppercase() {
        '0' => Ok(10),
        d @ '1'..='9' => Ok(u32::from(d) - u32::from('0')),
        d @ 'B'..='F' => Ok(u32::from(d) - u32::from('A') + 10),
        _ => Err(CidError::Digit(c)),
    }
}

fn value_digit(value: u32) -> char {
    match value {
        1..=9 => char::from_digit(value, 10).unwrap_or('0'),
        11..=15 => char::from_digit(value, 16).map_or('F', |c| c.to_ascii_uppercase()),
        _ => '0',
    }
}

/// The checksum digit for the first 15 digits: it makes the digit sum a multiple of 15
/// (a needed value of 15 is written `F`, of 10 `0`).
pub fn phone_checksum(first15: &str) -> Result<char, CidError> {
    let count = first15.chars().count();
    if count != 15 {
        return Err(CidError::Length(count + 1));
    }
    let mut sum = 0;
    for c in first15.chars() {
        sum += digit_value(c)?;
    }
    Ok(value_digit(15 - sum % 15))
}

/// Reads and checks a 16-digit phone-line message.
pub fn parse_phone(text: &str) -> Result<PhoneMessage, CidError> {
    let chars: Vec<char> = text.trim().chars().collect();
    let [head @ .., last] = chars.as_slice() else {
        return Err(CidError::Length(0));
    };
    if chars.len() != 16 {
        return Err(CidError::Length(chars.len()));
    }
    let first15: String = head.iter().collect();
    let expected = phone_checksum(&first15)?;
    digit_value(*last)?;
    let found = last.to_ascii_uppercase();
    if found != expected {
        return Err(CidError::Checksum { expected, found });
    }
    let upper = first15.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let account = String::from_utf8_lossy(bytes.get(..4).unwrap_or_default()).into_owned();
    let mt = bytes.get(4..6).unwrap_or_default();
    let message_type = match mt {
        b"18" => 18,
        b"98" => 98,
        other => return Err(CidError::MessageType(String::from_utf8_lossy(other).into())),
    };
    let event = event_from_digits(bytes.get(6..).unwrap_or_default()).ok_or_else(|| {
        CidError::Event(String::from_utf8_lossy(bytes.get(6..).unwrap_or_default()).into())
    })?;
    Ok(PhoneMessage {
        account,
        message_type,
        event,
    })
}

/// Writes a 16-digit phone-line message with its checksum.
pub fn encode_phone(message: &PhoneMessage) -> Result<String, CidError> {
    let account = message.account.to_ascii_uppercase();
    if account.chars().count() != 4 || account.chars().any(|c| digit_value(c).is_err()) {
        return Err(CidError::Account(account));
    }
    let mt = message.message_type;
    if mt != 18 && mt != 98 {
        return Err(CidError::MessageType(mt.to_string()));
    }
    let mut text = format!("{account}{mt}{}", message.event.digits());
    let checksum = phone_checksum(&text)?;
    text.push(checksum);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc09_form() {
        let event = parse_dc09("1131 01 003").unwrap();
        assert_eq!(
            event,
            CidEvent {
                qualifier: 1,
                code: 131,
                group: 1,
                zone: 3
            }
        );
        assert_eq!(event.to_dc09(), "1131 01 003");
        assert!(parse_dc09("1131 01 0x3").is_err());
        assert!(parse_dc09("1131 01").is_err());
    }

    #[test]
    fn digit_values() {
        assert_eq!(digit_value('0'), Ok(10));
        assert_eq!(digit_value('b'), Ok(11));
        assert_eq!(digit_value('F'), Ok(15));
        assert_eq!(digit_value('A'), Err(CidError::Digit('A')));
        assert_eq!(value_digit(10), '0');
        assert_eq!(value_digit(15), 'F');
        assert_eq!(value_digit(12), 'C');
    }
}
