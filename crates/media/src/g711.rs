//! G.711 µ-law and A-law (ITU-T G.711), on the `audio-codec` crate's tables.

use audio_codec::pcma::{PcmaDecoder, PcmaEncoder};
use audio_codec::pcmu::{PcmuDecoder, PcmuEncoder};
use audio_codec::{Decoder, Encoder};

/// A G.711 companding law: one byte per 8 kHz sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law, RTP payload type 0 "PCMU" (North America, Japan).
    Mu,
    /// A-law, RTP payload type 8 "PCMA" (Europe and most of the rest).
    A,
}

impl Law {
    /// The static RTP payload type: 0 for PCMU, 8 for PCMA (RFC 3551 §6, table 4).
    pub fn payload_type(self) -> u8 {
        match self {
            Law::Mu => 0,
            Law::A => 8,
        }
    }

    /// The encoding name in SDP `a=rtpmap`: "PCMU" or "PCMA" (RFC 3551 §4.5.14).
    pub fn name(self) -> &'static str {
        match self {
            Law::Mu => "PCMU",
            Law::A => "PCMA",
        }
    }

    /// The law of a static payload type (0 or 8), `None` for any other.
    pub fn from_payload_type(pt: u8) -> Option<Law> {
        match pt {
            0 => Some(Law::Mu),
            8 => Some(Law::A),
            _ => None,
        }
    }

    /// The law of an SDP encoding name, case-insensitive ("pcmu", "PCMA"); `None` otherwise.
    pub fn from_name(name: &str) -> Option<Law> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Law::Mu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Law::A)
        } else {
            None
        }
    }

    /// Appends one byte per sample of `pcm` (8 kHz linear 16-bit) to `out`.
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + pcm.len(), 0);
        // Neither encoder can fail: the output slice is exactly one byte per sample.
        let written = match self {
            Law::Mu => PcmuEncoder::new().encode_into(pcm, &mut out[start..]),
            Law::A => PcmaEncoder::new().encode_into(pcm, &mut out[start..]),
        }
        .unwrap_or(0);
        out.truncate(start + written);
    }

    /// Appends one linear 16-bit sample per byte of `bytes` to `out`.
    pub fn decode(self, bytes: &[u8], out: &mut Vec<i16>) {
        let start = out.len();
        out.resize(start + bytes.len(), 0);
        let written = match self {
            Law::Mu => PcmuDecoder::new().decode_into(bytes, &mut out[start..]),
            Law::A => PcmaDecoder::new().decode_into(bytes, &mut out[start..]),
        }
        .unwrap_or(0);
        out.truncate(start + written);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_code_points() {
        // G.711: µ-law silence is 0xFF, A-law silence is 0xD5.
        let mut out = Vec::new();
        Law::Mu.encode(&[0], &mut out);
        Law::A.encode(&[0], &mut out);
        assert_eq!(out, [0xFF, 0xD5]);
        let mut pcm = Vec::new();
        Law::Mu.decode(&[0x00, 0x80], &mut pcm);
        assert_eq!(pcm, [-32124, 32124]);
    }

    #[test]
    fn round_trip_is_close_and_appends() {
        for law in [Law::Mu, Law::A] {
            let pcm: Vec<i16> = (-32000..32000).step_by(97).map(|s| s as i16).collect();
            let mut bytes = vec![0xAA];
            law.encode(&pcm, &mut bytes);
            assert_eq!(bytes.len(), pcm.len() + 1);
            let mut back = vec![7];
            law.decode(&bytes[1..], &mut back);
            assert_eq!(back[0], 7);
            for (a, b) in pcm.iter().zip(&back[1..]) {
                let err = (i32::from(*a) - i32::from(*b)).abs();
                // G.711 quantisation: under 1/16 of the magnitude plus the smallest step.
                assert!(err <= i32::from(a.unsigned_abs()) / 16 + 16, "{a} -> {b}");
            }
        }
    }

    #[test]
    fn names_and_payload_types() {
        assert_eq!((Law::Mu.payload_type(), Law::Mu.name()), (0, "PCMU"));
        assert_eq!((Law::A.payload_type(), Law::A.name()), (8, "PCMA"));
        assert_eq!(Law::from_name("pcma"), Some(Law::A));
        assert_eq!(Law::from_payload_type(18), None);
    }
}
