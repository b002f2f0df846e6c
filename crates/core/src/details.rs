//! An account's premises details for the agent: what each zone is and where (zone 3 is the
//! back door, ground floor rear), the premises instructions and notes (gate code hints, dogs,
//! "call the cell first"), and the agencies that serve the premises with their phones and
//! alarm permit numbers. Shown on the alarm screen; never used by the engine.

use crate::account::is_e164;
use crate::kind::Agency;
use serde::{Deserialize, Serialize};

/// The highest zone number a zone name may have (zones are 1 to 999).
pub const MAX_ZONE: u32 = 999;
/// The longest instructions or notes, in characters: a screen's worth, not a manual.
pub const MAX_TEXT: usize = 4000;

/// What a zone is called and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneName {
    /// 1 to 999.
    pub zone: u32,
    /// "back door".
    pub name: String,
    /// "ground floor rear"; may be empty.
    #[serde(default)]
    pub location: String,
}

/// An agency that serves the premises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyContact {
    /// `police`, `fire`, `medical` (EMS) or `guard`.
    pub agency: Agency,
    /// "Springfield PD".
    pub name: String,
    /// E.164, e.g. `+12175550199`.
    pub phone: String,
    /// The alarm permit number, where the agency requires one.
    #[serde(default)]
    pub permit: Option<String>,
}

/// Everything an agent reads about the premises besides contacts and devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetails {
    #[serde(default)]
    pub zone_names: Vec<ZoneName>,
    /// How to get in and what to know (free text).
    #[serde(default)]
    pub instructions: String,
    /// Anything else (free text).
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub agencies: Vec<AgencyContact>,
}

impl AccountDetails {
    pub fn is_empty(&self) -> bool {
        *self == AccountDetails::default()
    }

    /// The name of `zone`, if it has one.
    pub fn zone(&self, zone: u32) -> Option<&ZoneName> {
        self.zone_names.iter().find(|z| z.zone == zone)
    }

    /// Checks every rule; the error is `FIELD: reason`, the field under `field` (`account`
    /// gives `account.agencies[0].phone`).
    pub fn validate(&self, field: &str) -> Result<(), String> {
        for (i, z) in self.zone_names.iter().enumerate() {
            let here = format!("{field}.zone_names[{i}]");
            if !(1..=MAX_ZONE).contains(&z.zone) {
                return Err(format!(
                    "{here}.zone: {} is not a zone number (1 to {MAX_ZONE})",
                    z.zone
                ));
            }
            if self.zone_names[..i].iter().any(|o| o.zone == z.zone) {
                return Err(format!("{here}.zone: zone {} is named twice", z.zone));
            }
            if z.name.trim().is_empty() {
                return Err(format!("{here}.name: is required"));
            }
        }
        for (name, text) in [("instructions", &self.instructions), ("notes", &self.notes)] {
            if text.chars().count() > MAX_TEXT {
                return Err(format!("{field}.{name}: longer than {MAX_TEXT} characters"));
            }
        }
        for (i, a) in self.agencies.iter().enumerate() {
            let here = format!("{field}.agencies[{i}]");
            if a.name.trim().is_empty() {
                return Err(format!("{here}.name: is required"));
            }
            if !is_e164(&a.phone) {
                return Err(format!(
                    "{here}.phone: {:?} is not an E.164 number like +12175550199",
                    a.phone
                ));
            }
            if a.permit.as_deref().is_some_and(|p| p.trim().is_empty()) {
                return Err(format!(
                    "{here}.permit: is empty (leave it out when none is required)"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> AccountDetails {
        AccountDetails {
            zone_names: vec![ZoneName {
                zone: 3,
                name: "back door".into(),
                location: "ground floor rear".into(),
            }],
            instructions: "Gate code with the key holder; dog in the yard.".into(),
            notes: String::new(),
            agencies: vec![AgencyContact {
                agency: Agency::Police,
                name: "Springfield PD".into(),
                phone: "+12175550199".into(),
                permit: Some("A-1234".into()),
            }],
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(details().validate("account"), Ok(()));
        let mut d = details();
        d.zone_names[0].zone = 1000;
        assert!(
            d.validate("account")
                .unwrap_err()
                .starts_with("account.zone_names[0].zone:")
        );
        d.zone_names[0].zone = 0;
        assert!(
            d.validate("account")
                .unwrap_err()
                .starts_with("account.zone_names[0].zone:")
        );
        let mut d = details();
        d.zone_names.push(d.zone_names[0].clone());
        assert!(d.validate("account").unwrap_err().contains("named twice"));
        let mut d = details();
        d.zone_names[0].name = " ".into();
        assert!(
            d.validate("account")
                .unwrap_err()
                .starts_with("account.zone_names[0].name:")
        );
        let mut d = details();
        d.agencies[0].phone = "(217) 555-0199".into();
        assert!(
            d.validate("account")
                .unwrap_err()
                .starts_with("account.agencies[0].phone:")
        );
        let mut d = details();
        d.agencies[0].permit = Some("".into());
        assert!(
            d.validate("account")
                .unwrap_err()
                .starts_with("account.agencies[0].permit:")
        );
        let mut d = details();
        d.instructions = "x".repeat(MAX_TEXT + 1);
        assert!(
            d.validate("account")
                .unwrap_err()
                .starts_with("account.instructions:")
        );
    }
}
