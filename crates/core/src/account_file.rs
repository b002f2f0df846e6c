//! An account as people write it in TOML — the `[account]` table of scenario files and of
//! `watchpost accounts import` — checked and turned into an enrolled `Account`. Every refusal
//! names its field.

use crate::account::{Account, Contact, Millis, Monitoring, Premises, Responder, Zone, check_zone};
use crate::account_number::canonical;
use crate::details::{AccountDetails, AgencyContact, ZoneName};
use crate::password::{HashCost, MAX_CHARS, VerbalPassword, normalise};
use chrono::DateTime;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct AccountTable {
    pub number: String,
    pub premises: Premises,
    pub address: String,
    pub country: String,
    pub region: String,
    pub monitoring: Monitoring,
    pub enrolled: Option<String>,
    pub verbal_password: Option<String>,
    /// The verbal password already hashed, as a PHC string brought from another system
    /// (`VerbalPassword::from_migration`); instead of `verbal_password`.
    #[serde(default)]
    pub verbal_password_hash: Option<String>,
    #[serde(default)]
    pub responder: Responder,
    pub test_until: Option<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub zones: Vec<Zone>,
    /// The panel's DC-09 AES key, as hex (32, 48 or 64 digits)...
    pub dc09_key_hex: Option<String>,
    /// ...or as its 16, 24 or 32 ASCII characters.
    pub dc09_key_ascii: Option<String>,
    /// The panel must be heard from at least this often (seconds).
    pub supervision_s: Option<u64>,
    /// What each zone is and where (`[[account.zone_names]]`); optional.
    #[serde(default)]
    pub zone_names: Vec<ZoneName>,
    /// Premises instructions for the agent (free text); optional.
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub notes: String,
    /// The agencies serving the premises (`[[account.agencies]]`); optional.
    #[serde(default)]
    pub agencies: Vec<AgencyContact>,
    /// The dealer the account belongs to (`crate::dealer`, folded to upper case); left
    /// out: the center's own account. Whether the dealer exists is the store's to say.
    #[serde(default)]
    pub dealer: Option<String>,
    /// The premises' own phone (E.164); optional.
    #[serde(default)]
    pub premises_phone: Option<String>,
}

/// The verbal password as the table gives it: said, to be hashed, or hashed elsewhere.
enum Given {
    Spoken(String),
    Hashed(VerbalPassword),
}

/// Parses an RFC 3339 time into the engine's milliseconds.
pub fn parse_time(field: &str, text: &str) -> Result<Millis, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            format!("{field}: {text:?} is not an RFC 3339 time like \"2026-03-10T02:14:00Z\" ({e})")
        })
}

impl AccountTable {
    /// Checks every rule and builds the account, its number in canonical form (`5a5b` is
    /// account `5A5B`). `field` is how the table is named in messages (`account`,
    /// `accounts[2]`); `now` stands in for a self-monitored account's missing enrolment time.
    pub fn into_account(self, field: &str, now: Millis, cost: HashCost) -> Result<Account, String> {
        self.into_account_with(field, now, |spoken| VerbalPassword::hash(spoken, cost))
    }

