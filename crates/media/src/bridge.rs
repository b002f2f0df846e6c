//! The two-leg RTP bridge of a B2BUA, sans-IO: a packet from one leg is re-sent on the other
//! with that leg's own SSRC and an unbroken sequence and timestamp, transcoded PCMU↔PCMA when
//! the legs negotiated different laws, telephone events under the other leg's payload type.
//!
//! Each outgoing stream keeps its own numbering, so a leg's stream never jumps when the other
//! side changes (a new SSRC after a transfer or re-INVITE) or when the center plays a message
//! to it in between: the incoming numbers are mapped by an offset fixed at the first packet of
//! each incoming SSRC and after each played frame (RFC 3550 §7.2, translators; RFC 7667 §3.2.1).

use crate::g711::Law;
use crate::rtp::{RtpError, parse, write};
use crate::sdp::Media;

/// What one leg negotiated, and the SSRC the center sends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegMedia {
    pub law: Law,
    /// The audio payload type on this leg (0, 8, or a dynamic one mapped to PCMU/PCMA).
    pub payload_type: u8,
    /// The telephone-event payload type on this leg, when negotiated (RFC 4733).
    pub event_payload_type: Option<u8>,
    /// The SSRC of the stream the center sends on this leg.
    pub ssrc: u32,
}

