//! The receiver's decisions: ACK, NAK, DUH or silence, and the exact replies.

mod common;

use chrono::TimeDelta;
use common::*;
use watchpost_core::account_number::AccountNumberError;
use watchpost_wire::*;

fn decide(raw: &[u8], key: Option<&Key>, now: chrono::DateTime<chrono::Utc>) -> Received {
    receive(raw, key, now, Window::default(), &mut FixedPad(b'P'))
}

fn reply_kind(got: &Received) -> Option<ReplyKind> {
    got.reply.as_ref().map(|r| r.kind)
}

/// Encrypts arbitrary plaintext with AES-128-CBC, zero IV, independently of the crate.
fn aes128_hex(key: &[u8; 16], plaintext: &[u8]) -> String {
    use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
    let mut buf = plaintext.to_vec();
    let len = buf.len();
    cbc::Encryptor::<aes::Aes128>::new(key.into(), &[0u8; 16].into())
        .encrypt_padded_mut::<NoPadding>(&mut buf, len)
        .unwrap();
    hex::encode_upper(buf)
}

#[test]
fn timestamp_outside_window_is_naked_with_receiver_time() {
    let sent = at(2020, 2, 9, 14, 33, 53);
    for now in [sent + TimeDelta::seconds(41), sent - TimeDelta::seconds(21)] {
        let got = decide(EMPTY_L, None, now);
        assert_eq!(reply_kind(&got), Some(ReplyKind::Nak));
        assert_eq!(got.reply.unwrap().bytes, nak(now, CrcForm::Hex).bytes);
        assert!(matches!(got.error, Some(WireError::OutsideWindow { .. })));
        assert!(got.message.is_none());
    }
    for now in [sent + TimeDelta::seconds(40), sent - TimeDelta::seconds(20)] {
        assert_eq!(
            reply_kind(&decide(EMPTY_L, None, now)),
            Some(ReplyKind::Ack)
        );
    }
    // The window is the caller's.
    let wide = Window::new(3600, 3600);
    let got = receive(
        EMPTY_L,
        None,
        sent + TimeDelta::minutes(30),
        wide,
        &mut FixedPad(b'0'),
    );
    assert_eq!(reply_kind(&got), Some(ReplyKind::Ack));
}

#[test]
fn nak_reply_is_the_documented_form() {
    let now = at(2025, 9, 24, 16, 20, 1);
    assert_eq!(nak(now, CrcForm::Hex).bytes, NAK);
}

#[test]
fn bad_crc_is_naked() {
    let mut raw = BURGLARY.to_vec();
    raw[1] = b'0';
    let now = any_now();
    let got = decide(&raw, None, now);
    assert_eq!(reply_kind(&got), Some(ReplyKind::Nak));
    assert_eq!(got.reply.unwrap().bytes, nak(now, CrcForm::Hex).bytes);
    assert!(matches!(
        got.error,
        Some(WireError::Frame(FrameError::CrcMismatch { .. }))
    ));
}

#[test]
fn bad_length_and_garbage_are_naked() {
    let mut raw = BURGLARY.to_vec();
    raw[6] = b'1';
    let got = decide(&raw, None, any_now());
    assert_eq!(
        got.error,
        Some(WireError::Frame(FrameError::LengthMismatch {
            declared: 0x125,
            actual: 0x25
        }))
    );
    for junk in [&b""[..], b"hello", b"\n", b"\nZZZZ0010\"SIA-DCS\"\r"] {
        assert_eq!(
            reply_kind(&decide(junk, None, any_now())),
            Some(ReplyKind::Nak)
        );
    }
}

#[test]
fn lower_case_crc_is_accepted() {
    let raw = b"\nf4d20029\"SIA-DCS\"0001RF3L77#1234[#1234|NRR|Atest]\r";
    let got = decide(raw, None, any_now());
    assert_eq!(reply_kind(&got), Some(ReplyKind::Ack));
    assert_eq!(
        got.reply.unwrap().bytes,
        wrap("\"ACK\"0001RF3L77#1234[]"),
        "R and L are echoed"
    );
}

