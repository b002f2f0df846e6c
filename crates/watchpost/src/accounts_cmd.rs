//! `watchpost accounts import PATH...`: enrols accounts from TOML files (`[account]` or
//! `[[accounts]]` tables, as in scenario files, plus DC-09 keys and supervision), from CSV
//! files exported from a dealer system, and from folders of them. Every account is checked
//! first; one refusal and nothing at all is written. An account already enrolled is replaced
//! only with `--replace`, and the command says which it created and replaced. DC-09 keys are
//! sealed with the master key before they are written (README, "Secrets").
//!
//! The phases: reading (`accounts_read`, files in parallel), checking and hashing on every
//! core (`import_hash`), checking against what the center holds (one lookup per phase, not
//! per account), and writing in one transaction.

use crate::accounts_read::{self, Format, Origin};
use crate::database;
use crate::import_hash;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use watchpost_core::account::check_leading_zero_twins;
use watchpost_core::{Account, EnrolmentError};
use watchpost_server::enrolment::{refuse_leading_zero_twins, unknown_dealer};
use watchpost_server::pepper;
use watchpost_server::secrets::MasterKey;
use watchpost_store::{Store, StoreError};

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Enrol the accounts in TOML or CSV files, or in folders of them (all or nothing).
    /// Creates the database if it is new.
    Import(ImportArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// Account files, or folders: a folder stands for its .toml and .csv files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// How the files are written; without it, a .csv file is CSV and any other TOML.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Replace accounts already enrolled (without it, one is refused and nothing is
    /// imported).
    #[arg(long)]
    pub replace: bool,
    /// The master key that seals the accounts' DC-09 keys (or give it in
    /// WATCHPOST_MASTER_KEY); without one, a file with a DC-09 key is refused.
    #[arg(long, value_name = "PATH")]
    pub master_key_file: Option<PathBuf>,
    #[arg(
        long,
        env = "WATCHPOST_DB",
        hide_env_values = true,
        default_value = "watchpost.db"
    )]
    pub db: String,
}

/// What an import wrote, and how long each phase took.
pub struct Imported {
    /// The numbers of the accounts created, then of those replaced, in the order given.
    pub created: Vec<String>,
    pub replaced: Vec<String>,
    /// Accounts a replacement re-enrolled, with how many API keys that revoked.
    pub revoked: Vec<(String, u64)>,
    pub phases: Phases,
}

/// Wall-clock time of each phase of an import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    /// Reading and parsing the files.
    pub reading: Duration,
    /// Checking every account and hashing its verbal password, on every core.
    pub checking: Duration,
    /// Opening the database and checking against what it holds (twins, dealers, enrolled).
    pub center: Duration,
    /// Writing every account in one transaction (and ending replaced enrolments' keys).
    pub writing: Duration,
}

/// Spoken passwords an import hashes unkeyed before it says why it is slow when no terminal
/// shows its progress: about ten seconds of hashing on two cores.
const NOTE_FROM: usize = 500;

/// Said once by an import that hashes spoken verbal passwords without a master key (before
/// hashing on a terminal, after a successful import of `NOTE_FROM` or more otherwise).
const NO_PEPPER_NOTE: &str = "note: no master key, so each spoken verbal password is hashed at \
     full cost (argon2id, 19 MiB, two passes: some tens of accounts a second on two cores). With a master key (--master-key-file or WATCHPOST_MASTER_KEY) they are keyed with \
     the center's pepper, kept sealed under it, at a cost that imports over 1,000 accounts a \
     second: a stolen database alone then allows no guessing at all (README, \"Importing many \
     accounts\")";

/// Above this many, the result lines give the first numbers and a count.
const LISTED: usize = 100;

