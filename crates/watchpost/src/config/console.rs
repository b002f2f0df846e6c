//! `[console]`: the agent console's attention thresholds — when a waiting alarm changes
//! colour in the queue, and when an alarm nobody takes, or a taken alarm nobody works, alerts
//! the supervisors. README, "Configuration" and "Agent console".

use super::values::Span;
use serde::Deserialize;
use watchpost_server::ConsoleConfig;

/// The table as written; every key optional (defaults in `ConsoleConfig::default`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleTable {
    /// An untaken alarm of priority 1 (2, 3, 4) changes colour after this long.
    pub waiting_p1: Option<Span>,
    pub waiting_p2: Option<Span>,
    pub waiting_p3: Option<Span>,
    pub waiting_p4: Option<Span>,
    /// An alarm of priority 2 to 4 nobody takes within this alerts the supervisors.
    pub untaken: Option<Span>,
    /// The same for priority 1 alarms.
    pub untaken_p1: Option<Span>,
    /// A taken alarm with no timeline entry for this long alerts the supervisors.
    pub idle: Option<Span>,
}

/// The longest threshold accepted: beyond a day, an alert would never be seen.
const LONGEST_MS: i64 = 24 * 3600 * 1000;

/// One threshold, checked: more than zero, at most a day. The error names `console.<key>`.
fn threshold(key: &str, span: Option<Span>, default: i64) -> Result<i64, String> {
    let Some(span) = span else {
        return Ok(default);
    };
    let ms = i64::try_from(span.0.as_millis()).unwrap_or(i64::MAX);
    if ms == 0 {
        return Err(format!("console.{key}: must be more than 0 seconds"));
    }
    if ms > LONGEST_MS {
        return Err(format!(
            "console.{key}: {:?} is longer than a day; an alert that late is never seen",
            span.0
        ));
    }
    Ok(ms)
}

impl ConsoleTable {
    /// The thresholds, each checked; an error names `console.<key>` and the reason.
    pub fn config(&self) -> Result<ConsoleConfig, String> {
        let d = ConsoleConfig::default();
        let waiting = [
            ("waiting_p1", self.waiting_p1),
            ("waiting_p2", self.waiting_p2),
            ("waiting_p3", self.waiting_p3),
            ("waiting_p4", self.waiting_p4),
        ];
        let mut waiting_ms = d.waiting_ms;
        for (n, (key, span)) in waiting.into_iter().enumerate() {
            waiting_ms[n] = threshold(key, span, d.waiting_ms[n])?;
        }
        let untaken = threshold("untaken", self.untaken, d.untaken_ms[1])?;
        let untaken_p1 = threshold("untaken_p1", self.untaken_p1, d.untaken_ms[0])?;
        Ok(ConsoleConfig {
            waiting_ms,
            untaken_ms: [untaken_p1, untaken, untaken, untaken],
            idle_ms: threshold("idle", self.idle, d.idle_ms)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> ConsoleTable {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_keys() {
        assert_eq!(table("").config().unwrap(), ConsoleConfig::default());
        let config =
            table("waiting_p1 = \"10s\"\nuntaken = \"2m\"\nuntaken_p1 = 20\nidle = \"10m\"")
                .config()
                .unwrap();
        assert_eq!(config.waiting_ms[0], 10_000);
        assert_eq!(config.waiting_ms[3], 300_000);
        assert_eq!(config.untaken_ms, [20_000, 120_000, 120_000, 120_000]);
        assert_eq!(config.idle_ms, 600_000);
    }

    #[test]
    fn bad_thresholds_name_their_key() {
        let error = table("idle = 0").config().unwrap_err();
        assert_eq!(error, "console.idle: must be more than 0 seconds");
        let error = table("waiting_p3 = \"2days\"").config().unwrap_err();
        assert!(error.starts_with("console.waiting_p3: "), "{error}");
    }
}