#[test]
fn unknown_id_and_rsp_get_duh() {
    for id in ["RSP", "XYZ-123"] {
        let raw = wrap(&format!("\"{id}\"0042R1L0#1234[#1234|NBA1]"));
        let got = decide(&raw, None, any_now());
        assert_eq!(reply_kind(&got), Some(ReplyKind::Duh), "{id}");
        assert_eq!(got.reply.unwrap().bytes, wrap("\"DUH\"0042R1L0#1234[]"));
        assert_eq!(got.error, Some(WireError::UnsupportedId(id.to_owned())));
    }
}

#[test]
fn encrypted_without_key_gets_duh() {
    let got = decide(ENCRYPTED, None, at(2018, 10, 26, 7, 50, 26));
    assert_eq!(reply_kind(&got), Some(ReplyKind::Duh));
    assert_eq!(got.reply.unwrap().bytes, wrap("\"DUH\"0018L0#12345[]"));
    assert_eq!(got.error, Some(WireError::NoKey("12345".into())));
}

#[test]
fn wrong_key_is_naked() {
    let key = Key::from_ascii("FEDCBA9876543210").unwrap();
    let got = decide(ENCRYPTED, Some(&key), at(2018, 10, 26, 7, 50, 26));
    assert_eq!(reply_kind(&got), Some(ReplyKind::Nak));
}

#[test]
fn encrypted_timestamp_outside_window_is_naked_in_clear() {
    let key = Key::from_ascii(ENCRYPTED_KEY).unwrap();
    let now = at(2018, 10, 26, 8, 0, 0);
    let got = decide(ENCRYPTED, Some(&key), now);
    assert_eq!(got.reply.unwrap().bytes, nak(now, CrcForm::Hex).bytes);
}

#[test]
fn key_per_account() {
    let now = at(2018, 10, 26, 7, 50, 26);
    let got = receive_with(
        ENCRYPTED,
        |account| (account == Some("12345")).then(|| Key::from_ascii(ENCRYPTED_KEY).unwrap()),
        now,
        Window::default(),
        &mut FixedPad(b'0'),
    );
    assert_eq!(reply_kind(&got), Some(ReplyKind::Ack));
}

#[test]
fn replies_are_not_answered() {
    let ack = wrap("\"ACK\"0001L0#1234[]");
    let duh = wrap("\"DUH\"0001L0#1234[]");
    for raw in [NAK, &ack[..], &duh[..]] {
        let got = decide(raw, None, any_now());
        assert_eq!(got.reply, None);
        assert_eq!(got.error, None);
        assert!(got.message.is_none());
    }
}

#[test]
fn null_link_test_is_acked() {
    let raw = wrap("\"NULL\"0003L0#1234[]");
    let got = decide(&raw, None, any_now());
    assert_eq!(got.reply.unwrap().bytes, wrap("\"ACK\"0003L0#1234[]"));
    let message = got.message.unwrap();
    assert_eq!(message.id, MessageId::Null);
    assert!(message.events.is_empty());
}

#[test]
fn hikvision_encrypted_null_without_bar() {
    let key = *b"0123456789ABCDEF";
    // 10 pad bytes + `]` + timestamp = 31: one more pad byte makes two blocks.
    let plaintext = b"ppppppppppp]_10:00:00,01-02-2024";
    assert_eq!(plaintext.len(), 32);
    let raw = wrap(&format!(
        "\"*NULL\"0007L0#ABC123[{}",
        aes128_hex(&key, plaintext)
    ));
    let k = Key::from_bytes(&key).unwrap();
    let now = at(2024, 1, 2, 10, 0, 5);
    let got = decide(&raw, Some(&k), now);
    assert_eq!(got.error, None);
    let message = got.message.unwrap();
    assert_eq!(message.data, "");
    assert_eq!(message.timestamp, Some(at(2024, 1, 2, 10, 0, 0)));
    let reply = got.reply.unwrap();
    assert!(reply.bytes.windows(6).any(|w| w == b"\"*ACK\""));
}

#[test]
fn unknown_codes_are_acked() {
    let raw = wrap("\"SIA-DCS\"0005L0#1234[#1234|NXQ77]");
    let got = decide(&raw, None, any_now());
    assert_eq!(reply_kind(&got), Some(ReplyKind::Ack));
    let event = &got.message.unwrap().events[0];
    assert_eq!((event.code.as_str(), event.zone), ("XQ", Some(77)));
    assert_eq!(event.class, watchpost_core::SignalClass::Trouble);

    let raw = wrap("\"ADM-CID\"0006L0#1234[#1234|1999 01 001]");
    assert_eq!(
        reply_kind(&decide(&raw, None, any_now())),
        Some(ReplyKind::Ack)
    );
}

