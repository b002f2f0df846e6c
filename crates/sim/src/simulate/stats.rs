//! A level's records reduced to what a center owner reads: percentiles of each interval per
//! alarm kind and overall, queue wait, agent utilisation, dispositions, threshold breaches and
//! queue depth over time. Every map is emitted in a fixed order, so the JSON is byte-stable.

use super::center::{DEPTH_BUCKET_MS, LevelRun, Record};
use super::config::{Config, Level, Metric, Threshold};
use serde::{Serialize, Serializer};
use watchpost_core::{AlarmKind, Disposition, Millis};

/// Percentiles of one interval, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub count: u64,
    pub mean_s: f64,
    pub p50_s: f64,
    pub p90_s: f64,
    pub p99_s: f64,
    pub max_s: f64,
}

impl Stats {
    /// Nearest-rank percentiles of `values` (milliseconds); sorts them.
    pub fn of(values: &mut [Millis]) -> Option<Stats> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let n = values.len();
        let rank = |p: f64| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        let secs = |ms: Millis| ms as f64 / 1000.0;
        let sum: i128 = values.iter().map(|v| *v as i128).sum();
        Some(Stats {
            count: n as u64,
            mean_s: (sum as f64 / n as f64).round() / 1000.0,
            p50_s: secs(rank(0.50)),
            p90_s: secs(rank(0.90)),
            p99_s: secs(rank(0.99)),
            max_s: secs(values[n - 1]),
        })
    }

    pub fn percentile(&self, name: &str) -> Option<f64> {
        Some(match name {
            "p50" => self.p50_s,
            "p90" => self.p90_s,
            "p99" => self.p99_s,
            "max" => self.max_s,
            "mean" => self.mean_s,
            _ => return None,
        })
    }
}

/// One group of alarms (a kind, or all of them).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub alarms: u64,
    /// Per metric; a metric no alarm of the group has is left out.
    #[serde(serialize_with = "ordered_map")]
    pub metrics: Vec<(Metric, Stats)>,
    #[serde(serialize_with = "ordered_map")]
    pub dispositions: Vec<(Disposition, u64)>,
}

impl Group {
    pub fn metric(&self, metric: Metric) -> Option<&Stats> {
        self.metrics
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, s)| s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub kind: AlarmKind,
    pub metric: Metric,
    pub limit_s: f64,
    /// Alarms of the kind that have the metric (e.g. fires dispatched).
    pub of: u64,
    pub breached: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueSummary {
    pub max_depth: u32,
    pub bucket_s: u64,
    /// Longest queue in each bucket, from the run's start.
    pub depth: Vec<u32>,
}

/// What one level produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelSummary {
    pub level: Level,
    pub agents: u32,
    pub alarms: u64,
    /// Signals that joined an open alarm of their kind.
    pub joined: u64,
    pub simulated_hours: f64,
    /// Agent time used over agent time available, from the first signal to the last event.
    pub utilisation: f64,
    pub overall: Group,
    #[serde(serialize_with = "ordered_map")]
    pub by_kind: Vec<(AlarmKind, Group)>,
    pub breaches: Vec<Breach>,
    pub queue: QueueSummary,
}

impl LevelSummary {
    pub fn kind(&self, kind: AlarmKind) -> Option<&Group> {
        self.by_kind
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, g)| g)
    }
}

fn ordered_map<S: Serializer, K: Serialize, V: Serialize>(
    pairs: &[(K, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

fn metric_of(r: &Record, m: Metric) -> Option<Millis> {
    match m {
        Metric::FirstCall => r.first_call,
        Metric::Reached => r.reached,
        Metric::Dispatch => r.dispatch,
        Metric::Closed => Some(r.closed),
        Metric::QueueWait => r.queue_wait,
    }
}

fn group<'a>(records: impl Iterator<Item = &'a Record> + Clone) -> Group {
    let mut metrics = Vec::new();
    for m in Metric::ALL {
        let mut values: Vec<Millis> = records.clone().filter_map(|r| metric_of(r, m)).collect();
        if let Some(stats) = Stats::of(&mut values) {
            metrics.push((m, stats));
        }
    }
    let mut counts = [0u64; Disposition::ALL.len()];
    let mut alarms = 0;
    for r in records {
        alarms += 1;
        let i = Disposition::ALL
            .iter()
            .position(|d| *d == r.disposition)
            .expect("every disposition is listed");
        counts[i] += 1;
    }
    Group {
        alarms,
        metrics,
        dispositions: Disposition::ALL
            .into_iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .collect(),
    }
}

fn breach(records: &[Record], t: &Threshold) -> Breach {
    let values = records
        .iter()
        .filter(|r| r.kind == t.kind)
        .filter_map(|r| metric_of(r, t.metric));
    let (mut of, mut breached) = (0, 0);
    for v in values {
        of += 1;
        breached += u64::from(v > t.limit);
    }
    Breach {
        kind: t.kind,
        metric: t.metric,
        limit_s: t.limit as f64 / 1000.0,
        of,
        breached,
    }
}

pub fn summarise(config: &Config, run: &LevelRun) -> LevelSummary {
    let records = &run.records;
    let first = records.iter().map(|r| r.signal).min().unwrap_or(0);
    let span = (run.end - first).max(1);
    let available = span as f64 * run.agents.max(1) as f64;
    let utilisation = (run.agent_busy_ms as f64 / available * 10_000.0).round() / 10_000.0;
    let mut kinds: Vec<AlarmKind> = records.iter().map(|r| r.kind).collect();
    kinds.sort();
    kinds.dedup();
    LevelSummary {
        level: run.level,
        agents: run.agents,
        alarms: records.len() as u64,
        joined: run.joined,
        simulated_hours: (run.end as f64 / 3_600_000.0 * 1000.0).round() / 1000.0,
        utilisation,
        overall: group(records.iter()),
        by_kind: kinds
            .into_iter()
            .map(|k| (k, group(records.iter().filter(move |r| r.kind == k))))
            .collect(),
        breaches: config
            .thresholds
            .iter()
            .map(|t| breach(records, t))
            .collect(),
        queue: QueueSummary {
            max_depth: run.queue_depth.iter().copied().max().unwrap_or(0),
            bucket_s: (DEPTH_BUCKET_MS / 1000) as u64,
            depth: run.queue_depth.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<Millis> = (1..=100).map(|s| s * 1000).collect();
        let s = Stats::of(&mut v).unwrap();
        assert_eq!(
            (s.p50_s, s.p90_s, s.p99_s, s.max_s),
            (50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(s.mean_s, 50.5);
        assert!(Stats::of(&mut []).is_none());
    }
}
