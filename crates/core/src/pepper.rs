//! The pepper: a random 32-byte secret that keyed verbal-password hashes are made with
//! (argon2's secret input K, RFC 9106 §3.1), so a stolen database alone allows no guessing.
//! It is created once per center and kept only sealed under the master key; this module
//! owns the value and the short id a PHC string names it by (`keyid=`). README, "Secrets".

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::{KeyId, ParamsBuilder};
use sha2::{Digest, Sha256};
use std::fmt;

/// A pepper's length, in bytes.
pub const PEPPER_BYTES: usize = 32;

/// How many bytes of the id a PHC string carries (argon2 allows at most 8).
const ID_BYTES: usize = 6;

/// The center's pepper and its id. Debug prints only the id.
#[derive(Clone, PartialEq, Eq)]
pub struct Pepper {
    bytes: [u8; PEPPER_BYTES],
    key_id: [u8; ID_BYTES],
    id: String,
}

impl Pepper {
    /// A new random pepper, from the operating system's generator.
    pub fn generate() -> Pepper {
        let mut bytes = [0u8; PEPPER_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Pepper::from_bytes(bytes)
    }

    /// The pepper of these bytes.
    pub fn from_bytes(bytes: [u8; PEPPER_BYTES]) -> Pepper {
        // The id names the pepper without revealing it: 48 bits of a hash under a fixed label.
        let digest = Sha256::new()
            .chain_update(b"watchpost pepper id\0")
            .chain_update(bytes)
            .finalize();
        let mut key_id = [0u8; ID_BYTES];
        key_id.copy_from_slice(&digest[..ID_BYTES]);
        // The id as a PHC string writes it (argon2's own B64), so the two compare as text.
        let params = ParamsBuilder::new()
            .keyid(KeyId::new(&key_id).expect("6 bytes fit a key id"))
            .build()
            .expect("default parameters with a key id are valid");
        let written = argon2::password_hash::ParamsString::try_from(&params)
            .expect("parameters with a key id can be written");
        let id = written
            .get_str("keyid")
            .expect("a key id is written")
            .to_string();
        Pepper { bytes, key_id, id }
    }

    /// Reads a pepper written by `to_hex` (64 hex digits); the error never quotes the text.
    pub fn from_hex(text: &str) -> Result<Pepper, String> {
        let mut bytes = [0u8; PEPPER_BYTES];
        let text = text.trim();
        if text.len() != PEPPER_BYTES * 2 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "a pepper is {} hex digits; this is not",
                PEPPER_BYTES * 2
            ));
        }
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).expect("checked to be hex digits");
        }
        Ok(Pepper::from_bytes(bytes))
    }

    /// The pepper as 64 hex digits: only ever sealed, never stored or logged like this.
    pub fn to_hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The id as a PHC string's `keyid=` writes it: 8 characters of B64.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn key_id(&self) -> KeyId {
        KeyId::new(&self.key_id).expect("6 bytes fit a key id")
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.bytes
    }
}

impl fmt::Debug for Pepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pepper({})", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_and_hide_the_pepper() {
        let a = Pepper::from_bytes([1; 32]);
        assert_eq!(a.id(), Pepper::from_bytes([1; 32]).id());
        assert_ne!(a.id(), Pepper::from_bytes([2; 32]).id());
        assert_eq!(a.id().len(), 8);
        assert_eq!(format!("{a:?}"), format!("Pepper({})", a.id()));
        assert_ne!(Pepper::generate(), Pepper::generate());
    }

    #[test]
    fn hex_goes_both_ways_and_nothing_else_is_read() {
        let a = Pepper::generate();
        assert_eq!(Pepper::from_hex(&a.to_hex()).unwrap(), a);
        assert!(Pepper::from_hex("00").is_err());
        assert!(Pepper::from_hex(&"zz".repeat(32)).is_err());
        assert!(!Pepper::from_hex("secret").unwrap_err().contains("secret"));
    }
}
