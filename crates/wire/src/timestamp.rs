//! The DC-09 timestamp `_HH:MM:SS,MM-DD-YYYY` (UTC) and the window a receiver accepts it in.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// Bytes of a timestamp on the wire, leading `_` included.
pub const TIMESTAMP_LEN: usize = 20;

/// Parses `_HH:MM:SS,MM-DD-YYYY`; `None` unless it is exactly that and a real instant.
pub fn parse_timestamp(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let [
        b'_',
        h1,
        h2,
        b':',
        mi1,
        mi2,
        b':',
        s1,
        s2,
        b',',
        mo1,
        mo2,
        b'-',
        d1,
        d2,
        b'-',
        y1,
        y2,
        y3,
        y4,
    ] = bytes
    else {
        return None;
    };
    let hour = digits(&[*h1, *h2])?;
    let minute = digits(&[*mi1, *mi2])?;
    let second = digits(&[*s1, *s2])?;
    let month = digits(&[*mo1, *mo2])?;
    let day = digits(&[*d1, *d2])?;
    let year = digits(&[*y1, *y2, *y3, *y4])?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    let time = date.and_hms_opt(hour, minute, second)?;
    Some(time.and_utc())
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Formats an instant as `_HH:MM:SS,MM-DD-YYYY`, dropping sub-second precision.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    let mut out = Vec::with_capacity(TIMESTAMP_LEN);
    write_timestamp(&mut out, at);
    String::from_utf8(out).expect("a timestamp is ASCII")
}

/// Appends `_HH:MM:SS,MM-DD-YYYY` to `out`, dropping sub-second precision. Written digit by
/// digit: every ACK carries one, and chrono's `format` parsed its pattern each time (1.5 % of
/// `serve`'s CPU at 20,000 ACKs/s, 0.4 % written so). A year outside 0–9999, which the field
/// cannot hold, is written as chrono writes it.
pub fn write_timestamp(out: &mut Vec<u8>, at: DateTime<Utc>) {
    let Ok(year @ 0..=9999) = u32::try_from(at.year()) else {
        out.extend_from_slice(at.format("_%H:%M:%S,%m-%d-%Y").to_string().as_bytes());
        return;
    };
    out.push(b'_');
    push_digits(out, at.hour(), 2);
    out.push(b':');
    push_digits(out, at.minute(), 2);
    out.push(b':');
    push_digits(out, at.second(), 2);
    out.push(b',');
    push_digits(out, at.month(), 2);
    out.push(b'-');
    push_digits(out, at.day(), 2);
    out.push(b'-');
    push_digits(out, year, 4);
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
pub(crate) fn push_digits(out: &mut Vec<u8>, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(b'0' + (value / 10u32.pow(place) % 10) as u8);
    }
}

/// How far a message timestamp may lie before or after the receiver clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Seconds a timestamp may be behind the receiver clock.
    pub past_secs: u32,
    /// Seconds a timestamp may be ahead of the receiver clock.
    pub future_secs: u32,
}

impl Window {
    pub const fn new(past_secs: u32, future_secs: u32) -> Self {
        Window {
            past_secs,
            future_secs,
        }
    }

    /// Whether `timestamp` is acceptable when the receiver clock reads `now`.
    pub fn accepts(self, timestamp: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let ahead_ms = (timestamp - now).num_milliseconds();
        let past_ms = i64::from(self.past_secs) * 1000;
        let future_ms = i64::from(self.future_secs) * 1000;
        (-past_ms..=future_ms).contains(&ahead_ms)
    }
}

impl Default for Window {
    /// DC-09's -40 s .. +20 s.
    fn default() -> Self {
        Window::new(40, 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parse_and_format() {
        let at = parse_timestamp(b"_07:50:26,10-26-2018").expect("valid");
        assert_eq!(at, Utc.with_ymd_and_hms(2018, 10, 26, 7, 50, 26).unwrap());
        assert_eq!(format_timestamp(at), "_07:50:26,10-26-2018");
        let late = Utc.with_ymd_and_hms(2099, 12, 31, 23, 59, 59).unwrap();
        let mut out = b"x".to_vec();
        write_timestamp(&mut out, late + chrono::TimeDelta::milliseconds(999));
        assert_eq!(out, b"x_23:59:59,12-31-2099");
        let early = Utc.with_ymd_and_hms(7, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(format_timestamp(early), "_03:04:05,01-02-0007");
        let far = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            format_timestamp(far),
            far.format("_%H:%M:%S,%m-%d-%Y").to_string()
        );
        assert_eq!(parse_timestamp(b"_25:00:00,10-26-2018"), None);
        assert_eq!(parse_timestamp(b"_07:50:26,02-30-2018"), None);
        assert_eq!(parse_timestamp(b"_07:50:2x,10-26-2018"), None);
    }

    #[test]
    fn window_edges() {
        let now = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
        let w = Window::default();
        let secs = chrono::TimeDelta::seconds;
        assert!(w.accepts(now - secs(40), now));
        assert!(!w.accepts(now - secs(41), now));
        assert!(w.accepts(now + secs(20), now));
        assert!(!w.accepts(now + secs(21), now));
    }
}
