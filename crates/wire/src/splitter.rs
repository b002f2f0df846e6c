//! Cutting a TCP byte stream into frames: reads may split a frame anywhere or carry several,
//! so frames are found by their LF and measured by their length field. Noise is skipped up
//! to the next LF, and the buffer never holds more than one frame's worth.

use crate::crc::CrcForm;
use crate::envelope::{MAX_BODY, prefix_len, read_length};

const LF: u8 = 0x0A;
const CR: u8 = 0x0D;

/// Longest frame the length field allows: LF, hex CRC, `0LLL`, body, CR.
pub const MAX_FRAME: usize = 1 + 4 + 4 + MAX_BODY + 1;

/// What the splitter found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// A frame whose LF, length field and CR agree (CRC not yet checked): give it to
    /// `receive`.
    Frame(Vec<u8>),
    /// Something with a frame header whose length field does not lead to its CR. Passing it
    /// to `receive` yields the NAK most receivers send for it.
    Malformed(Vec<u8>),
}

/// Reassembles frames from arbitrary reads.
#[derive(Debug, Default, Clone)]
pub struct FrameSplitter {
    buf: Vec<u8>,
}

enum Step {
    NeedMore,
    /// Not a frame header after all: drop this LF.
    Skip,
    Frame(usize),
    Malformed(usize),
}

impl FrameSplitter {
    pub fn new() -> Self {
        FrameSplitter::default()
    }

    /// Bytes held back waiting for the rest of a frame; always below `MAX_FRAME`.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Adds one read and returns every chunk it completes, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Chunk> {
        self.buf.extend_from_slice(bytes);
        let mut chunks = Vec::new();
        let mut start = 0;
        loop {
            let rest = self.buf.get(start..).unwrap_or_default();
            let Some(lf) = rest.iter().position(|b| *b == LF) else {
                start = self.buf.len();
                break;
            };
            start += lf;
            let candidate = self.buf.get(start..).unwrap_or_default();
            match examine(candidate) {
                Step::NeedMore => break,
                Step::Skip => start += 1,
                Step::Frame(len) => {
                    chunks.push(Chunk::Frame(
                        candidate.get(..len).unwrap_or_default().to_vec(),
                    ));
                    start += len;
                }
                Step::Malformed(len) => {
                    let bytes = candidate.get(..len).unwrap_or_default().to_vec();
                    chunks.push(Chunk::Malformed(bytes));
                    start += len.max(1);
                }
            }
        }
        self.buf.drain(..start.min(self.buf.len()));
        chunks
    }
}

/// Looks at bytes starting with an LF and decides what they are.
fn examine(candidate: &[u8]) -> Step {
    // Eight bytes tell the two CRC forms apart (`CrcForm::detect`).
    if candidate.len() < 8 {
        return Step::NeedMore;
    }
    let form = CrcForm::detect(candidate);
    let prefix = prefix_len(form);
    let Some(quote) = candidate.get(prefix) else {
        return Step::NeedMore;
    };
    let crc_ok = form == CrcForm::Binary
        || candidate
            .get(1..5)
            .is_some_and(|f| f.iter().all(u8::is_ascii_hexdigit));
    let length = candidate
        .get(prefix - 4..prefix)
        .and_then(read_length)
        .filter(|len| *len > 0);
    let (true, Some(length), b'"') = (crc_ok, length, *quote) else {
        return Step::Skip;
    };
    // Eldes panels count the CR in the length: their CR sits one byte earlier.
    let eldes_end = prefix + length;
    if candidate.get(eldes_end - 1) == Some(&CR) {
        return Step::Frame(eldes_end);
    }
    let end = eldes_end + 1;
    match candidate.get(end - 1) {
        None => Step::NeedMore,
        Some(&CR) => Step::Frame(end),
        Some(_) => locate_bad_end(candidate, prefix),
    }
}

/// The length field was wrong: the frame most likely ends at its first CR.
fn locate_bad_end(candidate: &[u8], prefix: usize) -> Step {
    let body = candidate.get(prefix..).unwrap_or_default();
    match body.iter().position(|b| *b == CR) {
        Some(at) => Step::Malformed(prefix + at + 1),
        None if candidate.len() < MAX_FRAME => Step::NeedMore,
        None => {
            let next = candidate.get(1..).unwrap_or_default();
            let len = next
                .iter()
                .position(|b| *b == LF)
                .map_or(candidate.len(), |at| at + 1);
            Step::Malformed(len)
        }
    }
}
