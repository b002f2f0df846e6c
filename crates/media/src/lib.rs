//! The media of a monitoring center's phone calls, sans-IO: every piece is a pure function or
//! a small state machine over 20 ms frames of 8 kHz audio (160 signed 16-bit samples), so it
//! is tested without a socket. The telephony adapter (`watchpost-telephony`) does the IO.
//!
//! Time inside a detector is counted in frames fed: frame `n` covers `n*20..(n+1)*20` ms.

pub mod amd;
pub mod beep;
pub mod bridge;
pub mod dtmf;
pub mod g711;
mod goertzel;
pub mod mix;
pub mod recorder;
pub mod rtp;
pub mod sdp;
pub mod wav;

pub use amd::{Amd, AmdConfig, Answer, Verdict};
pub use beep::{Beep, BeepConfig, BeepDetector, DropConfig, DropTimer, MessageStart, StartReason};
pub use bridge::Bridge;
pub use dtmf::{
    DtmfError, EventReceiver, InbandDtmf, TelephoneEvent, digit_event, encode_event, event_digit,
    parse_event,
};
pub use g711::Law;
pub use mix::mix;
pub use recorder::Recorder;
pub use rtp::{Packet, Reorder, RtpError, Sender, parse};
pub use sdp::{Direction, Media, SdpError, answer, offer, parse_answer};
pub use wav::{WavError, frames, read_8k_mono, resample_to_8k};

/// Audio sample rate everywhere in this crate: 8 kHz (G.711, RFC 3551 §4.5.14).
pub const SAMPLE_RATE: u32 = 8000;
/// Samples in one frame: 20 ms at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;
/// Length of one frame in milliseconds (the `a=ptime:20` we offer).
pub const FRAME_MS: u32 = 20;

/// Mean absolute amplitude of a frame (0–32768), the level Asterisk's silence detector compares
/// with its threshold (TELEPHONY.md §3.1). An empty frame has level 0.
pub fn mean_abs(frame: &[i16]) -> u32 {
    if frame.is_empty() {
        return 0;
    }
    let sum: u64 = frame.iter().map(|&s| u64::from(s.unsigned_abs())).sum();
    (sum / frame.len() as u64) as u32
}
