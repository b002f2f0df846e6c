//! The `inspect` JSON contract.

mod common;

use common::*;
use watchpost_wire::{Key, Window, inspect};

fn json(frame: &[u8], key: Option<&Key>, now: chrono::DateTime<chrono::Utc>) -> String {
    serde_json::to_string(&inspect(frame, key, now, Window::default())).unwrap()
}

fn escaped(frame: &[u8]) -> String {
    serde_json::to_string(std::str::from_utf8(frame).unwrap()).unwrap()
}

#[test]
fn accepted_burglary() {
    let ack = wrap("\"ACK\"0001L0#1234[]");
    assert_eq!(
        json(BURGLARY, None, any_now()),
        format!(
            r#"{{"ok":true,"id":"SIA-DCS","encrypted":false,"sequence":1,"receiver":null,"line":"0","account":"1234","events":[{{"code":"BA","zone":12,"kind":"burglary"}}],"timestamp":null,"reply":"ACK","reply_frame":{},"error":null}}"#,
            escaped(&ack)
        )
    );
    assert!(escaped(&ack).starts_with("\"\\n"));
    assert!(escaped(&ack).ends_with("\\r\""));
}

#[test]
fn contact_id_event() {
    let text = json(CONTACT_ID, None, any_now());
    assert!(
        text.contains(r#""events":[{"code":"131","zone":3,"kind":"burglary"}]"#),
        "{text}"
    );
}

#[test]
fn late_timestamp() {
    let now = at(2020, 2, 9, 14, 40, 0);
    let value = inspect(EMPTY_L, None, now, Window::default());
    assert!(!value.ok);
    assert_eq!(value.reply, Some("NAK"));
    assert_eq!(value.timestamp.as_deref(), Some("2020-02-09T14:33:53Z"));
    assert_eq!(value.events.len(), 1);
    assert_eq!(
        value.error.as_deref(),
        Some(
            "the timestamp 2020-02-09T14:33:53Z is outside the window of -40 s to +20 s around the receiver clock 2020-02-09T14:40:00Z"
        )
    );
    let expected = wrap("\"NAK\"0000R0L0A0[]_14:40:00,02-09-2020");
    assert_eq!(
        value.reply_frame.as_deref(),
        Some(std::str::from_utf8(&expected).unwrap())
    );
}

#[test]
fn encrypted_is_reproducible() {
    let key = Key::from_ascii(ENCRYPTED_KEY).unwrap();
    let now = at(2018, 10, 26, 7, 50, 30);
    let first = json(ENCRYPTED, Some(&key), now);
    assert_eq!(first, json(ENCRYPTED, Some(&key), now));
    let value = inspect(ENCRYPTED, Some(&key), now, Window::default());
    assert!(value.ok, "{first}");
    assert!(value.encrypted);
    assert_eq!(value.sequence, Some(18));
    assert_eq!(value.events[0].code, "UT");
    assert_eq!(value.events[0].kind, None);
    assert!(value.reply_frame.unwrap().contains("\"*ACK\"0018L0#12345["));
}

#[test]
fn garbage() {
    let value = inspect(b"nonsense", None, any_now(), Window::default());
    assert!(!value.ok);
    assert_eq!(value.id, None);
    assert_eq!(value.reply, Some("NAK"));
    assert_eq!(
        value.error.as_deref(),
        Some("the frame does not start with LF (0x0A)")
    );
}

#[test]
fn incoming_nak_needs_no_reply() {
    let value = inspect(NAK, None, any_now(), Window::default());
    assert!(value.ok);
    assert_eq!(value.id.as_deref(), Some("NAK"));
    assert_eq!(value.reply, None);
    assert_eq!(value.reply_frame, None);
}
