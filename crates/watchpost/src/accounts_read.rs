//! What `watchpost accounts import` reads: account files (TOML or CSV) and folders of them,
//! turned into account tables that each keep where they came from, for refusals. Files are
//! parsed in parallel; a folder stands for its `.toml` and `.csv` files, since a million
//! file names do not fit on a command line.

use crate::accounts_csv::{self, ROW_FIELD, RowPlace};
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use watchpost_core::account_file::AccountTable;
use watchpost_core::toml_file;

/// How an account file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `[account]` or `[[accounts]]` tables (docs/accounts.md).
    Toml,
    /// A header row, then one account a row (docs/accounts.md, "CSV files").
    Csv,
}

impl Format {
    /// The format `path`'s name says: `.csv` (any case) is CSV, anything else TOML.
    pub fn of(path: &Path) -> Format {
        match path.extension() {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Toml,
        }
    }
}

/// Where an account was given: its file, and its table or row there.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: Arc<str>,
    pub place: Place,
}

#[derive(Debug, Clone)]
pub enum Place {
    /// A TOML table, as its fields are named: `account`, `accounts[3]`.
    Table(String),
    Row(RowPlace),
}

impl Origin {
    /// The name `AccountTable::into_account` gets for the fields it names.
    pub fn field_prefix(&self) -> &str {
        match &self.place {
            Place::Table(name) => name,
            Place::Row(_) => ROW_FIELD,
        }
    }

    /// A refusal that names a field as `into_account` does (`accounts[1].region: ...`,
    /// `row.region: ...`), as the command prints it: with the file, and a CSV row's line
    /// and column.
    pub fn refusal(&self, message: &str) -> String {
        match &self.place {
            Place::Table(_) => format!("{}: {message}", self.file),
            Place::Row(row) => format!("{}: {}", self.file, row.refusal(message)),
        }
    }

    /// How refusals name one field of this account: `accounts[3].number`, `line 7: number`.
    pub fn field(&self, field: &str) -> String {
        match &self.place {
            Place::Table(name) => format!("{name}.{field}"),
            Place::Row(row) => format!("line {}: {}", row.line, row.column(field)),
        }
    }
}

/// `file: accounts[3]`, `file: line 7`.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Place::Table(name) => write!(f, "{}: {name}", self.file),
            Place::Row(row) => write!(f, "{}: line {}", self.file, row.line),
        }
    }
}

/// One account as read, not yet checked.
pub struct Entry {
    pub origin: Origin,
    pub table: AccountTable,
}

/// Everything read: the accounts in the order given, and one refusal per file, table or
/// row that could not be read.
pub struct Read {
    pub entries: Vec<Entry>,
    pub refusals: Vec<String>,
}

/// Reads every file of `paths` (a folder: its `.toml` and `.csv` files, in name order),
/// each in `format` or the one its name says. Warnings (unknown keys and columns) are
/// printed as they are found; `bar` counts the accounts read.
pub fn read(paths: &[PathBuf], format: Option<Format>, bar: &ProgressBar) -> Read {
    let mut refusals = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        match list(path) {
            Ok(listed) => files.extend(listed),
            Err(refusal) => refusals.push(refusal),
        }
    }
    let read: Vec<(Vec<Entry>, Vec<String>, Vec<String>)> = files
        .par_iter()
        .map(|path| {
            let format = format.unwrap_or_else(|| Format::of(path));
            let read = read_file(path, format);
            bar.inc(read.0.len() as u64);
            read
        })
        .collect();
    let mut entries = Vec::new();
    for (mut from_file, warnings, refused) in read {
        for warning in warnings {
            err!("{warning}");
        }
        entries.append(&mut from_file);
        refusals.extend(refused);
    }
    Read { entries, refusals }
}

/// `path` itself, or a folder's account files.
fn list(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let name = path.display();
    let mut files = Vec::new();
    for entry in
        std::fs::read_dir(path).map_err(|e| format!("{name}: cannot read the folder: {e}"))?
    {
        let file = entry
            .map_err(|e| format!("{name}: cannot read the folder: {e}"))?
            .path();
        let account_file = file
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("toml") || ext.eq_ignore_ascii_case("csv"));
        if account_file && file.is_file() {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(format!("{name}: the folder has no .toml or .csv files"));
    }
    files.sort();
    Ok(files)
}

#[derive(Deserialize)]
struct AccountsFile {
    account: Option<AccountTable>,
    #[serde(default)]
    accounts: Vec<AccountTable>,
}

