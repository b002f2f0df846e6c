//! RTP (RFC 3550): parsing the fixed header, one outgoing stream's numbering, and a small
//! reorder window for the frames we analyse and record.

use std::collections::BTreeMap;

use crate::FRAME_SAMPLES;
use crate::dtmf::{TelephoneEvent, digit_event, encode_event};

/// An RTP packet borrowed from a datagram (RFC 3550 §5.1). CSRCs, the header extension and
/// padding are skipped: `payload` is the media only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub payload_type: u8,
    pub marker: bool,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: &'a [u8],
}

/// Why a datagram is not an RTP packet we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    #[error("RTP datagram of {len} bytes is shorter than the 12-byte fixed header (RFC 3550 §5.1)")]
    TooShort { len: usize },
    #[error("RTP version is {version}, only version 2 exists (RFC 3550 §5.1)")]
    Version { version: u8 },
    #[error("RTP header claims {csrc_count} CSRCs but the datagram ends at {len} bytes")]
    Csrc { csrc_count: usize, len: usize },
    #[error("RTP header extension runs past the end of the {len}-byte datagram (RFC 3550 §5.3.1)")]
    Extension { len: usize },
    #[error(
        "RTP padding count {padding} is larger than the {available}-byte payload (RFC 3550 §5.1)"
    )]
    Padding { padding: usize, available: usize },
}

const HEADER: usize = 12;

/// Parses one RTP datagram (RFC 3550 §5.1). Errors name the field that is wrong; RTCP packets
/// (payload types 72–76 with the marker bit, RFC 5761 §4) are not told apart here.
pub fn parse(datagram: &[u8]) -> Result<Packet<'_>, RtpError> {
    let len = datagram.len();
    if len < HEADER {
        return Err(RtpError::TooShort { len });
    }
    let version = datagram[0] >> 6;
    if version != 2 {
        return Err(RtpError::Version { version });
    }
    let padded = datagram[0] & 0x20 != 0;
    let extended = datagram[0] & 0x10 != 0;
    let csrc_count = usize::from(datagram[0] & 0x0F);
    let mut start = HEADER + 4 * csrc_count;
    if start > len {
        return Err(RtpError::Csrc { csrc_count, len });
    }
    if extended {
        // 16-bit profile id, 16-bit length in 32-bit words, then the words (RFC 3550 §5.3.1).
        if start + 4 > len {
            return Err(RtpError::Extension { len });
        }
        let words = usize::from(u16::from_be_bytes([
            datagram[start + 2],
            datagram[start + 3],
        ]));
        start += 4 + 4 * words;
        if start > len {
            return Err(RtpError::Extension { len });
        }
    }
    let mut end = len;
    if padded {
        let padding = usize::from(datagram[len - 1]);
        let available = len - start;
        if padding == 0 || padding > available {
            return Err(RtpError::Padding { padding, available });
        }
        end -= padding;
    }
    Ok(Packet {
        payload_type: datagram[1] & 0x7F,
        marker: datagram[1] & 0x80 != 0,
        sequence: u16::from_be_bytes([datagram[2], datagram[3]]),
        timestamp: u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]),
        ssrc: u32::from_be_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]),
        payload: &datagram[start..end],
    })
}

/// Appends a 12-byte RTP header (version 2, no padding, extension or CSRC) and `payload`.
pub fn write(
    payload_type: u8,
    marker: bool,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    out.push(0x80);
    out.push((payload_type & 0x7F) | if marker { 0x80 } else { 0 });
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&ssrc.to_be_bytes());
    out.extend_from_slice(payload);
}

/// One outgoing RTP stream: its SSRC and the next sequence number and timestamp (8 kHz clock).
#[derive(Debug, Clone)]
pub struct Sender {
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
    started: bool,
}

/// RFC 4733 §2.5.1.4 asks for the final packet of an event to be sent three times.
const END_REPEATS: usize = 3;

impl Sender {
    /// A stream that starts at `first_sequence` and `first_timestamp` (RFC 3550 §5.1 asks for
    /// random initial values; the caller draws them).
    pub fn new(ssrc: u32, first_sequence: u16, first_timestamp: u32) -> Sender {
        Sender {
            ssrc,
            sequence: first_sequence,
            timestamp: first_timestamp,
            started: false,
        }
    }

    /// Appends one 20 ms audio packet to `out`; the timestamp then advances by 160 (one frame
    /// at 8 kHz, whatever the payload length). The marker bit is set on the stream's first
    /// packet (RFC 3551 §4.1: first packet of a talkspurt).
    pub fn audio(&mut self, payload_type: u8, payload: &[u8], out: &mut Vec<u8>) {
        let marker = !self.started;
        self.started = true;
        write(
            payload_type,
            marker,
            self.sequence,
            self.timestamp,
            self.ssrc,
            payload,
            out,
        );
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
    }

