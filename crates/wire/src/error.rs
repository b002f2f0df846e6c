//! Why a frame was refused: transport errors (answered with NAK) and the receiver's
//! decisions about well-formed frames (NAK for the clock, DUH for what it cannot handle).

use crate::cid::CidError;
use thiserror::Error;
use watchpost_core::account_number::AccountNumberError;

/// A frame that is not well formed DC-09, or cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("the frame does not start with LF (0x0A)")]
    NoLineFeed,
    #[error("the frame does not end with CR (0x0D)")]
    NoCarriageReturn,
    #[error("the frame is too short ({0} bytes) to hold a CRC, a length and an id")]
    TooShort(usize),
    #[error("the CRC field is not 4 hex digits")]
    BadCrcField,
    #[error("the length field is not '0' followed by 3 hex digits")]
    BadLengthField,
    #[error("the length field says {declared} bytes but the frame carries {actual}")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("the CRC field says {declared:04X} but the frame's CRC is {computed:04X}")]
    CrcMismatch { declared: u16, computed: u16 },
    #[error("the id is not a quoted name like \"SIA-DCS\"")]
    BadId,
    #[error("the sequence number is not 4 decimal digits")]
    BadSequence,
    #[error("the receiver number (R) is not 1 to 6 hex digits")]
    BadReceiver,
    #[error("the line number (L) is not 0 to 6 hex digits")]
    BadLine,
    #[error("the account (#) {0}")]
    BadAccount(AccountNumberError),
    #[error("the header is not followed by a '[' data block")]
    NoData,
    #[error("the data block has no closing ']'")]
    UnterminatedData,
    #[error("an x-data block is empty, unterminated or has no type letter")]
    BadXData,
    #[error("the timestamp is not _HH:MM:SS,MM-DD-YYYY")]
    BadTimestamp,
    #[error("unexpected bytes after the data, x-data and timestamp")]
    TrailingBytes,
    #[error("the encrypted block is not hex")]
    NotHexCiphertext,
    #[error(
        "the encrypted block has {0} hex digits, not a whole number of AES blocks (32 digits each)"
    )]
    CiphertextLength(usize),
    #[error("the decrypted block has neither '|' nor ']' (wrong key?)")]
    Undecryptable,
    #[error("an encrypted message must carry a timestamp")]
    MissingTimestamp,
    #[error("the frame is encrypted and no key was given")]
    NoKey,
}

/// Why the receiver did not simply ACK a frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(
        "the timestamp {timestamp} is outside the window of -{past_secs} s to +{future_secs} s around the receiver clock {now}"
    )]
    OutsideWindow {
        timestamp: String,
        now: String,
        past_secs: u32,
        future_secs: u32,
    },
    #[error("the receiver does not handle \"{0}\" messages")]
    UnsupportedId(String),
    #[error("the frame is encrypted and no key is configured for account {0}")]
    NoKey(String),
    #[error("the frame names no account, neither in the header nor in the data")]
    NoAccount,
    #[error("the account in the data block (#...|) {0}")]
    BadDataAccount(AccountNumberError),
    #[error("the header names account {header} but the data block names {data}")]
    AccountMismatch { header: String, data: String },
    #[error("the Contact ID data cannot be read: {0}")]
    BadContactId(#[from] CidError),
}
