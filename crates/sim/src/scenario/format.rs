//! The scenario file format of docs/scenarios.md: read from TOML, checked, and turned into an
//! enrolled account, timed events and simulated people. Every refusal names the field.

use serde::Deserialize;
use std::collections::BTreeMap;
use watchpost_core::account_file::{AccountTable, parse_time};
use watchpost_core::alarm::{Confirmer, Decision, PREMISES};
use watchpost_core::password::HashCost;
use watchpost_core::router::{Event, parse_cid, parse_sia};
use watchpost_core::toml_file;
use watchpost_core::{Account, Agency, Disposition, Millis};

#[derive(Debug, Deserialize)]
struct File {
    name: String,
    start: String,
    account: AccountTable,
    #[serde(default)]
    signals: Vec<SignalTable>,
    #[serde(default)]
    people: BTreeMap<String, Person>,
    #[serde(default)]
    timing: Timing,
    expect: Option<ExpectTable>,
}

#[derive(Debug, Deserialize)]
struct SignalTable {
    at: f64,
    sia: Option<String>,
    cid: Option<String>,
    app: Option<AppAction>,
    agency: Option<Agency>,
    callback: Option<String>,
    /// Someone other than a contact confirms the alarm: `guard`, `video` or `audio`.
    confirm: Option<String>,
    /// What they report, with `confirm`.
    text: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AppAction {
    Cancel,
    Sos,
}

/// How a simulated person answers the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answers {
    Human,
    Voicemail,
    NoAnswer,
    Busy,
}

/// A simulated person on the contact list.
#[derive(Debug, Clone, Deserialize)]
pub struct Person {
    pub answers: Answers,
    /// What they say when asked for the verbal password; `None`: they don't know it.
    pub password: Option<String>,
    /// What they ask for; a person who says nothing is taken as asking for help.
    pub says: Option<Decision>,
    #[serde(default)]
    pub wants_agent: bool,
    /// How the contact's second number answers (the same person: same password, same
    /// decision); absent: it does not answer.
    pub phone2_answers: Option<Answers>,
}

impl Person {
    pub const UNREACHABLE: Person = Person {
        answers: Answers::NoAnswer,
        password: None,
        says: None,
        wants_agent: false,
        phone2_answers: None,
    };

    /// The same person as reached at their second number.
    pub fn at_phone2(&self) -> Person {
        Person {
            answers: self.phone2_answers.unwrap_or(Answers::NoAnswer),
            ..self.clone()
        }
    }
}

/// Seconds, as in the file; defaults per docs/scenarios.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Timing {
    pub dial: f64,
    pub answer_after: f64,
    pub voicemail_after: f64,
    pub ring_timeout: f64,
    pub busy_after: f64,
    pub detect_voicemail: f64,
    pub conversation: f64,
    pub message: f64,
    pub follow_up: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            dial: 1.0,
            answer_after: 6.0,
            voicemail_after: 20.0,
            ring_timeout: 30.0,
            busy_after: 3.0,
            detect_voicemail: 3.0,
            conversation: 25.0,
            message: 15.0,
            follow_up: 3600.0,
        }
    }
}

/// Timing in the engine's milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Delays {
    pub dial: Millis,
    pub answer_after: Millis,
    pub voicemail_after: Millis,
    pub ring_timeout: Millis,
    pub busy_after: Millis,
    pub detect_voicemail: Millis,
    pub conversation: Millis,
    pub message: Millis,
    pub follow_up: Millis,
}

#[derive(Debug, Deserialize)]
struct ExpectTable {
    disposition: Option<OneOrMany>,
    dispatch: Option<Vec<Agency>>,
    calls: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The `[expect]` checks.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// One disposition per alarm, in opening order; a single value checks the first alarm.
    pub dispositions: Option<Vec<Disposition>>,
    pub dispatch: Option<Vec<Agency>>,
    pub calls: Option<Vec<String>>,
}

/// One timed arrival.
#[derive(Debug, Clone)]
pub struct TimedEvent {
    pub at: Millis,
    /// `sia`, `cid`, `app` or `phone`.
    pub source: &'static str,
    pub event: Event,
    /// The line as written (`BA003`, `cancel`, the caller's name).
    pub raw: String,
}

/// A confirmation from outside the contact list, recorded by the simulated agent on the
/// account's newest open alarm (`Input::Confirmed`).
#[derive(Debug, Clone)]
pub struct TimedConfirmation {
    pub at: Millis,
    pub by: Confirmer,
    pub text: String,
}

/// A checked scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub start: Millis,
    pub account: Account,
    pub events: Vec<TimedEvent>,
    pub confirmations: Vec<TimedConfirmation>,
    pub people: BTreeMap<String, Person>,
    pub delays: Delays,
    pub expect: Option<Expect>,
    /// Things that are allowed but probably mistakes (unknown keys, people not on the list).
    pub warnings: Vec<String>,
}

/// Why a scenario file was refused: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

fn invalid(field: impl std::fmt::Display, reason: impl std::fmt::Display) -> Invalid {
    Invalid(format!("{field}: {reason}"))
}

fn seconds(field: &str, value: f64) -> Result<Millis, Invalid> {
    if (0.0..=1e9).contains(&value) {
        Ok((value * 1000.0).round() as Millis)
    } else {
        Err(invalid(
            field,
            format!("{value} is not a number of seconds ≥ 0"),
        ))
    }
}

