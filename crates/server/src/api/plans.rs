//! The center's plan sets over HTTP (docs/plans.md, "Plans in the center"; docs/api.md,
//! "Plans"): list and read them, load a new version, roll back, assign. The center's admins
//! manage every set; a dealer's admin loads and rolls back only its dealer's sets (named
//! `<dealer id>-…`), and assigns sets only to its dealer and its accounts. A dealer's users see
//! their own sets and the center's, never another dealer's (404, as for a set that does not
//! exist). Scenarios a set must keep passing are marked by the center's admins on any set and
//! by a dealer's admin on any set it sees, the center's included, so that no later version
//! breaks what its dealer relies on. The checks are the command line's (`crate::plan_changes`).

use super::body::Body;
use super::params::Path;
use super::scope::Scoped;
use super::{ApiError, ApiState};
use crate::plan_changes::{self, owner};
use crate::view::rfc3339;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use watchpost_store::{Dealer, PlanScope, Role};

/// Whether the caller may see set `name`: the center's users all; a dealer's users their
/// dealer's and the center's.
fn visible(scope: &Scoped, name: &str, dealers: &[Dealer]) -> bool {
    match (scope.dealer(), owner(name, dealers)) {
        (None, _) | (Some(_), None) => true,
        (Some(mine), Some(owner)) => mine == owner,
    }
}

/// Whether the caller may load or roll back set `name`: the center's admins all; a dealer's
/// admin only its dealer's.
fn writable(scope: &Scoped, name: &str, dealers: &[Dealer]) -> Result<(), ApiError> {
    scope.require(Role::Admin, Role::DealerAdmin)?;
    match scope.dealer() {
        None => Ok(()),
        Some(mine) if owner(name, dealers) == Some(mine) => Ok(()),
        Some(mine) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "a dealer's sets are named after it: {name:?} must begin with \"{}-\"",
                mine.to_ascii_lowercase()
            ),
        )),
    }
}

fn actor(scope: &Scoped) -> String {
    format!("{}:{}", scope.user().role, scope.user().name)
}

/// `GET /api/plans`: the latest version of each set the caller sees, and where each applies
/// (for a dealer's users, only within their dealer).
pub async fn list(State(state): State<ApiState>, scope: Scoped) -> Result<Json<Value>, ApiError> {
    scope.require(Role::Admin, Role::DealerViewer)?;
    let dealers = state.store.dealers().await?;
    let assignments = state.store.plan_assignments().await?;
    let mine = scope.accounts(&state).await?;
    let in_view = |s: &PlanScope| match (scope.dealer(), s) {
        (None, _) => true,
        (Some(d), PlanScope::Dealer(id)) => d == id,
        (Some(_), PlanScope::Account(number)) => mine.as_ref().is_some_and(|m| m.contains(number)),
        (Some(_), PlanScope::Center) => false,
    };
    let sets: Vec<Value> = state
        .store
        .latest_plans()
        .await?
        .into_iter()
        .filter(|v| visible(&scope, &v.name, &dealers))
        .map(|v| {
            let applies: Vec<String> = assignments
                .iter()
                .filter(|(s, name)| *name == v.name && in_view(s))
                .map(|(s, _)| s.key())
                .collect();
            json!({
                "name": v.name, "version": v.version, "changed_by": v.changed_by,
                "changed_at": rfc3339(v.changed_at), "note": v.note, "applies_to": applies,
            })
        })
        .collect();
    Ok(Json(json!({ "plans": sets })))
}

/// `GET /api/plans/{name}`: every version with its text, and the required scenarios' names.
pub async fn one(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    scope.require(Role::Admin, Role::DealerViewer)?;
    let dealers = state.store.dealers().await?;
    let versions = state.store.plan_versions(&name).await?;
    if versions.is_empty() || !visible(&scope, &name, &dealers) {
        return Err(ApiError::not_found(format!(
            "no plan set is called {name:?}"
        )));
    }
    let required: Vec<String> = state
        .store
        .required_scenarios(&name)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    let versions: Vec<Value> = versions
        .into_iter()
        .map(|v| {
            json!({
                "version": v.version, "changed_by": v.changed_by,
                "changed_at": rfc3339(v.changed_at), "note": v.note, "text": v.text,
            })
        })
        .collect();
    Ok(Json(
        json!({ "name": name, "versions": versions, "required_scenarios": required }),
    ))
}

#[derive(Deserialize)]
pub struct LoadBody {
    /// The plan file (TOML), as `watchpost plans load` reads it.
    #[serde(default)]
    text: String,
}

/// `PUT /api/plans/{name} {"text": "<plan file>"}`: the next version of the set, after the
/// guard rails and the set's required scenarios (422 naming `text` with the reason).
pub async fn load(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(name): Path<String>,
    Body(body): Body<LoadBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let dealers = state.store.dealers().await?;
    writable(&scope, &name, &dealers)?;
    let named = watchpost_core::plan_file::PlanSet::parse(&body.text)
        .map_err(|e| ApiError::field("text", e))?
        .name;
    if named != name {
        return Err(ApiError::field(
            "text",
            format!("the file is set {named:?}, not {name:?} (its name key)"),
        ));
    }
    stored(&state, &scope, &body.text, "loaded").await
}

async fn stored(
    state: &ApiState,
    scope: &Scoped,
    text: &str,
    note: &str,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match plan_changes::load(&state.store, text, &actor(scope), crate::now_ms(), note).await? {
        Ok(v) => Ok((
            StatusCode::CREATED,
            Json(json!({ "name": v.name, "version": v.version, "note": v.note })),
        )),
        Err(why) => Err(ApiError::field("text", why)),
    }
}

