//! AES keys for encrypted DC-09: 128, 192 or 256 bits, given as hex or as ASCII text.

use thiserror::Error;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("the key is not hexadecimal")]
    NotHex,
    #[error("a hex key must be 32, 48 or 64 hex digits (AES-128/192/256), this one has {0} digits")]
    HexLength(usize),
    #[error(
        "an ASCII key must be 16, 24 or 32 characters (AES-128/192/256), this one has {0} bytes"
    )]
    AsciiLength(usize),
    #[error("an ASCII key must be plain ASCII text")]
    NotAscii,
}

/// An AES key; its `Debug` output never shows the key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(KeyBytes);

#[derive(Clone, PartialEq, Eq)]
pub(crate) enum KeyBytes {
    Aes128([u8; 16]),
    Aes192([u8; 24]),
    Aes256([u8; 32]),
}

impl Key {
    /// A key written as 32, 48 or 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Result<Key, KeyError> {
        let text = text.trim();
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::NotHex);
        }
        let bytes = hex::decode(text).map_err(|_| KeyError::HexLength(text.len()))?;
        Key::from_bytes(&bytes).ok_or(KeyError::HexLength(text.len()))
    }

    /// A key written as 16, 24 or 32 ASCII characters, used byte for byte.
    pub fn from_ascii(text: &str) -> Result<Key, KeyError> {
        if !text.is_ascii() {
            return Err(KeyError::NotAscii);
        }
        Key::from_bytes(text.as_bytes()).ok_or(KeyError::AsciiLength(text.len()))
    }

    /// A key from raw bytes; `None` unless there are 16, 24 or 32 of them.
    pub fn from_bytes(bytes: &[u8]) -> Option<Key> {
        let key = match bytes.len() {
            16 => KeyBytes::Aes128(bytes.try_into().ok()?),
            24 => KeyBytes::Aes192(bytes.try_into().ok()?),
            32 => KeyBytes::Aes256(bytes.try_into().ok()?),
            _ => return None,
        };
        Some(Key(key))
    }

    /// Key size in bits: 128, 192 or 256.
    pub fn bits(&self) -> u16 {
        match self.0 {
            KeyBytes::Aes128(_) => 128,
            KeyBytes::Aes192(_) => 192,
            KeyBytes::Aes256(_) => 256,
        }
    }

    pub(crate) fn bytes(&self) -> &KeyBytes {
        &self.0
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(AES-{}, redacted)", self.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(Key::from_ascii("0123456789ABCDEF").unwrap().bits(), 128);
        assert_eq!(Key::from_hex(&"ab".repeat(24)).unwrap().bits(), 192);
        assert_eq!(Key::from_hex(&"AB".repeat(32)).unwrap().bits(), 256);
        assert_eq!(Key::from_ascii("short"), Err(KeyError::AsciiLength(5)));
        assert_eq!(Key::from_hex("abc"), Err(KeyError::HexLength(3)));
        assert_eq!(
            Key::from_hex(&"ab".repeat(20)),
            Err(KeyError::HexLength(40))
        );
        assert_eq!(Key::from_hex("zz"), Err(KeyError::NotHex));
        assert_eq!(Key::from_ascii("0123456789ABCDEé"), Err(KeyError::NotAscii));
        assert!(!format!("{:?}", Key::from_ascii("0123456789ABCDEF").unwrap()).contains("0123"));
    }
}
