//! Checking and hashing the accounts of an import, on every core. A spoken verbal password
//! is hashed as the center stores it (`VerbalPassword::hash_with`): keyed with the center's
//! pepper when a master key is given (about 1.2 ms of one core, so a million accounts take
//! minutes), else unkeyed at full cost (about 20 ms). A hash brought from another system is
//! checked, not hashed again (`VerbalPassword::from_migration`). DC-09 keys are sealed with
//! the master key here too.

use crate::accounts_read::{Entry, Origin};
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::sync::OnceLock;
use watchpost_core::password::{HashCost, VerbalPassword, normalise};
use watchpost_core::pepper::Pepper;
use watchpost_core::{Account, Millis};
use watchpost_server::secrets::{MasterKey, seal_account};

/// Makes glibc give each hash's 19 MiB back to the system when it is freed. By default its
/// threshold for that rises to the size of the first block freed, after which such blocks
/// are carved from the threads' heaps and, fragmented, kept: hashing 1,000 passwords held
/// 2.2 GB; with the threshold fixed at 1 MiB, 50 MB.
fn return_hash_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; any value is valid for it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// How many accounts of the import give a spoken verbal password (one the import hashes).
pub fn spoken(entries: &[Entry]) -> usize {
    entries
        .iter()
        .filter(|e| {
            e.table
                .verbal_password
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty())
        })
        .count()
}

/// Every account checked by every rule that needs nothing stored, its verbal password hashed
/// and its DC-09 key sealed, in the order given; or one refusal per account that broke a
/// rule, each naming the file, the table or row, and the field. Passwords are keyed with
/// `pepper` when one is given. `bar` counts the accounts.
pub fn check_all(
    entries: Vec<Entry>,
    now: Millis,
    master: Option<&MasterKey>,
    pepper: Option<&Pepper>,
    bar: &ProgressBar,
) -> Result<Vec<(Origin, Account)>, Vec<String>> {
    return_hash_memory();
    // An account without a verbal password stores the hash of the empty phrase. It hides no
    // secret, so one hash (one salt) serves every such account of the import.
    let no_password = OnceLock::new();
    let hash = |spoken: &str| match normalise(spoken).is_empty() {
        true => no_password
            .get_or_init(|| VerbalPassword::hash_with("", HashCost::Import, pepper))
            .clone(),
        false => VerbalPassword::hash_with(spoken, HashCost::Import, pepper),
    };
    let checked: Vec<Result<(Origin, Account), String>> = entries
        .into_par_iter()
        .map(|Entry { origin, table }| {
            let prefix = origin.field_prefix();
            let key_field = match table.dc09_key_ascii {
                Some(_) => format!("{prefix}.dc09_key_ascii"),
                None => format!("{prefix}.dc09_key_hex"),
            };
            let account = table
                .into_account_with(prefix, now, hash)
                .and_then(|mut account| {
                    seal_account(master, &mut account, &key_field).map(|()| account)
                });
            bar.inc(1);
            match account {
                Ok(account) => Ok((origin, account)),
                Err(reason) => Err(origin.refusal(&reason)),
            }
        })
        .collect();
    let mut accounts = Vec::with_capacity(checked.len());
    let mut refusals = Vec::new();
    for result in checked {
        match result {
            Ok(account) => accounts.push(account),
            Err(refusal) => refusals.push(refusal),
        }
    }
    match refusals.is_empty() {
        true => Ok(accounts),
        false => Err(refusals),
    }
}
