//! Plan sets kept in the store (issue 14, items 2 and 4; docs/plans.md): every version of
//! every set with who changed it and when (a version is never changed or removed, so every
//! alarm's plan stays readable), which set applies where, and the scenarios a set must keep
//! passing.

use crate::Result;
use async_trait::async_trait;
use watchpost_core::Millis;

/// One version of a plan set: the plan file's text as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub name: String,
    /// From 1, one more at each change.
    pub version: u32,
    /// The plan file (TOML), with `version` as stored.
    pub text: String,
    /// `cli:<os user>`, `admin:<name>`, `config` (loaded at start from `alarms.plans`).
    pub changed_by: String,
    /// ms since the epoch.
    pub changed_at: Millis,
    /// In words: `loaded`, `rolled back to v2`.
    pub note: String,
}

/// Where a set applies: the center's default, a dealer's accounts, one account. Stored as
/// `center`, `dealer:ID`, `account:NUMBER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlanScope {
    Center,
    Dealer(String),
    Account(String),
}

impl PlanScope {
    pub fn key(&self) -> String {
        match self {
            PlanScope::Center => "center".into(),
            PlanScope::Dealer(id) => format!("dealer:{id}"),
            PlanScope::Account(number) => format!("account:{number}"),
        }
    }

    pub fn parse(key: &str) -> Option<PlanScope> {
        match key.split_once(':') {
            None if key == "center" => Some(PlanScope::Center),
            Some(("dealer", id)) => Some(PlanScope::Dealer(id.into())),
            Some(("account", number)) => Some(PlanScope::Account(number.into())),
            _ => None,
        }
    }
}

impl std::fmt::Display for PlanScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanScope::Center => write!(f, "the center"),
            PlanScope::Dealer(id) => write!(f, "dealer {id}"),
            PlanScope::Account(number) => write!(f, "account {number}"),
        }
    }
}

/// A scenario a set must keep passing: its name (the file's) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredScenario {
    pub plan: String,
    pub name: String,
    pub text: String,
}

#[async_trait]
pub trait Plans: Send + Sync {
    /// Adds `version` if it is the next of its set (1 for a new set): false, writing
    /// nothing, when another version got there first.
    async fn put_plan_version(&self, version: &PlanVersion) -> Result<bool>;
    /// Every version of a set, oldest first.
    async fn plan_versions(&self, name: &str) -> Result<Vec<PlanVersion>>;
    /// The latest version of every set, by name.
    async fn latest_plans(&self) -> Result<Vec<PlanVersion>>;
    /// Applies set `plan` at `scope`, or (`None`) stops applying any there.
    async fn assign_plan(&self, scope: &PlanScope, plan: Option<&str>) -> Result<()>;
    /// Every assignment, by scope key.
    async fn plan_assignments(&self) -> Result<Vec<(PlanScope, String)>>;
    /// Adds or replaces a required scenario of a set.
    async fn put_required_scenario(&self, scenario: &RequiredScenario) -> Result<()>;
    /// A set's required scenarios, by name.
    async fn required_scenarios(&self, plan: &str) -> Result<Vec<RequiredScenario>>;
    /// A number that changes whenever a version, an assignment or a required scenario is
    /// added or changed: nodes poll it to reload their plans.
    async fn plans_stamp(&self) -> Result<i64>;
}
