//! Signal codes: what a SIA DCS event code or a Contact ID event means to the center
//! (docs/wire.md, "SIA DCS data" and "Contact ID over DC-09").

use crate::kind::AlarmKind;
use serde::{Deserialize, Serialize};

/// The meaning of one panel event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "class", content = "kind")]
pub enum SignalClass {
    /// Opens (or joins) an alarm of this kind.
    Alarm(AlarmKind),
    /// An opening by a user code at the keypad or from the app.
    Disarm,
    /// A closing (arming).
    Arm,
    /// The condition that raised an alarm has cleared; recorded, changes nothing.
    Restore(Option<AlarmKind>),
    /// A periodic test or link check.
    Test,
    /// Anything else a panel reports: troubles, supervision, bypasses.
    Trouble,
}

impl SignalClass {
    pub fn alarm_kind(self) -> Option<AlarmKind> {
        match self {
            SignalClass::Alarm(kind) => Some(kind),
            _ => None,
        }
    }
}

/// The alarm kind whose SIA "alarm" code starts with this letter, for the restore codes
/// (`BR`, `FH`, ...).
fn sia_family(letter: u8) -> Option<AlarmKind> {
    Some(match letter {
        b'B' => AlarmKind::Burglary,
        b'F' => AlarmKind::Fire,
        b'G' => AlarmKind::CarbonMonoxide,
        b'P' => AlarmKind::Panic,
        b'H' => AlarmKind::Duress,
        b'M' => AlarmKind::Medical,
        b'W' => AlarmKind::Water,
        b'Z' => AlarmKind::Freeze,
        _ => return None,
    })
}

/// Classifies a SIA DCS two-letter event code (case-insensitive).
pub fn classify_sia(code: &str) -> SignalClass {
    let upper = code.trim().to_ascii_uppercase();
    match upper.as_str() {
        "OP" | "OR" => return SignalClass::Disarm,
        "CL" => return SignalClass::Arm,
        "RP" | "RX" | "NULL" => return SignalClass::Test,
        _ => {}
    }
    let bytes = upper.as_bytes();
    if let [family, b'A' | b'R' | b'H'] = bytes
        && let Some(kind) = sia_family(*family)
    {
        return if bytes[1] == b'A' {
            SignalClass::Alarm(kind)
        } else {
            SignalClass::Restore(Some(kind))
        };
    }
    SignalClass::Trouble
}

/// The alarm kind of a Contact ID event code, whatever its qualifier.
pub fn cid_alarm_kind(code: u16) -> Option<AlarmKind> {
    Some(match code {
        130..=136 | 138 | 139 | 146 => AlarmKind::Burglary,
        110..=118 => AlarmKind::Fire,
        151 | 162 => AlarmKind::CarbonMonoxide,
        120 | 123 => AlarmKind::Panic,
        121 | 122 | 126 => AlarmKind::Duress,
        100 | 101 => AlarmKind::Medical,
        154 => AlarmKind::Water,
        159 => AlarmKind::Freeze,
        _ => return None,
    })
}

/// Classifies a Contact ID event: qualifier 1 (new event / opening), 3 (restore / closing)
/// or 6 (previously reported, still present).
pub fn classify_cid(qualifier: u8, code: u16) -> SignalClass {
    if matches!(code, 401 | 403 | 407 | 409) {
        return match qualifier {
            1 => SignalClass::Disarm,
            3 => SignalClass::Arm,
            _ => SignalClass::Trouble,
        };
    }
    if matches!(code, 601 | 602) {
        return SignalClass::Test;
    }
    match (qualifier, cid_alarm_kind(code)) {
        (1, Some(kind)) => SignalClass::Alarm(kind),
        (3, kind) => SignalClass::Restore(kind),
        _ => SignalClass::Trouble,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sia_alarm_codes_map_to_kinds() {
        let table = [
            ("BA", AlarmKind::Burglary),
            ("FA", AlarmKind::Fire),
            ("GA", AlarmKind::CarbonMonoxide),
            ("PA", AlarmKind::Panic),
            ("HA", AlarmKind::Duress),
            ("MA", AlarmKind::Medical),
            ("WA", AlarmKind::Water),
            ("ZA", AlarmKind::Freeze),
        ];
        for (code, kind) in table {
            assert_eq!(classify_sia(code), SignalClass::Alarm(kind), "{code}");
            assert_eq!(classify_sia(&code.to_lowercase()), SignalClass::Alarm(kind));
        }
    }

    #[test]
    fn sia_other_codes() {
        assert_eq!(classify_sia("OP"), SignalClass::Disarm);
        assert_eq!(classify_sia("OR"), SignalClass::Disarm);
        assert_eq!(classify_sia("CL"), SignalClass::Arm);
        assert_eq!(
            classify_sia("BR"),
            SignalClass::Restore(Some(AlarmKind::Burglary))
        );
        assert_eq!(
            classify_sia("FH"),
            SignalClass::Restore(Some(AlarmKind::Fire))
        );
        assert_eq!(
            classify_sia("GR"),
            SignalClass::Restore(Some(AlarmKind::CarbonMonoxide))
        );
        for code in ["RP", "RX", "NULL"] {
            assert_eq!(classify_sia(code), SignalClass::Test, "{code}");
        }
        for code in ["AT", "YT", "TA", "YC", "BB", "XX", "", "B"] {
            assert_eq!(classify_sia(code), SignalClass::Trouble, "{code}");
        }
    }

    #[test]
    fn contact_id_ranges() {
        for code in [130, 131, 132, 133, 134, 135, 136, 138, 139, 146] {
            assert_eq!(
                classify_cid(1, code),
                SignalClass::Alarm(AlarmKind::Burglary)
            );
        }
        assert_eq!(classify_cid(1, 137), SignalClass::Trouble);
        for code in 110..=118 {
            assert_eq!(classify_cid(1, code), SignalClass::Alarm(AlarmKind::Fire));
        }
        assert_eq!(
            classify_cid(1, 151),
            SignalClass::Alarm(AlarmKind::CarbonMonoxide)
        );
        assert_eq!(
            classify_cid(1, 162),
            SignalClass::Alarm(AlarmKind::CarbonMonoxide)
        );
        assert_eq!(classify_cid(1, 120), SignalClass::Alarm(AlarmKind::Panic));
        assert_eq!(classify_cid(1, 123), SignalClass::Alarm(AlarmKind::Panic));
        for code in [121, 122, 126] {
            assert_eq!(classify_cid(1, code), SignalClass::Alarm(AlarmKind::Duress));
        }
        assert_eq!(classify_cid(1, 100), SignalClass::Alarm(AlarmKind::Medical));
        assert_eq!(classify_cid(1, 101), SignalClass::Alarm(AlarmKind::Medical));
        assert_eq!(classify_cid(1, 154), SignalClass::Alarm(AlarmKind::Water));
        assert_eq!(classify_cid(1, 159), SignalClass::Alarm(AlarmKind::Freeze));
        for code in [401, 403, 407, 409] {
            assert_eq!(classify_cid(1, code), SignalClass::Disarm);
            assert_eq!(classify_cid(3, code), SignalClass::Arm);
        }
        assert_eq!(
            classify_cid(3, 131),
            SignalClass::Restore(Some(AlarmKind::Burglary))
        );
        assert_eq!(classify_cid(1, 601), SignalClass::Test);
        assert_eq!(classify_cid(1, 602), SignalClass::Test);
        for code in [137, 144, 300, 350, 399, 570] {
            assert_eq!(classify_cid(1, code), SignalClass::Trouble, "{code}");
        }
        assert_eq!(classify_cid(6, 131), SignalClass::Trouble);
    }
}
