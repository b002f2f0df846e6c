//! `watchpost bench import`: `accounts import` at scale. It writes one file of N generated
//! accounts (CSV or TOML) in a temporary folder, imports it into a new SQLite database there
//! with the command's own code (`accounts_cmd::import`), checks that every account was
//! stored, and prints accounts/s, each phase's time, the CPU time used and the peak RSS.

use crate::accounts_cmd::{self, ImportArgs};
use crate::accounts_read::Format;
use crate::bench_proc::cpu_time;
use anyhow::{Context, bail};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::time::Instant;
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::pepper::Pepper;
use watchpost_server::secrets::MasterKey;

#[derive(clap::Args, Debug, Clone)]
pub struct ImportBenchArgs {
    /// Accounts in the generated file, numbered from 1000000.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=8_000_000))]
    pub accounts: u32,
    /// How the file is written.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Percent of the accounts with a DC-09 key (sealed with a master key) and supervision.
    #[arg(long, value_name = "PERCENT", default_value_t = 10,
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub keyed_percent: u8,
    /// How the verbal passwords are given: `hashed`, as argon2id PHC strings a migration
    /// brings (`verbal_password_hash`), or `spoken`, for the import to hash. Every tenth
    /// account is self-monitored, without one.
    #[arg(long, value_enum, default_value = "hashed")]
    pub passwords: Passwords,
    /// Import without a master key (needs --keyed-percent 0): spoken passwords are then
    /// hashed unkeyed at full cost, as a center without a master key stores them.
    #[arg(long)]
    pub without_master_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Passwords {
    Hashed,
    Spoken,
}

/// The first generated account number; seven digits, so every number has leading-zero
/// twins to look up, as real numbers do.
const FIRST_NUMBER: u32 = 1_000_000;
/// Distinct migrated hashes the generated accounts share (each costs a full hash to make).
const HASHES: usize = 8;

pub async fn import(args: ImportBenchArgs) -> anyhow::Result<()> {
    if args.without_master_key && args.keyed_percent > 0 {
        bail!("--without-master-key: give --keyed-percent 0 too (DC-09 keys need a master key)");
    }
    let dir = tempfile::tempdir().context("a temporary folder")?;
    let extension = match args.format {
        Format::Csv => "csv",
        Format::Toml => "toml",
    };
    let file = dir.path().join(format!("accounts.{extension}"));
    let db = dir.path().join("bench.db");
    let generated = Instant::now();
    let hashes: Vec<String> = (0..HASHES)
        .into_par_iter()
        .map(|i| {
            let hash = VerbalPassword::hash(&format!("blue falcon {i}"), HashCost::Standard);
            hash.phc().to_string()
        })
        .collect();
    let text = match args.format {
        Format::Csv => csv_file(&args, &hashes)?,
        Format::Toml => toml_file(&args, &hashes),
    };
    std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
    let generated = generated.elapsed();
    let size = text.len();
    drop(text);

    let master = (!args.without_master_key).then(|| MasterKey::from_bytes(rand::random()));
    let per_hash = (args.passwords == Passwords::Spoken).then(|| per_hash(master.is_some()));
    let import = ImportArgs {
        paths: vec![file.clone()],
        format: None,
        replace: false,
        master_key_file: None,
        db: db.display().to_string(),
    };
    let cpu_before = cpu_time(None)?;
    let started = Instant::now();
    let Some(imported) = accounts_cmd::import(&import, master.as_ref(), false).await? else {
        bail!("the generated accounts were refused (see above)");
    };
    let total = started.elapsed();
    let cpu = cpu_time(None)? - cpu_before;
    let store = watchpost_store::open(&import.db).await?;
    let stored = store.count_accounts().await?;
    store.close().await;
    if stored != i64::from(args.accounts) || imported.created.len() != args.accounts as usize {
        bail!(
            "{} accounts generated, {} created, {stored} stored",
            args.accounts,
            imported.created.len()
        );
    }
    let db_size: u64 = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("bench.db"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    let p = imported.phases;
    let seconds = |d: std::time::Duration| d.as_secs_f64();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "accounts     {} in one {} file of {:.1} MB ({}% keyed, passwords {}; generated in {:.1} s)",
        args.accounts,
        extension.to_uppercase(),
        size as f64 / 1e6,
        args.keyed_percent,
        match (args.passwords, master.is_some()) {
            (Passwords::Hashed, _) => "hashed (PHC)",
            (Passwords::Spoken, true) => "spoken, keyed with the pepper",
            (Passwords::Spoken, false) => "spoken, no master key: unkeyed",
        },
        seconds(generated)
    );
    if let Some((scheme, ms)) = &per_hash {
        let _ = writeln!(
            report,
            "hash         {scheme}: {ms:.2} ms of one core (mean of {PER_HASH_SAMPLES})"
        );
    }
    let _ = writeln!(
        report,
        "import       {:.2} s: {:.0} accounts/s ({} threads)",
        seconds(total),
        f64::from(args.accounts) / seconds(total),
        rayon::current_num_threads()
    );
    for (phase, time) in [
        ("reading", p.reading),
        ("checking", p.checking),
        ("center", p.center),
        ("writing", p.writing),
    ] {
        let _ = writeln!(report, "  {phase:<10} {:.2} s", seconds(time));
    }
    let _ = writeln!(
        report,
        "cpu          {:.2} s ({:.2} cores busy on average)",
        seconds(cpu),
        seconds(cpu) / seconds(total)
    );
    let _ = writeln!(
        report,
        "stored       {stored} accounts; database {:.1} MB; peak RSS {}",
        db_size as f64 / 1e6,
        peak_rss().map_or("unknown".to_string(), |kb| format!(
            "{:.0} MB",
            kb as f64 / 1e3
        ))
    );
    out!("{}", report.trim_end());
    Ok(())
}

/// Hashes timed one after another for the `hash` line.
const PER_HASH_SAMPLES: u32 = 50;

/// The scheme an import hashes spoken passwords with, and one hash's time in ms on one core
/// (before the import, so nothing else of the bench runs beside it).
fn per_hash(keyed: bool) -> (String, f64) {
    let pepper = Pepper::generate();
    let pepper = keyed.then_some(&pepper);
    let started = Instant::now();
    let mut phc = String::new();
    for i in 0..PER_HASH_SAMPLES {
        let hash = VerbalPassword::hash_with(&format!("blue falcon {i}"), HashCost::Import, pepper);
        phc = hash.phc().to_string();
    }
    let ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(PER_HASH_SAMPLES);
    // `$argon2id$v=19$m=..,t=..,p=..[,keyid=..]$salt$hash`: the parameters only.
    let params = phc.split('$').nth(3).unwrap_or_default();
    (format!("argon2id {params}"), ms)
}

/// One generated account's values, as both formats write them.
struct Generated {
    number: String,
    professional: bool,
    password: Option<String>,
    password_hash: Option<String>,
    key_hex: Option<String>,
    supervision_s: Option<u32>,
    i: u32,
}

fn generated(args: &ImportBenchArgs, hashes: &[String], i: u32) -> Generated {
    let professional = i % 10 != 9;
    let keyed = (i % 100) < u32::from(args.keyed_percent);
    let (password, password_hash) = match (professional, args.passwords) {
        (false, _) => (None, None),
        (true, Passwords::Spoken) => (Some(format!("blue falcon {}", i % 1000)), None),
        (true, Passwords::Hashed) => (None, Some(hashes[i as usize % hashes.len()].clone())),
    };
    Generated {
        number: (FIRST_NUMBER + i).to_string(),
        professional,
        password,
        password_hash,
        key_hex: keyed.then(|| format!("{:032X}", u128::from(i) * 0x9E37_79B9_7F4A_7C15 + 1)),
        supervision_s: keyed.then_some(3600),
        i,
    }
}

/// `+1217` and seven digits: a valid E.164 number, distinct per account and contact.
fn phone(i: u32, contact: u32) -> String {
    format!("+1217{:07}", (i * 2 + contact) % 10_000_000)
}

fn csv_file(args: &ImportBenchArgs, hashes: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "number",
        "premises",
        "address",
        "country",
        "region",
        "monitoring",
        "enrolled",
        "verbal_password",
        "verbal_password_hash",
        "contact1_name",
        "contact1_phone",
        "contact2_name",
        "contact2_phone",
        "zones",
        "dc09_key_hex",
        "supervision_s",
    ])?;
    for i in 0..args.accounts {
        let g = generated(args, hashes, i);
        csv.write_record([
            g.number.as_str(),
            "residential",
            &format!("{} Elm St, Springfield, IL", g.i),
            "US",
            "IL",
            if g.professional {
                "professional"
            } else {
                "self"
            },
            "2026-01-01T00:00:00Z",
            g.password.as_deref().unwrap_or(""),
            g.password_hash.as_deref().unwrap_or(""),
            &format!("Ann {}", g.i),
            &phone(g.i, 0),
            &format!("Bob {}", g.i),
            &phone(g.i, 1),
            "1:contact 2:motion 3:smoke",
            g.key_hex.as_deref().unwrap_or(""),
            &g.supervision_s.map_or(String::new(), |s| s.to_string()),
        ])?;
    }
    Ok(csv.into_inner()?)
}

