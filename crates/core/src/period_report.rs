//! The period report (issue 15, item 6): what a period's alarms came to for the center, a
//! dealer or an account — alarms by kind and disposition, false alarms per account, response
//! times, runaway and communication-failure accounts. A pure function of one row of facts per
//! alarm (`AlarmFacts`), which the store reads from the alarms and their logs.

use crate::account::Millis;
use crate::kind::{AlarmKind, Disposition};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the report needs of one alarm, as the store keeps it. Times are ms since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmFacts {
    pub id: i64,
    pub account: String,
    /// `AlarmKind::as_str`.
    pub kind: String,
    /// `Disposition::as_str`; `None` while the alarm is open.
    pub disposition: Option<String>,
    /// When the alarm opened: the time of the signal that opened it.
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
    /// The first call the center placed (`Input::CallPlaced`), callbacks aside.
    pub first_call_at: Option<Millis>,
    /// The first dispatch request (`Action::RequestDispatch`).
    pub first_dispatch_at: Option<Millis>,
    /// The resolution code the handler closed it with (`Input::AgentClose`), if any.
    pub resolution: Option<String>,
    /// A silent (duress) alarm: the center's alone, never shown to a dealer.
    pub silent: bool,
}

/// Dispositions that say the alarm was not real: someone with the right to cancel it did,
/// before or after the dispatch request, or the panel was disarmed during the response.
const FALSE_DISPOSITIONS: [Disposition; 5] = [
    Disposition::CanceledByContact,
    Disposition::CanceledByDisarm,
    Disposition::CanceledByApp,
    Disposition::DispatchCanceled,
    Disposition::DispatchCancelRequested,
];

/// Dispositions of alarms the center did not respond to as alarms: they count in no
/// false-alarm rate.
const NOT_RESPONDED: [Disposition; 2] = [Disposition::OnTest, Disposition::NotMonitored];

/// Resolution codes that say the alarm was false begin with this (`false_user`,
/// `false_equipment`, …, and a center's own `false_…` codes).
pub const FALSE_RESOLUTION_PREFIX: &str = "false_";

fn is_trouble(kind: &str) -> bool {
    kind == AlarmKind::CommFailure.as_str() || kind == AlarmKind::RunawayAccount.as_str()
}

fn disposition_in(facts: &AlarmFacts, set: &[Disposition]) -> bool {
    facts
        .disposition
        .as_deref()
        .is_some_and(|d| set.iter().any(|s| s.as_str() == d))
}

/// Whether the alarm counts in its account's false-alarm rate: a closed alarm (not a trouble
/// condition) that the center responded to, i.e. not on test and monitored.
pub fn counts_for_false_rate(facts: &AlarmFacts) -> bool {
    facts.disposition.is_some()
        && !is_trouble(&facts.kind)
        && !disposition_in(facts, &NOT_RESPONDED)
}

/// `is_false_alarm` and `counts_for_false_rate` in words, for the people who read reports.
pub const FALSE_ALARM_RULE: &str = "An alarm is false when the handler closed it with a \
    false_… resolution code, or, without a code, when a contact, the app or a disarm canceled \
    it, before or after the dispatch request. Rates count closed alarms only; alarms on test \
    or not monitored, and trouble conditions, are not counted.";

/// Whether a counted alarm was false. The handler's resolution code decides when there is
/// one (`false_…` is false, any other code is not); otherwise the disposition does (canceled
/// by a contact, the app or a disarm, or a dispatch canceled).
pub fn is_false_alarm(facts: &AlarmFacts) -> bool {
    counts_for_false_rate(facts)
        && match &facts.resolution {
            Some(code) => code.starts_with(FALSE_RESOLUTION_PREFIX),
            None => disposition_in(facts, &FALSE_DISPOSITIONS),
        }
}

/// How many alarms had one kind, disposition, or both.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `open` for alarms still open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    pub alarms: u64,
}

/// One account's false alarms among its counted alarms (`counts_for_false_rate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FalseAlarms {
    pub account: String,
    pub alarms: u64,
    pub false_alarms: u64,
    /// `false_alarms / alarms`, 0 to 1.
    pub false_rate: f64,
}

/// Median, 90th percentile and maximum of one delay, in seconds, over the alarms that had it
/// (nearest-rank percentiles: each is one of the measured delays).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Times {
    pub alarms: u64,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
    pub max_s: Option<f64>,
}