/// One file's accounts, warnings and refusals, each line naming the file.
fn read_file(path: &Path, format: Format) -> (Vec<Entry>, Vec<String>, Vec<String>) {
    let file: Arc<str> = path.display().to_string().into();
    let named = |lines: Vec<String>| -> Vec<String> {
        lines.into_iter().map(|l| format!("{file}: {l}")).collect()
    };
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) => {
            return (
                Vec::new(),
                Vec::new(),
                named(vec![format!("cannot read the file: {e}")]),
            );
        }
    };
    match format {
        Format::Csv => match accounts_csv::read(text.as_slice()) {
            Ok(csv) => {
                let entries = csv
                    .rows
                    .into_iter()
                    .map(|row| Entry {
                        origin: Origin {
                            file: file.clone(),
                            place: Place::Row(row.place),
                        },
                        table: row.table,
                    })
                    .collect();
                let warnings = csv.warnings.into_iter().map(|w| format!("warning: {w}"));
                (entries, named(warnings.collect()), Vec::new())
            }
            Err(refusals) => (Vec::new(), Vec::new(), named(refusals)),
        },
        Format::Toml => {
            let parsed = String::from_utf8(text)
                .map_err(|e| vec![format!("the file is not UTF-8 text: {e}")])
                .and_then(|text| toml_tables(&text));
            let (tables, warnings) = match parsed {
                Ok(read) => read,
                Err(errors) => return (Vec::new(), Vec::new(), named(errors)),
            };
            let entries: Vec<Entry> = tables
                .into_iter()
                .map(|(name, table)| Entry {
                    origin: Origin {
                        file: file.clone(),
                        place: Place::Table(name),
                    },
                    table,
                })
                .collect();
            let refused = match entries.is_empty() {
                true => named(vec!["no [account] or [[accounts]] table".to_string()]),
                false => Vec::new(),
            };
            let warnings = warnings
                .into_iter()
                .map(|w| format!("{file}: warning: {w}"))
                .collect();
            (entries, warnings, refused)
        }
    }
}

/// A TOML file's account tables with their names (`account`, `accounts[3]`), and its
/// warnings; or its errors. The file is parsed in parts on every core: each `[[accounts]]`
/// table from its header line to the next, and what comes before the first. Parsed whole, a
/// file of 100,000 accounts takes over a gigabyte (the parser keeps every span) and one core;
/// a part takes what one account does. Messages name lines and tables of the whole file. A
/// file where a split might cut a value (it has a multi-line string, which could hold such a
/// line) or where a part is not one account is parsed whole.
fn toml_tables(text: &str) -> Result<Tables, Vec<String>> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare: String = line
            .split('#')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if bare == "[[accounts]]" {
            starts.push((offset, i));
        }
        offset += line.len();
    }
    if starts.len() < 2 || text.contains("\"\"\"") || text.contains("\'\'\'") {
        return whole(text);
    }
    let mut parts = vec![(&text[..starts[0].0], 0, None)];
    for (n, &(start, line)) in starts.iter().enumerate() {
        let end = starts.get(n + 1).map_or(text.len(), |&(next, _)| next);
        parts.push((&text[start..end], line, Some(n)));
    }
    let parsed: Vec<_> = parts
        .par_iter()
        .map(|&(part, lines_before, index)| {
            let renamed = |message: String| rename(&shift_lines(&message, lines_before), index);
            toml_file::read::<AccountsFile>(part)
                .map(|(file, warnings)| (file, warnings.into_iter().map(renamed).collect()))
                .map_err(renamed)
        })
        .collect();
    let (mut account, mut accounts, mut warnings, mut errors) =
        (None, Vec::new(), Vec::new(), Vec::new());
    for (result, &(_, _, index)) in parsed.into_iter().zip(&parts) {
        let (file, mut more) = match result {
            Ok(read) => read,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let expected = usize::from(index.is_some());
        if file.accounts.len() != expected || (file.account.is_some() && account.is_some()) {
            return whole(text);
        }
        account = account.or(file.account);
        accounts.extend(file.accounts);
        warnings.append(&mut more);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((named_tables(account, accounts), warnings))
}

/// An account file's tables with their names, and its warnings.
type Tables = (Vec<(String, AccountTable)>, Vec<String>);

/// The file parsed as one document.
fn whole(text: &str) -> Result<Tables, Vec<String>> {
    let (file, warnings) = toml_file::read::<AccountsFile>(text).map_err(|e| vec![e])?;
    Ok((named_tables(file.account, file.accounts), warnings))
}

fn named_tables(
    account: Option<AccountTable>,
    accounts: Vec<AccountTable>,
) -> Vec<(String, AccountTable)> {
    account
        .map(|a| ("account".to_string(), a))
        .into_iter()
        .chain(
            accounts
                .into_iter()
                .enumerate()
                .map(|(i, a)| (format!("accounts[{i}]"), a)),
        )
        .collect()
}

/// A part's message with its line numbers counted in the whole file: `toml_file::read` says
/// `line L, column C: …` or `…: reason (line L)`.
fn shift_lines(message: &str, lines_before: usize) -> String {
    let shifted = |line: &str| {
        line.parse::<usize>()
            .ok()
            .map(|l| (l + lines_before).to_string())
    };
    if let Some(rest) = message.strip_prefix("line ")
        && let Some((line, tail)) = rest.split_once(',')
        && let Some(line) = shifted(line)
    {
        return format!("line {line},{tail}");
    }
    if let Some(head) = message.strip_suffix(')')
        && let Some((head, line)) = head.rsplit_once("(line ")
        && let Some(line) = shifted(line)
    {
        return format!("{head}(line {line})");
    }
    message.to_string()
}

/// A part's message naming its one `[[accounts]]` table as the whole file's `index`th: as a
/// field path (`accounts[0].region`) or as a warning's key path (`accounts.0.colour`).
fn rename(message: &str, index: Option<usize>) -> String {
    let Some(index) = index else {
        return message.to_string();
    };
    if let Some(rest) = message.strip_prefix("accounts[0]") {
        return format!("accounts[{index}]{rest}");
    }
    if let Some(rest) = message.strip_prefix("accounts.0.") {
        return format!("accounts.{index}.{rest}");
    }
    message.to_string()
}
