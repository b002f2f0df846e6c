//! Generated inputs: encode → parse round trips for plain and encrypted frames with every
//! key size, the splitter on random cuts, and no panic on arbitrary bytes.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use watchpost_wire::*;

#[derive(Debug, Clone)]
enum Events {
    Sia(Vec<(String, u32, u32)>),
    Cid(CidEvent),
    Null,
}

#[derive(Debug, Clone)]
struct Case {
    frame: Frame,
    events: Events,
    account: String,
    key: Option<Vec<u8>>,
    pad: Vec<u8>,
}

fn hex_string(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9A-F]{{{min},{max}}}")).unwrap()
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..4_102_444_800).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn events() -> impl Strategy<Value = Events> {
    prop_oneof![
        prop::collection::vec(("[A-Z]{2}", 0u32..10_000, 0u32..100), 0..5).prop_map(Events::Sia),
        (
            prop::sample::select(vec![1u8, 3, 6]),
            0u16..1000,
            0u8..100,
            0u16..1000
        )
            .prop_map(|(qualifier, code, group, zone)| Events::Cid(CidEvent {
                qualifier,
                code,
                group,
                zone
            })),
        Just(Events::Null),
    ]
}

fn xdata() -> impl Strategy<Value = Vec<XData>> {
    prop::collection::vec(
        ("[A-Z]", "[ -\\\\^-~é€]{0,12}").prop_map(|(kind, value)| XData {
            kind: kind.chars().next().unwrap(),
            value,
        }),
        0..3,
    )
}

prop_compose! {
    fn case()(
        events in events(),
        // Panels send hex in either case, and some send letters beyond F.
        account in "[0-9A-Za-z]{3,16}",
        header_account in any::<bool>(),
        sequence in 0u16..=9999,
        receiver in prop::option::of(hex_string(1, 6)),
        line in prop::option::of(hex_string(0, 6)),
        binary in any::<bool>(),
        xdata in xdata(),
        timestamp in prop::option::of(instant()),
        key_len in prop::option::of(prop::sample::select(vec![16usize, 24, 32])),
        key_bytes in prop::collection::vec(any::<u8>(), 32),
        pad in prop::collection::vec(any::<u8>(), 1..20),
        fallback_time in instant(),
    ) -> Case {
        let (id, data) = match &events {
            Events::Sia(list) => {
                let blocks: Vec<String> = list
                    .iter()
                    .map(|(code, zone, area)| format!("ri{area}/{code}{zone:03}"))
                    .collect();
                (MessageId::SiaDcs, format!("#{account}|N{}", blocks.join("/")))
            }
            Events::Cid(event) => (MessageId::AdmCid, format!("#{account}|{}", event.to_dc09())),
            Events::Null => (MessageId::Null, String::new()),
        };
        let encrypted = key_len.is_some();
        let key = key_len.map(|len| key_bytes[..len].to_vec());
        let header_account = header_account || matches!(events, Events::Null);
        let timestamp = if encrypted { Some(timestamp.unwrap_or(fallback_time)) } else { timestamp };
        let frame = Frame {
            crc: if binary { CrcForm::Binary } else { CrcForm::Hex },
            header: Header {
                id,
                encrypted,
                sequence,
                receiver,
                line,
                account: header_account.then(|| account.clone()),
            },
            data,
            xdata,
            timestamp,
        };
        Case { frame, events, account, key, pad }
    }
}