/// Parses and checks a scenario file's text.
pub fn parse(text: &str) -> Result<Scenario, Invalid> {
    let (file, warnings) = toml_file::read(text).map_err(Invalid)?;
    build(file, warnings)
}

fn build(file: File, mut warnings: Vec<String>) -> Result<Scenario, Invalid> {
    let start = parse_time("start", &file.start).map_err(Invalid)?;
    let account = file
        .account
        .into_account("account", start, HashCost::Fast)
        .map_err(Invalid)?;

    let mut events = Vec::new();
    let mut confirmations = Vec::new();
    for (i, s) in file.signals.into_iter().enumerate() {
        let field = |name: &str| format!("signals[{i}].{name}");
        let at = start + seconds(&field("at"), s.at)?;
        let given = [
            s.sia.is_some(),
            s.cid.is_some(),
            s.app.is_some(),
            s.callback.is_some(),
            s.confirm.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            return Err(invalid(
                format!("signals[{i}]"),
                "needs exactly one of sia, cid, app, callback or confirm",
            ));
        }
        if s.text.is_some() && s.confirm.is_none() {
            return Err(invalid(field("text"), "goes only with confirm"));
        }
        if let Some(by) = &s.confirm {
            let by = Confirmer::parse(by).ok_or_else(|| {
                invalid(
                    field("confirm"),
                    format!("{by:?} is not who can confirm an alarm: guard, video or audio"),
                )
            })?;
            let text = s.text.unwrap_or_default();
            confirmations.push(TimedConfirmation { at, by, text });
            continue;
        }
        if s.agency.is_some() && !matches!(s.app, Some(AppAction::Sos)) {
            return Err(invalid(field("agency"), "goes only with app = \"sos\""));
        }
        let (source, event) = if let Some(code) = &s.sia {
            ("sia", parse_sia(code).ok_or_else(|| {
                invalid(
                    field("sia"),
                    format!("{code:?} is not a SIA DCS event: two letters and a zone or user number, like \"BA003\""),
                )
            })?)
        } else if let Some(code) = &s.cid {
            ("cid", parse_cid(code).ok_or_else(|| {
                invalid(
                    field("cid"),
                    format!("{code:?} is not a Contact ID event \"Q XYZ GG CCC\" with qualifier 1, 3 or 6, like \"1130 01 003\""),
                )
            })?)
        } else if let Some(app) = s.app {
            let event = match app {
                AppAction::Cancel => Event::AppCancel,
                AppAction::Sos => Event::AppSos {
                    agency: match s.agency.unwrap_or(Agency::Police) {
                        Agency::Guard => {
                            return Err(invalid(
                                field("agency"),
                                "app SOS asks for police, fire or medical",
                            ));
                        }
                        agency => agency,
                    },
                },
            };
            ("app", event)
        } else {
            let name = s.callback.clone().unwrap_or_default();
            let contact = account.contact_named(&name).ok_or_else(|| {
                invalid(
                    field("callback"),
                    format!("{name:?} is not on the contact list"),
                )
            })?;
            ("phone", Event::Callback { contact })
        };
        let raw = [&s.sia, &s.cid, &s.callback]
            .into_iter()
            .flatten()
            .next()
            .cloned()
            .unwrap_or_else(|| event.describe());
        events.push(TimedEvent {
            at,
            source,
            event,
            raw,
        });
    }
    // Arrivals are applied in time order; equal times keep file order.
    events.sort_by_key(|e| e.at);

    for (name, person) in &file.people {
        if person.phone2_answers.is_some()
            && account
                .contact_named(name)
                .is_some_and(|i| account.contacts[i].phone2.is_none())
        {
            warnings.push(format!(
                "people.{name:?}.phone2_answers: the contact has no phone2, never called there"
            ));
        }
        if name == PREMISES {
            if account.premises_phone.is_none() {
                warnings.push(format!(
                    "people.{name:?}: the account has no premises_phone, never called"
                ));
            }
        } else if account.contact_named(name).is_none() {
            warnings.push(format!(
                "people.{name:?}: is not on the contact list, never called"
            ));
        }
    }
    let t = &file.timing;
    let delays = Delays {
        dial: seconds("timing.dial", t.dial)?,
        answer_after: seconds("timing.answer_after", t.answer_after)?,
        voicemail_after: seconds("timing.voicemail_after", t.voicemail_after)?,
        ring_timeout: seconds("timing.ring_timeout", t.ring_timeout)?,
        busy_after: seconds("timing.busy_after", t.busy_after)?,
        detect_voicemail: seconds("timing.detect_voicemail", t.detect_voicemail)?,
        conversation: seconds("timing.conversation", t.conversation)?,
        message: seconds("timing.message", t.message)?,
        follow_up: seconds("timing.follow_up", t.follow_up)?,
    };
    let expect = file
        .expect
        .map(|e| -> Result<Expect, Invalid> {
            let dispositions = e
                .disposition
                .map(|d| {
                    let list = match d {
                        OneOrMany::One(one) => vec![one],
                        OneOrMany::Many(many) => many,
                    };
                    list.iter()
                        .map(|text| {
                            Disposition::parse(text).ok_or_else(|| {
                                invalid(
                                    "expect.disposition",
                                    format!("{text:?} is not a disposition (docs/protocols.md lists them)"),
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?;
            Ok(Expect {
                dispositions,
                dispatch: e.dispatch,
                calls: e.calls,
            })
        })
        .transpose()?;
    Ok(Scenario {
        name: file.name,
        start,
        account,
        events,
        confirmations,
        people: file.people,
        delays,
        expect,
        warnings,
    })
}
