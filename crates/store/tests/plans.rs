//! Plan sets in the store, on both backends: versions only grow, one at a time even when two
//! loads race; assignments and required scenarios; the stamp moves with every change.

mod common;

use watchpost_store::{PlanScope, PlanVersion, Plans, RequiredScenario};

fn version(name: &str, version: u32, text: &str) -> PlanVersion {
    PlanVersion {
        name: name.into(),
        version,
        text: text.into(),
        changed_by: "cli:root".into(),
        changed_at: 1_000 + i64::from(version),
        note: "loaded".into(),
    }
}

async fn versions_assignments_and_the_stamp(store: &dyn Plans) {
    let stamp = store.plans_stamp().await.unwrap();
    assert!(
        store
            .put_plan_version(&version("ecv", 1, "one"))
            .await
            .unwrap()
    );
    // Not the next version: refused, nothing written.
    assert!(
        !store
            .put_plan_version(&version("ecv", 1, "again"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_plan_version(&version("ecv", 3, "skip"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_plan_version(&version("fire", 2, "first"))
            .await
            .unwrap()
    );
    assert!(
        store
            .put_plan_version(&version("ecv", 2, "two"))
            .await
            .unwrap()
    );
    assert!(
        store
            .put_plan_version(&version("fire", 1, "f"))
            .await
            .unwrap()
    );
    let all = store.plan_versions("ecv").await.unwrap();
    let texts: Vec<&str> = all.iter().map(|v| v.text.as_str()).collect();
    assert_eq!(texts, ["one", "two"]);
    assert_eq!(all[1], version("ecv", 2, "two"));
    let latest = store.latest_plans().await.unwrap();
    let latest: Vec<(&str, u32)> = latest
        .iter()
        .map(|v| (v.name.as_str(), v.version))
        .collect();
    assert_eq!(latest, [("ecv", 2), ("fire", 1)]);
    assert!(store.plans_stamp().await.unwrap() >= stamp + 3);

    let before = store.plans_stamp().await.unwrap();
    store
        .assign_plan(&PlanScope::Center, Some("ecv"))
        .await
        .unwrap();
    let account = PlanScope::Account("4F39".into());
    store.assign_plan(&account, Some("fire")).await.unwrap();
    store.assign_plan(&account, Some("ecv")).await.unwrap();
    store
        .assign_plan(&PlanScope::Dealer("D1".into()), Some("fire"))
        .await
        .unwrap();
    store
        .assign_plan(&PlanScope::Dealer("D1".into()), None)
        .await
        .unwrap();
    assert_eq!(
        store.plan_assignments().await.unwrap(),
        [
            (account, "ecv".to_string()),
            (PlanScope::Center, "ecv".to_string())
        ]
    );
    assert!(store.plans_stamp().await.unwrap() > before);

    let required = RequiredScenario {
        plan: "ecv".into(),
        name: "two-calls.toml".into(),
        text: "name = \"x\"".into(),
    };
    store.put_required_scenario(&required).await.unwrap();
    let replaced = RequiredScenario {
        text: "name = \"y\"".into(),
        ..required
    };
    store.put_required_scenario(&replaced).await.unwrap();
    assert_eq!(store.required_scenarios("ecv").await.unwrap(), [replaced]);
    assert!(store.required_scenarios("fire").await.unwrap().is_empty());
}

/// Two loads of the next version at once: exactly one wins.
async fn racing_loads_make_one_version(store: &dyn Plans) {
    let (first, second) = (version("race", 1, "a"), version("race", 1, "b"));
    let (a, b) = tokio::join!(
        store.put_plan_version(&first),
        store.put_plan_version(&second)
    );
    assert!(a.unwrap() ^ b.unwrap());
    assert_eq!(store.plan_versions("race").await.unwrap().len(), 1);
}

#[tokio::test]
async fn plans_on_sqlite() {
    let (store, _dir) = common::sqlite().await;
    versions_assignments_and_the_stamp(&store).await;
    racing_loads_make_one_version(&store).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (WATCHPOST_TEST_PG); .ci/run provides it"]
async fn plans_on_postgres() {
    let (store, _database) = common::postgres().await;
    versions_assignments_and_the_stamp(&store).await;
    racing_loads_make_one_version(&store).await;
}
