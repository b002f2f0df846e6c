//! Reassembling frames from a TCP stream.

mod common;

use common::*;
use watchpost_wire::{Chunk, FrameSplitter, MAX_FRAME};

fn frames(chunks: Vec<Chunk>) -> Vec<Vec<u8>> {
    chunks
        .into_iter()
        .map(|c| match c {
            Chunk::Frame(f) => f,
            Chunk::Malformed(m) => panic!("malformed {m:?}"),
        })
        .collect()
}

/// The vectors without their trailing NULs, as the splitter returns them.
fn stream() -> (Vec<u8>, Vec<Vec<u8>>) {
    let vectors = [
        VALID,
        NO_EVENT,
        NAK,
        BURGLARY,
        CONTACT_ID,
        EMPTY_L,
        NO_HEADER_ACCOUNT,
        ENCRYPTED,
    ];
    let expected: Vec<Vec<u8>> = vectors
        .iter()
        .map(|v| v.strip_suffix(b"\0").unwrap_or(v).to_vec())
        .collect();
    (vectors.concat(), expected)
}

#[test]
fn byte_by_byte() {
    let (bytes, expected) = stream();
    let mut splitter = FrameSplitter::new();
    let mut got = Vec::new();
    for b in &bytes {
        got.extend(frames(splitter.push(std::slice::from_ref(b))));
    }
    assert_eq!(got, expected);
    assert_eq!(splitter.buffered(), 0);
}

#[test]
fn coalesced_in_one_read() {
    let (bytes, expected) = stream();
    let mut splitter = FrameSplitter::new();
    assert_eq!(frames(splitter.push(&bytes)), expected);
}

#[test]
fn arbitrary_cut_points() {
    let (bytes, expected) = stream();
    for size in [2, 3, 7, 13, 64, 200] {
        let mut splitter = FrameSplitter::new();
        let got: Vec<_> = bytes
            .chunks(size)
            .flat_map(|c| frames(splitter.push(c)))
            .collect();
        assert_eq!(got, expected, "chunks of {size}");
    }
}

#[test]
fn garbage_between_frames_is_skipped() {
    let mut bytes = b"noise\x00\xff".to_vec();
    bytes.extend_from_slice(BURGLARY);
    bytes.extend_from_slice(b"\n\nxx\nZZZZ0025more noise");
    bytes.extend_from_slice(CONTACT_ID);
    let mut splitter = FrameSplitter::new();
    assert_eq!(
        frames(splitter.push(&bytes)),
        [BURGLARY.to_vec(), CONTACT_ID.to_vec()]
    );
}

#[test]
fn wrong_length_field_is_reported_and_the_stream_recovers() {
    // Says 0x27 bytes, carries 0x25: the CR is not where the length says.
    let mut bad = BURGLARY.to_vec();
    bad[8] = b'7';
    let mut bytes = bad.clone();
    bytes.extend_from_slice(CONTACT_ID);
    let mut splitter = FrameSplitter::new();
    let chunks = splitter.push(&bytes);
    assert_eq!(
        chunks,
        [Chunk::Malformed(bad), Chunk::Frame(CONTACT_ID.to_vec())]
    );
}

#[test]
fn eldes_frame_is_cut_at_its_cr() {
    let body = "\"SIA-DCS\"0001L0#1234[#1234|Nri1/BA12]\r";
    let eldes = format!(
        "\n{:04X}{:04X}{body}",
        watchpost_wire::crc16(body.as_bytes()),
        body.len()
    )
    .into_bytes();
    let mut bytes = eldes.clone();
    bytes.extend_from_slice(NAK);
    let mut splitter = FrameSplitter::new();
    assert_eq!(frames(splitter.push(&bytes)), [eldes, NAK.to_vec()]);
}

#[test]
fn buffer_stays_bounded() {
    let mut splitter = FrameSplitter::new();
    // A header announcing the largest body, then endless filler without CR.
    splitter.push(b"\n00000FFF\"");
    for _ in 0..100 {
        splitter.push(&[b'x'; 1000]);
        assert!(splitter.buffered() < MAX_FRAME);
    }
    for _ in 0..100 {
        splitter.push(&[b'\n'; 999]);
        assert!(splitter.buffered() < MAX_FRAME);
    }
}
