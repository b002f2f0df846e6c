//! DC-09 encryption: AES-CBC with an all-zero IV over `pad | data ] x-data timestamp`,
//! and finding the data again after decryption.

use crate::key::{Key, KeyBytes};
use crate::pad::{self, PadSource};
use aes::{Aes128, Aes192, Aes256};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockCipher, BlockDecryptMut, BlockEncryptMut, KeyInit, KeyIvInit};

const BLOCK: usize = 16;
const ZERO_IV: [u8; BLOCK] = [0; BLOCK];

/// Prepends pad to `content` (which starts with the `|`) and encrypts. The pad fills up to a
/// whole number of blocks, and is a full block when the content already is one, because
/// receivers expect at least one pad byte.
pub fn seal(key: &Key, content: &[u8], pad_source: &mut dyn PadSource) -> Vec<u8> {
    let pad_len = BLOCK - content.len() % BLOCK;
    let mut plaintext = pad::draw(pad_source, pad_len);
    plaintext.extend_from_slice(content);
    encrypt(key, &mut plaintext);
    plaintext
}

/// Encrypts whole blocks in place.
fn encrypt(key: &Key, buf: &mut [u8]) {
    match key.bytes() {
        KeyBytes::Aes128(k) => encrypt_with::<Aes128>(k, buf),
        KeyBytes::Aes192(k) => encrypt_with::<Aes192>(k, buf),
        KeyBytes::Aes256(k) => encrypt_with::<Aes256>(k, buf),
    }
}

fn encrypt_with<C>(key: &[u8], buf: &mut [u8])
where
    C: BlockEncryptMut + BlockCipher + KeyInit,
{
    // The key length is fixed by `KeyBytes` and `seal` pads to whole blocks, so neither
    // call can fail; errors are ignored rather than unwrapped to keep this panic-free.
    if let Ok(cipher) = cbc::Encryptor::<C>::new_from_slices(key, &ZERO_IV) {
        let len = buf.len();
        let _ = cipher.encrypt_padded_mut::<NoPadding>(buf, len);
    }
}

/// Decrypts ciphertext; `None` unless it is a non-empty whole number of blocks.
pub fn decrypt(key: &Key, ciphertext: &[u8]) -> Option<Vec<u8>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
        return None;
    }
    let mut buf = ciphertext.to_vec();
    match key.bytes() {
        KeyBytes::Aes128(k) => decrypt_with::<Aes128>(k, &mut buf)?,
        KeyBytes::Aes192(k) => decrypt_with::<Aes192>(k, &mut buf)?,
        KeyBytes::Aes256(k) => decrypt_with::<Aes256>(k, &mut buf)?,
    }
    Some(buf)
}

fn decrypt_with<C>(key: &[u8], buf: &mut [u8]) -> Option<()>
where
    C: BlockDecryptMut + BlockCipher + KeyInit,
{
    let cipher = cbc::Decryptor::<C>::new_from_slices(key, &ZERO_IV).ok()?;
    cipher.decrypt_padded_mut::<NoPadding>(buf).ok()?;
    Some(())
}

/// Drops the pad: the content starts after the first `|`, or at the first `]` when no `|`
/// comes before it (some Hikvision `*NULL` frames carry no `|`). Returns `data ] ...`.
pub fn strip_pad(plaintext: &[u8]) -> Option<&[u8]> {
    let bar = plaintext.iter().position(|b| *b == b'|');
    let close = plaintext.iter().position(|b| *b == b']');
    match (bar, close) {
        (Some(bar), Some(close)) if bar < close => plaintext.get(bar + 1..),
        (Some(bar), None) => plaintext.get(bar + 1..),
        (_, Some(close)) => plaintext.get(close..),
        (None, None) => None,
    }
}