    /// `into_account`, with `hash` turning the spoken verbal password (`""` when there is
    /// none) into what is stored: an import hashes many accounts' passwords its own way.
    pub fn into_account_with(
        self,
        field: &str,
        now: Millis,
        hash: impl FnOnce(&str) -> VerbalPassword,
    ) -> Result<Account, String> {
        let name = |sub: &str| format!("{field}.{sub}");
        self.check_sizes(field)?;
        let number = canonical(&self.number)
            .map_err(|reason| format!("{}: {:?} {reason}", name("number"), self.number))?;
        let enrolled_at = match (&self.enrolled, self.monitoring) {
            (Some(text), _) => parse_time(&name("enrolled"), text)?,
            (None, Monitoring::SelfMonitored) => now,
            (None, Monitoring::Professional) => {
                return Err(format!(
                    "{}: is required for professional monitoring (the practice period counts from it)",
                    name("enrolled")
                ));
            }
        };
        let password = match (
            &self.verbal_password,
            &self.verbal_password_hash,
            self.monitoring,
        ) {
            (Some(_), Some(_), _) => {
                return Err(format!(
                    "{}: give verbal_password or verbal_password_hash, not both",
                    name("verbal_password_hash")
                ));
            }
            (None, Some(phc), _) => Given::Hashed(
                VerbalPassword::from_migration(phc)
                    .map_err(|e| format!("{}: {e}", name("verbal_password_hash")))?,
            ),
            (Some(p), None, _) if normalise(p).chars().count() > MAX_CHARS => {
                return Err(format!(
                    "{}: is {} characters long; a verbal password is at most {MAX_CHARS}",
                    name("verbal_password"),
                    normalise(p).chars().count()
                ));
            }
            (Some(p), None, _) if !p.trim().is_empty() => Given::Spoken(p.clone()),
            (_, _, Monitoring::Professional) => {
                return Err(format!(
                    "{}: is required for professional monitoring",
                    name("verbal_password")
                ));
            }
            _ => Given::Spoken(String::new()),
        };
        let test_until = self
            .test_until
            .as_deref()
            .map(|t| parse_time(&name("test_until"), t))
            .transpose()?;
        for (i, z) in self.zones.iter().enumerate() {
            let here = format!("{field}.zones[{i}]");
            if self.zones[..i].iter().any(|other| other.zone == z.zone) {
                return Err(format!("{here}.zone: zone {} is listed twice", z.zone));
            }
            check_zone(self.premises, z)
                .map_err(|e| e.to_string().replacen("account.zones", &here, 1))?;
        }
        let dc09_key = match (&self.dc09_key_hex, &self.dc09_key_ascii) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{}: give dc09_key_hex or dc09_key_ascii, not both",
                    name("dc09_key_hex")
                ));
            }
            (Some(hex), None) => {
                Some(key_from_hex(hex).map_err(|e| format!("{}: {e}", name("dc09_key_hex")))?)
            }
            (None, Some(ascii)) => Some(
                key_from_ascii(ascii).map_err(|e| format!("{}: {e}", name("dc09_key_ascii")))?,
            ),
            (None, None) => None,
        };
        if let Some(s) = self.supervision_s
            && !(1..=MAX_SUPERVISION_S).contains(&s)
        {
            return Err(format!(
                "{}: {s} is not 1 to {MAX_SUPERVISION_S} seconds (31 days; leave it out for no \
                 supervision)",
                name("supervision_s")
            ));
        }
        let details = AccountDetails {
            zone_names: self.zone_names,
            instructions: self.instructions,
            notes: self.notes,
            agencies: self.agencies,
        };
        details.validate(field)?;
        let dealer = self
            .dealer
            .as_deref()
            .map(|d| crate::dealer::canonical_id(d).map_err(|e| format!("{}: {e}", name("dealer"))))
            .transpose()?;
        let account = Account {
            number,
            premises: self.premises,
            address: self.address,
            country: self.country,
            region: self.region,
            monitoring: self.monitoring,
            enrolled_at,
            verbal_password: match password {
                Given::Spoken(spoken) => hash(&spoken),
                Given::Hashed(migrated) => migrated,
            },
            responder: self.responder,
            test_until,
            contacts: self.contacts,
            zones: self.zones,
            dc09_key,
            // In range (checked above): whole milliseconds fit with room to spare.
            supervision_ms: self.supervision_s.map(|s| s as Millis * 1000),
            details,
            dealer,
            premises_phone: self.premises_phone,
        };
        account
            .validate()
            .map_err(|e| e.to_string().replacen("account", field, 1))?;
        Ok(account)
    }
}

