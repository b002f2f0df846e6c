//! Secrets handed out once — session tokens and API keys, 32 random bytes from the OS — and the
//! SHA-256 hex under which the store keeps them.

use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// API keys read `wp_` and 64 hex digits, so they are recognisable in a config file or a leak.
pub const API_KEY_PREFIX: &str = "wp_";

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new session token: 64 lowercase hex digits.
pub fn new_token() -> String {
    random_hex()
}

/// A new API key: `wp_` and 64 lowercase hex digits.
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", random_hex())
}

/// Is this shaped like a token we hand out? Anything else is refused without a lookup.
pub fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn is_api_key(text: &str) -> bool {
    text.strip_prefix(API_KEY_PREFIX).is_some_and(is_token)
}

/// What the store keeps instead of the secret.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
