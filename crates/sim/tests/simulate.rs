//! The center simulator: determinism, conservation, PROTOCOLS.md's invariants on every
//! simulated alarm, and the ordering a center owner relies on (more agents never make the
//! queue worse; automation never makes help slower).

use watchpost_core::alarm::{Decision, Purpose};
use watchpost_core::{AlarmKind, Disposition, Mode};
use watchpost_sim::simulate::arrivals::Arrivals;
use watchpost_sim::simulate::config::parse_storm;
use watchpost_sim::simulate::{
    Config, Level, Metric, Volume, population, run_level, run_level_observed, simulate,
};

fn small(seed: u64) -> Config {
    Config {
        seed,
        accounts: 2_000,
        volume: Volume::Alarms(3_000),
        rate_per_hour: 300.0,
        agents: 12,
        storms: vec![parse_storm("1h:1h:x5").unwrap()],
        ..Config::default()
    }
}

#[test]
fn same_seed_same_json() {
    let config = small(7);
    let a = serde_json::to_string(&simulate(&config, &Level::ALL, None)).unwrap();
    let b = serde_json::to_string(&simulate(&config, &Level::ALL, None)).unwrap();
    assert_eq!(a, b);
    let other = serde_json::to_string(&simulate(&small(8), &Level::ALL, None)).unwrap();
    assert_ne!(a, other, "a different seed gives different alarms");
}

#[test]
fn every_alarm_closes_with_one_disposition() {
    let config = small(3);
    let accounts = population::accounts(&config);
    let signals = Arrivals::new(&config).count() as u64;
    assert_eq!(signals, 3_000);
    for level in Level::ALL {
        let mut seen = std::collections::BTreeSet::new();
        let run = run_level_observed(&config, &accounts, level, 12, None, |alarm, record| {
            let (_, disposition) = alarm.closed().expect("closed");
            assert_eq!(disposition, record.disposition);
            assert!(!alarm.is_open());
            assert!(
                seen.insert(record.index),
                "alarm {} closed twice",
                record.index
            );
        });
        assert_eq!(run.records.len() as u64 + run.joined, signals, "{level}");
        assert_eq!(seen.len(), run.records.len());
    }
}

#[test]
fn protocol_invariants_hold_on_every_simulated_alarm() {
    let mut config = small(11);
    config.practice_share = 0.3;
    config.mix = AlarmKind::ALL.iter().map(|k| (*k, 1.0)).collect();
    config.disarm_share = 0.5;
    let accounts = population::accounts(&config);
    let mut checked = 0;
    for level in Level::ALL {
        run_level_observed(&config, &accounts, level, 6, None, |alarm, record| {
            checked += 1;
            let spec = alarm.spec();
            let calls = alarm.calls();
            let dispatches = alarm.dispatches();
            let monitored = spec.plan.is_some();
            match (spec.kind, spec.mode) {
                (AlarmKind::Duress, Mode::Professional) if monitored => {
                    assert!(calls.is_empty(), "duress called someone");
                    assert_eq!(dispatches.len(), 1);
                    assert_eq!(dispatches[0].requested_at, spec.opened_at);
                }
                (AlarmKind::Duress, _) => assert!(calls.is_empty()),
                (AlarmKind::CarbonMonoxide, Mode::Professional) if monitored => {
                    let first = &dispatches[0];
                    assert!(calls.iter().all(|c| c.requested_at >= first.requested_at));
                    assert!(dispatches.iter().all(|d| d.canceled_at.is_none()));
                }
                (AlarmKind::Water | AlarmKind::Freeze, _) => {
                    assert!(dispatches.is_empty());
                    assert!(calls.iter().all(|c| c.purpose == Purpose::Automated));
                    assert!(calls.iter().all(|c| !c.agent_joined));
                    assert_eq!(record.queue_wait, None);
                    assert_eq!(record.agent_ms, 0);
                }
                (AlarmKind::Panic, Mode::Professional) => {
                    if record.disposition == Disposition::CanceledByContact {
                        assert_eq!(calls[0].decision, Some(Decision::Cancel));
                        assert!(dispatches.is_empty());
                    }
                    assert!(dispatches.iter().all(|d| d.canceled_at.is_none()));
                }
                _ => {}
            }
            if spec.mode == Mode::Practice {
                for d in dispatches {
                    assert!(
                        calls.iter().any(|c| c.agent_joined
                            && c.decision == Some(Decision::Dispatch)
                            && c.ended_at == Some(d.requested_at)),
                        "practice alarm dispatched without an agent's decision"
                    );
                }
            }
            if !dispatches.is_empty() && spec.kind != AlarmKind::Duress {
                // A dispatch needs an agent to pass it on.
                assert!(record.dispatch.is_some() && record.agent_ms > 0);
            }
        });
    }
    assert!(checked > 10_000);
}

#[test]
fn more_agents_never_lengthen_the_queue() {
    let config = small(5);
    let accounts = population::accounts(&config);
    for level in [Level::Manual, Level::AutoDial] {
        let mut last = f64::INFINITY;
        for agents in [4, 8, 12, 16, 24, 40] {
            let run = run_level(&config, &accounts, level, agents);
            let summary = watchpost_sim::simulate::summarise(&config, &run);
            let p90 = summary
                .overall
                .metric(Metric::QueueWait)
                .map_or(0.0, |s| s.p90_s);
            assert!(
                p90 <= last,
                "{level}: {agents} agents: p90 queue {p90} > {last}"
            );
            last = p90;
        }
    }
}

#[test]
fn automation_never_slows_help_down() {
    for seed in [1, 2, 3] {
        let mut config = small(seed);
        config.disarm_share = 0.0;
        let results = simulate(&config, &Level::ALL, None);
        let dispatch = |i: usize, kind: AlarmKind| {
            results.levels[i]
                .kind(kind)
                .and_then(|g| g.metric(Metric::Dispatch))
                .cloned()
                .expect("dispatched alarms")
        };
        let manual = dispatch(0, AlarmKind::Burglary);
        let drop = dispatch(1, AlarmKind::Burglary);
        assert!(drop.p50_s <= manual.p50_s && drop.p90_s <= manual.p90_s);
        assert!(drop.p99_s <= manual.p99_s);
        // Electronic dispatch saves about the phone call to the 911 center (2 min).
        let phone = dispatch(2, AlarmKind::Fire);
        let asap = dispatch(3, AlarmKind::Fire);
        assert!(phone.p50_s - asap.p50_s >= 90.0, "{phone:?} vs {asap:?}");
    }
}
