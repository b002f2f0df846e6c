//! DTMF both ways: the RFC 4733 telephone-event payload, a receiver that reports each key once,
//! and an in-band (Goertzel) detector for peers that send the tones in the audio.

use crate::FRAME_MS;
use crate::goertzel::power;

/// One RFC 4733 telephone-event payload (§2.3): 4 bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0–9 the digits, 10 `*`, 11 `#`, 12–15 A–D (RFC 4733 §3.2).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0, 0–63 (6 bits; larger values are cut to 6 bits when encoded).
    pub volume: u8,
    /// Duration so far in timestamp units (8 kHz: 160 = 20 ms).
    pub duration: u16,
}

/// Why a payload is not a telephone event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DtmfError {
    #[error("telephone-event payload of {len} bytes is shorter than 4 bytes (RFC 4733 §2.3)")]
    TooShort { len: usize },
}

/// Parses the first 4-byte event of a telephone-event payload (RFC 4733 §2.3); the R bit is
/// ignored. Errors when the payload is shorter than 4 bytes.
pub fn parse_event(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
    let [event, flags, hi, lo, ..] = *payload else {
        return Err(DtmfError::TooShort { len: payload.len() });
    };
    Ok(TelephoneEvent {
        event,
        end: flags & 0x80 != 0,
        volume: flags & 0x3F,
        duration: u16::from_be_bytes([hi, lo]),
    })
}

/// The 4 payload bytes of an event (RFC 4733 §2.3), R bit zero.
pub fn encode_event(e: &TelephoneEvent) -> [u8; 4] {
    audio_codec::telephone_event::encode_event_payload(e.event, e.end, e.volume, e.duration)
}

/// The event code of a DTMF key (`0`–`9`, `*`, `#`, `A`–`D`, case-insensitive), RFC 4733 §3.2.
pub fn digit_event(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The DTMF key of an event code 0–15; `None` for other events (flash, tones, …).
pub fn event_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

/// Receives the telephone-event payloads of one stream and reports each key press once, on its
/// first end packet. Senders repeat the end packet three times (RFC 4733 §2.5.1.4) and one key
/// press is one RTP timestamp (§2.5.1.2), so the receiver remembers the timestamp it reported.
/// A press whose end packets were all lost is not reported (TELEPHONY.md §2).
#[derive(Debug, Default)]
pub struct EventReceiver {
    reported: Option<u32>,
}

impl EventReceiver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the RTP timestamp and payload of a packet of the negotiated telephone-event
    /// payload type; returns the key once per press. Malformed payloads and non-DTMF events are
    /// ignored (`None`).
    pub fn push(&mut self, rtp_timestamp: u32, payload: &[u8]) -> Option<char> {
        let event = parse_event(payload).ok()?;
        if !event.end || self.reported == Some(rtp_timestamp) {
            return None;
        }
        self.reported = Some(rtp_timestamp);
        event_digit(event.event)
    }
}

const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLUMNS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// Share of the frame's energy the row and column tones must carry together.
const TONE_SHARE: f64 = 0.6;
/// The stronger of the two tones may be at most 8 dB above the other ("twist", ITU-T Q.24).
const MAX_TWIST: f64 = 6.3;
/// A tone must beat the next-strongest frequency of its group by this power ratio (6 dB).
const GROUP_MARGIN: f64 = 4.0;
/// Mean absolute amplitude below which a frame is not looked at (about -45 dBm0).
const MIN_LEVEL: u32 = 100;
/// Key held this long before it is reported (ITU-T Q.24 accepts 40 ms tones).
const MIN_MS: u32 = 40;

/// In-band DTMF (Goertzel on the 8 row and column frequencies of ITU-T Q.23), for peers that
/// send the tones in the audio instead of RFC 4733. Reports a key once after at least 40 ms of
/// it (two 20 ms frames in a row); the same key is reported again only after a frame without it.
#[derive(Debug, Default)]
pub struct InbandDtmf {
    current: Option<char>,
    held_ms: u32,
    reported: bool,
}

impl InbandDtmf {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one 20 ms frame (160 samples at 8 kHz); returns a key when one has just lasted
    /// 40 ms.
    pub fn push(&mut self, frame: &[i16]) -> Option<char> {
        let key = classify(frame);
        if key != self.current {
            self.current = key;
            self.held_ms = 0;
            self.reported = false;
        }
        let key = key?;
        self.held_ms += FRAME_MS;
        if self.held_ms >= MIN_MS && !self.reported {
            self.reported = true;
            return Some(key);
        }
        None
    }
}

