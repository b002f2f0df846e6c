//! watchpost-wire: the alarm wire formats a monitoring center receives (SIA DC-09 frames with
//! CRC, AES and timestamps; SIA DCS and Contact ID event data) and the receiver's replies.
//! Sans-IO: bytes and a clock reading in, values and reply bytes out; nothing here panics.

mod account;
mod cid;
mod content;
mod crc;
mod crypto;
mod cursor;
mod dcs;
mod encode;
mod envelope;
mod error;
mod event;
mod frame;
mod header;
mod inspect;
mod key;
mod pad;
mod receive;
mod reply;
mod splitter;
mod text;
mod timestamp;

pub use account::split_data_account;
pub use cid::{
    CidError, CidEvent, PhoneMessage, encode_phone, parse_dc09, parse_phone, phone_checksum,
};
pub use content::XData;
pub use crc::{CrcForm, crc16};
pub use dcs::{DcsEvent, parse_dcs};
pub use encode::{EncodeError, encode_frame};
pub use error::{FrameError, WireError};
pub use event::{Event, read_events};
pub use frame::{Frame, parse_frame, parse_header_only};
pub use header::{Header, MessageId};
pub use inspect::{InspectedEvent, Inspection, inspect};
pub use key::{Key, KeyError};
pub use pad::{FixedPad, PadSource, RngPad};
pub use receive::{Message, Received, receive, receive_with};
pub use reply::{Reply, ReplyKind, ack, duh, encrypted_ack, nak};
pub use splitter::{Chunk, FrameSplitter, MAX_FRAME};
pub use text::decode as decode_text;
pub use timestamp::{Window, format_timestamp, parse_timestamp};

/// Decrypts DC-09 ciphertext (AES-CBC, zero IV) with `key`; `None` unless it is whole blocks.
/// Exposed so tests and tools can see the exact plaintext, pad included.
pub fn decrypt_block(key: &Key, ciphertext: &[u8]) -> Option<Vec<u8>> {
    crypto::decrypt(key, ciphertext)
}