#[test]
fn malformed_contact_id_gets_duh() {
    let raw = wrap("\"ADM-CID\"0006L0#1234[#1234|1x31 01 003]");
    let got = decide(&raw, None, any_now());
    assert_eq!(reply_kind(&got), Some(ReplyKind::Duh));
    assert!(matches!(got.error, Some(WireError::BadContactId(_))));
}

#[test]
fn several_events_in_one_frame() {
    let raw = wrap("\"SIA-DCS\"0009L0#1234[#1234|Nri1/BA12/BA13|Nri2/id0007/OP001]");
    let events = decide(&raw, None, any_now()).message.unwrap().events;
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.code.as_str(), e.zone, e.area, e.user))
        .collect();
    assert_eq!(
        got,
        [
            ("BA", Some(12), Some(1), None),
            ("BA", Some(13), Some(1), None),
            ("OP", Some(1), Some(2), Some(7)),
        ]
    );
}

#[test]
fn xdata_blocks_are_read() {
    let raw = wrap("\"SIA-DCS\"0010L0#1234[#1234|NFA3][X012.5][Y045.7][MA1:B2:C3]");
    let message = decide(&raw, None, any_now()).message.unwrap();
    let got: Vec<_> = message
        .xdata
        .iter()
        .map(|x| (x.kind, x.value.as_str()))
        .collect();
    assert_eq!(got, [('X', "012.5"), ('Y', "045.7"), ('M', "A1:B2:C3")]);
    // Windows-1252 text: the CRC is over the raw bytes.
    let mut body = b"\"SIA-DCS\"0011L0#1234[#1234|NFA3][IZon\xe9 \x80]".to_vec();
    let mut raw = format!("\n{:04X}{:04X}", crc16(&body), body.len()).into_bytes();
    raw.append(&mut body);
    raw.push(b'\r');
    let message = decide(&raw, None, any_now()).message.unwrap();
    assert_eq!(message.xdata[0].value, "Zoné €");
}

#[test]
fn binary_crc_is_answered_in_binary() {
    let body = b"\"SIA-DCS\"0049L0#AFFE[#AFFE|Nri1CL0001^user^]_14:06:21,05-17-2026";
    let mut raw = vec![b'\n'];
    raw.extend_from_slice(&crc16(body).to_be_bytes());
    raw.extend_from_slice(format!("{:04X}", body.len()).as_bytes());
    raw.extend_from_slice(body);
    raw.push(b'\r');
    let now = at(2026, 5, 17, 14, 6, 21);
    let got = decide(&raw, None, now);
    assert_eq!(got.error, None);
    let reply = got.reply.unwrap();
    assert_eq!(CrcForm::detect(&reply.bytes), CrcForm::Binary);
    let back = parse_frame(&reply.bytes, None).unwrap();
    assert_eq!(back.crc, CrcForm::Binary);
    assert_eq!(back.header.id, MessageId::Ack);
    assert_eq!(back.header.sequence, 49);
    // A NAK to a binary frame is binary too.
    let mut bad = raw.clone();
    bad[1] ^= 0xFF;
    let reply = decide(&bad, None, now).reply.unwrap();
    assert_eq!(reply.kind, ReplyKind::Nak);
    assert_eq!(reply.bytes, nak(now, CrcForm::Binary).bytes);
}

#[test]
fn eldes_length_and_crc_including_cr() {
    let body = "\"SIA-DCS\"0001L0#1234[#1234|Nri1/BA12]\r";
    let raw = format!("\n{:04X}{:04X}{body}", crc16(body.as_bytes()), body.len());
    let got = decide(raw.as_bytes(), None, any_now());
    assert_eq!(got.error, None);
    assert_eq!(got.reply.unwrap().bytes, wrap("\"ACK\"0001L0#1234[]"));
}

#[test]
fn no_account_anywhere_is_naked() {
    let raw = wrap("\"SIA-DCS\"0001L0[Nri1/BA12]");
    let got = decide(&raw, None, any_now());
    assert_eq!(got.error, Some(WireError::NoAccount));
    assert_eq!(reply_kind(&got), Some(ReplyKind::Nak));
}

