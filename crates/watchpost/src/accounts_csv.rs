//! Accounts as CSV exported from a dealer system (docs/accounts.md, "CSV files"): a header
//! row naming the columns, then one row per account. Contacts are numbered column groups
//! (`contact1_name`, `contact1_phone`, `contact1_phone2`, `contact2_name`...), the zones one
//! column (`1:contact 2:motion`). Each row becomes the `AccountTable` a TOML file would give,
//! so every enrolment rule is the same; a refusal names the line and the column.

use serde::de::DeserializeOwned;
use serde::de::value::{Error as ValueError, StrDeserializer};
use std::collections::HashMap;
use std::io::Read;
use watchpost_core::account::{Contact, Monitoring, Premises, Responder, Zone};
use watchpost_core::account_file::{AccountTable, MAX_CONTACTS};

/// The columns that hold one value each, named as the keys of a TOML account table.
const SCALARS: [&str; 18] = [
    "number",
    "premises",
    "address",
    "country",
    "region",
    "monitoring",
    "enrolled",
    "verbal_password",
    "verbal_password_hash",
    "responder",
    "test_until",
    "dc09_key_hex",
    "dc09_key_ascii",
    "supervision_s",
    "dealer",
    "premises_phone",
    "instructions",
    "notes",
];

/// The columns every file must have (a row may still leave optional ones empty).
const REQUIRED: [&str; 6] = [
    "number",
    "premises",
    "address",
    "country",
    "region",
    "monitoring",
];

/// The parts of a contact's column group, in the order of `Contact`'s fields.
const CONTACT_PARTS: [&str; 3] = ["name", "phone", "phone2"];

/// The field name `AccountTable::into_account` is given for a CSV row; `CsvRow::refusal`
/// turns what it names into a line and a column.
pub const ROW_FIELD: &str = "row";

/// One account row: where it is in the file and the table it gives.
pub struct CsvRow {
    pub place: RowPlace,
    pub table: AccountTable,
}

/// Where a row is, to name it in refusals.
#[derive(Debug, Clone)]
pub struct RowPlace {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    /// The group number of each contact of the row's table (`contact3_*` is 3), to name
    /// columns: empty groups are skipped, so the third group may be the second contact.
    contact_groups: Vec<u16>,
}

/// What a CSV file gives: its rows, and one warning per column that is not read.
pub struct CsvFile {
    pub rows: Vec<CsvRow>,
    pub warnings: Vec<String>,
}

impl RowPlace {
    /// The refusal `into_account` gave for this row (`row.contacts[0].phone: reason`), as
    /// the file's user sees it: `line 7: contact1_phone: reason`.
    pub fn refusal(&self, message: &str) -> String {
        let Some(rest) = message.strip_prefix(&format!("{ROW_FIELD}.")) else {
            return format!("line {}: {message}", self.line);
        };
        match rest.split_once(": ") {
            Some((path, reason)) => format!("line {}: {}: {reason}", self.line, self.column(path)),
            None => format!("line {}: {rest}", self.line),
        }
    }

    /// The column that holds what `path` (a field of the account table) names.
    pub fn column(&self, path: &str) -> String {
        if let Some(rest) = path.strip_prefix("contacts[")
            && let Some((index, part)) = rest.split_once(']')
            && let Some(group) = index
                .parse::<usize>()
                .ok()
                .and_then(|i| self.contact_groups.get(i))
        {
            return match part.strip_prefix('.') {
                Some(part) => format!("contact{group}_{part}"),
                None => format!("contact{group}_name"),
            };
        }
        if path == "contacts" {
            return "contact1_name".to_string();
        }
        if path.starts_with("zones") {
            return "zones".to_string();
        }
        path.to_string()
    }
}

