//! The small vocabularies every part of the center shares: alarm kinds, agencies, modes,
//! dispositions and the operator-queue priority of each kind.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an alarm is about; each kind has its own response plan. Read from its name (a
/// string), so that a file's error under a `[professional.KIND]` table names the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum AlarmKind {
    Burglary,
    Fire,
    CarbonMonoxide,
    Panic,
    Duress,
    Medical,
    Water,
    Freeze,
    /// Trouble: the panel missed its supervision interval.
    CommFailure,
    /// Trouble: the account sends more signals than its limit (`crate::runaway`).
    RunawayAccount,
}

impl AlarmKind {
    pub const ALL: [AlarmKind; 8] = [
        AlarmKind::Burglary,
        AlarmKind::Fire,
        AlarmKind::CarbonMonoxide,
        AlarmKind::Panic,
        AlarmKind::Duress,
        AlarmKind::Medical,
        AlarmKind::Water,
        AlarmKind::Freeze,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::Burglary => "burglary",
            AlarmKind::Fire => "fire",
            AlarmKind::CarbonMonoxide => "carbon_monoxide",
            AlarmKind::Panic => "panic",
            AlarmKind::Duress => "duress",
            AlarmKind::Medical => "medical",
            AlarmKind::Water => "water",
            AlarmKind::Freeze => "freeze",
            AlarmKind::CommFailure => "comm_failure",
            AlarmKind::RunawayAccount => "runaway_account",
        }
    }

    /// Words an agent or an automated message says aloud.
    pub fn spoken(self) -> &'static str {
        match self {
            AlarmKind::Burglary => "a burglary alarm",
            AlarmKind::Fire => "a smoke or fire alarm",
            AlarmKind::CarbonMonoxide => "a carbon monoxide alarm",
            AlarmKind::Panic => "a panic alarm",
            AlarmKind::Duress => "a duress alarm",
            AlarmKind::Medical => "a medical alarm",
            AlarmKind::Water => "a water leak alarm",
            AlarmKind::Freeze => "a low temperature alarm",
            AlarmKind::CommFailure => "a communication failure",
            AlarmKind::RunawayAccount => "a runaway account",
        }
    }

    /// Operator queue priority (1 is most urgent), per docs/protocols.md.
    pub fn priority(self) -> u8 {
        match self {
            AlarmKind::Duress
            | AlarmKind::Panic
            | AlarmKind::Fire
            | AlarmKind::CarbonMonoxide
            | AlarmKind::Medical => 1,
            AlarmKind::Burglary => 2,
            AlarmKind::Water | AlarmKind::Freeze => 3,
            AlarmKind::CommFailure | AlarmKind::RunawayAccount => 4,
        }
    }

    /// Smoke and CO monitoring is not offered for commercial premises.
    pub fn residential_only(self) -> bool {
        matches!(self, AlarmKind::Fire | AlarmKind::CarbonMonoxide)
    }
}

impl TryFrom<String> for AlarmKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        const EVERY: [AlarmKind; 10] = [
            AlarmKind::Burglary,
            AlarmKind::Fire,
            AlarmKind::CarbonMonoxide,
            AlarmKind::Panic,
            AlarmKind::Duress,
            AlarmKind::Medical,
            AlarmKind::Water,
            AlarmKind::Freeze,
            AlarmKind::CommFailure,
            AlarmKind::RunawayAccount,
        ];
        EVERY
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<_> = EVERY.iter().map(|k| format!("`{k}`")).collect();
                format!(
                    "unknown variant `{name}`, expected one of {}",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for AlarmKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An emergency responder the center can request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agency {
    Police,
    Fire,
    Medical,
    Guard,
}

impl Agency {
    pub fn as_str(self) -> &'static str {
        match self {
            Agency::Police => "police",
            Agency::Fire => "fire",
            Agency::Medical => "medical",
            Agency::Guard => "guard",
        }
    }
}

impl fmt::Display for Agency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an account is monitored at the moment an alarm opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Enrolled less than seven days ago.
    Practice,
    Professional,
    /// Not enrolled in professional monitoring.
    #[serde(rename = "self")]
    SelfMonitored,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Practice => "practice",
            Mode::Professional => "professional",
            Mode::SelfMonitored => "self",
        }
    }
}

/// How an alarm ended. Every alarm reaches exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    CanceledByContact,
    CanceledByDisarm,
    CanceledByApp,
    Dispatched,
    DispatchCanceled,
    DispatchCancelRequested,
    Notified,
    Unreached,
    PracticeNotified,
    PracticeLogged,
    NotMonitored,
    OnTest,
    /// A trouble condition cleared (the panel was heard again).
    Restored,
}

impl Disposition {
    pub const ALL: [Disposition; 13] = [
        Disposition::CanceledByContact,
        Disposition::CanceledByDisarm,
        Disposition::CanceledByApp,
        Disposition::Dispatched,
        Disposition::DispatchCanceled,
        Disposition::DispatchCancelRequested,
        Disposition::Notified,
        Disposition::Unreached,
        Disposition::PracticeNotified,
        Disposition::PracticeLogged,
        Disposition::NotMonitored,
        Disposition::OnTest,
        Disposition::Restored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::CanceledByContact => "canceled_by_contact",
            Disposition::CanceledByDisarm => "canceled_by_disarm",
            Disposition::CanceledByApp => "canceled_by_app",
            Disposition::Dispatched => "dispatched",
            Disposition::DispatchCanceled => "dispatch_canceled",
            Disposition::DispatchCancelRequested => "dispatch_cancel_requested",
            Disposition::Notified => "notified",
            Disposition::Unreached => "unreached",
            Disposition::PracticeNotified => "practice_notified",
            Disposition::PracticeLogged => "practice_logged",
            Disposition::NotMonitored => "not_monitored",
            Disposition::OnTest => "on_test",
            Disposition::Restored => "restored",
        }
    }

    pub fn parse(text: &str) -> Option<Disposition> {
        Disposition::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
