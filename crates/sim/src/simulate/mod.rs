//! The center simulator (`watchpost simulate`): generated accounts and alarms played through
//! the real engine in virtual time, with simulated people, telephony and a limited pool of
//! agents, at one or several automation levels on the same alarms. It answers a center
//! owner's question: with N agents, in a storm, with this much automation, how fast does help
//! arrive?
//!
//! `config` holds the options, `population` and `arrivals` generate the center and its
//! alarms, `center` runs one level, `stats` reduces it, `table` prints it for people.

pub mod arrivals;
pub mod center;
pub mod config;
pub mod html;
pub mod population;
pub mod staffing;
pub mod stats;
pub mod table;

pub use center::{LevelRun, Record, run_level, run_level_observed};
pub use config::{Config, Level, Metric, Storm, Threshold, Volume};
pub use stats::{LevelSummary, Stats, summarise};

use serde::Serialize;
use std::sync::atomic::AtomicU64;
use watchpost_core::Account;

/// What `watchpost simulate --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    pub options: Config,
    /// Alarm signals generated (the same for every level).
    pub signals: u64,
    pub levels: Vec<LevelSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staffing: Option<staffing::Staffing>,
}

/// Runs each level on the same generated accounts and alarms, on up to two threads (levels
/// are independent, so the results do not depend on the threads).
pub fn simulate(config: &Config, levels: &[Level], progress: Option<&AtomicU64>) -> Results {
    let accounts = population::accounts(config);
    let runs = run_levels(config, &accounts, levels, config.agents, progress);
    let signals = runs
        .first()
        .map_or(0, |r| r.records.len() as u64 + r.joined);
    Results {
        options: config.clone(),
        signals,
        levels: runs.iter().map(|r| summarise(config, r)).collect(),
        staffing: None,
    }
}

/// Runs `levels` with `agents` each, in parallel when the machine has the cores.
pub fn run_levels(
    config: &Config,
    accounts: &[Account],
    levels: &[Level],
    agents: u32,
    progress: Option<&AtomicU64>,
) -> Vec<LevelRun> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(levels.len())
        .max(1);
    if threads == 1 {
        return levels
            .iter()
            .map(|l| run_level_observed(config, accounts, *l, agents, progress, |_, _| {}))
            .collect();
    }
    let mut out: Vec<Option<LevelRun>> = vec![None; levels.len()];
    let next = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as usize;
                        let Some(level) = levels.get(i) else { break };
                        done.push((
                            i,
                            run_level_observed(
                                config,
                                accounts,
                                *level,
                                agents,
                                progress,
                                |_, _| {},
                            ),
                        ));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            for (i, run) in h.join().expect("a level run panicked") {
                out[i] = Some(run);
            }
        }
    });
    out.into_iter()
        .map(|r| r.expect("every level ran"))
        .collect()
}
