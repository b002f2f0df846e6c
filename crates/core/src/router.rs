//! Routing: what a received event does at an account — open an alarm, join or act on the
//! open ones, or nothing beyond being stored — and how an alarm is opened for an account.

use crate::account::{Account, DeviceType, Millis, Premises};
use crate::alarm::{AlarmSpec, Input, Settings, Unmonitored};
use crate::codes::{SignalClass, classify_cid, classify_sia};
use crate::kind::{Agency, AlarmKind, Disposition, Mode};
use crate::runaway::RunawayLimit;
use serde::{Deserialize, Serialize};

/// Something that happened at an account, from its panel, its app or its people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A panel event, already classified.
    Panel {
        class: SignalClass,
        code: String,
        zone: Option<u32>,
    },
    AppCancel,
    /// The app's SOS button, for one agency.
    AppSos {
        agency: Agency,
    },
    /// A contact (by list index) called the center back.
    Callback {
        contact: usize,
    },
    /// The panel missed its supervision interval.
    CommFailure,
    /// The panel was heard again after a communication failure.
    CommRestored,
}

impl Event {
    /// How the event reads in a timeline: "BA zone 3", "OP user 1", "app SOS (police)".
    pub fn describe(&self) -> String {
        match self {
            Event::Panel { class, code, zone } => {
                let what = match class {
                    SignalClass::Disarm | SignalClass::Arm => "user",
                    _ => "zone",
                };
                let suffix = match class {
                    SignalClass::Restore(_) => " (restore)",
                    SignalClass::Arm => " (armed)",
                    _ => "",
                };
                match zone {
                    Some(zone) => format!("{code} {what} {zone}{suffix}"),
                    None => format!("{code}{suffix}"),
                }
            }
            Event::AppCancel => "app cancel".into(),
            Event::AppSos { agency } => format!("app SOS ({agency})"),
            Event::Callback { contact } => format!("callback from contact {}", contact + 1),
            Event::CommFailure => "supervision interval missed".into(),
            Event::CommRestored => "panel heard again".into(),
        }
    }

    /// The alarm kind this event raises, if it raises one.
    pub fn alarm_kind(&self) -> Option<AlarmKind> {
        match self {
            Event::Panel { class, .. } => class.alarm_kind(),
            Event::AppSos { agency } => Some(match agency {
                Agency::Fire => AlarmKind::Fire,
                Agency::Medical => AlarmKind::Medical,
                Agency::Police | Agency::Guard => AlarmKind::Panic,
            }),
            Event::CommFailure => Some(AlarmKind::CommFailure),
            _ => None,
        }
    }

    pub fn zone(&self) -> Option<u32> {
        match self {
            Event::Panel { zone, .. } => *zone,
            _ => None,
        }
    }
}

/// What to do with an event, given the account's open alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Open a new alarm of this kind.
    Open(AlarmKind),
    /// Give this input to each of these open alarms.
    Feed(Vec<i64>, Input),
    /// Store the signal; nothing else happens.
    Record,
}

/// Routes an event against the account's open alarms (`(id, kind)`, in opening order).
pub fn route(event: &Event, open: &[(i64, AlarmKind)]) -> Route {
    let all = || open.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    let of_kind = |kind: AlarmKind| {
        open.iter()
            .filter(|(_, k)| *k == kind)
            .map(|(id, _)| *id)
            .collect::<Vec<_>>()
    };
    let feed = |ids: Vec<i64>, input: Input| {
        if ids.is_empty() {
            Route::Record
        } else {
            Route::Feed(ids, input)
        }
    };
    let detail = event.describe();
    if let Some(kind) = event.alarm_kind() {
        let same = of_kind(kind);
        return match same.first() {
            Some(&id) => Route::Feed(vec![id], Input::Signal { detail }),
            None => Route::Open(kind),
        };
    }
    match event {
        Event::Panel { class, .. } => match class {
            SignalClass::Disarm => feed(all(), Input::Disarm { detail }),
            SignalClass::Arm => feed(all(), Input::Signal { detail }),
            SignalClass::Restore(Some(kind)) => feed(of_kind(*kind), Input::Signal { detail }),
            _ => Route::Record,
        },
        Event::AppCancel => feed(all(), Input::AppCancel),
        Event::Callback { contact } => feed(all(), Input::Callback { contact: *contact }),
        Event::CommRestored => feed(of_kind(AlarmKind::CommFailure), Input::Restored { detail }),
        Event::AppSos { .. } | Event::CommFailure => Route::Record,
    }
}

