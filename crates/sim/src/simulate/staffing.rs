//! Staffing: the smallest number of agents that meets a target such as
//! `p90 first_call <= 30s` (or `fire p90 dispatch <= 90s`) over the whole run, storms
//! included, found by doubling then bisection on the same generated alarms.

use super::config::{Config, Level, Metric, parse_duration};
use super::stats::{LevelSummary, summarise};
use super::{population, run_levels};
use serde::Serialize;
use watchpost_core::{AlarmKind, Millis};

/// `[KIND] PERCENTILE METRIC <= DURATION`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub text: String,
    pub kind: Option<AlarmKind>,
    pub percentile: String,
    pub metric: Metric,
    pub limit_s: f64,
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(text: &str) -> Result<Target, String> {
        let bad = || {
            format!(
                "a target is [KIND] PERCENTILE METRIC <= DURATION, e.g. \"p90 first_call <= 30s\", not {text:?}"
            )
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let (kind, rest) = match words.first() {
            Some(w) if AlarmKind::ALL.iter().any(|k| k.as_str() == *w) => (
                AlarmKind::ALL.into_iter().find(|k| k.as_str() == *w),
                &words[1..],
            ),
            _ => (None, &words[..]),
        };
        let [percentile, metric, "<=", limit] = rest else {
            return Err(bad());
        };
        if !matches!(*percentile, "p50" | "p90" | "p99" | "max" | "mean") {
            return Err(format!(
                "unknown percentile {percentile:?}: p50 | p90 | p99 | max | mean"
            ));
        }
        let metric = Metric::parse(metric).ok_or_else(bad)?;
        let limit: Millis = parse_duration(limit)?;
        Ok(Target {
            text: text.to_string(),
            kind,
            percentile: percentile.to_string(),
            metric,
            limit_s: limit as f64 / 1000.0,
        })
    }
}

impl Target {
    /// The measured value, or `None` when no alarm has the metric.
    pub fn value(&self, summary: &LevelSummary) -> Option<f64> {
        let group = match self.kind {
            Some(kind) => summary.kind(kind)?,
            None => &summary.overall,
        };
        group.metric(self.metric)?.percentile(&self.percentile)
    }

    pub fn met(&self, summary: &LevelSummary) -> bool {
        self.value(summary).is_none_or(|v| v <= self.limit_s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Staffing {
    pub target: Target,
    pub levels: Vec<StaffedLevel>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaffedLevel {
    pub level: Level,
    /// `None` when even `MAX_AGENTS` agents do not meet the target.
    pub agents: Option<u32>,
    pub value_s: Option<f64>,
}

/// More agents than this are not searched.
pub const MAX_AGENTS: u32 = 4096;

pub fn find_agents(config: &Config, levels: &[Level], target: &Target) -> Staffing {
    let accounts = population::accounts(config);
    let probe = |level: Level, agents: u32| {
        let run = run_levels(config, &accounts, &[level], agents, None)
            .pop()
            .expect("one level");
        summarise(config, &run)
    };
    let levels = levels
        .iter()
        .map(|&level| {
            let (mut lo, mut hi) = (0u32, 1u32);
            let mut best = None;
            loop {
                let s = probe(level, hi);
                if target.met(&s) {
                    best = Some(target.value(&s));
                    break;
                }
                lo = hi;
                if hi >= MAX_AGENTS {
                    break;
                }
                hi = (hi * 2).min(MAX_AGENTS);
            }
            let Some(mut value) = best else {
                return StaffedLevel {
                    level,
                    agents: None,
                    value_s: None,
                };
            };
            // lo fails (or is 0), hi meets.
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let s = probe(level, mid);
                if target.met(&s) {
                    hi = mid;
                    value = target.value(&s);
                } else {
                    lo = mid;
                }
            }
            StaffedLevel {
                level,
                agents: Some(hi),
                value_s: value,
            }
        })
        .collect();
    Staffing {
        target: target.clone(),
        levels,
    }
}