pub async fn run(command: AccountsCommand) -> anyhow::Result<ExitCode> {
    let AccountsCommand::Import(args) = command;
    let master = crate::config::secrets::SecretsTable::default()
        .config(args.master_key_file.as_deref(), |name| {
            std::env::var(name).ok()
        })
        .map_err(anyhow::Error::msg)?
        .master_key;
    let Some(imported) = import(&args, master.as_deref(), true).await? else {
        return Ok(ExitCode::from(2));
    };
    out!(
        "imported {} accounts into {}",
        imported.created.len() + imported.replaced.len(),
        watchpost_store::printable(&args.db)
    );
    if !imported.created.is_empty() {
        out!("created: {}", listed(&imported.created));
    }
    if !imported.replaced.is_empty() {
        out!("replaced: {}", listed(&imported.replaced));
    }
    for (number, revoked) in &imported.revoked {
        out!("account {number}: re-enrolled, its {revoked} API key(s) revoked");
    }
    Ok(ExitCode::SUCCESS)
}

/// `1001, 1002`; past `LISTED` numbers, the first few and how many more.
fn listed(numbers: &[String]) -> String {
    match numbers.len() {
        n if n <= LISTED => numbers.join(", "),
        n => format!("{}, … and {} more", numbers[..10].join(", "), n - 10),
    }
}

