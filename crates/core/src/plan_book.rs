//! Which plan an alarm runs (issue 14, item 2; docs/plans.md, "Where a plan applies"): the
//! most specific set that has a plan for the alarm's kind and mode — the account's, then its
//! dealer's, then the center's default — else the built-in plan. Each alarm records the set
//! and version it ran in its spec.

use crate::kind::{AlarmKind, Mode};
use crate::plan::Plan;
use crate::plan_file::{PlanRef, PlanSet};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The center's plan sets and where each applies. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanBook {
    center: Option<Arc<PlanSet>>,
    dealers: BTreeMap<String, Arc<PlanSet>>,
    accounts: BTreeMap<String, Arc<PlanSet>>,
}

impl PlanBook {
    /// A book whose center default is `set` (already checked: `PlanSet::parse`).
    pub fn with_default(set: PlanSet) -> PlanBook {
        PlanBook {
            center: Some(Arc::new(set)),
            ..PlanBook::default()
        }
    }

    /// The center's default set, if one applies.
    pub fn default_set(&self) -> Option<&PlanSet> {
        self.center.as_deref()
    }

    pub fn set_center(&mut self, set: Arc<PlanSet>) {
        self.center = Some(set);
    }

    /// `set` applies to the accounts of dealer `id`.
    pub fn set_dealer(&mut self, id: &str, set: Arc<PlanSet>) {
        self.dealers.insert(id.to_string(), set);
    }

    /// `set` applies to account `number` (as stored: upper case).
    pub fn set_account(&mut self, number: &str, set: Arc<PlanSet>) {
        self.accounts.insert(number.to_string(), set);
    }

    /// The plan for a `kind` alarm in `mode` at `account` (of `dealer`, if it has one), and
    /// the set it comes from (`None`: built in). `None` as a whole in self-monitored mode,
    /// where no plan runs.
    pub fn resolve(
        &self,
        account: &str,
        dealer: Option<&str>,
        kind: AlarmKind,
        mode: Mode,
    ) -> Option<(Plan, Option<PlanRef>)> {
        let sets = [
            self.accounts.get(account),
            dealer.and_then(|d| self.dealers.get(d)),
            self.center.as_ref(),
        ];
        for set in sets.into_iter().flatten() {
            if let Some(plan) = set.plan(kind, mode) {
                return Some((plan.clone(), Some(set.reference())));
            }
        }
        Plan::builtin(kind, mode).map(|plan| (plan, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, kinds: &[AlarmKind]) -> Arc<PlanSet> {
        let mut set = PlanSet::builtin(kinds);
        set.name = name.into();
        set.practice.clear();
        Arc::new(set)
    }

    #[test]
    fn the_most_specific_set_with_a_plan_for_the_kind_wins() {
        let mut book = PlanBook::default();
        book.set_center(set("center", &[AlarmKind::Fire, AlarmKind::Burglary]));
        book.set_dealer(
            "D1",
            set("dealer", &[AlarmKind::Burglary, AlarmKind::Panic]),
        );
        book.set_account("4F39", set("account", &[AlarmKind::Panic]));
        let from = |account, dealer, kind| {
            book.resolve(account, dealer, kind, Mode::Professional)
                .unwrap()
                .1
                .map(|r| r.name)
        };
        assert_eq!(
            from("4F39", Some("D1"), AlarmKind::Panic).as_deref(),
            Some("account")
        );
        assert_eq!(
            from("4F39", Some("D1"), AlarmKind::Burglary).as_deref(),
            Some("dealer")
        );
        assert_eq!(
            from("4F39", Some("D1"), AlarmKind::Fire).as_deref(),
            Some("center")
        );
        assert_eq!(from("4F39", Some("D1"), AlarmKind::Water), None);
        assert_eq!(from("1234", None, AlarmKind::Panic), None);
        assert_eq!(
            from("1234", None, AlarmKind::Burglary).as_deref(),
            Some("center")
        );
        // Practice plans the sets leave out are the built-in ones.
        let practice = book.resolve("4F39", Some("D1"), AlarmKind::Panic, Mode::Practice);
        assert_eq!(practice.unwrap().1, None);
        assert!(
            book.resolve("4F39", None, AlarmKind::Panic, Mode::SelfMonitored)
                .is_none()
        );
    }
}
