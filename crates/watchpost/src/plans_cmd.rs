//! `watchpost plans show [KIND...]` writes the built-in plans out as a plan file to start from;
//! `watchpost plans check FILE... [--scenarios DIR]...` checks plan files against the guard
//! rails and plays a scenario library under each (exit status 0 all good, 1 a scenario failed
//! under a plan, 2 a plan file or a scenario file was refused). The rest work on the center's
//! database: `load`, `list`, `history`, `get`, `rollback`, `assign`, `unassign`, `require`
//! (docs/plans.md, "Plans in the center"); each change is audited.

use crate::database;
use crate::scenario_cmd::run_files;
use crate::users_cmd::{Db, actor, time};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use watchpost_core::AlarmKind;
use watchpost_core::plan_book::PlanBook;
use watchpost_core::plan_file::PlanSet;
use watchpost_server::plan_changes::{audit, earlier, failing, load};
use watchpost_sim::scenario::Verdict;
use watchpost_store::{PlanScope, RequiredScenario};

#[derive(Subcommand)]
pub enum PlansCommand {
    /// Print the built-in plans of these kinds (all when none is named) as a plan file.
    Show {
        /// burglary, fire, carbon_monoxide, panic, duress, medical, water, freeze,
        /// comm_failure, runaway_account.
        #[arg(value_name = "KIND", value_parser = kind)]
        kinds: Vec<AlarmKind>,
    },
    /// Check plan files and play scenarios under each.
    Check {
        #[arg(required = true, value_name = "PLAN_FILE")]
        files: Vec<PathBuf>,
        /// A scenario file, or a folder of them (every `*.toml` in it); repeatable.
        #[arg(long, value_name = "DIR")]
        scenarios: Vec<PathBuf>,
        /// Scenario reports as JSON lines (docs/scenarios.md) instead of words.
        #[arg(long)]
        json: bool,
    },
    /// Load a plan file into the center as the next version of its set: checked against the
    /// guard rails and the set's required scenarios first. Running nodes pick it up within
    /// seconds.
    Load {
        #[arg(value_name = "PLAN_FILE")]
        file: PathBuf,
        #[command(flatten)]
        db: Db,
    },
    /// The center's plan sets: latest version, who loaded it and when, where each applies.
    List {
        #[command(flatten)]
        db: Db,
    },
    /// Every version of a set, with who loaded it, when and why.
    History {
        name: String,
        #[command(flatten)]
        db: Db,
    },
    /// Print a version of a set as it was loaded (the latest by default).
    Get {
        name: String,
        #[arg(long)]
        version: Option<u32>,
        #[command(flatten)]
        db: Db,
    },
    /// Make an earlier version (the one before the latest by default) the latest again, as a
    /// new version: the history keeps everything.
    Rollback {
        name: String,
        #[arg(long, value_name = "VERSION")]
        to: Option<u32>,
        #[command(flatten)]
        db: Db,
    },
    /// Apply a set to the center (its default), a dealer's accounts or one account.
    Assign {
        name: String,
        #[command(flatten)]
        scope: Scope,
        #[command(flatten)]
        db: Db,
    },
    /// Stop applying any set there (the next level's plans apply).
    Unassign {
        #[command(flatten)]
        scope: Scope,
        #[command(flatten)]
        db: Db,
    },
    /// Mark scenario files as required of a set: each must pass under its latest version
    /// now, and every later version (and rollback) is refused if it breaks one.
    Require {
        name: String,
        #[arg(required = true, value_name = "SCENARIO_FILE")]
        files: Vec<PathBuf>,
        #[command(flatten)]
        db: Db,
    },
}

/// Where a set applies: exactly one of these.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct Scope {
    /// The center's default.
    #[arg(long)]
    center: bool,
    /// A dealer's accounts.
    #[arg(long, value_name = "ID")]
    dealer: Option<String>,
    /// One account.
    #[arg(long, value_name = "NUMBER")]
    account: Option<String>,
}

impl Scope {
    fn scope(&self) -> PlanScope {
        match (&self.dealer, &self.account) {
            (Some(id), _) => PlanScope::Dealer(id.to_ascii_uppercase()),
            (_, Some(number)) => PlanScope::Account(number.to_ascii_uppercase()),
            _ => PlanScope::Center,
        }
    }
}

fn kind(text: &str) -> Result<AlarmKind, String> {
    AlarmKind::ALL
        .into_iter()
        .chain([AlarmKind::CommFailure, AlarmKind::RunawayAccount])
        .find(|k| k.as_str() == text)
        .ok_or_else(|| format!("{text:?} is not an alarm kind"))
}

/// Reads and checks one plan file; the error starts with the file's name.
pub fn read(path: &Path) -> Result<PlanSet, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the plan file: {e}", path.display()))?;
    PlanSet::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn refused(message: String) -> anyhow::Result<ExitCode> {
    err!("{message}");
    Ok(ExitCode::from(2))
}