/// The import with the command's rules: `None` when something was refused (the refusals
/// and `nothing imported: …` are printed on stderr, and nothing is written). `progress`
/// shows the phases on a terminal's stderr (never on anything else).
pub async fn import(
    args: &ImportArgs,
    master: Option<&MasterKey>,
    progress: bool,
) -> anyhow::Result<Option<Imported>> {
    let mut phases = Phases::default();
    let started = Instant::now();
    let bar = phase_bar(progress, "reading", Shown::Count);
    let read = tokio::task::block_in_place(|| accounts_read::read(&args.paths, args.format, &bar));
    bar.finish_and_clear();
    phases.reading = started.elapsed();
    if !read.refusals.is_empty() {
        return refused(&read.refusals, read.refusals.len());
    }

    let started = Instant::now();
    let db = &args.db;
    let Keying {
        store,
        pepper,
        new_pepper,
    } = keying(db, master).await?;
    // Said once: on a terminal now, while the person waits for the slow hashes; otherwise
    // after a successful import long enough to matter, so a refusal's lines stay the only
    // output and a small import says nothing.
    let spoken = import_hash::spoken(&read.entries);
    let watched = progress && std::io::stderr().is_terminal();
    let unkeyed = pepper.is_none() && spoken > 0 && (watched || spoken >= NOTE_FROM);
    if unkeyed && watched {
        err!("{NO_PEPPER_NOTE}");
    }
    let now = chrono::Utc::now().timestamp_millis();
    let count = read.entries.len() as u64;
    let bar = phase_bar(progress, "checking and hashing", Shown::Bar(count));
    let checked = tokio::task::block_in_place(|| {
        import_hash::check_all(read.entries, now, master, pepper.as_ref(), &bar)
    });
    bar.finish_and_clear();
    phases.checking = started.elapsed();
    let accounts = match checked {
        Ok(accounts) => accounts,
        Err(refusals) => return refused(&refusals, refusals.len()),
    };
    // Within the files: each number once, and no two that differ only by leading zeros.
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(accounts.len());
    let mut twice = Vec::new();
    for (i, (origin, account)) in accounts.iter().enumerate() {
        if let Some(&j) = first.get(account.number.as_str()) {
            twice.push(format!(
                "{origin}: account {} is given twice (also {})",
                account.number, accounts[j].0
            ));
        } else {
            first.insert(&account.number, i);
        }
    }
    if !twice.is_empty() {
        return refused(&twice, twice.len());
    }
    let numbers: Vec<&str> = accounts.iter().map(|(_, a)| a.number.as_str()).collect();
    if let Err(twin) = check_leading_zero_twins(&numbers, []) {
        return refused(&[twin_refusal(&twin, &accounts, &first)], 1);
    }

    let started = Instant::now();
    let bar = phase_bar(progress, "checking against the center", Shown::Spinner);
    let store = match store {
        Some(store) => store,
        None => database::open_or_create(db).await?,
    };
    let everyone = every_number_if_fewer(&*store, numbers.len())
        .await
        .map_err(|e| database::named(db, e))?;
    let twins = match &everyone {
        Some(all) => check_leading_zero_twins(&numbers, all.iter().map(String::as_str)),
        None => refuse_leading_zero_twins(&*store, &numbers)
            .await
            .map_err(|e| database::named(db, e))?,
    };
    if let Err(twin) = twins {
        return refused(&[twin_refusal(&twin, &accounts, &first)], 1);
    }
    let listed: Vec<&Account> = accounts.iter().map(|(_, a)| a).collect();
    if let Some((i, reason)) = unknown_dealer(&*store, &listed)
        .await
        .map_err(|e| database::named(db, e))?
    {
        let (origin, account) = &accounts[i];
        let line = format!(
            "{}: account {}: dealer: {reason}",
            origin.file, account.number
        );
        return refused(&[line], 1);
    }
    let enrolled: HashSet<String> = match everyone {
        Some(all) => all
            .into_iter()
            .filter(|n| first.contains_key(n.as_str()))
            .collect(),
        None => {
            let wanted: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
            store
                .enrolled_among(&wanted)
                .await
                .map_err(|e| database::named(db, e))?
                .into_iter()
                .collect()
        }
    };
    if !args.replace && !enrolled.is_empty() {
        let lines: Vec<String> = accounts
            .iter()
            .filter(|(_, a)| enrolled.contains(&a.number))
            .map(|(origin, a)| {
                format!(
                    "{}: account {} is already enrolled (give --replace to replace it)",
                    origin.file, a.number
                )
            })
            .collect();
        for line in &lines {
            err!("{line}");
        }
        err!("nothing imported: {} already enrolled", lines.len());
        return Ok(None);
    }
    // What each replaced account was, to end the keys of a replaced enrolment after.
    let mut before = Vec::new();
    for (_, account) in accounts
        .iter()
        .filter(|(_, a)| enrolled.contains(&a.number))
    {
        if let Some(old) = store
            .account(&account.number)
            .await
            .map_err(|e| database::named(db, e))?
        {
            before.push((old, account.clone()));
        }
    }
    bar.finish_and_clear();
    phases.center = started.elapsed();

    let started = Instant::now();
    let bar = phase_bar(
        progress,
        &format!("writing {} accounts", accounts.len()),
        Shown::Spinner,
    );
    let (replaced, created): (Vec<_>, Vec<_>) = accounts
        .into_iter()
        .map(|(_, account)| account)
        .partition(|a| enrolled.contains(&a.number));
    let created_numbers: Vec<String> = created.iter().map(|a| a.number.clone()).collect();
    let replaced_numbers: Vec<String> = replaced.iter().map(|a| a.number.clone()).collect();
    let accounts: Vec<Account> = created.into_iter().chain(replaced).collect();
    if let Some(sealed) = &new_pepper {
        // The pepper these hashes are keyed with is stored first; another process that
        // stored one since this import began would leave hashes nobody could check.
        let kept = pepper::keep(&*store, sealed)
            .await
            .map_err(|e| database::named(db, e))?;
        if &kept != sealed {
            err!(
                "nothing imported: another process created this center's verbal-password \
                 pepper while the passwords were hashed; run the import again"
            );
            return Ok(None);
        }
    }
    store
        .put_accounts(&accounts)
        .await
        .map_err(|e| database::named(db, e))?;
    // A replacement that is a new enrolment (another `enrolled` time) ends the old keys.
    let auth = watchpost_server::auth::Auth::new(store.clone());
    let now = chrono::Utc::now().timestamp_millis();
    let mut revoked = Vec::new();
    for (old, new) in &before {
        let count = auth
            .end_keys_of_replaced_enrolment(old, new, &crate::users_cmd::actor(), now)
            .await?;
        if count > 0 {
            revoked.push((new.number.clone(), count as u64));
        }
    }
    bar.finish_and_clear();
    phases.writing = started.elapsed();
    if unkeyed && !watched {
        err!("{NO_PEPPER_NOTE}");
    }
    Ok(Some(Imported {
        created: created_numbers,
        replaced: replaced_numbers,
        revoked,
        phases,
    }))
}

/// What keys an import's verbal passwords.
struct Keying {
    /// The database, when it had to be opened to read the pepper.
    store: Option<watchpost_store::Db>,
    /// The pepper passwords are hashed with; `None` without a master key.
    pepper: Option<watchpost_core::pepper::Pepper>,
    /// The sealed value of a pepper made for this import (the center had none), stored just
    /// before the accounts: a refused import writes nothing.
    new_pepper: Option<String>,
}