impl LegMedia {
    /// The leg as SDP negotiated it, with our SSRC for it.
    pub fn from_media(media: &Media, ssrc: u32) -> LegMedia {
        LegMedia {
            law: media.law,
            payload_type: media.payload_type,
            event_payload_type: media.event_payload_type,
            ssrc,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Mapping {
    ssrc: u32,
    sequence_offset: u16,
    timestamp_offset: u32,
}

/// The stream the center sends on one leg.
#[derive(Debug, Clone)]
struct Outgoing {
    leg: LegMedia,
    next_sequence: u16,
    next_timestamp: u32,
    mapping: Option<Mapping>,
}

impl Outgoing {
    fn new(leg: LegMedia, first_sequence: u16, first_timestamp: u32) -> Self {
        Outgoing {
            leg,
            next_sequence: first_sequence,
            next_timestamp: first_timestamp,
            mapping: None,
        }
    }

    fn relay(
        &mut self,
        from: &LegMedia,
        datagram: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), RtpError> {
        let packet = parse(datagram)?;
        let mut transcoded = Vec::new();
        let (payload_type, payload, samples) = if packet.payload_type == from.payload_type {
            from.law
                .transcode(packet.payload, self.leg.law, &mut transcoded);
            (
                self.leg.payload_type,
                &transcoded[..],
                packet.payload.len() as u32,
            )
        } else if Some(packet.payload_type) == from.event_payload_type {
            match self.leg.event_payload_type {
                Some(pt) => (pt, packet.payload, 0),
                None => return Ok(()), // this leg did not negotiate events: drop them
            }
        } else {
            return Ok(()); // comfort noise or a format nobody negotiated
        };
        let new_source = self.mapping.is_none_or(|m| m.ssrc != packet.ssrc);
        if new_source {
            self.mapping = Some(Mapping {
                ssrc: packet.ssrc,
                sequence_offset: self.next_sequence.wrapping_sub(packet.sequence),
                timestamp_offset: self.next_timestamp.wrapping_sub(packet.timestamp),
            });
        }
        let Some(mapping) = self.mapping else {
            return Ok(());
        };
        let sequence = packet.sequence.wrapping_add(mapping.sequence_offset);
        let timestamp = packet.timestamp.wrapping_add(mapping.timestamp_offset);
        // Reordered packets keep their (mapped) numbers; only newer ones move the stream on.
        if sequence.wrapping_sub(self.next_sequence) < 0x8000 {
            self.next_sequence = sequence.wrapping_add(1);
        }
        let end = timestamp.wrapping_add(samples);
        if end.wrapping_sub(self.next_timestamp) < 0x8000_0000 {
            self.next_timestamp = end;
        }
        write(
            payload_type,
            packet.marker || new_source,
            sequence,
            timestamp,
            self.leg.ssrc,
            payload,
            out,
        );
        Ok(())
    }

    fn play(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        let mut payload = Vec::with_capacity(pcm.len());
        self.leg.law.encode(pcm, &mut payload);
        // The first played frame after relayed audio starts a talkspurt (RFC 3551 §4.1).
        let marker = self.mapping.take().is_some();
        write(
            self.leg.payload_type,
            marker,
            self.next_sequence,
            self.next_timestamp,
            self.leg.ssrc,
            &payload,
            out,
        );
        self.next_sequence = self.next_sequence.wrapping_add(1);
        self.next_timestamp = self.next_timestamp.wrapping_add(pcm.len() as u32);
    }
}

/// A bridge between leg A (say, the contact) and leg B (say, the agent). `forward_a_to_b`
/// re-sends what A sent on B's stream; `play_to_a` sends the center's own audio on A's stream
/// with the same numbering, so the two interleave without a jump.
///
/// Not done here: the bridge has no clock, so a pause in which neither forwarded nor played
/// packets go out does not advance the timestamp; a packet with a format neither leg
/// negotiated (comfort noise, PT 13) is dropped; events towards a leg without telephone-event
/// are dropped rather than turned into in-band tones.
#[derive(Debug, Clone)]
pub struct Bridge {
    to_a: Outgoing,
    to_b: Outgoing,
}

impl Bridge {
    /// A bridge whose outgoing streams start at sequence/timestamp `(first_sequence_a,
    /// first_timestamp_a)` on A and `(.._b)` on B (random per RFC 3550 §5.1; the caller draws
    /// them, or passes those of the `Sender` it used before bridging so the stream continues).
    pub fn new(
        a: LegMedia,
        b: LegMedia,
        (first_sequence_a, first_timestamp_a): (u16, u32),
        (first_sequence_b, first_timestamp_b): (u16, u32),
    ) -> Bridge {
        Bridge {
            to_a: Outgoing::new(a, first_sequence_a, first_timestamp_a),
            to_b: Outgoing::new(b, first_sequence_b, first_timestamp_b),
        }
    }

    /// Re-sends an RTP datagram received on leg A as a packet on leg B, appended to `out`.
    /// Nothing is appended for a packet B cannot take (a format not negotiated on A, events
    /// when B has no telephone-event). Errors when the datagram is not RTP (see [`parse`]).
    pub fn forward_a_to_b(&mut self, datagram: &[u8], out: &mut Vec<u8>) -> Result<(), RtpError> {
        let from = self.to_a.leg;
        self.to_b.relay(&from, datagram, out)
    }

    /// The same from leg B to leg A.
    pub fn forward_b_to_a(&mut self, datagram: &[u8], out: &mut Vec<u8>) -> Result<(), RtpError> {
        let from = self.to_b.leg;
        self.to_a.relay(&from, datagram, out)
    }

    /// Appends one packet of the center's own audio (8 kHz samples, normally a 20 ms frame) on
    /// leg A's stream, encoded in A's law.
    pub fn play_to_a(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        self.to_a.play(pcm, out);
    }

    /// The same on leg B.
    pub fn play_to_b(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        self.to_b.play(pcm, out);
    }

    /// The sequence number and timestamp the next packet on A and on B will carry, to hand
    /// over to a `Sender` when the bridge is torn down.
    pub fn next_numbers(&self) -> ((u16, u32), (u16, u32)) {
        (
            (self.to_a.next_sequence, self.to_a.next_timestamp),
            (self.to_b.next_sequence, self.to_b.next_timestamp),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::Sender;

    const A: LegMedia = LegMedia {
        law: Law::Mu,
        payload_type: 0,
        event_payload_type: Some(101),
        ssrc: 0xAAAA,
    };
    const B: LegMedia = LegMedia {
        law: Law::A,
        payload_type: 8,
        event_payload_type: Some(96),
        ssrc: 0xBBBB,
    };

    fn bridge() -> Bridge {
        Bridge::new(A, B, (1000, 50_000), (2000, 90_000))
    }

    fn audio(sender: &mut Sender, law: Law, level: i16) -> Vec<u8> {
        let mut payload = Vec::new();
        law.encode(&[level; 160], &mut payload);
        let mut out = Vec::new();
        sender.audio(law.payload_type(), &payload, &mut out);
        out
    }

    #[test]
    fn renumbers_and_transcodes() {
        let mut bridge = bridge();
        let mut phone = Sender::new(0x1234, 65530, 7);
        let mut got = Vec::new();
        for _ in 0..3 {
            let mut out = Vec::new();
            bridge
                .forward_a_to_b(&audio(&mut phone, Law::Mu, 3000), &mut out)
                .unwrap();
            got.push(out);
        }
        let packets: Vec<_> = got.iter().map(|p| parse(p).unwrap()).collect();
        assert_eq!(
            packets.iter().map(|p| p.sequence).collect::<Vec<_>>(),
            [2000, 2001, 2002]
        );
        assert_eq!(
            packets.iter().map(|p| p.timestamp).collect::<Vec<_>>(),
            [90_000, 90_160, 90_320]
        );
        assert!(
            packets
                .iter()
                .all(|p| p.ssrc == 0xBBBB && p.payload_type == 8)
        );
        assert!(packets[0].marker && !packets[1].marker);
        let mut pcm = Vec::new();
        Law::A.decode(packets[2].payload, &mut pcm);
        assert!(
            pcm.iter().all(|&s| (s - 3000).abs() < 100),
            "{:?}",
            &pcm[..4]
        );
    }

    #[test]
    fn a_new_source_or_a_played_message_does_not_break_the_stream() {
        let mut bridge = bridge();
        let mut first = Sender::new(1, 10, 10);
        let mut second = Sender::new(2, 40_000, 3_000_000);
        let mut out = Vec::new();
        bridge
            .forward_b_to_a(&audio(&mut first, Law::A, 100), &mut out)
            .unwrap();
        bridge
            .forward_b_to_a(&audio(&mut first, Law::A, 100), &mut out)
            .unwrap();
        bridge.play_to_a(&[0; 160], &mut out);
        bridge
            .forward_b_to_a(&audio(&mut second, Law::A, 100), &mut out)
            .unwrap();
        bridge
            .forward_b_to_a(&audio(&mut first, Law::A, 100), &mut out)
            .unwrap();
        let mut packets = Vec::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            let (p, tail) = rest.split_at(12 + 160);
            packets.push(parse(p).unwrap());
            rest = tail;
        }
        assert_eq!(
            packets.iter().map(|p| p.sequence).collect::<Vec<_>>(),
            [1000, 1001, 1002, 1003, 1004]
        );
        assert_eq!(
            packets
                .iter()
                .map(|p| p.timestamp - 50_000)
                .collect::<Vec<_>>(),
            [0, 160, 320, 480, 640]
        );
        assert_eq!(
            packets.iter().map(|p| p.marker).collect::<Vec<_>>(),
            [true, false, true, true, true]
        );
        assert!(
            packets
                .iter()
                .all(|p| p.ssrc == 0xAAAA && p.payload_type == 0)
        );
        assert_eq!(bridge.next_numbers().0, (1005, 50_800));
    }

    #[test]
    fn events_take_the_other_legs_payload_type() {
        let mut bridge = bridge();
        let mut phone = Sender::new(5, 1, 1);
        let packets = phone.event_packets(101, '1', 60);
        let mut out = Vec::new();
        bridge.forward_a_to_b(&packets[0], &mut out).unwrap();
        let p = parse(&out).unwrap();
        assert_eq!((p.payload_type, p.payload[0], p.ssrc), (96, 1, 0xBBBB));
        // Towards a leg without telephone-event, and for unknown formats: nothing.
        let mut no_events = Bridge::new(
            A,
            LegMedia {
                event_payload_type: None,
                ..B
            },
            (0, 0),
            (0, 0),
        );
        let mut out = Vec::new();
        no_events.forward_a_to_b(&packets[0], &mut out).unwrap();
        let mut cn = Vec::new();
        crate::rtp::write(13, false, 1, 1, 5, &[40], &mut cn);
        no_events.forward_a_to_b(&cn, &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(
            bridge.forward_a_to_b(&[1, 2, 3], &mut out),
            Err(RtpError::TooShort { len: 3 })
        );
    }
}
