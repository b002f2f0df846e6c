//! Accounts: the monitored premises, its contacts and zones, and the enrolment rules that
//! decide whether professional monitoring may be offered at all.

use crate::account_number::{AccountNumberError, canonical, without_leading_zeros};
use crate::alarm::PREMISES;
use crate::kind::AlarmKind;
use crate::password::VerbalPassword;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use thiserror::Error;

/// Milliseconds since the Unix epoch, UTC. The engine's only notion of time.
pub type Millis = i64;

pub const DAY_MS: Millis = 24 * 60 * 60 * 1000;
/// Professional monitoring starts in practice mode for this long.
pub const PRACTICE_PERIOD_MS: Millis = 7 * DAY_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Premises {
    Residential,
    Commercial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitoring {
    Professional,
    #[serde(rename = "self")]
    SelfMonitored,
}

/// Who answers a burglary dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Responder {
    #[default]
    Police,
    Guard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceType {
    Contact,
    Motion,
    GlassBreak,
    Smoke,
    Co,
    FloodFreeze,
    PanicButton,
    Keypad,
    /// Ring Smart Lighting motion sensors never trigger a monitored response.
    SmartLightingMotion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    /// E.164, e.g. `+15555550101`.
    pub phone: String,
    /// A second number (E.164), called by a `verify` step that must place more calls than
    /// its contacts' first numbers give (enhanced call verification, docs/plans.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone2: Option<String>,
}

impl Contact {
    /// A contact with one number.
    pub fn new(name: impl Into<String>, phone: impl Into<String>) -> Contact {
        Contact {
            name: name.into(),
            phone: phone.into(),
            phone2: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    pub zone: u32,
    pub device: DeviceType,
}

/// One monitored premises, known by the account number its panel reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub number: String,
    pub premises: Premises,
    pub address: String,
    pub country: String,
    pub region: String,
    pub monitoring: Monitoring,
    /// When professional monitoring started.
    pub enrolled_at: Millis,
    pub verbal_password: VerbalPassword,
    pub responder: Responder,
    /// The account is on test until then: signals are stored, nobody is called.
    pub test_until: Option<Millis>,
    pub contacts: Vec<Contact>,
    pub zones: Vec<Zone>,
    /// The panel's DC-09 AES key, upper-case hex; `None` for plain-text panels.
    #[serde(default)]
    pub dc09_key: Option<String>,
    /// The panel must be heard from at least this often.
    #[serde(default)]
    pub supervision_ms: Option<Millis>,
    /// Zone names, premises instructions and notes, agencies: for the agent's eyes only.
    #[serde(default)]
    pub details: crate::details::AccountDetails,
    /// The dealer (installer) the account belongs to (`crate::dealer`); `None`: the
    /// center's own account.
    #[serde(default)]
    pub dealer: Option<String>,
    /// The premises' own phone (E.164), called after the contacts' second numbers by a
    /// `verify` step that must place more calls (docs/plans.md, "Enhanced call verification").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premises_phone: Option<String>,
}

impl Account {
    pub fn zone(&self, zone: u32) -> Option<&Zone> {
        self.zones.iter().find(|z| z.zone == zone)
    }

    pub fn contact_named(&self, name: &str) -> Option<usize> {
        self.contacts.iter().position(|c| c.name == name)
    }

    /// The monitoring mode in force at `now`.
    pub fn mode_at(&self, now: Millis) -> crate::Mode {
        match self.monitoring {
            Monitoring::SelfMonitored => crate::Mode::SelfMonitored,
            Monitoring::Professional if now - self.enrolled_at < PRACTICE_PERIOD_MS => {
                crate::Mode::Practice
            }
            Monitoring::Professional => crate::Mode::Professional,
        }
    }

    pub fn on_test_at(&self, now: Millis) -> bool {
        self.test_until.is_some_and(|until| now < until)
    }

    /// Checks every enrolment rule of docs/protocols.md; the first broken one is returned.
    pub fn validate(&self) -> Result<(), EnrolmentError> {
        validate_number(&self.number)?;
        if self.address.trim().is_empty() {
            return Err(EnrolmentError::Missing {
                field: "account.address",
            });
        }
        if self.monitoring == Monitoring::Professional {
            validate_service_area(&self.country, &self.region)?;
            if self.contacts.is_empty() {
                return Err(EnrolmentError::NoContacts);
            }
        }
        for (index, contact) in self.contacts.iter().enumerate() {
            if contact.name.trim().is_empty() {
                return Err(EnrolmentError::ContactName { index });
            }
            if contact.name.trim().eq_ignore_ascii_case(PREMISES) {
                return Err(EnrolmentError::PremisesName {
                    index,
                    name: contact.name.clone(),
                });
            }
            if !is_e164(&contact.phone) {
                return Err(EnrolmentError::Phone {
                    index,
                    phone: contact.phone.clone(),
                });
            }
            if let Some(phone2) = contact.phone2.as_ref().filter(|p| !is_e164(p)) {
                return Err(EnrolmentError::Phone2 {
                    index,
                    phone: phone2.clone(),
                });
            }
            if contact.phone2.as_ref() == Some(&contact.phone) {
                return Err(EnrolmentError::Phone2Repeats { index });
            }
            if self.contacts[..index]
                .iter()
                .any(|c| c.name == contact.name)
            {
                return Err(EnrolmentError::DuplicateContact {
                    name: contact.name.clone(),
                });
            }
        }
        if let Some(phone) = self.premises_phone.as_ref().filter(|p| !is_e164(p)) {
            return Err(EnrolmentError::PremisesPhone {
                phone: phone.clone(),
            });
        }
        if let Some(phone) = &self.premises_phone {
            let owner = self
                .contacts
                .iter()
                .find(|c| c.phone == *phone || c.phone2.as_ref() == Some(phone));
            if let Some(owner) = owner {
                return Err(EnrolmentError::PremisesPhoneTaken {
                    phone: phone.clone(),
                    contact: owner.name.clone(),
                });
            }
        }
        for zone in &self.zones {
            check_zone(self.premises, zone)?;
        }
        Ok(())
    }
}

/// A smoke or CO zone cannot be added to commercial premises.
pub fn check_zone(premises: Premises, zone: &Zone) -> Result<(), EnrolmentError> {
    if premises == Premises::Commercial && matches!(zone.device, DeviceType::Smoke | DeviceType::Co)
    {
        return Err(EnrolmentError::ResidentialOnlyZone {
            zone: zone.zone,
            kind: if zone.device == DeviceType::Smoke {
                AlarmKind::Fire
            } else {
                AlarmKind::CarbonMonoxide
            },
        });
    }
    Ok(())
}

/// Why an account cannot be enrolled. Each names the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnrolmentError {
    #[error("{field}: is required")]
    Missing { field: &'static str },
    #[error("account.number: {number:?} {reason}")]
    Number {
        number: String,
        reason: AccountNumberError,
    },
    #[error(
        "account.number: {number:?} differs from enrolled account {enrolled:?} only by leading zeros; a panel sends its number exactly as programmed, so use {enrolled:?} or remove it first"
    )]
    LeadingZeroTwin { number: String, enrolled: String },
    #[error(
        "account.country: {country:?} is not served: professional monitoring is available only in the US and Canada"
    )]
    Country { country: String },
    #[error(
        "{field}: {code:?} is a US territory: professional monitoring is available in the 50 states and DC, not in US territories"
    )]
    UsTerritory { field: &'static str, code: String },
    #[error(
        "account.region: Quebec (QC) is not served: professional monitoring is available in Canada except Quebec"
    )]
    Quebec,
    #[error("account.region: {region:?} is not a {country} state or province code")]
    Region { country: String, region: String },
    #[error("account.contacts: at least one emergency contact with a phone number is required")]
    NoContacts,
    #[error("account.contacts[{index}].name: is required")]
    ContactName { index: usize },
    #[error(
        "account.contacts[{index}].phone: {phone:?} is not an E.164 phone number (like +15555550101)"
    )]
    Phone { index: usize, phone: String },
    #[error(
        "account.contacts[{index}].phone2: {phone:?} is not an E.164 phone number (like +15555550101)"
    )]
    Phone2 { index: usize, phone: String },
    #[error("account.premises_phone: {phone:?} is not an E.164 phone number (like +15555550100)")]
    PremisesPhone { phone: String },
    /// A second call under enhanced call verification must reach another line.
    #[error(
        "account.contacts[{index}].phone2: is the same number as the contact's phone; leave it out"
    )]
    Phone2Repeats { index: usize },
    /// As `Phone2Repeats`; a callback from it would also be taken for the contact's.
    #[error(
        "account.premises_phone: {phone:?} is contact {contact:?}'s number; a premises phone is \
         another line (leave it out when the contact's number rings at the premises)"
    )]
    PremisesPhoneTaken { phone: String, contact: String },
    /// The premises phone's calls go to `PREMISES` (timeline, reports, scenarios).
    #[error(
        "account.contacts[{index}].name: {name:?} is the name of the premises phone's calls; use \
         the person's name"
    )]
    PremisesName { index: usize, name: String },
    #[error("account.contacts: two contacts are named {name:?}; names must be unique")]
    DuplicateContact { name: String },
    #[error(
        "account.zones: zone {zone} is a {} sensor, which is not available for commercial premises",
        if *kind == AlarmKind::Fire { "smoke" } else { "CO" }
    )]
    ResidentialOnlyZone { zone: u32, kind: AlarmKind },
}

