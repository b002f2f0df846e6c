//! The values a center's configuration holds, each checked by one rule whether it comes from
//! the configuration file or from a command-line option.

use serde::{Deserialize, Deserializer, de};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration: whole seconds (`40`) or a humantime string (`"40s"`, `"60m"`, `"1h 30m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl Span {
    pub fn seconds(secs: u64) -> Span {
        Span(Duration::from_secs(secs))
    }

    /// In whole seconds, for settings kept in seconds (the DC-09 timestamp window).
    pub fn whole_seconds(self) -> Result<u32, String> {
        let d = self.0;
        if d.subsec_nanos() != 0 {
            return Err(format!("{d:?} is not a whole number of seconds"));
        }
        u32::try_from(d.as_secs()).map_err(|_| format!("{d:?} is too long"))
    }
}

impl FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Span, String> {
        let text = text.trim();
        if let Ok(secs) = text.parse::<u64>() {
            return Ok(Span::seconds(secs));
        }
        humantime::parse_duration(text)
            .map(Span)
            .map_err(|_| format!("{text:?} is not a duration (like 40s, 60m or 3600 seconds)"))
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Span, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration: whole seconds or a string like \"40s\" or \"60m\"")
            }
            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Span, E> {
                u64::try_from(secs)
                    .map(Span::seconds)
                    .map_err(|_| E::custom(format!("{secs} is negative")))
            }
            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Span, E> {
                Ok(Span::seconds(secs))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Span, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A phone number in E.164 (`+15555550199`), the form the center's telephony dials and says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PhoneNumber(pub String);

impl FromStr for PhoneNumber {
    type Err = String;

    fn from_str(text: &str) -> Result<PhoneNumber, String> {
        if watchpost_core::account::is_e164(text) {
            Ok(PhoneNumber(text.to_string()))
        } else {
            Err(format!(
                "{text:?} is not an E.164 number (like +15555550199)"
            ))
        }
    }
}

/// The center's name as people hear it: "This is {name} with an urgent message…".
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CenterName(pub String);

impl FromStr for CenterName {
    type Err = String;

    fn from_str(text: &str) -> Result<CenterName, String> {
        let name = text.trim();
        if name.is_empty() {
            Err("is empty".into())
        } else if name.chars().count() > 100 {
            Err(format!("{name:?} is longer than 100 characters"))
        } else if name.chars().any(char::is_control) {
            Err(format!("{name:?} holds a control character"))
        } else {
            Ok(CenterName(name.to_string()))
        }
    }
}

/// An IANA time zone (`America/Chicago`, `UTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeZone(pub chrono_tz::Tz);

impl FromStr for TimeZone {
    type Err = String;

    fn from_str(text: &str) -> Result<TimeZone, String> {
        text.parse().map(TimeZone).map_err(|_| {
            format!("{text:?} is not an IANA time zone name (like America/Chicago or UTC)")
        })
    }
}

/// A runaway limit (`30/60s`) or `off` (README, "Runaway accounts").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Runaway(pub Option<watchpost_core::RunawayLimit>);

impl FromStr for Runaway {
    type Err = String;

    fn from_str(text: &str) -> Result<Runaway, String> {
        watchpost_core::parse_runaway(text).map(Runaway)
    }
}

/// A rate limit (`300/10s`: at most 300 within any 10 seconds, all 300 at once if need be)
/// or `off`. README, "Configuration".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Limit(pub Option<watchpost_core::RunawayLimit>);

impl FromStr for Limit {
    type Err = String;

    /// The runaway limit's form, read by the same rule, said as a count.
    fn from_str(text: &str) -> Result<Limit, String> {
        watchpost_core::parse_runaway(text).map(Limit).map_err(|e| {
            e.replace("SIGNALS/WINDOW", "COUNT/WINDOW")
                .replace("the number of signals", "the count")
                .replace("\"30/60s\"", "\"300/10s\"")
        })
    }
}

macro_rules! try_from_string {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(text: String) -> Result<$t, String> {
                text.parse()
            }
        }
    )*};
}
try_from_string!(PhoneNumber, CenterName, TimeZone, Runaway, Limit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_seconds_or_humantime() {
        assert_eq!("40".parse(), Ok(Span::seconds(40)));
        assert_eq!("60m".parse(), Ok(Span::seconds(3600)));
        assert_eq!("1h 30m".parse(), Ok(Span::seconds(5400)));
        assert!(
            "soon"
                .parse::<Span>()
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(Span(Duration::from_millis(1500)).whole_seconds().is_err());
    }

    #[test]
    fn phone_names_and_zones_are_checked() {
        assert!("+15555550199".parse::<PhoneNumber>().is_ok());
        assert_eq!(
            "555-0199".parse::<PhoneNumber>().unwrap_err(),
            "\"555-0199\" is not an E.164 number (like +15555550199)"
        );
        assert_eq!(
            " Acme Monitoring ".parse::<CenterName>().unwrap().0,
            "Acme Monitoring"
        );
        assert!(" ".parse::<CenterName>().is_err());
        assert_eq!(
            "America/Chicago".parse::<TimeZone>().unwrap().0,
            chrono_tz::America::Chicago
        );
        assert!("Chicago".parse::<TimeZone>().is_err());
    }
}
