//! `watchpost accounts import` at scale and from dealer systems: CSV files and folders,
//! hashes brought from a migration (checked, weak ones refused), duplicates found within the
//! files and against the center, and all or nothing however many accounts a file holds.

mod common;

use common::{BIN, MASTER_KEY};
use std::path::Path;
use std::process::{Command, Output};
use watchpost_core::password::{HashCost, VerbalPassword};

const HEADER: &str = "number,premises,address,country,region,monitoring,enrolled,verbal_password,verbal_password_hash,contact1_name,contact1_phone,contact2_name,contact2_phone,zones,dc09_key_hex,supervision_s";

fn import(args: &[&str]) -> Output {
    Command::new(BIN)
        .env("WATCHPOST_MASTER_KEY", MASTER_KEY)
        .args(["accounts", "import"])
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One CSV row: professional with a migrated hash (`hash`) or a spoken password, or
/// self-monitored when neither is given.
fn row(number: &str, spoken: &str, hash: &str) -> String {
    let monitoring = match (spoken, hash) {
        ("", "") => "self",
        _ => "professional",
    };
    // A PHC string holds commas (`m=19456,t=2,p=1`): quoted, as CSV writers do.
    let hash = match hash {
        "" => String::new(),
        hash => format!("\"{hash}\""),
    };
    format!(
        "{number},residential,\"1 Elm St, Springfield\",US,IL,{monitoring},2026-01-01T00:00:00Z,\
         {spoken},{hash},Ann Lee,+12175550101,Bob Lee,+12175550102,1:contact 2:motion,,"
    )
}

fn write(dir: &Path, name: &str, rows: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{HEADER}\n{}\n", rows.join("\n"))).unwrap();
    path.display().to_string()
}

async fn count(db: &str, table: &str) -> i64 {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{db}"))
        .await
        .unwrap();
    let n = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn five_thousand_rows_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let migrated = VerbalPassword::hash("blue falcon", HashCost::Standard);
    let mut rows: Vec<String> = (0..5_000)
        .map(|i| {
            let number = (1_000_000 + i).to_string();
            match i % 10 {
                9 => row(&number, "", ""),
                _ if i < 3 => row(&number, "red kite", ""),
                _ => row(&number, "", migrated.phc()),
            }
        })
        .collect();
    let good_last = rows[4_999].clone();
    rows[4_999] = good_last.replace("+12175550102", "555-0102");
    let file = write(dir.path(), "big.csv", &rows);

    let refused = import(&[&file, "--db", &db]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        text(&refused.stderr),
        format!(
            "{file}: line 5001: contact2_phone: \"555-0102\" is not an E.164 phone number \
             (like +15555550101)\nnothing imported: 1 refused\n"
        )
    );
    assert!(
        !Path::new(&db).exists(),
        "nothing written, not even a database"
    );

    rows[4_999] = good_last;
    let file = write(dir.path(), "big.csv", &rows);
    let imported = import(&[&file, "--db", &db]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    let stdout = text(&imported.stdout);
    assert!(
        stdout.starts_with("imported 5000 accounts into "),
        "{stdout}"
    );
    assert!(
        stdout.contains("created: 1000000, 1000001, ") && stdout.contains(" … and 4990 more"),
        "{stdout}"
    );
    assert_eq!(
        text(&imported.stderr),
        format!("watchpost: created a new center database {db}\n"),
        "no progress bar on a stderr that is not a terminal"
    );
    assert_eq!(count(&db, "accounts").await, 5_000);
    assert_eq!(count(&db, "contacts").await, 10_000);
    assert_eq!(count(&db, "zones").await, 10_000);

    // A bad row after 100 good new ones, found only against the center: still nothing.
    let mut more: Vec<String> = (0..100)
        .map(|i| row(&(2_000_000 + i).to_string(), "", ""))
        .collect();
    more.push(row("1000007", "", ""));
    let file = write(dir.path(), "more.csv", &more);
    let refused = import(&[&file, "--db", &db]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("account 1000007 is already enrolled"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(count(&db, "accounts").await, 5_000);
}

#[tokio::test]
async fn migrated_hashes_are_kept_and_weak_or_foreign_ones_refused_by_row_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let strong = VerbalPassword::hash("blue falcon", HashCost::Standard);
    let weak = VerbalPassword::hash("blue falcon", HashCost::Fast);
    let argon2i = strong.phc().replacen("$argon2id$", "$argon2i$", 1);
    let csv = write(
        dir.path(),
        "dealer.csv",
        &[
            row("4F39", "", strong.phc()),
            row("4F40", "", &argon2i),
            row("4F41", "", weak.phc()),
        ],
    );
    let toml = dir.path().join("moved.toml");
    std::fs::write(
        &toml,
        common::account_toml("5A5B", "")
            + &common::account_toml(
                "5A5C",
                &format!("verbal_password_hash = \"{}\"", weak.phc()),
            ),
    )
    .unwrap();
    let refused = import(&[&csv, toml.to_str().unwrap(), "--db", &db]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    let toml = toml.display();
    for line in [
        format!("{csv}: line 3: verbal_password_hash: the hash is argon2i; only argon2id"),
        format!("{csv}: line 4: verbal_password_hash: m=64,t=1 is weaker than the center accepts"),
        format!(
            "{toml}: accounts[1].verbal_password_hash: give verbal_password or verbal_password_hash, not both"
        ),
        "nothing imported: 3 refused".to_string(),
    ] {
        assert!(stderr.contains(&line), "{line}\nnot in\n{stderr}");
    }
    assert!(!Path::new(&db).exists());

    let csv = write(dir.path(), "dealer.csv", &[row("4F39", "", strong.phc())]);
    let imported = import(&[&csv, "--db", &db]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{db}"))
        .await
        .unwrap();
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE number = '4F39'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, strong.phc(), "a migrated hash is stored as given");
}

#[tokio::test]
async fn duplicates_are_found_within_and_across_files_and_against_the_center() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let a = write(
        dir.path(),
        "a.csv",
        &[
            row("4f39", "", ""),
            row("7A21", "", ""),
            row("4F39", "", ""),
        ],
    );
    let refused = import(&[&a, "--db", &db]);
    assert_eq!(
        text(&refused.stderr),
        format!(
            "{a}: line 4: account 4F39 is given twice (also {a}: line 2)\nnothing imported: 1 refused\n"
        )
    );

    let a = write(dir.path(), "a.csv", &[row("0123", "", "")]);
    let b = dir.path().join("b.toml");
    std::fs::write(
        &b,
        common::account_toml("123", "") + &common::account_toml("7A21", ""),
    )
    .unwrap();
    let twins = import(&[&a, b.to_str().unwrap(), "--db", &db]);
    let stderr = text(&twins.stderr);
    assert!(
        stderr.starts_with(&format!(
            "{}: accounts[0].number: \"123\" differs from enrolled account \"0123\" only by \
             leading zeros",
            b.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("\nnothing imported: 1 refused\n"),
        "{stderr}"
    );

    let c = write(dir.path(), "c.csv", &[row("7A21", "", "")]);
    let across = import(&[&c, b.to_str().unwrap(), "--db", &db]);
    assert!(
        text(&across.stderr).contains(&format!(
            "{}: accounts[1]: account 7A21 is given twice (also {c}: line 2)",
            b.display()
        )),
        "{}",
        text(&across.stderr)
    );
    assert!(!Path::new(&db).exists());

    let enrolled = import(&[&a, "--db", &db]);
    assert_eq!(
        enrolled.status.code(),
        Some(0),
        "{}",
        text(&enrolled.stderr)
    );
    let twin = write(
        dir.path(),
        "twin.csv",
        &[row("7B00", "", ""), row("00123", "", "")],
    );
    let refused = import(&[&twin, "--db", &db]);
    let stderr = text(&refused.stderr);
    assert!(
        stderr.starts_with(&format!(
            "{twin}: line 3: number: \"00123\" differs from enrolled account \"0123\" only by \
             leading zeros"
        )),
        "{stderr}"
    );
    assert_eq!(count(&db, "accounts").await, 1);
}

#[tokio::test]
async fn a_folder_stands_for_its_account_files_and_format_overrides_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("export");
    std::fs::create_dir(&folder).unwrap();
    write(
        &folder,
        "part1.csv",
        &[row("1001", "", ""), row("1002", "", "")],
    );
    std::fs::write(folder.join("part2.toml"), common::account_toml("1003", "")).unwrap();
    std::fs::write(folder.join("readme.txt"), "not an account file").unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let imported = import(&[folder.to_str().unwrap(), "--db", &db]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    assert!(
        text(&imported.stdout).ends_with("created: 1001, 1002, 1003\n"),
        "{}",
        text(&imported.stdout)
    );

    let renamed = write(dir.path(), "export.txt", &[row("1004", "", "")]);
    let as_toml = import(&[&renamed, "--db", &db]);
    assert_eq!(
        as_toml.status.code(),
        Some(2),
        "a .txt file is read as TOML"
    );
    let as_csv = import(&[&renamed, "--format", "csv", "--db", &db]);
    assert_eq!(as_csv.status.code(), Some(0), "{}", text(&as_csv.stderr));

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let refused = import(&[empty.to_str().unwrap(), "--db", &db]);
    assert_eq!(
        text(&refused.stderr),
        format!(
            "{}: the folder has no .toml or .csv files\nnothing imported: 1 refused\n",
            empty.display()
        )
    );
    assert_eq!(count(&db, "accounts").await, 4);
}

#[test]
fn the_example_csv_imports_with_its_keys_sealed() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/accounts/dealer-export.csv"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    common::cli(&["dealers", "add", "ACME", "Acme Alarms", "--db", &db], "");
    let imported = import(&[example, "--db", &db]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    assert!(
        !text(&imported.stderr).contains("warning"),
        "{}",
        text(&imported.stderr)
    );
    let raw = std::fs::read(&db).unwrap();
    assert!(
        !raw.windows(12)
            .any(|w| w.eq_ignore_ascii_case(b"A1B2C3D4E5F6")),
        "a DC-09 key of the example is in the database in clear"
    );
}

#[test]
fn a_toml_file_read_in_parts_names_the_tables_and_lines_of_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("center.db").display().to_string();
    let mut text: String = (0..300)
        .map(|i| match i {
            42 => common::account_toml(&(5000 + i).to_string(), "colour = \"red\""),
            _ => common::account_toml(&(5000 + i).to_string(), ""),
        })
        .collect();
    let bad = common::account_toml("5150", "");
    text = text.replacen(&bad, &bad.replace("+15555550101", "555-0101"), 1);
    let file = dir.path().join("many.toml");
    let broken = text.replacen("number = \"5200\"", "number = 5200x", 1);
    let line = broken.lines().position(|l| l == "number = 5200x").unwrap() + 1;
    std::fs::write(&file, &broken).unwrap();
    let name = file.display();
    let refused = import(&[file.to_str().unwrap(), "--db", &db]);
    let stderr = text_of(&refused);
    assert!(
        stderr.starts_with(&format!("{name}: line {line}, column ")),
        "line {line}: {stderr}"
    );

    std::fs::write(&file, &text).unwrap();
    let refused = import(&[file.to_str().unwrap(), "--db", &db]);
    assert_eq!(
        text_of(&refused),
        format!(
            "{name}: warning: accounts.42.colour: unknown key, ignored\n\
             {name}: accounts[150].contacts[0].phone: \"555-0101\" is not an E.164 phone number \
             (like +15555550101)\nnothing imported: 1 refused\n"
        )
    );
}

fn text_of(out: &Output) -> String {
    text(&out.stderr)
}
