//! Every checked vector of WIRE.md.

mod common;

use common::*;
use watchpost_wire::*;

#[test]
fn crc_check_value() {
    assert_eq!(crc16(b"123456789"), 0xBB3D);
}

#[test]
fn valid_frame_with_receiver_and_ascii_text() {
    let frame = parse_frame(VALID, None).unwrap();
    assert_eq!(frame.crc, CrcForm::Hex);
    assert_eq!(frame.header.id, MessageId::SiaDcs);
    assert!(!frame.header.encrypted);
    assert_eq!(frame.header.sequence, 1);
    assert_eq!(frame.header.receiver.as_deref(), Some("F3"));
    assert_eq!(frame.header.line.as_deref(), Some("77"));
    assert_eq!(frame.header.account.as_deref(), Some("1234"));
    assert_eq!(frame.data, "#1234|NRR|Atest");
    assert!(frame.xdata.is_empty());
    assert_eq!(frame.timestamp, None);
    let (account, events) = read_events(&frame.header.id, &frame.data);
    assert_eq!(account.as_deref(), Some("1234"));
    let events = events.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].code, "RR");
    assert_eq!(events[0].text.as_deref(), Some("test"));
}

#[test]
fn valid_frame_without_event() {
    let frame = parse_frame(NO_EVENT, None).unwrap();
    assert_eq!(frame.header.line.as_deref(), Some("0"));
    assert_eq!(frame.header.receiver, None);
    assert_eq!(frame.header.account.as_deref(), Some("1234"));
    assert_eq!(frame.data, "");
    let got = receive(
        NO_EVENT,
        None,
        any_now(),
        Window::default(),
        &mut FixedPad(b'0'),
    );
    assert_eq!(got.reply.unwrap().kind, ReplyKind::Ack);
    assert!(got.message.unwrap().events.is_empty());
}

#[test]
fn nak_frame() {
    let frame = parse_frame(NAK, None).unwrap();
    assert_eq!(frame.header.id, MessageId::Nak);
    assert_eq!(frame.header.sequence, 0);
    assert_eq!(frame.header.receiver.as_deref(), Some("0"));
    assert_eq!(frame.header.line.as_deref(), Some("0"));
    assert_eq!(frame.header.account, None);
    assert_eq!(frame.timestamp, Some(at(2025, 9, 24, 16, 20, 1)));
    assert_eq!(nak(at(2025, 9, 24, 16, 20, 1), CrcForm::Hex).bytes, NAK);
}

#[test]
fn burglary_area_1_zone_12() {
    let got = receive(
        BURGLARY,
        None,
        any_now(),
        Window::default(),
        &mut FixedPad(b'0'),
    );
    let message = got.message.expect("accepted");
    assert_eq!(message.account, "1234");
    assert_eq!(message.events.len(), 1);
    let event = &message.events[0];
    assert_eq!(event.code, "BA");
    assert_eq!(event.zone, Some(12));
    assert_eq!(event.area, Some(1));
    assert_eq!(event.kind(), Some(watchpost_core::AlarmKind::Burglary));
    assert_eq!(got.reply.unwrap().bytes, wrap("\"ACK\"0001L0#1234[]"));
}

#[test]
fn contact_id_perimeter_zone_3() {
    let got = receive(
        CONTACT_ID,
        None,
        any_now(),
        Window::default(),
        &mut FixedPad(b'0'),
    );
    let message = got.message.expect("accepted");
    assert_eq!(message.id, MessageId::AdmCid);
    assert_eq!(message.account, "7099");
    let event = &message.events[0];
    assert_eq!(event.code, "131");
    assert_eq!(event.zone, Some(3));
    assert_eq!(event.area, Some(1));
    assert_eq!(event.qualifier, Some(1));
    assert_eq!(event.kind(), Some(watchpost_core::AlarmKind::Burglary));
}

#[test]
fn empty_line_and_trailing_nul() {
    let frame = parse_frame(EMPTY_L, None).unwrap();
    assert_eq!(frame.header.line.as_deref(), Some(""));
    assert_eq!(frame.header.account.as_deref(), Some("22334455"));
    assert_eq!(frame.timestamp, Some(at(2020, 2, 9, 14, 33, 53)));
    let got = receive(
        EMPTY_L,
        None,
        at(2020, 2, 9, 14, 33, 53),
        Window::default(),
        &mut FixedPad(b'0'),
    );
    let message = got.message.expect("accepted");
    assert_eq!(message.events[0].code, "CQ");
    assert_eq!(message.events[0].zone, Some(1));
    // A timestamped frame gets a timestamped ACK; the empty L is echoed.
    assert_eq!(
        got.reply.unwrap().bytes,
        wrap("\"ACK\"0001L#22334455[]_14:33:53,02-09-2020")
    );
}

