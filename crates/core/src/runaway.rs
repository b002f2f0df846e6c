//! Runaway accounts: an account whose panel sends more signals than any real event explains
//! (a panel in a fault loop). Its signals are still stored and acted on, but those that
//! would merely join an open alarm are counted there instead of listed one by one, and one
//! trouble item tells the operators. This module owns the limit and the per-account count;
//! it reads no clock (times come in as `now`).

use crate::account::Millis;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

/// An account runs away when it sends more than `signals` signals within `window_ms`; it
/// has calmed down once a whole window has passed with at most half as many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunawayLimit {
    pub signals: u32,
    pub window_ms: Millis,
}

impl Default for RunawayLimit {
    /// 30 signals a minute. A real event at a large home (every zone of a 16-zone panel
    /// tripped and restored, an arming and a disarming) stays under it; a panel repeating
    /// an alarm every two seconds, as a fault loop does, is over it within a minute.
    fn default() -> Self {
        RunawayLimit {
            signals: 30,
            window_ms: 60_000,
        }
    }
}

impl RunawayLimit {
    /// At most this many signals in a window and a runaway account has calmed down.
    fn calm(self) -> usize {
        self.signals as usize / 2
    }
}

impl fmt::Display for RunawayLimit {
    /// `30/60s`: the form `parse_runaway` reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.signals, self.window_ms as f64 / 1000.0)
    }
}

impl FromStr for RunawayLimit {
    type Err = String;

    /// `30/60s`: more than 30 signals within 60 seconds (the window as `60s`, `1m`, `1h`,
    /// `90` seconds or `500ms`).
    fn from_str(text: &str) -> Result<RunawayLimit, String> {
        let bad = |why: &str| format!("{text:?}: {why} (e.g. \"30/60s\", or \"off\")");
        let (signals, window) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| bad("expected SIGNALS/WINDOW"))?;
        let signals: u32 = signals
            .trim()
            .parse()
            .map_err(|_| bad("the number of signals is not a whole number"))?;
        if signals < 2 {
            return Err(bad("the number of signals must be at least 2"));
        }
        let window = window.trim();
        let (number, unit_ms) = if let Some(n) = window.strip_suffix("ms") {
            (n, 1.0)
        } else if let Some(n) = window.strip_suffix('s') {
            (n, 1000.0)
        } else if let Some(n) = window.strip_suffix('m') {
            (n, 60_000.0)
        } else if let Some(n) = window.strip_suffix('h') {
            (n, 3_600_000.0)
        } else {
            (window, 1000.0)
        };
        let window_ms = number
            .trim()
            .parse::<f64>()
            .ok()
            .map(|n| n * unit_ms)
            .filter(|ms| ms.is_finite() && *ms >= 1.0 && *ms <= 86_400_000.0)
            .ok_or_else(|| bad("the window must be a duration from 1ms to 24h"))?;
        Ok(RunawayLimit {
            signals,
            window_ms: window_ms.round() as Millis,
        })
    }
}

/// Reads a runaway limit as a configuration gives it: `30/60s`, or `off` for none.
pub fn parse_runaway(text: &str) -> Result<Option<RunawayLimit>, String> {
    match text.trim() {
        "off" | "none" => Ok(None),
        other => other.parse().map(Some),
    }
}

/// What an account's latest signal changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Within the limit.
    Normal,
    /// Over it: this signal and the next are grouped.
    Runaway,
    /// This signal took the account over the limit.
    RanAway,
}

/// The recent signals of one account: enough of their times to tell whether it is over
/// the limit, and when it will have calmed down. O(1) per signal.
#[derive(Debug, Clone)]
pub struct Rate {
    /// The latest `limit.signals + 1` signal times, oldest first.
    recent: VecDeque<Millis>,
    runaway: bool,
    /// Signals before this time are not known here (the count started then).
    since: Millis,
}

impl Rate {
    /// A count that starts at `since`.
    pub fn new(since: Millis) -> Rate {
        Rate {
            recent: VecDeque::new(),
            runaway: false,
            since,
        }
    }

    /// An account already known to be running away (its trouble item is open), with
    /// nothing counted since `since`.
    pub fn runaway_since(since: Millis) -> Rate {
        Rate {
            runaway: true,
            ..Rate::new(since)
        }
    }

    pub fn is_runaway(&self) -> bool {
        self.runaway
    }

    /// The latest signal time counted.
    pub fn last(&self) -> Option<Millis> {
        self.recent.back().copied()
    }