impl AccountTable {
    /// Refuses text longer than a field holds and lists longer than an account has, before
    /// anything is hashed or stored: one paste of megabytes would otherwise sit in every
    /// screen and live event that shows the account (issue 13, item 9).
    fn check_sizes(&self, field: &str) -> Result<(), String> {
        let line = |sub: String, text: &str| match text.chars().count() {
            n if n > MAX_LINE_CHARS => Err(format!(
                "{field}.{sub}: is {n} characters long; at most {MAX_LINE_CHARS}"
            )),
            _ => Ok(()),
        };
        let count = |sub: &str, n: usize, max: usize| match n {
            n if n > max => Err(format!(
                "{field}.{sub}: lists {n}; an account has at most {max}"
            )),
            _ => Ok(()),
        };
        line("number".into(), &self.number)?;
        line("address".into(), &self.address)?;
        line("country".into(), &self.country)?;
        line("region".into(), &self.region)?;
        count("contacts", self.contacts.len(), MAX_CONTACTS)?;
        for (i, c) in self.contacts.iter().enumerate() {
            line(format!("contacts[{i}].name"), &c.name)?;
            line(format!("contacts[{i}].phone"), &c.phone)?;
            line(
                format!("contacts[{i}].phone2"),
                c.phone2.as_deref().unwrap_or(""),
            )?;
        }
        line(
            "premises_phone".into(),
            self.premises_phone.as_deref().unwrap_or(""),
        )?;
        count("zones", self.zones.len(), crate::details::MAX_ZONE as usize)?;
        count(
            "zone_names",
            self.zone_names.len(),
            crate::details::MAX_ZONE as usize,
        )?;
        for (i, z) in self.zone_names.iter().enumerate() {
            line(format!("zone_names[{i}].name"), &z.name)?;
            line(format!("zone_names[{i}].location"), &z.location)?;
        }
        count("agencies", self.agencies.len(), MAX_AGENCIES)?;
        for (i, a) in self.agencies.iter().enumerate() {
            line(format!("agencies[{i}].name"), &a.name)?;
            line(format!("agencies[{i}].phone"), &a.phone)?;
            line(
                format!("agencies[{i}].permit"),
                a.permit.as_deref().unwrap_or(""),
            )?;
        }
        Ok(())
    }
}

/// The longest one-line field of an account (address, a contact's or an agency's name, a
/// zone's name), in characters.
pub const MAX_LINE_CHARS: usize = 200;
/// The most contacts an account's call list holds.
pub const MAX_CONTACTS: usize = 50;
/// The most agencies listed for one premises.
pub const MAX_AGENCIES: usize = 20;

const KEY_SIZES: [usize; 3] = [16, 24, 32];

/// A DC-09 AES key given as hex; kept as upper-case hex.
pub fn key_from_hex(hex: &str) -> Result<String, String> {
    let hex = hex.trim();
    if !hex.bytes().all(|b| b.is_ascii_hexdigit())
        || !KEY_SIZES.contains(&(hex.len() / 2))
        || !hex.len().is_multiple_of(2)
    {
        return Err(format!(
            "{} characters: an AES key is 32, 48 or 64 hex digits (128, 192 or 256 bits)",
            hex.len()
        ));
    }
    Ok(hex.to_ascii_uppercase())
}

/// A DC-09 AES key given as its ASCII characters; kept as upper-case hex.
pub fn key_from_ascii(ascii: &str) -> Result<String, String> {
    if !ascii.is_ascii() || !KEY_SIZES.contains(&ascii.len()) {
        return Err(format!(
            "{} characters: an ASCII AES key is 16, 24 or 32 ASCII characters",
            ascii.chars().count()
        ));
    }
    Ok(ascii.bytes().map(|b| format!("{b:02X}")).collect())
}

