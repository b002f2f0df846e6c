//! `[retention]`: how long signals and alarms (with their logs, and resolved unknown-account
//! items) are kept before the sweep removes them. Call recordings keep their key,
//! `telephony.recordings_keep`. README, "Retention" and "Configuration".

use serde::Deserialize;
use std::time::Duration;
use watchpost_server::RetentionConfig;

/// The table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionTable {
    pub signals: Option<Keep>,
    pub alarms: Option<Keep>,
}

/// A retention period: a duration, or `off` (kept for ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Written")]
pub struct Keep(pub Option<Duration>);

#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Seconds(u64),
    Text(String),
}

impl TryFrom<Written> for Keep {
    type Error = String;

    fn try_from(written: Written) -> Result<Keep, String> {
        match written {
            Written::Seconds(secs) => Ok(Keep(Some(Duration::from_secs(secs)))),
            Written::Text(text) if text.trim() == "off" => Ok(Keep(None)),
            Written::Text(text) => text
                .parse::<super::values::Span>()
                .map(|span| Keep(Some(span.0)))
                .map_err(|e| format!("{e}, or off")),
        }
    }
}

/// The shortest period accepted: records the rules want kept for a year must not vanish by a
/// slip of the unit (`400` seconds for `400d`).
const SHORTEST: Duration = Duration::from_secs(24 * 3600);

impl RetentionTable {
    /// The periods (default 400 days each), checked. Errors name `retention.<key>`.
    pub fn config(&self) -> Result<RetentionConfig, String> {
        let mut config = RetentionConfig::default();
        for (key, written, field) in [
            ("signals", self.signals, &mut config.signals),
            ("alarms", self.alarms, &mut config.alarms),
        ] {
            match written {
                Some(Keep(Some(keep))) if keep < SHORTEST => {
                    return Err(format!(
                        "retention.{key}: {keep:?} is shorter than 1 day (listing bodies want \
                         records kept at least a year; `off` keeps them for ever)"
                    ));
                }
                Some(Keep(keep)) => *field = keep,
                None => {}
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<RetentionConfig, String> {
        let table: RetentionTable = toml::from_str(text).map_err(|e| e.to_string())?;
        table.config()
    }

    #[test]
    fn periods_default_to_400_days_and_may_be_off() {
        let default = config("").unwrap();
        assert_eq!(default.signals, Some(Duration::from_secs(400 * 86_400)));
        assert_eq!(default.alarms, default.signals);
        let set = config("signals = \"90d\"\nalarms = \"off\"").unwrap();
        assert_eq!(set.signals, Some(Duration::from_secs(90 * 86_400)));
        assert_eq!(set.alarms, None);
        assert_eq!(
            config("alarms = 86400").unwrap().alarms,
            Some(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn a_bad_period_is_refused_with_its_key() {
        let short = config("signals = \"12h\"").unwrap_err();
        assert!(
            short.starts_with("retention.signals: 43200s is shorter than 1 day"),
            "{short}"
        );
        let bad = config("alarms = \"soon\"").unwrap_err();
        assert!(
            bad.contains("not a duration") && bad.contains("or off"),
            "{bad}"
        );
        let unknown = config("recordings = \"1d\"").unwrap_err();
        assert!(unknown.contains("unknown field"), "{unknown}");
    }
}