/// DC-09 account numbers are hexadecimal and case means nothing: the message carries the
/// canonical number, the ACK echoes what the panel sent.
#[test]
fn a_lower_case_account_is_received_as_its_canonical_number() {
    let raw = wrap("\"SIA-DCS\"0043L0#5a5b[#5a5b|Nri1/FA4]");
    let got = decide(&raw, None, any_now());
    assert_eq!(got.error, None);
    assert_eq!(got.message.unwrap().account, "5A5B");
    assert_eq!(got.reply.unwrap().bytes, wrap("\"ACK\"0043L0#5a5b[]"));

    let cid = wrap("\"ADM-CID\"0002L0#70bc[#70BC|1110 01 004]");
    let got = decide(&cid, None, any_now());
    assert_eq!(got.error, None);
    let message = got.message.unwrap();
    assert_eq!(message.account, "70BC");
    assert_eq!(
        message.events[0].kind(),
        Some(watchpost_core::AlarmKind::Fire)
    );
}

#[test]
fn the_key_is_looked_up_by_the_canonical_number() {
    let now = at(2018, 10, 26, 7, 50, 26);
    let mut asked = Vec::new();
    let _ = receive_with(
        &wrap("\"*SIA-DCS\"0001L0#abc12[00]"),
        |account| {
            asked.push(account.map(str::to_owned));
            None
        },
        now,
        Window::default(),
        &mut FixedPad(b'0'),
    );
    assert_eq!(asked, [Some("ABC12".to_owned())]);
}

#[test]
fn header_and_data_naming_different_accounts_are_refused_with_duh() {
    let raw = wrap("\"SIA-DCS\"0001L0#1234[#1235|Nri1/BA12]");
    let got = decide(&raw, None, any_now());
    assert_eq!(
        got.error,
        Some(WireError::AccountMismatch {
            header: "1234".into(),
            data: "1235".into()
        })
    );
    assert_eq!(got.message, None);
    assert_eq!(got.reply.unwrap().bytes, wrap("\"DUH\"0001L0#1234[]"));
    // Leading zeros are part of the number.
    let raw = wrap("\"SIA-DCS\"0001L0#01234[#1234|Nri1/BA12]");
    assert_eq!(
        reply_kind(&decide(&raw, None, any_now())),
        Some(ReplyKind::Duh)
    );
    // Case is not.
    let raw = wrap("\"SIA-DCS\"0001L0#ab12[#AB12|Nri1/BA12]");
    assert_eq!(
        reply_kind(&decide(&raw, None, any_now())),
        Some(ReplyKind::Ack)
    );
}

#[test]
fn a_malformed_account_is_naked() {
    for (body, error) in [
        (
            "\"SIA-DCS\"0001L0#1234[#12 34|Nri1/BA12]",
            WireError::BadDataAccount(AccountNumberError::Character {
                found: ' ',
                position: 3,
            }),
        ),
        (
            "\"SIA-DCS\"0001L0[#|Nri1/BA12]",
            WireError::BadDataAccount(AccountNumberError::Empty),
        ),
        (
            "\"SIA-DCS\"0001L0#12345678901234567[Nri1/BA12]",
            WireError::Frame(FrameError::BadAccount(AccountNumberError::TooLong {
                len: 17,
            })),
        ),
        (
            "\"SIA-DCS\"0001L0#[Nri1/BA12]",
            WireError::Frame(FrameError::BadAccount(AccountNumberError::Empty)),
        ),
    ] {
        let got = decide(&wrap(body), None, any_now());
        assert_eq!(got.error, Some(error), "{body}");
        assert_eq!(reply_kind(&got), Some(ReplyKind::Nak), "{body}");
        assert_eq!(got.message, None);
    }
}

/// Some panels send letters beyond F; enrolment takes any letters and digits, so the
/// receiver hears them all, short numbers included.
#[test]
fn letters_beyond_hex_and_short_numbers_are_heard() {
    for (sent, number) in [("g7x2", "G7X2"), ("7", "7"), ("0042", "0042")] {
        let raw = wrap(&format!("\"SIA-DCS\"0001L0#{sent}[#{sent}|Nri1/BA12]"));
        let got = decide(&raw, None, any_now());
        assert_eq!(got.error, None, "{sent}");
        assert_eq!(got.message.unwrap().account, number);
        let echo = format!("\"ACK\"0001L0#{sent}[]");
        assert_eq!(got.reply.unwrap().bytes, wrap(&echo));
    }
}