/// Where each known column is, from the header row.
struct Columns {
    scalars: HashMap<&'static str, usize>,
    /// Per contact group (1-based number, index = number - 1): the column of each part.
    contacts: Vec<[Option<usize>; 3]>,
    zones: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<(Columns, Vec<String>), Vec<String>> {
        let mut columns = Columns {
            scalars: HashMap::new(),
            contacts: Vec::new(),
            zones: None,
        };
        let (mut warnings, mut errors) = (Vec::new(), Vec::new());
        let mut seen = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            if let Some(first) = seen.insert(name.clone(), i) {
                errors.push(format!(
                    "line 1: column {name:?} is given twice (columns {} and {})",
                    first + 1,
                    i + 1
                ));
                continue;
            }
            if let Some(scalar) = SCALARS.iter().find(|s| **s == name) {
                columns.scalars.insert(scalar, i);
            } else if name == "zones" {
                columns.zones = Some(i);
            } else if let Some((group, part)) = contact_column(&name) {
                if columns.contacts.len() < group {
                    columns.contacts.resize(group, [None; 3]);
                }
                columns.contacts[group - 1][part] = Some(i);
            } else {
                warnings.push(format!("line 1: column {name:?}: unknown column, ignored"));
            }
        }
        for required in REQUIRED {
            if !columns.scalars.contains_key(required) {
                errors.push(format!("line 1: column {required:?} is missing"));
            }
        }
        match errors.is_empty() {
            true => Ok((columns, warnings)),
            false => Err(errors),
        }
    }
}

/// `contact12_phone2` is group 12, part 2 (`phone2`); groups are 1 to `MAX_CONTACTS`.
fn contact_column(name: &str) -> Option<(usize, usize)> {
    let rest = name.strip_prefix("contact")?;
    let (group, part) = rest.split_once('_')?;
    let group: usize = group
        .parse()
        .ok()
        .filter(|g| (1..=MAX_CONTACTS).contains(g))?;
    let part = CONTACT_PARTS.iter().position(|p| *p == part)?;
    Some((group, part))
}

/// Reads a whole CSV file, row by row. `Err` holds one refusal per bad row (or the header's),
/// each starting with its line.
pub fn read(reader: impl Read) -> Result<CsvFile, Vec<String>> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| vec![format!("line 1: {}", reason(&e))])?
        .clone();
    let (columns, warnings) = Columns::from_header(&header)?;
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                match row(&columns, &record, line) {
                    Ok(row) => rows.push(row),
                    Err(e) => errors.push(format!("line {line}: {e}")),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("line {line}: {}", reason(&e)));
                // A reader error other than a bad row (I/O, bad UTF-8 at the end) ends it.
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    break;
                }
            }
        }
    }
    match errors.is_empty() {
        true => Ok(CsvFile { rows, warnings }),
        false => Err(errors),
    }
}

/// A reader error without the position the caller already says.
fn reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields; the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not UTF-8 text", err.field() + 1),
        _ => e.to_string(),
    }
}

/// One row as an account table; the error names the column (the caller adds the line).
fn row(columns: &Columns, record: &csv::StringRecord, line: u64) -> Result<CsvRow, String> {
    let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|v| !v.is_empty());
    let text = |name: &str| cell(columns.scalars.get(name).copied()).map(str::to_string);
    let required =
        |name: &str| text(name).ok_or_else(|| format!("{name}: is empty; every account needs one"));
    let premises: Premises = choice("premises", &required("premises")?)?;
    let monitoring: Monitoring = choice("monitoring", &required("monitoring")?)?;
    let responder: Responder = match text("responder") {
        Some(value) => choice("responder", &value)?,
        None => Responder::default(),
    };
    let supervision_s = text("supervision_s")
        .map(|s| {
            s.parse::<u64>()
                .map_err(|_| format!("supervision_s: {s:?} is not a whole number of seconds"))
        })
        .transpose()?;
    let mut contacts = Vec::new();
    let mut contact_groups = Vec::new();
    for (i, parts) in columns.contacts.iter().enumerate() {
        let [name, phone, phone2] = parts.map(cell);
        if name.is_none() && phone.is_none() && phone2.is_none() {
            continue;
        }
        contacts.push(Contact {
            name: name.unwrap_or_default().to_string(),
            phone: phone.unwrap_or_default().to_string(),
            phone2: phone2.map(str::to_string),
        });
        contact_groups.push(i as u16 + 1);
    }
    let zones = match cell(columns.zones) {
        Some(list) => zones(list)?,
        None => Vec::new(),
    };
    let table = AccountTable {
        number: text("number").unwrap_or_default(),
        premises,
        address: text("address").unwrap_or_default(),
        country: text("country").unwrap_or_default(),
        region: text("region").unwrap_or_default(),
        monitoring,
        enrolled: text("enrolled"),
        verbal_password: text("verbal_password"),
        verbal_password_hash: text("verbal_password_hash"),
        responder,
        test_until: text("test_until"),
        contacts,
        zones,
        dc09_key_hex: text("dc09_key_hex"),
        dc09_key_ascii: text("dc09_key_ascii"),
        supervision_s,
        zone_names: Vec::new(),
        instructions: text("instructions").unwrap_or_default(),
        notes: text("notes").unwrap_or_default(),
        agencies: Vec::new(),
        dealer: text("dealer"),
        premises_phone: text("premises_phone"),
    };
    Ok(CsvRow {
        place: RowPlace {
            line,
            contact_groups,
        },
        table,
    })
}