    /// The RFC 4733 packets of one key press lasting `duration_ms` (clamped to 8191 ms, the
    /// 16-bit duration field at 8 kHz), to be sent one per 20 ms in place of audio: all carry
    /// the event's start timestamp (RFC 4733 §2.5.1.2), the first has the marker bit, the
    /// last is repeated three times with the E bit (§2.5.1.4). The stream's timestamp then
    /// advances by the time the packets take to send, so the audio after it stays on the
    /// clock. Returns no packet for a character that is not a DTMF digit (0-9, *, #, A-D).
    pub fn event_packets(
        &mut self,
        payload_type: u8,
        digit: char,
        duration_ms: u32,
    ) -> Vec<Vec<u8>> {
        let Some(event) = digit_event(digit) else {
            return Vec::new();
        };
        let total = (u64::from(duration_ms) * 8).min(u64::from(u16::MAX)) as u16;
        let step = FRAME_SAMPLES as u16;
        let mut payloads = Vec::new();
        let mut duration = step;
        while duration < total {
            payloads.push(encode_event(&TelephoneEvent {
                event,
                end: false,
                volume: 10,
                duration,
            }));
            duration = duration.saturating_add(step);
        }
        let end = encode_event(&TelephoneEvent {
            event,
            end: true,
            volume: 10,
            duration: total,
        });
        payloads.extend(std::iter::repeat_n(end, END_REPEATS));
        let start = self.timestamp;
        let packets: Vec<Vec<u8>> = payloads
            .iter()
            .enumerate()
            .map(|(i, payload)| {
                let mut out = Vec::with_capacity(HEADER + 4);
                write(
                    payload_type,
                    i == 0,
                    self.sequence,
                    start,
                    self.ssrc,
                    payload,
                    &mut out,
                );
                self.sequence = self.sequence.wrapping_add(1);
                out
            })
            .collect();
        self.started = true;
        self.timestamp = start.wrapping_add((packets.len() * FRAME_SAMPLES) as u32);
        packets
    }

    /// This stream's synchronisation source identifier.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The timestamp the next audio packet will carry (8 kHz units).
    pub fn next_timestamp(&self) -> u32 {
        self.timestamp
    }
}

/// Beyond this many packets of gap the sender is taken to have restarted its numbering, and the
/// window resynchronises instead of emitting a second of silence per 50 lost packets.
const RESYNC_GAP: u16 = 50;

/// A small reorder window by sequence number (TELEPHONY.md §2): frames come out in sequence
/// order; a packet still missing when one `window` places after it has arrived becomes a
/// frame of silence (160 zero samples); late packets and duplicates are dropped. A jump of more
/// than 50 packets either way resynchronises on the new numbering.
#[derive(Debug)]
pub struct Reorder {
    window: u16,
    next: Option<u16>,
    held: BTreeMap<u16, Vec<i16>>, // keyed by distance from `next`
}

impl Reorder {
    /// A window that holds at most `window` packets (3–5 is enough, TELEPHONY.md §2) while it
    /// waits for a missing one; 0 is taken as 1.
    pub fn new(window: usize) -> Reorder {
        Reorder {
            window: window.clamp(1, usize::from(RESYNC_GAP)) as u16,
            next: None,
            held: BTreeMap::new(),
        }
    }

    /// Takes the frame of packet `sequence`; returns the frames now in order (possibly none).
    pub fn push(&mut self, sequence: u16, frame: Vec<i16>) -> Vec<Vec<i16>> {
        let next = *self.next.get_or_insert(sequence);
        let ahead = sequence.wrapping_sub(next);
        let mut out = Vec::new();
        if ahead >= u16::MAX - RESYNC_GAP {
            return out; // late or duplicate
        }
        if ahead > RESYNC_GAP {
            out.extend(std::mem::take(&mut self.held).into_values());
            out.push(frame);
            self.next = Some(sequence.wrapping_add(1));
            return out;
        }
        self.held.entry(ahead).or_insert(frame);
        self.release(&mut out);
        out
    }

    /// Everything still held, in order, with silence for the gaps between; the window is then
    /// empty and continues after the last sequence number it released.
    pub fn flush(&mut self) -> Vec<Vec<i16>> {
        let mut out = Vec::new();
        let Some(last) = self.held.keys().next_back().copied() else {
            return out;
        };
        for distance in 0..=last {
            out.push(
                self.held
                    .remove(&distance)
                    .unwrap_or_else(|| vec![0; FRAME_SAMPLES]),
            );
        }
        if let Some(next) = self.next.as_mut() {
            *next = next.wrapping_add(last + 1);
        }
        out
    }