pub async fn run(command: PlansCommand) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_millis();
    match command {
        PlansCommand::Show { kinds } => {
            let kinds = if kinds.is_empty() {
                AlarmKind::ALL.to_vec()
            } else {
                kinds
            };
            out!("{}", PlanSet::builtin(&kinds).to_toml());
            return Ok(ExitCode::SUCCESS);
        }
        PlansCommand::Check {
            files,
            scenarios,
            json,
        } => {
            let mut scenario_files = Vec::new();
            for place in &scenarios {
                collect(place, &mut scenario_files)?;
            }
            let mut worst = Verdict::Passed;
            for path in &files {
                let set = match read(path) {
                    Ok(set) => set,
                    Err(e) => {
                        err!("{e}");
                        worst = Verdict::Invalid;
                        continue;
                    }
                };
                let plans = set.professional.len() + set.practice.len();
                if !json {
                    out!(
                        "{}: {} — {plans} plan(s) keep every guard rail",
                        path.display(),
                        set.reference()
                    );
                }
                if !scenario_files.is_empty() {
                    let verdict =
                        run_files(&scenario_files, &PlanBook::with_default(set), json).await;
                    worst = worst.max(verdict);
                }
            }
            return Ok(ExitCode::from(worst as u8));
        }
        PlansCommand::Load { file, db } => {
            let store = database::open_existing(db.path()).await?;
            let text = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(e) => return refused(format!("{}: cannot read: {e}", file.display())),
            };
            match load(&store, &text, &actor(), now, "loaded").await? {
                Ok(v) => out!("{} v{} loaded", v.name, v.version),
                Err(why) => return refused(format!("{}: {why}", file.display())),
            }
        }
        PlansCommand::List { db } => {
            let store = database::open_existing(db.path()).await?;
            let assignments = store.plan_assignments().await?;
            let latest = store.latest_plans().await?;
            if latest.is_empty() {
                out!("no plan sets loaded: every alarm runs the built-in plans");
            }
            for v in latest {
                let applied: Vec<String> = assignments
                    .iter()
                    .filter(|(_, name)| *name == v.name)
                    .map(|(scope, _)| scope.to_string())
                    .collect();
                out!(
                    "{} v{}  loaded {} by {}  applies to: {}",
                    v.name,
                    v.version,
                    time(v.changed_at),
                    v.changed_by,
                    if applied.is_empty() {
                        "nothing".into()
                    } else {
                        applied.join(", ")
                    }
                );
            }
        }
        PlansCommand::History { name, db } => {
            let store = database::open_existing(db.path()).await?;
            let versions = store.plan_versions(&name).await?;
            if versions.is_empty() {
                return refused(format!("name: no plan set is called {name:?}"));
            }
            for v in versions {
                out!(
                    "v{}  {}  {}  {}",
                    v.version,
                    time(v.changed_at),
                    v.changed_by,
                    v.note
                );
            }
        }
        PlansCommand::Get { name, version, db } => {
            let store = database::open_existing(db.path()).await?;
            let versions = store.plan_versions(&name).await?;
            let found = match version {
                Some(n) => versions.iter().find(|v| v.version == n),
                None => versions.last(),
            };
            match found {
                Some(v) => out!("{}", v.text.trim_end()),
                None => return refused(format!("{name}: no such plan set or version")),
            }
        }
        PlansCommand::Rollback { name, to, db } => {
            let store = database::open_existing(db.path()).await?;
            let earlier = match earlier(&store, &name, to).await? {
                Ok(earlier) => earlier,
                Err(why) => return refused(format!("--{why}")),
            };
            let note = format!("rolled back to v{}", earlier.version);
            match load(&store, &earlier.text, &actor(), now, &note).await? {
                Ok(v) => out!("{} v{} is v{} again", v.name, v.version, earlier.version),
                Err(why) => return refused(why),
            }
        }
        PlansCommand::Assign { name, scope, db } => {
            let store = database::open_existing(db.path()).await?;
            let scope = scope.scope();
            if store.plan_versions(&name).await?.is_empty() {
                return refused(format!(
                    "name: no plan set is called {name:?}: load it first"
                ));
            }
            if let PlanScope::Account(number) = &scope
                && store.account(number).await?.is_none()
            {
                return refused(format!("--account: {number} is not enrolled"));
            }
            if let PlanScope::Dealer(id) = &scope
                && store.dealer(id).await?.is_none()
            {
                return refused(format!("--dealer: no dealer is called {id:?}"));
            }
            store.assign_plan(&scope, Some(&name)).await?;
            audit(
                &store,
                &actor(),
                "plan.assign",
                &name,
                &scope.to_string(),
                now,
            )
            .await?;
            out!("{name} applies to {scope}");
        }
        PlansCommand::Unassign { scope, db } => {
            let store = database::open_existing(db.path()).await?;
            let scope = scope.scope();
            store.assign_plan(&scope, None).await?;
            audit(&store, &actor(), "plan.unassign", &scope.key(), "", now).await?;
            out!("no plan set applies to {scope} itself now");
        }
        PlansCommand::Require { name, files, db } => {
            let store = database::open_existing(db.path()).await?;
            let Some(latest) = store.plan_versions(&name).await?.pop() else {
                return refused(format!(
                    "name: no plan set is called {name:?}: load it first"
                ));
            };
            let set = PlanSet::parse(&latest.text).map_err(anyhow::Error::msg)?;
            let mut required = Vec::new();
            for file in &files {
                let text = match std::fs::read_to_string(file) {
                    Ok(text) => text,
                    Err(e) => return refused(format!("{}: cannot read: {e}", file.display())),
                };
                let file_name = file.file_name().map_or_else(
                    || file.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                required.push(RequiredScenario {
                    plan: name.clone(),
                    name: file_name,
                    text,
                });
            }
            let failed = failing(&set, &required).await;
            if !failed.is_empty() {
                return refused(format!(
                    "{name} v{} does not pass: {}",
                    latest.version,
                    failed.join(" | ")
                ));
            }
            for scenario in &required {
                store.put_required_scenario(scenario).await?;
                audit(&store, &actor(), "plan.require", &name, &scenario.name, now).await?;
                out!("{name} must keep passing {}", scenario.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `place` if it is a file, else every `*.toml` in it (not below: a library's `invalid/`
/// folder holds files meant to be refused), in name order.
fn collect(place: &Path, into: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if place.is_file() {
        into.push(place.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(place)
        .map_err(|e| anyhow::anyhow!("--scenarios {}: {e}", place.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    into.extend(paths);
    Ok(())
}
