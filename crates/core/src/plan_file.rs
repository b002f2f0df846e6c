//! Plan files: a named, versioned set of response plans, one per alarm kind and mode, in TOML
//! (docs/plans.md). Every plan is checked against the guard rails (`crate::plan_rules`) when
//! the file is read; unknown keys are refused, since a misspelt branch would silently change
//! what happens.

use crate::kind::{AlarmKind, Mode};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A plan set as written: `name`, `version`, `description`, then `[professional.KIND]` and
/// `[practice.KIND]` tables, each a whole `Plan`. A kind or mode it leaves out falls through
/// to the next level (the center's default set, then the built-in plans).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSet {
    /// Lower-case letters, digits and `-`, 1 to 32: how accounts and the center name it.
    pub name: String,
    /// Recorded with every alarm that runs one of its plans (`name v3`); at least 1.
    #[serde(default = "first_version")]
    pub version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub professional: BTreeMap<AlarmKind, Plan>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub practice: BTreeMap<AlarmKind, Plan>,
}

fn first_version() -> u32 {
    1
}

/// Which plan an alarm ran: its set's name and version (`None` in an alarm's spec: built in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRef {
    pub name: String,
    pub version: u32,
}

impl std::fmt::Display for PlanRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} v{}", self.name, self.version)
    }
}

impl PlanSet {
    /// Reads a plan file's text. Errors name the key (`professional.burglary.steps[0]`) and the
    /// rule or the reason; the caller adds the file's name.
    pub fn parse(text: &str) -> Result<PlanSet, String> {
        let (set, unknown): (PlanSet, _) = crate::toml_file::read(text)?;
        if let Some(key) = unknown.first() {
            return Err(key.replace("unknown key, ignored", "unknown key"));
        }
        // Keys inside a step that no step has: serde's tagged steps cannot refuse them.
        let written: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
        let read = toml::Value::try_from(&set).map_err(|e| e.to_string())?;
        if let Some(key) = unread_key(&written, &read, "") {
            return Err(format!("{key}: unknown key"));
        }
        set.check()?;
        Ok(set)
    }

    /// The set's name, version and every plan against the guard rails.
    pub fn check(&self) -> Result<(), String> {
        let name_ok = (1..=32).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(format!(
                "name: {:?} must be 1 to 32 lower-case letters, digits or '-'",
                self.name
            ));
        }
        if self.version == 0 {
            return Err("version: counts from 1".into());
        }
        for (mode, plans) in [
            (Mode::Professional, &self.professional),
            (Mode::Practice, &self.practice),
        ] {
            for (kind, plan) in plans {
                crate::plan_rules::check(*kind, mode, plan)
                    .map_err(|broken| format!("{}.{kind}.{broken}", mode.as_str()))?;
            }
        }
        Ok(())
    }

    /// This set's plan for `kind` in `mode`, if it has one.
    pub fn plan(&self, kind: AlarmKind, mode: Mode) -> Option<&Plan> {
        match mode {
            Mode::Professional => self.professional.get(&kind),
            Mode::Practice => self.practice.get(&kind),
            Mode::SelfMonitored => None,
        }
    }

    pub fn reference(&self) -> PlanRef {
        PlanRef {
            name: self.name.clone(),
            version: self.version,
        }
    }

    /// The set as a plan file (what `watchpost plans show` prints), laid out like the shipped
    /// plans: a table per plan, a `[[MODE.KIND.steps]]` table per top-level step, and
    /// everything within a step (contacts, branches) inline.
    pub fn to_toml(&self) -> String {
        use toml_edit::{ArrayOfTables, Item, Table, Value};
        fn as_table(item: &mut Item) -> Option<&mut Table> {
            if let Item::Value(Value::InlineTable(inline)) = item {
                *item = Item::Table(std::mem::take(inline).into_table());
            }
            item.as_table_mut()
        }
        let mut doc = toml_edit::ser::to_document(self).expect("plans serialise");
        for mode in ["professional", "practice"] {
            let Some(plans) = doc.get_mut(mode).and_then(as_table) else {
                continue;
            };
            plans.set_implicit(true);
            for (_, plan) in plans.iter_mut() {
                let Some(plan) = as_table(plan) else { continue };
                if let Some(messages) = plan.get_mut("messages") {
                    as_table(messages);
                }
                // An empty array of tables would not be written at all: `steps = []` stays.
                let steps = plan.get_mut("steps").and_then(Item::as_array_mut);
                if let Some(steps) = steps.filter(|steps| !steps.is_empty()) {
                    let mut tables = ArrayOfTables::new();
                    for step in std::mem::take(steps).into_iter() {
                        if let Value::InlineTable(step) = step {
                            tables.push(step.into_table());
                        }
                    }
                    plan.insert("steps", Item::ArrayOfTables(tables));
                }
            }
        }
        doc.to_string()
    }

    /// The built-in plans of `kinds` as a set named `builtin`: a starting point to edit.
    pub fn builtin(kinds: &[AlarmKind]) -> PlanSet {
        let of = |mode| {
            kinds
                .iter()
                .filter_map(|kind| Some((*kind, Plan::builtin(*kind, mode)?)))
                .collect()
        };
        PlanSet {
            name: "builtin".into(),
            version: 1,
            description: "The seed's protocols (docs/protocols.md).".into(),
            professional: of(Mode::Professional),
            practice: of(Mode::Practice),
        }
    }
}

