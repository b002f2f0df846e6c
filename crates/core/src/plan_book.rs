//! Which plan an alarm runs (issue 14, item 2; docs/plans.md, "Where a plan applies"): the
//! center's default plan set where it has a plan for the alarm's kind and mode, else the
//! built-in plan. Each alarm records the set and version it ran in its spec.

use crate::kind::{AlarmKind, Mode};
use crate::plan::Plan;
use crate::plan_file::{PlanRef, PlanSet};
use std::sync::Arc;

/// The center's plan sets. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanBook {
    default: Option<Arc<PlanSet>>,
}

impl PlanBook {
    /// A book whose default is `set` (already checked: `PlanSet::parse`).
    pub fn with_default(set: PlanSet) -> PlanBook {
        PlanBook {
            default: Some(Arc::new(set)),
        }
    }

    /// The center's default set, if one is loaded.
    pub fn default_set(&self) -> Option<&PlanSet> {
        self.default.as_deref()
    }

    /// The plan for `kind` in `mode`, and the set it comes from (`None`: built in). `None`
    /// as a whole in self-monitored mode, where no plan runs.
    pub fn resolve(&self, kind: AlarmKind, mode: Mode) -> Option<(Plan, Option<PlanRef>)> {
        if let Some(set) = &self.default
            && let Some(plan) = set.plan(kind, mode)
        {
            return Some((plan.clone(), Some(set.reference())));
        }
        Plan::builtin(kind, mode).map(|plan| (plan, None))
    }
}