impl Times {
    /// `delays` in ms, in any order.
    pub fn of(mut delays: Vec<Millis>) -> Times {
        delays.sort_unstable();
        let rank = |p: f64| -> Option<f64> {
            let n = delays.len();
            // Nearest rank: the smallest delay at or above which p of them lie.
            let r = ((p * n as f64).ceil() as usize).clamp(1, n.max(1));
            delays.get(r - 1).map(|ms| *ms as f64 / 1000.0)
        };
        Times {
            alarms: delays.len() as u64,
            median_s: rank(0.5),
            p90_s: rank(0.9),
            max_s: delays.last().map(|ms| *ms as f64 / 1000.0),
        }
    }
}

/// From the opening signal to the first call and to the first dispatch request, over the
/// period's alarms that are not trouble conditions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseTimes {
    pub to_first_call: Times,
    pub to_dispatch: Times,
}

/// An account with trouble alarms of one kind (runaway or communication failure) in the
/// period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TroubleAccount {
    pub account: String,
    pub alarms: u64,
    /// Of those, still open.
    pub open: u64,
    #[serde(serialize_with = "as_rfc3339")]
    pub first_opened_at: Millis,
    #[serde(serialize_with = "as_rfc3339")]
    pub last_opened_at: Millis,
    /// The longest a closed one lasted, in seconds.
    pub longest_s: Option<f64>,
}

/// `at` (ms since the epoch) in RFC 3339, UTC, to the millisecond, as the API writes times.
pub fn rfc3339(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn as_rfc3339<S: serde::Serializer>(at: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*at))
}

/// The whole report. Lists are in a fixed order: counts by `AlarmKind` then `Disposition`
/// order, accounts with the most false alarms first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodReport {
    /// Alarms opened in the period.
    pub alarms: u64,
    /// Of those, still open.
    pub open: u64,
    /// Counted alarms (`counts_for_false_rate`) and the false ones among them.
    pub counted: u64,
    pub false_alarms: u64,
    pub by_kind: Vec<Count>,
    pub by_disposition: Vec<Count>,
    /// Each kind and disposition that occurred together.
    pub by_kind_and_disposition: Vec<Count>,
    pub false_alarms_by_account: Vec<FalseAlarms>,
    pub response_times: ResponseTimes,
    pub runaway_accounts: Vec<TroubleAccount>,
    pub comm_failure_accounts: Vec<TroubleAccount>,
}

/// Whether the report is for the center's own eyes, or may be read by a dealer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Center,
    /// Silent (duress) alarms are left out, as if they never happened.
    Dealer,
}