/// The first key of `written` (a path, `professional.fire.steps[0].contact`) that reading
/// dropped. A key whose value reads back as the default (`false`, empty) is not dropped.
fn unread_key(written: &toml::Value, read: &toml::Value, at: &str) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match (written, read) {
        (toml::Value::Table(w), toml::Value::Table(r)) => {
            w.iter().find_map(|(key, value)| match r.get(key) {
                Some(back) => unread_key(value, back, &join(key)),
                None if is_default(value) => None,
                None => Some(join(key)),
            })
        }
        (toml::Value::Array(w), toml::Value::Array(r)) => w
            .iter()
            .zip(r)
            .enumerate()
            .find_map(|(i, (value, back))| unread_key(value, back, &format!("{at}[{i}]"))),
        _ => None,
    }
}

fn is_default(value: &toml::Value) -> bool {
    match value {
        toml::Value::Boolean(b) => !b,
        toml::Value::Array(a) => a.is_empty(),
        toml::Value::Table(t) => t.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_plans_read_back_as_written() {
        let all: Vec<AlarmKind> = AlarmKind::ALL.to_vec();
        let set = PlanSet::builtin(&all);
        let text = set.to_toml();
        assert_eq!(PlanSet::parse(&text).unwrap(), set, "{text}");
        assert!(
            text.contains(
                "[[professional.burglary.steps]]\nstep = \"verify\"\ncontacts = { from = 1 }\n"
            ),
            "laid out like the shipped plans: {text}"
        );
        assert!(text.contains("[practice.duress]") && text.contains("steps = []"));
    }

    const ECV: &str = r#"
name = "ecv"
version = 2
[professional.burglary]
agency = "security_responder"
cancel_before_dispatch = ["disarm", "app", "callback"]
cancel_after_dispatch = ["disarm", "app", "callback"]
after_dispatch = "cancel"
quiet_end = { reached = "dispatched", unreached = "dispatched" }
[[professional.burglary.steps]]
step = "verify"
contacts = { from = 1, to = 1 }
cancel = []
dispatch = [{ step = "dispatch" }]
unreached = [{ step = "verify", contacts = { from = 2 }, dispatch = [{ step = "dispatch" }], unreached = [{ step = "dispatch" }] }]
"#;

    #[test]
    fn a_plan_file_reads_with_its_name_and_version() {
        let set = PlanSet::parse(ECV).unwrap();
        assert_eq!(set.reference().to_string(), "ecv v2");
        assert!(set.plan(AlarmKind::Burglary, Mode::Professional).is_some());
        assert!(set.plan(AlarmKind::Burglary, Mode::Practice).is_none());
        assert!(set.plan(AlarmKind::Fire, Mode::Professional).is_none());
    }

    #[test]
    fn a_misspelt_key_anywhere_is_refused_with_its_path() {
        let typo = ECV.replace(
            "unreached = [{ step = \"dispatch\" }] }]",
            "unreachd = [{ step = \"dispatch\" }] }]",
        );
        let e = PlanSet::parse(&typo).unwrap_err();
        assert_eq!(
            e,
            "professional.burglary.steps[0].unreached[0].unreachd: unknown key"
        );
        let e = PlanSet::parse(&ECV.replace("version = 2", "verson = 2")).unwrap_err();
        assert!(e.contains("verson"), "{e}");
        let e = PlanSet::parse(&ECV.replace("[professional.burglary]", "[professional.burglar]"))
            .unwrap_err();
        assert!(e.contains("burglar"), "{e}");
    }

    #[test]
    fn a_missing_or_wrong_value_names_the_kind_it_is_in() {
        // The kinds are map keys: the path must name them, not stop at `professional.?`.
        for (from, to, at) in [
            (
                "agency = \"security_responder\"\n",
                "",
                "professional.burglary: missing field `agency`",
            ),
            (
                "after_dispatch = \"cancel\"",
                "after_dispatch = \"later\"",
                "professional.burglary.after_dispatch: unknown variant `later`",
            ),
        ] {
            let e = PlanSet::parse(&ECV.replace(from, to)).unwrap_err();
            assert!(e.starts_with(at), "{e}");
        }
    }

    #[test]
    fn a_broken_guard_rail_names_the_mode_kind_and_step() {
        let practice = ECV.replace("professional.burglary", "practice.burglary");
        let e = PlanSet::parse(&practice).unwrap_err();
        assert!(
            e.starts_with("practice.burglary.steps[0].unreached[0].unreached[0]: in the practice"),
            "{e}"
        );
        let e = PlanSet::parse(&ECV.replace("name = \"ecv\"", "name = \"E CV\"")).unwrap_err();
        assert!(e.starts_with("name: "), "{e}");
    }
}