#[test]
fn account_taken_from_data() {
    let frame = parse_frame(NO_HEADER_ACCOUNT, None).unwrap();
    assert_eq!(frame.header.account, None);
    let got = receive(
        NO_HEADER_ACCOUNT,
        None,
        any_now(),
        Window::default(),
        &mut FixedPad(b'0'),
    );
    let message = got.message.expect("accepted");
    assert_eq!(message.account, "9999");
    assert_eq!(message.events[0].code, "BA");
    assert_eq!(message.events[0].zone, Some(2));
    let reply = got.reply.unwrap();
    assert!(reply.bytes.ends_with(b"\"ACK\"0001L#9999[]\r"));
}

#[test]
fn encrypted_vector_decrypts_exactly() {
    let key = Key::from_ascii(ENCRYPTED_KEY).unwrap();
    let (_, header) = parse_header_only(ENCRYPTED).unwrap();
    assert!(header.encrypted);
    assert_eq!(header.sequence, 18);
    let hex_start = ENCRYPTED.iter().position(|b| *b == b'[').unwrap() + 1;
    let ciphertext = hex::decode(&ENCRYPTED[hex_start..ENCRYPTED.len() - 1]).unwrap();
    let plaintext = decrypt_block(&key, &ciphertext).unwrap();
    assert_eq!(plaintext.len(), 16 + ENCRYPTED_PLAINTEXT.len());
    assert_eq!(&plaintext[16..], ENCRYPTED_PLAINTEXT.as_bytes());

    let frame = parse_frame(ENCRYPTED, Some(&key)).unwrap();
    assert_eq!(frame.header.account.as_deref(), Some("12345"));
    assert_eq!(frame.header.line.as_deref(), Some("0"));
    assert_eq!(
        frame.data,
        "#12345|Nri0000pi0006da10-26-18ti09:50:24UT0000^$PR,SCOMPARSA          ,Centrale,Zona1,ROtTe.6MyLittlPoint^"
    );
    assert_eq!(frame.timestamp, Some(at(2018, 10, 26, 7, 50, 26)));
    assert_eq!(parse_frame(ENCRYPTED, None), Err(FrameError::NoKey));
}

#[test]
fn encrypted_vector_gets_encrypted_ack() {
    let key = Key::from_ascii(ENCRYPTED_KEY).unwrap();
    let now = at(2018, 10, 26, 7, 50, 30);
    let got = receive(
        ENCRYPTED,
        Some(&key),
        now,
        Window::default(),
        &mut FixedPad(b'x'),
    );
    assert_eq!(got.error, None);
    let message = got.message.unwrap();
    assert_eq!(message.events[0].code, "UT");
    let reply = got.reply.unwrap();
    assert_eq!(reply.kind, ReplyKind::Ack);
    let text = String::from_utf8(reply.bytes.clone()).unwrap();
    assert!(text.contains("\"*ACK\"0018L0#12345["), "{text}");
    // The *ACK reads back: pad, `|]`, the receiver's time.
    let ack = parse_frame(&reply.bytes, Some(&key)).unwrap();
    assert_eq!(ack.header.id, MessageId::Ack);
    assert_eq!(ack.data, "");
    assert_eq!(ack.timestamp, Some(now));
    let start = reply.bytes.iter().position(|b| *b == b'[').unwrap() + 1;
    // No closing `]`: the hex runs up to the CR, as transmitters expect.
    let hex_part = &reply.bytes[start..reply.bytes.len() - 1];
    assert!(hex_part.iter().all(u8::is_ascii_hexdigit), "{text}");
    let plain = decrypt_block(&key, &hex::decode(hex_part).unwrap()).unwrap();
    assert_eq!(plain, b"xxxxxxxxxx|]_07:50:30,10-26-2018");
}

#[test]
fn contact_id_phone_vectors() {
    for (text, qualifier, code, group, zone) in [
        ("1234181131010158", 1, 131, 1, 15),
        ("1234183131010156", 3, 131, 1, 15),
        ("1234181401020035", 1, 401, 2, 3),
        ("123418340103005F", 3, 401, 3, 5),
    ] {
        let message = parse_phone(text).unwrap();
        assert_eq!(message.account, "1234");
        assert_eq!(message.message_type, 18);
        assert_eq!(
            message.event,
            CidEvent {
                qualifier,
                code,
                group,
                zone
            },
            "{text}"
        );
        assert_eq!(
            phone_checksum(&text[..15]).unwrap(),
            text.chars().last().unwrap()
        );
        assert_eq!(encode_phone(&message).unwrap(), text);
    }
    assert_eq!(
        parse_phone("1234181131010157"),
        Err(CidError::Checksum {
            expected: '8',
            found: '7'
        })
    );
    assert_eq!(parse_phone("1A34181131010158"), Err(CidError::Digit('A')));
    assert_eq!(parse_phone("123418113101015"), Err(CidError::Length(15)));
}
