//! Loading a plan set into the center's store (docs/plans.md, "Plans in the center"): the
//! guard rails, then every scenario the set must keep passing, then the next version —
//! written only if all hold. Rolling back loads an earlier version's text the same way.

use watchpost_core::Millis;
use watchpost_core::plan_book::PlanBook;
use watchpost_core::plan_file::PlanSet;
use watchpost_sim::scenario::{Verdict, run_text};
use watchpost_store::{AuditEntry, Db, PlanVersion, RequiredScenario};

/// Why a load was refused, in words that name the file's key, the scenario or the race.
pub type Refused = String;

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
pub async fn load(
    store: &Db,
    text: &str,
    actor: &str,
    now: Millis,
    note: &str,
) -> anyhow::Result<Result<PlanVersion, Refused>> {
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
) -> anyhow::Result<()> {
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