fn classify(frame: &[i16]) -> Option<char> {
    if frame.is_empty() || crate::mean_abs(frame) < MIN_LEVEL {
        return None;
    }
    let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let n = frame.len() as f64;
    // For a sine of amplitude a, Goertzel power is (a·n/2)² and its energy a²·n/2, so
    // 2·power/n over the energy is the tone's share of the frame.
    let share = |hz: f64| 2.0 * power(frame, hz) / n / energy;
    let best = |group: &[f64; 4]| {
        let shares: Vec<f64> = group.iter().map(|&hz| share(hz)).collect();
        let (index, top) = shares
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, 0.0),
                |best, (i, s)| if s > best.1 { (i, s) } else { best },
            );
        let second = shares
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, s)| *s)
            .fold(0.0, f64::max);
        (index, top, top >= second * GROUP_MARGIN)
    };
    let (row, row_share, row_clear) = best(&ROWS);
    let (column, column_share, column_clear) = best(&COLUMNS);
    let twist = row_share.max(column_share) / row_share.min(column_share).max(f64::MIN_POSITIVE);
    (row_clear && column_clear && row_share + column_share >= TONE_SHARE && twist <= MAX_TWIST)
        .then_some(KEYS[row][column])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;

    /// 10 packets as in sipp's `dtmf_2833_1.pcap` (TELEPHONY.md §2): digit 1, PT 101, one
    /// timestamp, duration growing to 2240 and the end packet sent 3 times.
    #[test]
    fn one_digit_from_three_end_packets() {
        let mut rx = EventReceiver::new();
        let mut reported = Vec::new();
        for i in 1..=7u16 {
            let p = encode_event(&TelephoneEvent {
                event: 1,
                end: false,
                volume: 10,
                duration: i * 320,
            });
            reported.extend(rx.push(123_456, &p));
        }
        for _ in 0..3 {
            let p = encode_event(&TelephoneEvent {
                event: 1,
                end: true,
                volume: 10,
                duration: 2240,
            });
            reported.extend(rx.push(123_456, &p));
        }
        assert_eq!(reported, ['1']);
        // The same key pressed again is a new timestamp, hence a new report.
        let p = encode_event(&TelephoneEvent {
            event: 1,
            end: true,
            volume: 10,
            duration: 800,
        });
        assert_eq!(rx.push(130_000, &p), Some('1'));
    }

    #[test]
    fn event_payload_both_ways() {
        let e = TelephoneEvent {
            event: 11,
            end: true,
            volume: 63,
            duration: 2240,
        };
        let bytes = encode_event(&e);
        assert_eq!(bytes, [11, 0xBF, 0x08, 0xC0]);
        assert_eq!(parse_event(&bytes), Ok(e));
        assert_eq!(parse_event(&[1, 2]), Err(DtmfError::TooShort { len: 2 }));
        for (d, code) in [
            ('0', 0),
            ('9', 9),
            ('*', 10),
            ('#', 11),
            ('a', 12),
            ('D', 15),
        ] {
            assert_eq!(digit_event(d), Some(code));
            assert_eq!(event_digit(code), Some(d.to_ascii_uppercase()));
        }
        assert_eq!(digit_event('E'), None);
        assert_eq!(event_digit(16), None);
    }

    fn dual_tone(low: f64, high: f64, frames: usize, amplitude: f64) -> Vec<Vec<i16>> {
        let samples: Vec<i16> = (0..frames * FRAME_SAMPLES)
            .map(|i| {
                let t = i as f64 / 8000.0;
                (amplitude
                    * ((2.0 * std::f64::consts::PI * low * t).sin()
                        + (2.0 * std::f64::consts::PI * high * t).sin())) as i16
            })
            .collect();
        samples.chunks(FRAME_SAMPLES).map(<[i16]>::to_vec).collect()
    }

    #[test]
    fn inband_reports_each_key_once_after_40_ms() {
        let mut d = InbandDtmf::new();
        let mut got = Vec::new();
        for (i, frame) in dual_tone(770.0, 1336.0, 5, 4000.0).iter().enumerate() {
            let r = d.push(frame);
            if i == 0 {
                assert_eq!(r, None, "one frame is only 20 ms");
            }
            got.extend(r);
        }
        d.push(&[0; FRAME_SAMPLES]);
        for frame in dual_tone(941.0, 1477.0, 3, 3000.0) {
            got.extend(d.push(&frame));
        }
        assert_eq!(got, ['5', '#']);
    }

    #[test]
    fn inband_ignores_single_tones_and_speech_like_noise() {
        let mut d = InbandDtmf::new();
        let tone: Vec<i16> = (0..FRAME_SAMPLES * 10)
            .map(|i| {
                (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let mut state = 1u32;
        let noise: Vec<i16> = (0..FRAME_SAMPLES * 10)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((state >> 16) as i16) / 4
            })
            .collect();
        for frame in tone
            .chunks(FRAME_SAMPLES)
            .chain(noise.chunks(FRAME_SAMPLES))
        {
            assert_eq!(d.push(frame), None);
        }
    }
}
