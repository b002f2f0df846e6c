//! Times as the console shows them: clock times in the center's time zone, ages, and
//! offsets from the signal.

use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;
use watchpost_core::Millis;
use watchpost_core::account::DAY_MS;

/// `02:14:05`, in `tz`.
pub fn clock(at: Millis, tz: Tz) -> String {
    DateTime::from_timestamp_millis(at)
        .map(|t| t.with_timezone(&tz).format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `2026-03-10 02:14:05 UTC`, or `2026-03-09 21:14:05 CDT` in America/Chicago.
pub fn date_time(at: Millis, tz: Tz) -> String {
    DateTime::from_timestamp_millis(at)
        .map(|t| {
            t.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// The start of the day `now` falls in, in `tz` (where a clock change skips midnight, the
/// UTC day's).
pub fn midnight(now: Millis, tz: Tz) -> Millis {
    DateTime::from_timestamp_millis(now)
        .and_then(|t| {
            let day = t.with_timezone(&tz).date_naive().and_hms_opt(0, 0, 0)?;
            tz.from_local_datetime(&day).earliest()
        })
        .map_or(now - now.rem_euclid(DAY_MS), |m| m.timestamp_millis())
}

/// A duration as the queue shows an age: `45s`, `3m 05s`, `2h 07m` (as console.js does).
pub fn age(ms: Millis) -> String {
    let s = ms.max(0) / 1000;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// Time since the signal: `+1:05`.
pub fn offset(from: Millis, at: Millis) -> String {
    let s = (at - from).max(0) / 1000;
    format!("+{}:{:02}", s / 60, s % 60)
}

/// A duration for statistics: `42s`, `3m 10s`.
pub fn duration(ms: Millis) -> String {
    let s = (ms.max(0) + 500) / 1000;
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// An engine word (`voicemail_left`) as people read it (`voicemail left`).
pub fn words(name: &str) -> String {
    name.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_offsets_read_naturally() {
        assert_eq!(age(45_900), "45s");
        assert_eq!(age(185_000), "3m 05s");
        assert_eq!(age(7_620_000), "2h 07m");
        assert_eq!(offset(1_000, 66_000), "+1:05");
        assert_eq!(duration(61_600), "1m 02s");
        assert_eq!(clock(0, Tz::UTC), "00:00:00");
        let signal = 1_773_108_845_000; // 2026-03-10T02:14:05Z
        assert_eq!(date_time(signal, Tz::UTC), "2026-03-10 02:14:05 UTC");
        assert_eq!(
            date_time(signal, chrono_tz::America::Chicago),
            "2026-03-09 21:14:05 CDT"
        );
        assert_eq!(midnight(signal, Tz::UTC), 1_773_100_800_000); // 2026-03-10T00:00Z
        assert_eq!(
            midnight(signal, chrono_tz::America::Chicago),
            1_773_032_400_000 // 2026-03-09T05:00Z, midnight CDT
        );
    }
}
