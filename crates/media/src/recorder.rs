//! A call's recording: both sides in one stereo file, placed by time so they stay aligned.
//!
//! The file is a WAV of G.711 µ-law (WAVE_FORMAT_MULAW, RFC 2361), 8 kHz, 2 channels: 16 000
//! bytes a second, a quarter of 16-bit stereo, and Chromium plays it in an `<audio>` element
//! (checked with headless Chromium: the element loads it with its full duration).
//! The header is written here because `hound` writes PCM only; it is 58 bytes.

use crate::g711::Law;
use crate::mix::mix;

/// Samples per millisecond at 8 kHz.
const PER_MS: usize = 8;
/// Longest recording kept: 4 hours. Frames placed later are dropped, so a bad clock cannot
/// exhaust memory.
pub const MAX_DURATION_MS: u32 = 4 * 3600 * 1000;

/// Collects one call's audio: the left channel is the contact's leg, the right what the center
/// sent (agent or message). Each frame is placed at its time in ms since the call started;
/// gaps stay silent, and frames that overlap on one side are mixed (agent and message at once).
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    contact: Vec<i16>,
    center: Vec<i16>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Places a frame (8 kHz samples) heard from the contact, starting `at_ms` after the call
    /// started.
    pub fn contact(&mut self, at_ms: u32, frame: &[i16]) {
        place(&mut self.contact, at_ms, frame);
    }

    /// Places a frame the center sent to the contact (agent's voice or a message).
    pub fn center(&mut self, at_ms: u32, frame: &[i16]) {
        place(&mut self.center, at_ms, frame);
    }

    /// Length of the recording so far in ms: the end of the latest frame on either side.
    pub fn duration_ms(&self) -> u32 {
        (self.contact.len().max(self.center.len()) / PER_MS) as u32
    }

    /// The whole WAV file: RIFF header, `fmt ` (format 7, 2 channels, 8000 Hz, 8 bits),
    /// `fact` and `data` with left/right bytes interleaved.
    pub fn finish(self) -> Vec<u8> {
        let frames = self.contact.len().max(self.center.len());
        let mut pcm = Vec::with_capacity(frames * 2);
        for i in 0..frames {
            pcm.push(self.contact.get(i).copied().unwrap_or(0));
            pcm.push(self.center.get(i).copied().unwrap_or(0));
        }
        let mut data = Vec::with_capacity(pcm.len());
        Law::Mu.encode(&pcm, &mut data);
        wav_mulaw_stereo(&data)
    }
}

fn place(track: &mut Vec<i16>, at_ms: u32, frame: &[i16]) {
    let start = at_ms as usize * PER_MS;
    let end = start + frame.len();
    if end > MAX_DURATION_MS as usize * PER_MS {
        return;
    }
    if track.len() < end {
        track.resize(end, 0);
    }
    let mixed = mix(&track[start..end], frame);
    track[start..end].copy_from_slice(&mixed);
}

fn wav_mulaw_stereo(data: &[u8]) -> Vec<u8> {
    const CHANNELS: u16 = 2;
    const RATE: u32 = 8000;
    let frames = (data.len() / usize::from(CHANNELS)) as u32;
    let data_len = data.len() as u32;
    let mut out = Vec::with_capacity(58 + data.len() + 1);
    out.extend_from_slice(b"RIFF");
    // RIFF size: "WAVE" + fmt (8+18) + fact (8+4) + data (8+len, padded to even).
    out.extend_from_slice(&(4 + 26 + 12 + 8 + data_len + (data_len & 1)).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&7u16.to_le_bytes()); // WAVE_FORMAT_MULAW
    out.extend_from_slice(&CHANNELS.to_le_bytes());
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * u32::from(CHANNELS)).to_le_bytes()); // bytes per second
    out.extend_from_slice(&CHANNELS.to_le_bytes()); // block align: one byte per channel
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // no extra format bytes
    // Non-PCM formats carry a fact chunk with the length in sample frames.
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&frames.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(data);
    if data_len & 1 == 1 {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;

    fn channel(file: &[u8], right: bool) -> Vec<i16> {
        let data = file.windows(4).position(|w| w == b"data").unwrap() + 8;
        let bytes: Vec<u8> = file[data..]
            .iter()
            .skip(usize::from(right))
            .step_by(2)
            .copied()
            .collect();
        let mut pcm = Vec::new();
        Law::Mu.decode(&bytes, &mut pcm);
        pcm
    }

    #[test]
    fn places_both_sides_by_time() {
        let mut r = Recorder::new();
        r.contact(0, &[1000; FRAME_SAMPLES]);
        r.contact(100, &[2000; FRAME_SAMPLES]); // 80 ms gap
        r.center(60, &[-3000; FRAME_SAMPLES]);
        r.center(60, &[-1000; FRAME_SAMPLES]); // mixed with the message
        assert_eq!(r.duration_ms(), 120);
        let file = r.finish();
        assert_eq!(&file[0..4], b"RIFF");
        assert_eq!(
            u32::from_le_bytes(file[4..8].try_into().unwrap()) as usize,
            file.len() - 8
        );
        assert_eq!(u16::from_le_bytes([file[20], file[21]]), 7);
        assert_eq!(file.len(), 58 + 120 * 8 * 2);
        let left = channel(&file, false);
        let right = channel(&file, true);
        assert_eq!(left.len(), 960);
        assert!(left[..160].iter().all(|&s| (s - 1000).abs() < 64));
        assert!(left[160..800].iter().all(|&s| s == 0));
        assert!(left[800..].iter().all(|&s| (s - 2000).abs() < 128));
        assert!(right[..480].iter().all(|&s| s == 0));
        assert!(right[480..640].iter().all(|&s| (s + 4000).abs() < 256));
        // Our WAV reader takes it back (averaging the channels).
        let mono = crate::wav::read_8k_mono(&file).unwrap();
        assert_eq!(mono.len(), 960);
    }

    #[test]
    fn ignores_frames_past_four_hours() {
        let mut r = Recorder::new();
        r.contact(MAX_DURATION_MS, &[1; FRAME_SAMPLES]);
        assert_eq!(r.duration_ms(), 0);
        assert_eq!(r.finish().len(), 58);
    }
}