const US_STATES_AND_DC: [&str; 51] = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY", "DC",
];
const US_TERRITORIES: [&str; 6] = ["PR", "GU", "VI", "AS", "MP", "UM"];
const CANADA_SERVED: [&str; 12] = [
    "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "SK", "YT",
];

/// Professional monitoring: the 50 US states and DC, Canada except Quebec.
pub fn validate_service_area(country: &str, region: &str) -> Result<(), EnrolmentError> {
    let country_up = country.trim().to_ascii_uppercase();
    let region_up = region.trim().to_ascii_uppercase();
    match country_up.as_str() {
        "US" if US_STATES_AND_DC.contains(&region_up.as_str()) => Ok(()),
        "US" if US_TERRITORIES.contains(&region_up.as_str()) => Err(EnrolmentError::UsTerritory {
            field: "account.region",
            code: region.to_string(),
        }),
        "CA" if CANADA_SERVED.contains(&region_up.as_str()) => Ok(()),
        "CA" if region_up == "QC" => Err(EnrolmentError::Quebec),
        "US" | "CA" => Err(EnrolmentError::Region {
            country: country_up,
            region: region.to_string(),
        }),
        // Territories are sometimes given as their own ISO country code.
        "PR" | "GU" | "VI" | "AS" | "MP" | "UM" => Err(EnrolmentError::UsTerritory {
            field: "account.country",
            code: country.to_string(),
        }),
        _ => Err(EnrolmentError::Country {
            country: country.to_string(),
        }),
    }
}