/// One of an enum's values, as the TOML file spells it (`residential`, `self`...).
fn choice<T: DeserializeOwned>(column: &str, value: &str) -> Result<T, String> {
    T::deserialize(StrDeserializer::<ValueError>::new(value))
        .map_err(|e| format!("{column}: {value:?}: {e}"))
}

/// `1:contact 2:motion; 3:smoke`: zone numbers and device types, separated by spaces,
/// commas or semicolons.
fn zones(list: &str) -> Result<Vec<Zone>, String> {
    list.split([' ', ',', ';'])
        .filter(|item| !item.is_empty())
        .map(|item| {
            let bad = || format!("zones: {item:?} is not ZONE:DEVICE, like 3:motion");
            let (zone, device) = item.split_once(':').ok_or_else(bad)?;
            let zone = zone.parse().map_err(|_| bad())?;
            let device = choice("zones", device).map_err(|e| format!("{e} (zone {zone})"))?;
            Ok(Zone { zone, device })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchpost_core::account::DeviceType;
    use watchpost_core::password::HashCost;

    const HEADER: &str = "number,premises,address,country,region,monitoring,enrolled,verbal_password,contact1_name,contact1_phone,contact2_name,contact2_phone,contact2_phone2,zones,supervision_s,dealer";

    fn file(rows: &[&str]) -> String {
        format!("{HEADER}\n{}\n", rows.join("\n"))
    }

    fn refusals(text: &str) -> Vec<String> {
        match read(text.as_bytes()) {
            Ok(_) => panic!("accepted: {text}"),
            Err(errors) => errors,
        }
    }

    /// The row's account once checked, or the refusal as the command says it.
    fn account(row: CsvRow) -> Result<watchpost_core::Account, String> {
        let table = row.table.clone();
        table
            .into_account(ROW_FIELD, 0, HashCost::Fast)
            .map_err(|e| row.place.refusal(&e))
    }

    #[test]
    fn a_row_is_an_account_with_contact_groups_and_zones() {
        let text = file(&[
            "4f39,residential,\"12 Elm St, Springfield\",US,IL,professional,2026-02-01T00:00:00Z,blue falcon,Ann Lee,+12175550101,Bob Lee,+12175550102,+12175550112,\"1:contact 2:motion; 3:smoke\",3600,acme",
            "c001,commercial,1 Main St,US,IL,self,,,,,,,,,,",
        ]);
        let read = read(text.as_bytes()).unwrap();
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let lines: Vec<u64> = read.rows.iter().map(|r| r.place.line).collect();
        assert_eq!(lines, [2, 3]);
        let mut rows = read.rows.into_iter();
        let first = account(rows.next().unwrap()).unwrap();
        assert_eq!(first.number, "4F39");
        assert_eq!(first.address, "12 Elm St, Springfield");
        assert_eq!(first.contacts.len(), 2);
        assert_eq!(first.contacts[1].phone2.as_deref(), Some("+12175550112"));
        assert_eq!(first.zones.len(), 3);
        assert_eq!(first.zones[2].device, DeviceType::Smoke);
        assert_eq!(first.supervision_ms, Some(3_600_000));
        assert_eq!(first.dealer.as_deref(), Some("ACME"));
        assert!(first.verbal_password.matches("Blue Falcon"));
        let second = account(rows.next().unwrap()).unwrap();
        assert!(second.contacts.is_empty() && second.zones.is_empty());
    }

    #[test]
    fn refusals_name_the_line_and_the_column() {
        let good = "4F39,residential,12 Elm St,US,IL,professional,2026-02-01T00:00:00Z,blue falcon,Ann Lee,+12175550101,,,,,,";
        let text = file(&[good, &good.replace("+12175550101", "555-0101")]);
        let mut rows = read(text.as_bytes()).unwrap().rows.into_iter();
        assert!(account(rows.next().unwrap()).is_ok());
        let refused = account(rows.next().unwrap()).unwrap_err();
        assert!(
            refused.starts_with("line 3: contact1_phone: \"555-0101\" is not an E.164"),
            "{refused}"
        );
        // The second group alone: it is the account's first contact, but named as group 2.
        let only_second = good.replace("Ann Lee,+12175550101,,,", ",,Bob Lee,0102,");
        let row = read(file(&[&only_second]).as_bytes())
            .unwrap()
            .rows
            .remove(0);
        let refused = account(row).unwrap_err();
        assert!(refused.starts_with("line 2: contact2_phone: "), "{refused}");
        let quebec = good.replace(",IL,", ",QC,").replace(",US,", ",CA,");
        let row = read(file(&[&quebec]).as_bytes()).unwrap().rows.remove(0);
        assert!(
            account(row)
                .unwrap_err()
                .starts_with("line 2: region: Quebec"),
            "Quebec"
        );
        let no_contact = good.replace("Ann Lee,+12175550101", ",");
        let row = read(file(&[&no_contact]).as_bytes())
            .unwrap()
            .rows
            .remove(0);
        let refused = account(row).unwrap_err();
        assert!(refused.starts_with("line 2: contact1_name: "), "{refused}");
    }

    #[test]
    fn bad_cells_and_rows_are_refused_while_reading() {
        let good = "4F39,residential,12 Elm St,US,IL,self,,,,,,,,,,";
        let errors = refusals(&file(&[
            &good.replace("residential", "house"),
            &good.replace(",,,,,,,,,", ",,,,,,,,3:motion 4-smoke,"),
            &good.replace(",,,,,,,,,,", ",,,,,,,,,ten,"),
            "4F40,residential,too few",
            &good.replace(",self,", ",,"),
            good,
        ]));
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(
            errors[0].starts_with("line 2: premises: \"house\": unknown variant"),
            "{errors:?}"
        );
        assert_eq!(
            errors[1],
            "line 3: zones: \"4-smoke\" is not ZONE:DEVICE, like 3:motion"
        );
        assert_eq!(
            errors[2],
            "line 4: supervision_s: \"ten\" is not a whole number of seconds"
        );
        assert_eq!(errors[3], "line 5: has 3 fields; the header has 16");
        assert_eq!(
            errors[4],
            "line 6: monitoring: is empty; every account needs one"
        );
    }

    #[test]
    fn the_header_needs_the_required_columns_once_and_warns_of_unknown_ones() {
        let errors = refusals("number,premises,address,country,region,Number\n");
        assert_eq!(
            errors,
            [
                "line 1: column \"number\" is given twice (columns 1 and 6)",
                "line 1: column \"monitoring\" is missing"
            ]
        );
        let read = read(
            "NUMBER,premises,address,country,region,monitoring,colour,contact51_name\n4F39,residential,1 Elm St,US,IL,self,red,x\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            read.warnings,
            [
                "line 1: column \"colour\": unknown column, ignored",
                "line 1: column \"contact51_name\": unknown column, ignored"
            ]
        );
        assert_eq!(read.rows[0].table.number, "4F39");
    }
}