/// The report of the alarms of `facts` opened in `[from, to)` (ms since the epoch).
pub fn compute(from: Millis, to: Millis, facts: &[AlarmFacts], audience: Audience) -> PeriodReport {
    let alarms: Vec<&AlarmFacts> = facts
        .iter()
        .filter(|f| (from..to).contains(&f.opened_at))
        .filter(|f| audience == Audience::Center || !f.silent)
        .collect();
    let disposition = |f: &AlarmFacts| f.disposition.clone().unwrap_or_else(|| "open".into());
    let mut pairs: BTreeMap<(usize, usize), (String, String, u64)> = BTreeMap::new();
    for f in &alarms {
        let key = (
            kind_order(&f.kind),
            disposition_order(f.disposition.as_deref()),
        );
        pairs
            .entry(key)
            .or_insert_with(|| (f.kind.clone(), disposition(f), 0))
            .2 += 1;
    }
    let by_kind_and_disposition: Vec<Count> = pairs
        .values()
        .map(|(k, d, n)| Count {
            kind: Some(k.clone()),
            disposition: Some(d.clone()),
            alarms: *n,
        })
        .collect();
    let total = |key: fn(&Count) -> Option<String>, order: &dyn Fn(&str) -> usize| {
        let mut sums: BTreeMap<(usize, String), u64> = BTreeMap::new();
        for c in &by_kind_and_disposition {
            let name = key(c).unwrap_or_default();
            *sums.entry((order(&name), name)).or_default() += c.alarms;
        }
        sums.into_iter()
    };
    let by_kind = total(|c| c.kind.clone(), &kind_order)
        .map(|((_, kind), alarms)| Count {
            kind: Some(kind),
            disposition: None,
            alarms,
        })
        .collect();
    let by_disposition = total(|c| c.disposition.clone(), &|d| {
        disposition_order(Some(d).filter(|d| *d != "open"))
    })
    .map(|((_, disposition), alarms)| Count {
        kind: None,
        disposition: Some(disposition),
        alarms,
    })
    .collect();

    let mut per_account: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for f in alarms.iter().filter(|f| counts_for_false_rate(f)) {
        let entry = per_account.entry(&f.account).or_default();
        entry.0 += 1;
        entry.1 += u64::from(is_false_alarm(f));
    }
    let mut false_alarms_by_account: Vec<FalseAlarms> = per_account
        .into_iter()
        .map(|(account, (alarms, false_alarms))| FalseAlarms {
            account: account.to_string(),
            alarms,
            false_alarms,
            false_rate: false_alarms as f64 / alarms as f64,
        })
        .collect();
    false_alarms_by_account.sort_by(|a, b| {
        (b.false_alarms, b.false_rate, &a.account)
            .partial_cmp(&(a.false_alarms, a.false_rate, &b.account))
            .unwrap_or(std::cmp::Ordering::Equal)
    });

    let responded: Vec<&&AlarmFacts> = alarms.iter().filter(|f| !is_trouble(&f.kind)).collect();
    let delays = |at: fn(&AlarmFacts) -> Option<Millis>| {
        Times::of(
            responded
                .iter()
                .filter_map(|f| at(f).map(|t| (t - f.opened_at).max(0)))
                .collect(),
        )
    };
    PeriodReport {
        alarms: alarms.len() as u64,
        open: alarms.iter().filter(|f| f.disposition.is_none()).count() as u64,
        counted: false_alarms_by_account.iter().map(|a| a.alarms).sum(),
        false_alarms: false_alarms_by_account.iter().map(|a| a.false_alarms).sum(),
        by_kind,
        by_disposition,
        by_kind_and_disposition,
        false_alarms_by_account,
        response_times: ResponseTimes {
            to_first_call: delays(|f| f.first_call_at),
            to_dispatch: delays(|f| f.first_dispatch_at),
        },
        runaway_accounts: troubles(&alarms, AlarmKind::RunawayAccount),
        comm_failure_accounts: troubles(&alarms, AlarmKind::CommFailure),
    }
}

/// The accounts with alarms of `kind`, most alarms first.
fn troubles(alarms: &[&AlarmFacts], kind: AlarmKind) -> Vec<TroubleAccount> {
    let mut by_account: BTreeMap<&str, TroubleAccount> = BTreeMap::new();
    for f in alarms.iter().filter(|f| f.kind == kind.as_str()) {
        let t = by_account
            .entry(&f.account)
            .or_insert_with(|| TroubleAccount {
                account: f.account.clone(),
                alarms: 0,
                open: 0,
                first_opened_at: f.opened_at,
                last_opened_at: f.opened_at,
                longest_s: None,
            });
        t.alarms += 1;
        t.open += u64::from(f.closed_at.is_none());
        t.first_opened_at = t.first_opened_at.min(f.opened_at);
        t.last_opened_at = t.last_opened_at.max(f.opened_at);
        if let Some(closed) = f.closed_at {
            let lasted = (closed - f.opened_at) as f64 / 1000.0;
            t.longest_s = Some(t.longest_s.map_or(lasted, |l: f64| l.max(lasted)));
        }
    }
    let mut list: Vec<TroubleAccount> = by_account.into_values().collect();
    list.sort_by(|a, b| {
        b.alarms
            .cmp(&a.alarms)
            .then_with(|| a.account.cmp(&b.account))
    });
    list
}

/// Kinds in the order of `AlarmKind` (troubles last); a kind this version does not know
/// after them all.
fn kind_order(kind: &str) -> usize {
    AlarmKind::ALL
        .iter()
        .chain(&[AlarmKind::CommFailure, AlarmKind::RunawayAccount])
        .position(|k| k.as_str() == kind)
        .unwrap_or(usize::MAX)
}