fn pad_source(bytes: Vec<u8>) -> impl FnMut() -> u8 {
    let mut at = 0;
    move || {
        at += 1;
        bytes[(at - 1) % bytes.len()]
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn encode_then_parse_round_trips(case in case()) {
        let key = case.key.as_deref().map(|k| Key::from_bytes(k).unwrap());
        let raw = encode_frame(&case.frame, key.as_ref(), &mut pad_source(case.pad.clone())).unwrap();
        prop_assert_eq!(CrcForm::detect(&raw), case.frame.crc);
        let parsed = parse_frame(&raw, key.as_ref()).unwrap();
        prop_assert_eq!(&parsed, &case.frame);

        // The receiver accepts it and reads the same events.
        let now = case.frame.timestamp.unwrap_or_else(common::any_now);
        let got = receive(&raw, key.as_ref(), now, Window::default(), &mut FixedPad(b'z'));
        prop_assert_eq!(got.error.clone(), None);
        let reply = got.reply.clone().unwrap();
        prop_assert_eq!(reply.kind, ReplyKind::Ack);
        prop_assert_eq!(CrcForm::detect(&reply.bytes), case.frame.crc);
        let message = got.message.unwrap();
        prop_assert_eq!(&message.account, &case.account.to_ascii_uppercase());
        prop_assert_eq!(message.sequence, case.frame.header.sequence);
        prop_assert_eq!(&message.xdata, &case.frame.xdata);
        let seen: Vec<(String, Option<u32>, Option<u32>)> =
            message.events.iter().map(|e| (e.code.clone(), e.zone, e.area)).collect();
        let want: Vec<(String, Option<u32>, Option<u32>)> = match &case.events {
            Events::Sia(list) => list.iter().map(|(c, z, a)| (c.clone(), Some(*z), Some(*a))).collect(),
            Events::Cid(e) => vec![(format!("{:03}", e.code), Some(u32::from(e.zone)), Some(u32::from(e.group)))],
            Events::Null => vec![],
        };
        prop_assert_eq!(seen, want);

        // The ACK reads back with the same routing and, when encrypted, the same key.
        let ack = parse_frame(&reply.bytes, key.as_ref()).unwrap();
        prop_assert_eq!(ack.header.id, MessageId::Ack);
        prop_assert_eq!(ack.header.encrypted, case.frame.header.encrypted);
        prop_assert_eq!(ack.header.sequence, case.frame.header.sequence);
        prop_assert_eq!(&ack.header.receiver, &case.frame.header.receiver);
        prop_assert_eq!(&ack.header.line, &case.frame.header.line);
        prop_assert_eq!(ack.header.account.as_ref(), Some(&case.account));
    }

    #[test]
    fn splitter_recovers_frames_from_any_cuts(
        cases in prop::collection::vec(case(), 1..5),
        noise in prop::collection::vec(prop::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..8), 5),
        cuts in prop::collection::vec(1usize..50, 1..40),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let key = case.key.as_deref().map(|k| Key::from_bytes(k).unwrap());
            let raw = encode_frame(&case.frame, key.as_ref(), &mut pad_source(case.pad.clone())).unwrap();
            stream.extend_from_slice(&noise[i % noise.len()]);
            stream.extend_from_slice(&raw);
            expected.push(raw);
        }
        let mut splitter = FrameSplitter::new();
        let mut got = Vec::new();
        let mut rest = &stream[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            let (head, tail) = rest.split_at(n);
            for chunk in splitter.push(head) {
                match chunk {
                    Chunk::Frame(f) => got.push(f),
                    Chunk::Malformed(m) => prop_assert!(false, "malformed {:?}", m),
                }
            }
            prop_assert!(splitter.buffered() < MAX_FRAME);
            rest = tail;
        }
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), split in 1usize..64) {
        exercise(&bytes, split);
    }

    #[test]
    fn frames_with_valid_crc_and_arbitrary_body_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..300),
        prefix in prop::sample::select(vec![
            &b"\"SIA-DCS\"0001L0#1234["[..], b"\"ADM-CID\"0001", b"\"*SIA-DCS\"0001L0#1234[",
            b"\"NULL\"", b"\"", b"\"*NULL\"9999R1L#ABC[", b"\"NAK\"0000R0L0A",
        ]),
        binary in any::<bool>(),
    ) {
        let mut full = prefix.to_vec();
        full.extend_from_slice(&body);
        full.truncate(0xFFF);
        let mut raw = vec![b'\n'];
        let crc = crc16(&full);
        if binary {
            raw.extend_from_slice(&crc.to_be_bytes());
        } else {
            raw.extend_from_slice(format!("{crc:04X}").as_bytes());
        }
        raw.extend_from_slice(format!("{:04X}", full.len()).as_bytes());
        raw.extend_from_slice(&full);
        raw.push(b'\r');
        exercise(&raw, 5);
    }

    #[test]
    fn decrypted_garbage_never_panics(
        blocks in prop::collection::vec(any::<u8>(), 1..6),
        plaintext in prop::collection::vec(any::<u8>(), 0..96),
    ) {
        // Ciphertext of random length (whole blocks or not), opened with a real key.
        let mut hexes = hex::encode(&plaintext);
        hexes.truncate(blocks.len() * 32);
        let body = format!("\"*SIA-DCS\"0001L0#1234[{hexes}");
        let raw = common::wrap(&body);
        exercise(&raw, 7);
    }

    #[test]
    fn mutated_vectors_never_panic(
        which in 0usize..8,
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let vectors = [common::VALID, common::NO_EVENT, common::NAK, common::BURGLARY,
            common::CONTACT_ID, common::EMPTY_L, common::NO_HEADER_ACCOUNT, common::ENCRYPTED];
        let mut raw = vectors[which].to_vec();
        for (at, byte, op) in edits {
            let at = at % (raw.len() + 1);
            match op {
                0 if at < raw.len() => raw[at] = byte,
                1 => raw.insert(at, byte),
                _ if at < raw.len() => { raw.remove(at); }
                _ => {}
            }
        }
        exercise(&raw, 3);
    }

    #[test]
    fn text_parsers_never_panic(text in "\\PC{0,80}", raw in prop::collection::vec(any::<u8>(), 0..40)) {
        let lossy = String::from_utf8_lossy(&raw);
        for t in [text.as_str(), lossy.as_ref()] {
            let _ = parse_dcs(t);
            let _ = parse_dc09(t);
            let _ = parse_phone(t);
            let _ = phone_checksum(t);
            let _ = Key::from_hex(t);
            let _ = Key::from_ascii(t);
            let _ = split_data_account(t);
            let _ = read_events(&MessageId::SiaDcs, t);
            let _ = read_events(&MessageId::AdmCid, t);
        }
        let _ = parse_timestamp(&raw);
        let _ = decode_text(&raw);
    }
}

/// Feeds bytes to every entry point that takes untrusted input.
fn exercise(bytes: &[u8], split: usize) {
    let key = Key::from_ascii(common::ENCRYPTED_KEY).unwrap();
    let now = common::any_now();
    let _ = parse_frame(bytes, None);
    let _ = parse_frame(bytes, Some(&key));
    let _ = parse_header_only(bytes);
    let got = receive(bytes, Some(&key), now, Window::default(), &mut FixedPad(0));
    if let Some(reply) = got.reply {
        // Whatever we answer is itself a well-formed frame.
        assert!(parse_frame(&reply.bytes, Some(&key)).is_ok());
    }
    let _ = receive(bytes, None, now, Window::new(0, 0), &mut FixedPad(b'|'));
    let inspection = inspect(bytes, Some(&key), now, Window::default());
    serde_json::to_string(&inspection).unwrap();
    let _ = inspect(bytes, None, now, Window::default());
    let mut splitter = FrameSplitter::new();
    for chunk in bytes.chunks(split.max(1)) {
        for piece in splitter.push(chunk) {
            let (Chunk::Frame(f) | Chunk::Malformed(f)) = piece;
            let _ = inspect(&f, Some(&key), now, Window::default());
        }
        assert!(splitter.buffered() < MAX_FRAME);
    }
}