fn toml_file(args: &ImportBenchArgs, hashes: &[String]) -> Vec<u8> {
    let mut text = String::new();
    for i in 0..args.accounts {
        let g = generated(args, hashes, i);
        let _ = write!(
            text,
            "[[accounts]]\nnumber = \"{}\"\npremises = \"residential\"\n\
             address = \"{} Elm St, Springfield, IL\"\ncountry = \"US\"\nregion = \"IL\"\n\
             monitoring = \"{}\"\nenrolled = \"2026-01-01T00:00:00Z\"\n",
            g.number,
            g.i,
            if g.professional {
                "professional"
            } else {
                "self"
            },
        );
        if let Some(p) = &g.password {
            let _ = writeln!(text, "verbal_password = \"{p}\"");
        }
        if let Some(h) = &g.password_hash {
            let _ = writeln!(text, "verbal_password_hash = \"{h}\"");
        }
        if let Some(k) = &g.key_hex {
            let _ = writeln!(text, "dc09_key_hex = \"{k}\"");
        }
        if let Some(s) = g.supervision_s {
            let _ = writeln!(text, "supervision_s = {s}");
        }
        for (c, name) in ["Ann", "Bob"].iter().enumerate() {
            let _ = write!(
                text,
                "[[accounts.contacts]]\nname = \"{name} {}\"\nphone = \"{}\"\n",
                g.i,
                phone(g.i, c as u32)
            );
        }
        for (zone, device) in [(1, "contact"), (2, "motion"), (3, "smoke")] {
            let _ = write!(
                text,
                "[[accounts.zones]]\nzone = {zone}\ndevice = \"{device}\"\n"
            );
        }
    }
    text.into_bytes()
}

/// This process's peak resident set, in kB (VmHWM of /proc/self/status).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