/// The spec of a new alarm of `kind` at `account`, raised by `event` at `now`: its mode,
/// its plan, or the reason it runs none.
pub fn open_spec(
    account: &Account,
    kind: AlarmKind,
    event: &Event,
    now: Millis,
    settings: &Settings,
) -> AlarmSpec {
    spec(account, kind, event.zone(), event.describe(), now, settings)
}

/// The spec of an account's runaway trouble item (`crate::runaway`), opened at `now`.
pub fn runaway_spec(
    account: &Account,
    limit: RunawayLimit,
    now: Millis,
    settings: &Settings,
) -> AlarmSpec {
    let trigger = format!(
        "more than {} signals within {} s: signals that only join an open alarm are counted \
         there, not listed",
        limit.signals,
        limit.window_ms as f64 / 1000.0
    );
    spec(
        account,
        AlarmKind::RunawayAccount,
        None,
        trigger,
        now,
        settings,
    )
}

fn spec(
    account: &Account,
    kind: AlarmKind,
    zone: Option<u32>,
    trigger: String,
    now: Millis,
    settings: &Settings,
) -> AlarmSpec {
    let mode = account.mode_at(now);
    let zone = zone.and_then(|z| account.zone(z));
    let unmonitored = |disposition, reason: String| {
        Some(Unmonitored {
            disposition,
            reason,
        })
    };
    let unmonitored = if mode == Mode::SelfMonitored {
        unmonitored(
            Disposition::NotMonitored,
            "the account is self-monitored: no protocol runs".into(),
        )
    } else if let Some(z) = zone.filter(|z| z.device == DeviceType::SmartLightingMotion) {
        unmonitored(
            Disposition::NotMonitored,
            format!(
                "zone {} is a Smart Lighting motion sensor, which never triggers a response",
                z.zone
            ),
        )
    } else if kind.residential_only() && account.premises == Premises::Commercial {
        unmonitored(
            Disposition::NotMonitored,
            "smoke and CO monitoring is not available for commercial premises".into(),
        )
    } else if account.on_test_at(now) {
        unmonitored(
            Disposition::OnTest,
            "the account is on test: signals are stored, nobody is called".into(),
        )
    } else {
        None
    };
    let (plan, plan_set) = match unmonitored {
        Some(_) => (None, None),
        None => settings
            .plans
            .resolve(&account.number, account.dealer.as_deref(), kind, mode)
            .map_or((None, None), |(plan, set)| (Some(plan), set)),
    };
    AlarmSpec {
        account: account.number.clone(),
        address: account.address.clone(),
        contacts: account.contacts.clone(),
        premises_phone: account.premises_phone.clone(),
        responder: account.responder,
        kind,
        mode,
        opened_at: now,
        trigger,
        plan,
        plan_set,
        unmonitored,
        settings: settings.clone(),
    }
}

/// `BA003`, `OP1`, `RP`: a SIA DCS code and its zone or user number.
pub fn parse_sia(text: &str) -> Option<Event> {
    let text = text.trim();
    let code = text.get(..2)?;
    let number = text.get(2..)?.trim();
    if !code.bytes().all(|b| b.is_ascii_alphabetic()) || number.len() > 6 {
        return None;
    }
    let zone = match number {
        "" => None,
        digits if digits.bytes().all(|b| b.is_ascii_digit()) => Some(digits.parse().ok()?),
        _ => return None,
    };
    let code = code.to_ascii_uppercase();
    Some(Event::Panel {
        class: classify_sia(&code),
        code,
        zone,
    })
}

/// `1131 01 003`: qualifier, event code, partition, zone or user (spaces optional).
pub fn parse_cid(text: &str) -> Option<Event> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let qualifier: u8 = digits[..1].parse().ok()?;
    if !matches!(qualifier, 1 | 3 | 6) {
        return None;
    }
    let code: u16 = digits[1..4].parse().ok()?;
    let zone: u32 = digits[6..9].parse().ok()?;
    Some(Event::Panel {
        class: classify_cid(qualifier, code),
        code: code.to_string(),
        zone: Some(zone),
    })
}