/// The longest supervision interval an account may have: 31 days, in seconds (a monthly
/// test signal with a day's grace). Beyond it, the interval in milliseconds would no longer be
/// a plausible deadline (and a huge value once overflowed into a negative one).
pub const MAX_SUPERVISION_S: u64 = 31 * 24 * 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_kept_as_hex() {
        assert_eq!(
            key_from_ascii("0123456789ABCDEF").unwrap(),
            "30313233343536373839414243444546"
        );
        assert_eq!(key_from_hex(&"ab".repeat(24)).unwrap(), "AB".repeat(24));
        assert!(key_from_hex("abc").is_err());
        assert!(key_from_hex(&"zz".repeat(16)).is_err());
        assert!(key_from_ascii("short").is_err());
    }

    fn table(number: &str) -> AccountTable {
        toml::from_str(&format!(
            r#"number = "{number}"
premises = "residential"
address = "1 Main St"
country = "US"
region = "IL"
monitoring = "self"
"#
        ))
        .unwrap()
    }

    #[test]
    fn premises_details_are_read_checked_and_optional() {
        let plain = table("4F39")
            .into_account("account", 0, HashCost::Fast)
            .unwrap();
        assert!(
            plain.details.is_empty(),
            "a file without details stays valid"
        );
        let text = r#"number = "4F39"
premises = "residential"
address = "1 Main St"
country = "US"
region = "IL"
monitoring = "self"
instructions = "Dog in the yard; call the cell first."
[[zone_names]]
zone = 3
name = "back door"
location = "ground floor rear"
[[agencies]]
agency = "police"
name = "Springfield PD"
phone = "+12175550199"
permit = "A-1234"
"#;
        let table: AccountTable = toml::from_str(text).unwrap();
        let account = table
            .into_account("accounts[1]", 0, HashCost::Fast)
            .unwrap();
        assert_eq!(account.details.zone(3).unwrap().name, "back door");
        assert_eq!(
            account.details.agencies[0].permit.as_deref(),
            Some("A-1234")
        );
        let bad: AccountTable = toml::from_str(&text.replace("+12175550199", "555-0199")).unwrap();
        let refused = bad
            .into_account("accounts[1]", 0, HashCost::Fast)
            .unwrap_err();
        assert!(
            refused.starts_with("accounts[1].agencies[0].phone:"),
            "{refused}"
        );
    }

    #[test]
    fn the_dealer_is_optional_folded_and_checked() {
        let center = table("4F39").into_account("account", 0, HashCost::Fast);
        assert_eq!(center.unwrap().dealer, None);
        let mut theirs = table("4F39");
        theirs.dealer = Some("acme-1".into());
        let account = theirs.into_account("account", 0, HashCost::Fast).unwrap();
        assert_eq!(account.dealer.as_deref(), Some("ACME-1"));
        let mut bad = table("4F39");
        bad.dealer = Some("acme_1".into());
        let refused = bad
            .into_account("accounts[3]", 0, HashCost::Fast)
            .unwrap_err();
        assert!(refused.starts_with("accounts[3].dealer: "), "{refused}");
        assert!(refused.contains("A-Z, 0-9 and -"), "{refused}");
    }

    #[test]
    fn second_numbers_and_the_premises_phone_are_read_and_checked() {
        let text = r#"number = "4F39"
premises = "residential"
address = "1 Main St"
country = "US"
region = "IL"
monitoring = "self"
premises_phone = "+15555550100"
[[contacts]]
name = "Ann Lee"
phone = "+15555550101"
phone2 = "+15555550111"
"#;
        let table: AccountTable = toml::from_str(text).unwrap();
        let account = table
            .into_account("accounts[1]", 0, HashCost::Fast)
            .unwrap();
        assert_eq!(account.contacts[0].phone2.as_deref(), Some("+15555550111"));
        assert_eq!(account.premises_phone.as_deref(), Some("+15555550100"));
        let bad: AccountTable = toml::from_str(&text.replace("+15555550111", "0111")).unwrap();
        let refused = bad
            .into_account("accounts[1]", 0, HashCost::Fast)
            .unwrap_err();
        assert!(
            refused.starts_with("accounts[1].contacts[0].phone2: \"0111\" is not an E.164"),
            "{refused}"
        );
        let bad: AccountTable = toml::from_str(&text.replace("+15555550100", "home")).unwrap();
        let refused = bad.into_account("account", 0, HashCost::Fast).unwrap_err();
        assert!(
            refused.starts_with("account.premises_phone: \"home\""),
            "{refused}"
        );
    }

    #[test]
    fn the_number_is_enrolled_in_canonical_form() {
        let account = table("5a5b").into_account("account", 0, HashCost::Fast);
        assert_eq!(account.unwrap().number, "5A5B");
        let account = table("0123").into_account("account", 0, HashCost::Fast);
        assert_eq!(account.unwrap().number, "0123");
    }

    #[test]
    fn a_migrated_hash_stands_for_the_verbal_password_if_strong_enough() {
        let professional = |hash: Option<String>, spoken: Option<&str>| {
            let mut t = table("4F39");
            t.monitoring = Monitoring::Professional;
            t.enrolled = Some("2026-02-01T00:00:00Z".into());
            t.contacts = vec![Contact {
                name: "Ann Lee".into(),
                phone: "+15555550101".into(),
                phone2: None,
            }];
            t.verbal_password_hash = hash;
            t.verbal_password = spoken.map(str::to_string);
            t.into_account("accounts[4]", 0, HashCost::Fast)
        };
        let migrated = VerbalPassword::hash("blue falcon", HashCost::Standard);
        let account = professional(Some(migrated.phc().into()), None).unwrap();
        assert_eq!(
            account.verbal_password.phc(),
            migrated.phc(),
            "kept, not hashed again"
        );
        assert!(account.verbal_password.matches("Blue Falcon"));
        let weak = VerbalPassword::hash("blue falcon", HashCost::Fast);
        let refused = professional(Some(weak.phc().into()), None).unwrap_err();
        assert!(
            refused.starts_with("accounts[4].verbal_password_hash: m=64,t=1 is weaker"),
            "{refused}"
        );
        let both = professional(Some(migrated.phc().into()), Some("blue falcon")).unwrap_err();
        assert_eq!(
            both,
            "accounts[4].verbal_password_hash: give verbal_password or verbal_password_hash, not both"
        );
        let neither = professional(None, None).unwrap_err();
        assert!(
            neither.starts_with("accounts[4].verbal_password: is required"),
            "{neither}"
        );
    }

    #[test]
    fn a_verbal_password_is_at_most_200_characters() {
        let mut t = table("4F39");
        t.verbal_password = Some(format!("  {}  ", "a".repeat(200)));
        assert!(t.into_account("account", 0, HashCost::Fast).is_ok());
        let mut t = table("4F39");
        t.verbal_password = Some("a".repeat(201));
        let err = t.into_account("account", 0, HashCost::Fast).unwrap_err();
        assert!(
            err.starts_with("account.verbal_password: is 201 characters long"),
            "{err}"
        );
    }

    #[test]
    fn text_and_lists_are_bounded_naming_the_field_and_the_limit() {
        let mut t = table("4F39");
        t.address = "a".repeat(MAX_LINE_CHARS);
        assert!(t.into_account("account", 0, HashCost::Fast).is_ok());
        let mut t = table("4F39");
        t.address = "a".repeat(MAX_LINE_CHARS + 1);
        let err = t.into_account("account", 0, HashCost::Fast).unwrap_err();
        assert_eq!(err, "account.address: is 201 characters long; at most 200");
        let contact = |i: usize| Contact {
            name: format!("contact {i}"),
            phone: format!("+1555555{i:04}"),
            phone2: None,
        };
        let mut t = table("4F39");
        t.contacts = (0..=MAX_CONTACTS).map(contact).collect();
        let err = t
            .into_account("accounts[2]", 0, HashCost::Fast)
            .unwrap_err();
        assert_eq!(
            err,
            "accounts[2].contacts: lists 51; an account has at most 50"
        );
        let mut t = table("4F39");
        t.contacts = vec![Contact {
            name: "x".repeat(10_000),
            phone: "+15555550101".into(),
            phone2: None,
        }];
        let err = t.into_account("account", 0, HashCost::Fast).unwrap_err();
        assert!(
            err.starts_with("account.contacts[0].name: is 10000 characters"),
            "{err}"
        );
    }

    #[test]
    fn supervision_is_one_second_to_31_days() {
        for (s, ok) in [
            (0, false),
            (1, true),
            (MAX_SUPERVISION_S, true),
            (u64::MAX, false),
        ] {
            let mut t = table("4F39");
            t.supervision_s = Some(s);
            let account = t.into_account("account", 0, HashCost::Fast);
            match ok {
                true => assert_eq!(account.unwrap().supervision_ms, Some(s as Millis * 1000)),
                false => assert!(
                    account
                        .unwrap_err()
                        .starts_with(&format!("account.supervision_s: {s} is not 1 to 2678400")),
                    "{s}"
                ),
            }
        }
    }

    #[test]
    fn a_bad_number_names_the_field_and_the_reason() {
        let err = table("12-4")
            .into_account("accounts[2]", 0, HashCost::Fast)
            .unwrap_err();
        assert_eq!(
            err,
            "accounts[2].number: \"12-4\" has '-' at position 3 (an account number is 1 to 16 letters and digits)"
        );
        let err = table("").into_account("account", 0, HashCost::Fast);
        assert!(
            err.unwrap_err()
                .starts_with("account.number: \"\" is empty")
        );
    }
}
