//! Spoken verbal passwords keyed with the center's pepper, end to end through the CLI on a
//! real SQLite file: `accounts import` with a master key stores keyed hashes and the pepper
//! sealed; `secrets rotate` re-seals the pepper so every password still verifies; without a
//! master key an import hashes unkeyed at full cost and says once how to make it fast.

mod common;

use common::{BIN, MASTER_KEY};
use std::path::Path;
use std::process::{Command, Output};
use watchpost_core::pepper::Pepper;
use watchpost_server::pepper;
use watchpost_server::secrets::MasterKey;
use watchpost_store::PEPPER;

const HEADER: &str = "number,premises,address,country,region,monitoring,enrolled,verbal_password,contact1_name,contact1_phone";

/// `watchpost ARGS` with this master key in `WATCHPOST_MASTER_KEY`, or none.
fn watchpost(args: &[&str], key: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    match key {
        Some(key) => command.env("WATCHPOST_MASTER_KEY", key),
        None => command.env_remove("WATCHPOST_MASTER_KEY"),
    };
    command.args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A CSV of `n` professional accounts numbered from 2000, account 2000+i saying
/// "blue falcon i".
fn csv(dir: &Path, name: &str, n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "{},residential,\"{i} Elm St\",US,IL,professional,2026-01-01T00:00:00Z,\
                 Blue Falcon {i},Ann Lee,+1217555{:04}",
                2000 + i,
                i
            )
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    path.display().to_string()
}

fn master(hex: &str) -> MasterKey {
    MasterKey::parse(hex).unwrap()
}

/// The verbal password stored for `number`.
async fn stored(db: &str, number: &str) -> watchpost_core::password::VerbalPassword {
    let store = watchpost_store::open(db).await.unwrap();
    let account = store.account(number).await.unwrap().unwrap();
    store.close().await;
    account.verbal_password
}

async fn pepper_under(db: &str, key: &MasterKey) -> Option<Pepper> {
    let store = watchpost_store::open(db).await.unwrap();
    let pepper = pepper::load(&*store, Some(key)).await.unwrap();
    store.close().await;
    pepper
}

#[tokio::test(flavor = "multi_thread")]
async fn keyed_hashes_verify_with_the_pepper_through_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let file = csv(dir.path(), "accounts.csv", 20);
    let imported = watchpost(
        &["accounts", "import", &file, "--db", &db],
        Some(MASTER_KEY),
    );
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    assert!(
        !text(&imported.stderr).contains("note: no master key"),
        "{}",
        text(&imported.stderr)
    );

    let old = master(MASTER_KEY);
    let pepper = pepper_under(&db, &old).await.expect("a pepper was stored");
    let hash = stored(&db, "2007").await;
    assert_eq!(hash.keyid().as_deref(), Some(pepper.id()), "{}", hash.phc());
    assert!(
        hash.phc().contains("m=4096,t=1,p=1,keyid="),
        "{}",
        hash.phc()
    );
    assert_eq!(hash.verify("blue  falcon 7", Some(&pepper)), Ok(true));
    assert_eq!(hash.verify("blue falcon 8", Some(&pepper)), Ok(false));
    assert!(hash.verify("blue falcon 7", None).is_err());
    assert!(
        hash.verify("blue falcon 7", Some(&Pepper::generate()))
            .is_err()
    );
    // The pepper is in the file only sealed.
    let raw = std::fs::read(&db).unwrap();
    let clear = pepper.to_hex();
    assert!(
        !raw.windows(clear.len()).any(|w| w == clear.as_bytes()),
        "the pepper is in the database file in clear"
    );

    // A second import keys with the same pepper: one per center.
    let more = csv(dir.path(), "more.csv", 30);
    let again = watchpost(
        &["accounts", "import", &more, "--db", &db, "--replace"],
        Some(MASTER_KEY),
    );
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let later = stored(&db, "2025").await;
    assert_eq!(later.verify("Blue Falcon 25", Some(&pepper)), Ok(true));

    // Rotation re-seals the pepper; its value, and so every hash, stays good.
    let new_hex = "17".repeat(32);
    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, &new_hex).unwrap();
    let rotate = [
        "secrets",
        "rotate",
        "--new-key-file",
        new_key.to_str().unwrap(),
        "--db",
        &db,
    ];
    let wrong = watchpost(&rotate, Some(&"99".repeat(32)));
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong.stderr));
    assert!(
        text(&wrong.stderr).contains("verbal-password pepper")
            && text(&wrong.stderr).contains("nothing was changed"),
        "{}",
        text(&wrong.stderr)
    );
    let rotated = watchpost(&rotate, Some(MASTER_KEY));
    assert_eq!(rotated.status.code(), Some(0), "{}", text(&rotated.stderr));
    assert!(
        text(&rotated.stdout).contains("re-sealed the verbal-password pepper"),
        "{}",
        text(&rotated.stdout)
    );
    let new = master(&new_hex);
    assert_eq!(pepper_under(&db, &new).await, Some(pepper.clone()));
    let store = watchpost_store::open(&db).await.unwrap();
    assert!(pepper::load(&*store, Some(&old)).await.is_err());
    assert!(
        pepper::load(&*store, None).await.is_err(),
        "a stored pepper needs the master key"
    );
    assert!(store.center_secret(PEPPER).await.unwrap().is_some());
    store.close().await;
    let hash = stored(&db, "2007").await;
    assert_eq!(
        hash.verify("blue falcon 7", pepper_under(&db, &new).await.as_ref()),
        Ok(true)
    );
    // An import after the rotation, with the new key, keys with the same pepper.
    let after = watchpost(
        &["accounts", "import", &file, "--db", &db, "--replace"],
        Some(&new_hex),
    );
    assert_eq!(after.status.code(), Some(0), "{}", text(&after.stderr));
    assert_eq!(
        stored(&db, "2003")
            .await
            .verify("blue falcon 3", Some(&pepper)),
        Ok(true)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_master_key_hashes_are_unkeyed_and_a_small_import_says_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let file = csv(dir.path(), "accounts.csv", 3);
    let imported = watchpost(&["accounts", "import", &file, "--db", &db], None);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    // Three hashes take no time worth explaining, and no terminal shows the progress: the
    // note (said before hashing on a terminal, or after 500 or more) is not printed.
    let stderr = text(&imported.stderr);
    assert_eq!(stderr.matches("note: no master key").count(), 0, "{stderr}");
    let hash = stored(&db, "2001").await;
    assert_eq!(hash.keyid(), None);
    assert!(hash.phc().contains("m=19456,t=2,p=1$"), "{}", hash.phc());
    assert_eq!(hash.verify("blue falcon 1", None), Ok(true));
    let store = watchpost_store::open(&db).await.unwrap();
    assert_eq!(store.center_secret(PEPPER).await.unwrap(), None);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_import_creates_no_database_and_no_pepper() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db");
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        format!(
            "{HEADER}\n2000,residential,1 Elm St,US,IL,professional,2026-01-01T00:00:00Z,\
             blue falcon,Ann Lee,555-0101\n"
        ),
    )
    .unwrap();
    let refused = watchpost(
        &[
            "accounts",
            "import",
            path.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
        Some(MASTER_KEY),
    );
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(!db.exists(), "nothing was written");
}
