//! Changing the center's plan sets, for the command line and the API alike (docs/plans.md,
//! "Plans in the center"): a load checks the guard rails, then every scenario the set must
//! keep passing, then writes the next version — only if all hold. A rollback loads an earlier
//! version's text the same way. Which dealer owns a set, by its name.

use watchpost_core::Millis;
use watchpost_core::plan_book::PlanBook;
use watchpost_core::plan_file::PlanSet;
use watchpost_sim::scenario::{Verdict, run_text};
use watchpost_store::{AuditEntry, Db, PlanVersion, RequiredScenario, StoreError};

/// Why a load was refused, in words that name the file's key, the scenario or the race.
pub type Refused = String;

/// The dealer that owns set `name`: the one whose id, in lower case and followed by `-`,
/// begins it (the longest such id); `None` for the center's sets. A dealer's users load only
/// their own sets, and see theirs and the center's.
pub fn owner<'a>(name: &str, dealers: &'a [watchpost_store::Dealer]) -> Option<&'a str> {
    dealers
        .iter()
        .filter(|d| name.starts_with(&format!("{}-", d.id.to_ascii_lowercase())))
        .max_by_key(|d| d.id.len())
        .map(|d| d.id.as_str())
}

/// The scenarios of `required` that do not pass under `set`, each as `name: why`.
pub async fn failing(set: &PlanSet, required: &[RequiredScenario]) -> Vec<String> {
    let book = PlanBook::with_default(set.clone());
    let mut failed = Vec::new();
    for scenario in required {
        let run = run_text(&scenario.name, &scenario.text, &book).await;
        if run.verdict != Verdict::Passed {
            failed.push(format!(
                "{}: {}",
                scenario.name,
                run.report.failures.join("; ")
            ));
        }
    }
    failed
}

/// Checks `text` and stores it as the next version of its set, by `actor` at `now`, with
/// `note` (`loaded`, `rolled back to v2`). The set's required scenarios must all pass.
/// `Ok(Err(why))`: refused, nothing written.
pub async fn load(
    store: &Db,
    text: &str,
    actor: &str,
    now: Millis,
    note: &str,
) -> Result<Result<PlanVersion, Refused>, StoreError> {
    let set = match PlanSet::parse(text) {
        Ok(set) => set,
        Err(e) => return Ok(Err(e)),
    };
    let required = store.required_scenarios(&set.name).await?;
    let failed = failing(&set, &required).await;
    if !failed.is_empty() {
        return Ok(Err(format!(
            "{} would break {} required scenario(s): {}",
            set.name,
            failed.len(),
            failed.join(" | ")
        )));
    }
    let latest = store.plan_versions(&set.name).await?.pop();
    if let Some(same) = latest.as_ref().filter(|v| v.text == text) {
        return Ok(Err(format!(
            "{} v{} is this same file: nothing to load",
            set.name, same.version
        )));
    }
    let next = latest.map_or(1, |v| v.version + 1);
    let version = PlanVersion {
        name: set.name.clone(),
        version: next,
        text: text.to_string(),
        changed_by: actor.to_string(),
        changed_at: now,
        note: note.to_string(),
    };
    if !store.put_plan_version(&version).await? {
        return Ok(Err(format!(
            "another version of {} was loaded at the same moment: load again",
            set.name
        )));
    }
    audit(
        store,
        actor,
        "plan.load",
        &set.name,
        &format!("v{next}: {note}"),
        now,
    )
    .await?;
    Ok(Ok(version))
}

pub async fn audit(
    store: &Db,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    now: Millis,
) -> Result<(), StoreError> {
    store
        .put_audit(&AuditEntry {
            at: now,
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail: detail.into(),
        })
        .await?;
    Ok(())
}

/// The version before the latest of set `name` (or version `to`), to load again; `Err` says
/// why there is none, naming `to`.
pub async fn earlier(
    store: &Db,
    name: &str,
    to: Option<u32>,
) -> Result<Result<PlanVersion, Refused>, StoreError> {
    let versions = store.plan_versions(name).await?;
    let latest = versions.last().map_or(0, |v| v.version);
    let target = to.unwrap_or(latest.saturating_sub(1));
    Ok(versions
        .into_iter()
        .find(|v| v.version == target && target < latest)
        .ok_or_else(|| format!("to: {name} has no version {target} before its latest (v{latest})")))
}