/// An enrolled number is in canonical form; account files and the API canonicalise it first.
fn validate_number(number: &str) -> Result<(), EnrolmentError> {
    match canonical(number) {
        Ok(c) if c == number => Ok(()),
        Ok(_) => Err(EnrolmentError::Number {
            number: number.to_string(),
            reason: AccountNumberError::NotCanonical,
        }),
        Err(reason) => Err(EnrolmentError::Number {
            number: number.to_string(),
            reason,
        }),
    }
}

/// Refuses the first of `numbers` (canonical, to be enrolled together) when a number differs
/// from it only by leading zeros (`0123` beside `123`), among the `enrolled` ones or the other
/// `numbers`: the two would be different accounts that people read as one. A number already
/// enrolled is replaced, not a twin.
pub fn check_leading_zero_twins<'a>(
    numbers: &[&'a str],
    enrolled: impl IntoIterator<Item = &'a str>,
) -> Result<(), EnrolmentError> {
    let mut by_digits: HashMap<&str, &str> = enrolled
        .into_iter()
        .map(|n| (without_leading_zeros(n), n))
        .collect();
    for number in numbers {
        match by_digits.insert(without_leading_zeros(number), number) {
            Some(other) if other != *number => {
                return Err(EnrolmentError::LeadingZeroTwin {
                    number: number.to_string(),
                    enrolled: other.to_string(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// `+` then 2 to 15 digits, the first not zero.
pub fn is_e164(phone: &str) -> bool {
    let Some(digits) = phone.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::HashCost;

    pub fn sample() -> Account {
        Account {
            number: "4F39".into(),
            premises: Premises::Residential,
            address: "12 Elm St, Springfield, IL 62701".into(),
            country: "US".into(),
            region: "IL".into(),
            monitoring: Monitoring::Professional,
            enrolled_at: 0,
            verbal_password: VerbalPassword::hash("blue falcon", HashCost::Fast),
            responder: Responder::Police,
            test_until: None,
            contacts: vec![Contact::new("Ann Lee", "+15555550101")],
            zones: vec![],
            dc09_key: None,
            supervision_ms: None,
            details: Default::default(),
            dealer: None,
            premises_phone: None,
        }
    }

    #[test]
    fn a_complete_account_enrols() {
        assert_eq!(sample().validate(), Ok(()));
    }

    #[test]
    fn quebec_and_territories_are_refused_with_a_reason() {
        let mut a = sample();
        a.country = "CA".into();
        a.region = "QC".into();
        let err = a.validate().unwrap_err();
        assert_eq!(err, EnrolmentError::Quebec);
        assert!(err.to_string().contains("account.region"));
        assert!(err.to_string().contains("Quebec"));
        a.region = "ON".into();
        assert_eq!(a.validate(), Ok(()));
        for territory in ["PR", "GU", "VI", "AS", "MP"] {
            a.country = "US".into();
            a.region = territory.into();
            let err = a.validate().unwrap_err();
            assert!(
                matches!(err, EnrolmentError::UsTerritory { .. }),
                "{territory}"
            );
            assert!(err.to_string().contains("territor"));
        }
        a.region = "DC".into();
        assert_eq!(a.validate(), Ok(()));
        a.country = "MX".into();
        assert!(matches!(a.validate(), Err(EnrolmentError::Country { .. })));
        a.country = "US".into();
        a.region = "ZZ".into();
        assert!(matches!(a.validate(), Err(EnrolmentError::Region { .. })));
    }

    #[test]
    fn self_monitoring_is_not_bound_to_the_service_area_nor_needs_contacts() {
        let mut a = sample();
        a.monitoring = Monitoring::SelfMonitored;
        a.country = "CA".into();
        a.region = "QC".into();
        a.contacts.clear();
        assert_eq!(a.validate(), Ok(()));
    }

    #[test]
    fn a_territory_given_as_the_country_blames_the_country() {
        let mut a = sample();
        a.country = "GU".into();
        let err = a.validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("account.country: \"GU\" is a US territory")
        );
    }

    #[test]
    fn contacts_are_required_and_must_have_e164_phones() {
        let mut a = sample();
        a.contacts.clear();
        assert_eq!(a.validate(), Err(EnrolmentError::NoContacts));
        for bad in [
            "5555550101",
            "+0555",
            "+1",
            "+1555-555-0101",
            "+1234567890123456",
        ] {
            a.contacts = vec![Contact::new("Ann", bad)];
            let err = a.validate().unwrap_err();
            assert!(
                matches!(err, EnrolmentError::Phone { index: 0, .. }),
                "{bad}"
            );
            assert!(err.to_string().starts_with("account.contacts[0].phone"));
        }
    }

    #[test]
    fn second_numbers_and_the_premises_phone_are_optional_but_must_be_e164() {
        let mut a = sample();
        a.contacts[0].phone2 = Some("+15555550111".into());
        a.premises_phone = Some("+15555550100".into());
        assert_eq!(a.validate(), Ok(()));
        a.contacts[0].phone2 = Some("555-0111".into());
        let err = a.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "account.contacts[0].phone2: \"555-0111\" is not an E.164 phone number (like +15555550101)"
        );
        a.contacts[0].phone2 = None;
        a.premises_phone = Some("+0".into());
        let err = a.validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("account.premises_phone: \"+0\" is not an E.164")
        );
    }

    #[test]
    fn a_second_number_or_premises_phone_that_repeats_a_number_is_refused() {
        // ECV's second call must reach another line: a repeated number would stand in for
        // the second number or the premises phone and leave the other untried.
        let mut a = sample();
        a.contacts[0].phone2 = Some(a.contacts[0].phone.clone());
        assert_eq!(
            a.validate().unwrap_err().to_string(),
            "account.contacts[0].phone2: is the same number as the contact's phone; leave it out"
        );
        a.contacts[0].phone2 = Some("+15555550111".into());
        for taken in ["+15555550111", a.contacts[0].phone.as_str()] {
            a.premises_phone = Some(taken.into());
            let err = a.validate().unwrap_err().to_string();
            assert!(
                err.starts_with(&format!(
                    "account.premises_phone: {taken:?} is contact {:?}'s number",
                    a.contacts[0].name
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn a_contact_cannot_be_named_premises() {
        // Calls to the premises phone go to "premises" (timeline, reports, scenarios'
        // `[people.premises]`): a contact of that name would be mistaken for it.
        let mut a = sample();
        for name in ["premises", " Premises "] {
            a.contacts[0].name = name.into();
            assert_eq!(
                a.validate().unwrap_err().to_string(),
                format!(
                    "account.contacts[0].name: {name:?} is the name of the premises phone's calls; \
                     use the person's name"
                )
            );
        }
    }

    #[test]
    fn smoke_and_co_zones_are_refused_on_commercial_premises() {
        let mut a = sample();
        a.premises = Premises::Commercial;
        a.zones = vec![Zone {
            zone: 4,
            device: DeviceType::Co,
        }];
        let err = a.validate().unwrap_err();
        assert!(matches!(
            err,
            EnrolmentError::ResidentialOnlyZone {
                zone: 4,
                kind: AlarmKind::CarbonMonoxide
            }
        ));
        a.zones[0].device = DeviceType::Smoke;
        assert!(a.validate().is_err());
        a.zones[0].device = DeviceType::Motion;
        assert_eq!(a.validate(), Ok(()));
        a.premises = Premises::Residential;
        a.zones[0].device = DeviceType::Smoke;
        assert_eq!(a.validate(), Ok(()));
    }

    #[test]
    fn an_account_built_in_code_must_carry_a_canonical_number() {
        let mut a = sample();
        a.number = "4f39".into();
        let err = a.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "account.number: \"4f39\" is not in canonical form (upper case)"
        );
        a.number = "4F 39".into();
        assert!(matches!(a.validate(), Err(EnrolmentError::Number { .. })));
    }

    #[test]
    fn leading_zero_twins_are_refused_but_not_the_same_number() {
        let enrolled = ["0123", "4F39"];
        let err = check_leading_zero_twins(&["4F39", "123"], enrolled).unwrap_err();
        assert_eq!(
            err,
            EnrolmentError::LeadingZeroTwin {
                number: "123".into(),
                enrolled: "0123".into()
            }
        );
        assert!(err.to_string().starts_with(
            "account.number: \"123\" differs from enrolled account \"0123\" only by leading zeros"
        ));
        assert!(check_leading_zero_twins(&["00123"], enrolled).is_err());
        assert_eq!(check_leading_zero_twins(&["0123"], enrolled), Ok(()));
        assert_eq!(
            check_leading_zero_twins(&["1230", "4F39"], enrolled),
            Ok(())
        );
        let err = check_leading_zero_twins(&["04F3", "4F3"], []).unwrap_err();
        assert_eq!(
            err,
            EnrolmentError::LeadingZeroTwin {
                number: "4F3".into(),
                enrolled: "04F3".into()
            },
            "twins within one import"
        );
    }

    #[test]
    fn practice_lasts_seven_days() {
        let a = sample();
        assert_eq!(a.mode_at(PRACTICE_PERIOD_MS - 1), crate::Mode::Practice);
        assert_eq!(a.mode_at(PRACTICE_PERIOD_MS), crate::Mode::Professional);
    }
}
