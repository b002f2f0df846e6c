//! Fuzz target: any bytes through the DC-09 parser, the TCP splitter and `inspect`; none may
//! panic, and every reply the receiver writes must parse back.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use watchpost_wire::{
    Chunk, FixedPad, FrameSplitter, Key, MAX_FRAME, Window, inspect, parse_frame, receive,
};

fuzz_target!(|data: &[u8]| {
    let Ok(key) = Key::from_ascii("0123456789ABCDEF") else {
        return;
    };
    let Some(now) = Utc.with_ymd_and_hms(2018, 10, 26, 7, 50, 26).single() else {
        return;
    };
    let _ = parse_frame(data, None);
    let _ = parse_frame(data, Some(&key));
    let got = receive(data, Some(&key), now, Window::default(), &mut FixedPad(b'0'));
    if let Some(reply) = got.reply {
        assert!(parse_frame(&reply.bytes, Some(&key)).is_ok());
    }
    let _ = inspect(data, None, now, Window::default());

    // The input length picks the read size, so the splitter sees many ways of cutting.
    let size = data.len() % 31 + 1;
    let mut splitter = FrameSplitter::new();
    for read in data.chunks(size) {
        for chunk in splitter.push(read) {
            let (Chunk::Frame(frame) | Chunk::Malformed(frame)) = chunk;
            let _ = inspect(&frame, Some(&key), now, Window::default());
        }
        assert!(splitter.buffered() < MAX_FRAME);
    }
});