/// With a master key, the center's pepper (read without writing), or a new one when the
/// center has none or does not exist yet; without one, no pepper.
async fn keying(db: &str, master: Option<&MasterKey>) -> anyhow::Result<Keying> {
    let Some(master) = master else {
        return Ok(Keying {
            store: None,
            pepper: None,
            new_pepper: None,
        });
    };
    let (store, stored) = match watchpost_store::exists(db).await? {
        true => {
            let store = database::open_or_create(db).await?;
            let stored = pepper::load(&*store, Some(master))
                .await
                .map_err(|e| database::named(db, e))?;
            (Some(store), stored)
        }
        false => (None, None),
    };
    Ok(match stored {
        Some(stored) => Keying {
            store,
            pepper: Some(stored),
            new_pepper: None,
        },
        None => {
            let (new, sealed) = pepper::create(master);
            Keying {
                store,
                pepper: Some(new),
                new_pepper: Some(sealed),
            }
        }
    })
}

/// Every enrolled number, when the center holds at most ten times as many accounts as an
/// import of `importing` brings: each imported number costs up to 16 indexed lookups (itself
/// and its leading-zero twins), so reading every number in order is then cheaper, and for a
/// new center it reads nothing. `None`: look the import's numbers up instead.
async fn every_number_if_fewer(
    store: &dyn Store,
    importing: usize,
) -> Result<Option<Vec<String>>, StoreError> {
    let enrolled = store.count_accounts().await?;
    if enrolled as usize > importing.saturating_mul(10) {
        return Ok(None);
    }
    let mut all = Vec::with_capacity(enrolled as usize);
    loop {
        let after = all.last().map_or("", String::as_str).to_string();
        let page = store.account_numbers(&after, NUMBERS_PAGE).await?;
        let done = (page.len() as i64) < NUMBERS_PAGE;
        all.extend(page);
        if done {
            return Ok(Some(all));
        }
    }
}

/// Account numbers read per query when reading them all.
const NUMBERS_PAGE: i64 = 10_000;

/// Prints the refusals and the verdict; `None` for `import`.
fn refused(lines: &[String], count: usize) -> anyhow::Result<Option<Imported>> {
    for line in lines {
        err!("{line}");
    }
    err!("nothing imported: {count} refused");
    Ok(None)
}

/// A leading-zero twin refusal, naming the file and the field of the account refused.
fn twin_refusal(
    twin: &EnrolmentError,
    accounts: &[(Origin, Account)],
    index: &HashMap<&str, usize>,
) -> String {
    let EnrolmentError::LeadingZeroTwin { number, .. } = twin else {
        return twin.to_string();
    };
    let text = twin.to_string();
    let reason = text.split_once(": ").map_or(text.as_str(), |(_, r)| r);
    match index.get(number.as_str()) {
        Some(&i) => {
            let origin = &accounts[i].0;
            format!("{}: {}: {reason}", origin.file, origin.field("number"))
        }
        None => text,
    }
}

/// How a phase shows its progress.
enum Shown {
    /// A bar out of this many accounts.
    Bar(u64),
    /// A count of the accounts done so far.
    Count,
    /// Only that it is under way.
    Spinner,
}

/// The bar or counter of one phase on a terminal's stderr; hidden when `shown` is false
/// (and, by indicatif, whenever stderr is not a terminal).
fn phase_bar(shown: bool, phase: &str, how: Shown) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let (bar, template) = match how {
        Shown::Bar(len) => (
            ProgressBar::new(len),
            "{msg}: [{bar:30}] {human_pos}/{human_len} accounts ({per_sec}, {eta} left)",
        ),
        Shown::Count => (
            ProgressBar::new_spinner(),
            "{spinner} {msg}: {human_pos} accounts ({elapsed})",
        ),
        Shown::Spinner => (ProgressBar::new_spinner(), "{spinner} {msg} ({elapsed})"),
    };
    let style = ProgressStyle::with_template(template).expect("a constant template is valid");
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(phase.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