/// Dispositions in the order of `Disposition`; open alarms last.
fn disposition_order(disposition: Option<&str>) -> usize {
    match disposition {
        None => usize::MAX,
        Some(d) => Disposition::ALL
            .iter()
            .position(|k| k.as_str() == d)
            .unwrap_or(usize::MAX - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(id: i64, account: &str, kind: &str, disposition: Option<&str>) -> AlarmFacts {
        AlarmFacts {
            id,
            account: account.into(),
            kind: kind.into(),
            disposition: disposition.map(str::to_string),
            opened_at: 1_000 * id,
            closed_at: disposition.map(|_| 1_000 * id + 60_000),
            first_call_at: None,
            first_dispatch_at: None,
            resolution: None,
            silent: false,
        }
    }

    #[test]
    fn nearest_rank_percentiles_are_measured_delays() {
        let t = Times::of((1..=10).rev().map(|s| s * 1000).collect());
        assert_eq!(
            (t.alarms, t.median_s, t.p90_s, t.max_s),
            (10, Some(5.0), Some(9.0), Some(10.0))
        );
        let one = Times::of(vec![2_500]);
        assert_eq!(
            (one.median_s, one.p90_s, one.max_s),
            (Some(2.5), Some(2.5), Some(2.5))
        );
        let none = Times::of(vec![]);
        assert_eq!((none.alarms, none.median_s, none.max_s), (0, None, None));
    }

    #[test]
    fn the_resolution_code_decides_before_the_disposition() {
        let mut canceled = alarm(1, "A", "burglary", Some("canceled_by_disarm"));
        assert!(is_false_alarm(&canceled));
        canceled.resolution = Some("actual_burglary".into());
        assert!(!is_false_alarm(&canceled));
        let mut dispatched = alarm(2, "A", "burglary", Some("dispatched"));
        assert!(!is_false_alarm(&dispatched));
        dispatched.resolution = Some("false_equipment".into());
        assert!(is_false_alarm(&dispatched));
        for uncounted in [
            alarm(3, "A", "burglary", Some("on_test")),
            alarm(4, "A", "comm_failure", Some("restored")),
            alarm(5, "A", "burglary", None),
        ] {
            assert!(!counts_for_false_rate(&uncounted), "{uncounted:?}");
        }
    }

    #[test]
    fn accounts_with_most_false_alarms_come_first_and_dealers_never_see_silent_ones() {
        let mut facts = vec![
            alarm(1, "B", "burglary", Some("canceled_by_app")),
            alarm(2, "B", "burglary", Some("dispatched")),
            alarm(3, "A", "fire", Some("canceled_by_contact")),
            alarm(4, "A", "burglary", Some("canceled_by_disarm")),
            alarm(5, "A", "burglary", Some("notified")),
            alarm(6, "C", "comm_failure", None),
            alarm(7, "C", "comm_failure", Some("restored")),
            alarm(8, "D", "duress", Some("dispatched")),
        ];
        facts[7].silent = true;
        facts[1].first_call_at = Some(2_000 + 30_000);
        facts[1].first_dispatch_at = Some(2_000 + 90_000);
        let all = compute(0, 100_000, &facts, Audience::Center);
        let order: Vec<(&str, u64, u64)> = all
            .false_alarms_by_account
            .iter()
            .map(|a| (a.account.as_str(), a.false_alarms, a.alarms))
            .collect();
        assert_eq!(order, [("A", 2, 3), ("B", 1, 2), ("D", 0, 1)]);
        assert_eq!(
            (all.alarms, all.open, all.counted, all.false_alarms),
            (8, 1, 6, 3)
        );
        assert_eq!(all.response_times.to_first_call.median_s, Some(30.0));
        assert_eq!(all.response_times.to_dispatch.max_s, Some(90.0));
        assert_eq!(all.comm_failure_accounts.len(), 1);
        let c = &all.comm_failure_accounts[0];
        assert_eq!((c.alarms, c.open, c.longest_s), (2, 1, Some(60.0)));
        let kinds: Vec<_> = all
            .by_kind
            .iter()
            .map(|c| c.kind.clone().unwrap())
            .collect();
        assert_eq!(kinds, ["burglary", "fire", "duress", "comm_failure"]);
        assert_eq!(
            all.by_disposition.last().unwrap().disposition.as_deref(),
            Some("open")
        );

        let dealer = compute(0, 100_000, &facts, Audience::Dealer);
        assert_eq!(dealer.alarms, 7);
        assert!(
            dealer
                .false_alarms_by_account
                .iter()
                .all(|a| a.account != "D")
        );
        assert!(
            dealer
                .by_kind
                .iter()
                .all(|c| c.kind.as_deref() != Some("duress"))
        );
        let window = compute(2_000, 5_000, &facts, Audience::Center);
        assert_eq!(window.alarms, 3, "from is in the period, to is not");
    }
}