    /// Counts a signal at `now`.
    pub fn record(&mut self, now: Millis, limit: RunawayLimit) -> Pace {
        self.recent.push_back(now);
        while self.recent.len() > limit.signals as usize + 1 {
            self.recent.pop_front();
        }
        if self.runaway {
            return Pace::Runaway;
        }
        let over = self.recent.len() > limit.signals as usize
            && self
                .recent
                .front()
                .is_some_and(|first| now - first < limit.window_ms);
        if over {
            self.runaway = true;
            Pace::RanAway
        } else {
            Pace::Normal
        }
    }

    /// When a runaway account will have calmed down if it sends nothing more: a whole
    /// window after counting started and after the signal that leaves at most half the
    /// limit in the window. `None` when it is not running away.
    pub fn calm_at(&self, limit: RunawayLimit) -> Option<Millis> {
        if !self.runaway {
            return None;
        }
        let keep = limit.calm();
        let start = match self.recent.len().checked_sub(keep + 1) {
            Some(i) => self.recent[i].max(self.since),
            None => self.since,
        };
        Some(start + limit.window_ms)
    }

    /// Whether the account has calmed down by `now`; it then counts as normal again.
    pub fn calm(&mut self, now: Millis, limit: RunawayLimit) -> bool {
        if self.calm_at(limit).is_some_and(|at| at <= now) {
            self.runaway = false;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: RunawayLimit = RunawayLimit {
        signals: 4,
        window_ms: 10_000,
    };

    #[test]
    fn more_than_the_limit_within_the_window_runs_away() {
        let mut rate = Rate::new(0);
        for at in [0, 1_000, 2_000, 3_000] {
            assert_eq!(rate.record(at, LIMIT), Pace::Normal, "{at}");
        }
        assert_eq!(
            rate.record(9_999, LIMIT),
            Pace::RanAway,
            "the fifth within 10 s"
        );
        assert_eq!(rate.record(20_000, LIMIT), Pace::Runaway);
    }

    #[test]
    fn the_limit_spread_over_more_than_the_window_is_normal() {
        let mut rate = Rate::new(0);
        for at in (0..100).map(|i| i * 2_500) {
            assert_eq!(rate.record(at, LIMIT), Pace::Normal, "{at}");
        }
    }

    #[test]
    fn calm_after_a_window_with_at_most_half_the_limit() {
        let mut rate = Rate::new(0);
        for at in 0..5 {
            rate.record(at * 100, LIMIT);
        }
        assert!(rate.is_runaway());
        // The last three signals are at 200, 300, 400: two may stay in the window.
        assert_eq!(rate.calm_at(LIMIT), Some(10_200));
        assert!(!rate.calm(10_199, LIMIT));
        rate.record(10_000, LIMIT);
        assert_eq!(
            rate.calm_at(LIMIT),
            Some(10_300),
            "a later signal puts it off"
        );
        assert!(rate.calm(10_300, LIMIT));
        assert!(!rate.is_runaway());
        assert_eq!(rate.calm_at(LIMIT), None);
    }

    #[test]
    fn a_runaway_taken_over_calms_a_window_after_counting_started() {
        let mut rate = Rate::runaway_since(50_000);
        assert_eq!(rate.calm_at(LIMIT), Some(60_000));
        assert_eq!(rate.record(55_000, LIMIT), Pace::Runaway);
        assert_eq!(
            rate.calm_at(LIMIT),
            Some(60_000),
            "one signal is within half"
        );
        assert!(rate.calm(60_000, LIMIT));
    }

    #[test]
    fn limits_parse_and_print() {
        assert_eq!(parse_runaway("30/60s"), Ok(Some(RunawayLimit::default())));
        assert_eq!(parse_runaway("30/1m"), Ok(Some(RunawayLimit::default())));
        assert_eq!(
            parse_runaway(" 30 / 60 "),
            Ok(Some(RunawayLimit::default()))
        );
        assert_eq!(parse_runaway("off"), Ok(None));
        assert_eq!(RunawayLimit::default().to_string(), "30/60s");
        assert_eq!(
            "10/500ms".parse::<RunawayLimit>(),
            Ok(RunawayLimit {
                signals: 10,
                window_ms: 500
            })
        );
        for bad in ["30", "x/60s", "1/60s", "30/0s", "30/-5s", "30/2d", "30/48h"] {
            let err = parse_runaway(bad).unwrap_err();
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }
}