#[derive(Deserialize, Default)]
pub struct RollbackBody {
    /// The version to make the latest again; absent: the one before the latest.
    to: Option<u32>,
}

/// `POST /api/plans/{name}/rollback {"to": 2}`: an earlier version as a new one.
pub async fn rollback(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(name): Path<String>,
    Body(body): Body<RollbackBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let dealers = state.store.dealers().await?;
    writable(&scope, &name, &dealers)?;
    if !visible(&scope, &name, &dealers) || state.store.plan_versions(&name).await?.is_empty() {
        return Err(ApiError::not_found(format!(
            "no plan set is called {name:?}"
        )));
    }
    let earlier = plan_changes::earlier(&state.store, &name, body.to)
        .await?
        .map_err(|why| ApiError::field("to", why.trim_start_matches("to: ").to_string()))?;
    let note = format!("rolled back to v{}", earlier.version);
    stored(&state, &scope, &earlier.text, &note).await
}

#[derive(Deserialize)]
pub struct AssignBody {
    /// `center`, `dealer:ID`, `account:NUMBER`.
    #[serde(default)]
    scope: String,
    /// The set; `null`: none applies there any more.
    plan: Option<String>,
}

/// `PUT /api/plan-assignments {"scope": "account:4F39", "plan": "ecv"}`.
pub async fn assign(
    State(state): State<ApiState>,
    scope: Scoped,
    Body(body): Body<AssignBody>,
) -> Result<Json<Value>, ApiError> {
    scope.require(Role::Admin, Role::DealerAdmin)?;
    let target = PlanScope::parse(&body.scope).ok_or_else(|| {
        ApiError::field(
            "scope",
            format!(
                "{:?} is not center, dealer:ID or account:NUMBER",
                body.scope
            ),
        )
    })?;
    let target = match target {
        PlanScope::Center => {
            scope.center_only("the center's default plans")?;
            PlanScope::Center
        }
        PlanScope::Dealer(id) => {
            let id = id.to_ascii_uppercase();
            match scope.dealer() {
                Some(mine) if mine != id => {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "a dealer's admin assigns plans to its own dealer only",
                    ));
                }
                _ => {}
            }
            if state.store.dealer(&id).await?.is_none() {
                return Err(ApiError::field(
                    "scope",
                    format!("no dealer is called {id:?}"),
                ));
            }
            PlanScope::Dealer(id)
        }
        PlanScope::Account(number) => {
            PlanScope::Account(scope.account(&state, &number).await?.number)
        }
    };
    let dealers = state.store.dealers().await?;
    if let Some(plan) = &body.plan
        && (!visible(&scope, plan, &dealers) || state.store.plan_versions(plan).await?.is_empty())
    {
        return Err(ApiError::field(
            "plan",
            format!("no plan set is called {plan:?}"),
        ));
    }
    state
        .store
        .assign_plan(&target, body.plan.as_deref())
        .await?;
    let (action, subject, detail) = match &body.plan {
        Some(plan) => ("plan.assign", plan.clone(), target.to_string()),
        None => ("plan.unassign", target.key(), String::new()),
    };
    let now = crate::now_ms();
    plan_changes::audit(&state.store, &actor(&scope), action, &subject, &detail, now).await?;
    Ok(Json(json!({ "scope": target.key(), "plan": body.plan })))
}

#[derive(Deserialize)]
pub struct RequiredBody {
    /// What to call the scenario (its file name, say).
    #[serde(default)]
    name: String,
    /// The scenario file (TOML, docs/scenarios.md).
    #[serde(default)]
    text: String,
}

/// `PUT /api/plans/{name}/required {"name": "two-calls.toml", "text": "<scenario>"}`: the
/// scenario must pass under the set's latest version now, and every later version must keep
/// it passing. A dealer's admin may mark one on any set it sees; it is kept as
/// `<dealer id>/<name>`, beside the center's and other dealers'. 201 `{"plan", "name"}`; 422
/// naming `name` or `text` (a scenario that does not read or does not pass).
pub async fn require(
    State(state): State<ApiState>,
    scope: Scoped,
    Path(plan): Path<String>,
    Body(body): Body<RequiredBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    scope.require(Role::Admin, Role::DealerAdmin)?;
    let dealers = state.store.dealers().await?;
    let latest = state.store.plan_versions(&plan).await?.pop();
    let Some(latest) = latest.filter(|_| visible(&scope, &plan, &dealers)) else {
        return Err(ApiError::not_found(format!(
            "no plan set is called {plan:?}"
        )));
    };
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains('/') {
        return Err(ApiError::field(
            "name",
            "must be 1 to 100 characters, without '/'",
        ));
    }
    let name = match scope.dealer() {
        Some(dealer) => format!("{dealer}/{name}"),
        None => name.to_string(),
    };
    let set = watchpost_core::plan_file::PlanSet::parse(&latest.text)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let scenario = watchpost_store::RequiredScenario {
        plan: plan.clone(),
        name: name.clone(),
        text: body.text,
    };
    let failed = plan_changes::failing(&set, std::slice::from_ref(&scenario)).await;
    if let Some(why) = failed.first() {
        return Err(ApiError::field(
            "text",
            format!("does not pass under {plan} v{}: {why}", latest.version),
        ));
    }
    state.store.put_required_scenario(&scenario).await?;
    let now = crate::now_ms();
    plan_changes::audit(
        &state.store,
        &actor(&scope),
        "plan.require",
        &plan,
        &name,
        now,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "plan": plan, "name": name })),
    ))
}