    fn release(&mut self, out: &mut Vec<Vec<i16>>) {
        loop {
            let furthest = self.held.keys().next_back().copied().unwrap_or(0);
            let frame = match self.held.remove(&0) {
                Some(frame) => frame,
                None if furthest >= self.window => vec![0; FRAME_SAMPLES],
                None => return,
            };
            out.push(frame);
            self.held = std::mem::take(&mut self.held)
                .into_iter()
                .map(|(distance, frame)| (distance - 1, frame))
                .collect();
            if let Some(next) = self.next.as_mut() {
                *next = next.wrapping_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_sender_writes() {
        let mut sender = Sender::new(0xDEADBEEF, 65535, 4_294_967_200);
        let mut first = Vec::new();
        sender.audio(0, &[0xFF; 160], &mut first);
        let mut second = Vec::new();
        sender.audio(0, &[0x7F; 160], &mut second);
        let a = parse(&first).unwrap();
        let b = parse(&second).unwrap();
        assert!(a.marker && !b.marker);
        assert_eq!((a.sequence, b.sequence), (65535, 0));
        assert_eq!(b.timestamp, 4_294_967_200u32.wrapping_add(160));
        assert_eq!(
            (a.ssrc, a.payload_type, a.payload.len()),
            (0xDEADBEEF, 0, 160)
        );
        assert_eq!(b.payload, &[0x7F; 160][..]);
    }

    #[test]
    fn skips_csrcs_extension_and_padding() {
        // V=2, P=1, X=1, CC=1; PT 8
        let mut d = vec![0xB1, 8, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        d.extend_from_slice(&[1, 2, 3, 4]); // CSRC
        d.extend_from_slice(&[0xBE, 0xDE, 0, 1, 9, 9, 9, 9]); // one extension word
        d.extend_from_slice(&[0xD5; 5]); // payload
        d.extend_from_slice(&[0, 0, 3]); // 3 bytes of padding
        let p = parse(&d).unwrap();
        assert_eq!(p.payload, &[0xD5; 5][..]);
        assert_eq!(
            (p.payload_type, p.sequence, p.timestamp, p.ssrc),
            (8, 1, 160, 9)
        );
    }

    #[test]
    fn rejects_bad_datagrams_with_the_reason() {
        assert_eq!(parse(&[0x80; 5]), Err(RtpError::TooShort { len: 5 }));
        assert_eq!(parse(&[0x40; 12]), Err(RtpError::Version { version: 1 }));
        assert_eq!(
            parse(&[0x8F, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Err(RtpError::Csrc {
                csrc_count: 15,
                len: 12
            })
        );
        assert_eq!(
            parse(&[0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]),
            Err(RtpError::Extension { len: 16 })
        );
        assert_eq!(
            parse(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9]),
            Err(RtpError::Padding {
                padding: 9,
                available: 2
            })
        );
        assert!(parse(&[0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn event_packets_follow_rfc_4733() {
        let mut sender = Sender::new(7, 100, 8000);
        let packets = sender.event_packets(101, '5', 100);
        // 100 ms = 800 ticks: interim at 160..640 (4 packets), then the end packet 3 times.
        assert_eq!(packets.len(), 7);
        let parsed: Vec<Packet> = packets.iter().map(|p| parse(p).unwrap()).collect();
        assert!(parsed[0].marker && parsed[1..].iter().all(|p| !p.marker));
        assert!(
            parsed
                .iter()
                .all(|p| p.timestamp == 8000 && p.payload_type == 101)
        );
        let seqs: Vec<u16> = parsed.iter().map(|p| p.sequence).collect();
        assert_eq!(seqs, (100..107).collect::<Vec<u16>>());
        assert_eq!(parsed[6].payload, &[5, 0x8A, 0x03, 0x20][..]);
        assert_eq!(sender.next_timestamp(), 8000 + 7 * 160);
        assert!(sender.event_packets(101, 'x', 100).is_empty());
    }

    fn f(v: i16) -> Vec<i16> {
        vec![v; FRAME_SAMPLES]
    }

    #[test]
    fn reorder_puts_frames_in_order() {
        let mut r = Reorder::new(3);
        assert_eq!(r.push(10, f(10)), vec![f(10)]);
        assert!(r.push(12, f(12)).is_empty());
        assert_eq!(r.push(11, f(11)), vec![f(11), f(12)]);
        assert!(r.push(11, f(11)).is_empty(), "late duplicate");
        assert!(r.push(9, f(9)).is_empty(), "late");
    }

    #[test]
    fn reorder_fills_a_lost_packet_with_silence() {
        let mut r = Reorder::new(3);
        r.push(65534, f(1));
        assert!(r.push(0, f(3)).is_empty()); // 65535 missing, 0 held
        assert!(r.push(1, f(4)).is_empty());
        assert_eq!(r.push(2, f(5)), vec![f(0), f(3), f(4), f(5)]);
        assert_eq!(r.push(3, f(6)), vec![f(6)]);
    }

    #[test]
    fn reorder_flushes_and_resyncs() {
        let mut r = Reorder::new(5);
        r.push(1, f(1));
        r.push(3, f(3));
        assert_eq!(r.flush(), vec![f(0), f(3)]);
        assert_eq!(r.push(4, f(4)), vec![f(4)]);
        assert_eq!(
            r.push(30000, f(9)),
            vec![f(9)],
            "sender restarted its numbering"
        );
        assert_eq!(r.push(30001, f(8)), vec![f(8)]);
    }
}
