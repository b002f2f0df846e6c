//! Response plans as data: who is called, in what order, for what purpose, what a cancel or a
//! disarm may do at each point, which agency is requested and when. The built-in plans are the
//! seed's protocols (docs/protocols.md); one engine (`alarm.rs`) interprets any plan.

use crate::account::Responder;
use crate::kind::{Agency, AlarmKind, Disposition, Mode};
use serde::{Deserialize, Serialize};

/// Contacts by list position, 1-based and inclusive: `{from: 2}` is "the remaining contacts".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    pub from: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<usize>,
}

impl Contacts {
    pub const ALL: Contacts = Contacts { from: 1, to: None };
    pub const FIRST: Contacts = Contacts {
        from: 1,
        to: Some(1),
    };
    pub const FIRST_TWO: Contacts = Contacts {
        from: 1,
        to: Some(2),
    };
    pub const REST: Contacts = Contacts { from: 2, to: None };

    /// Zero-based indexes into a contact list of `len` entries.
    pub fn indexes(self, len: usize) -> impl Iterator<Item = usize> {
        let last = self.to.unwrap_or(len).min(len);
        (self.from.max(1)..=last).map(|position| position - 1)
    }
}

/// What happens after a call that lets a person decide.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Branches {
    /// A verified person said it is a false alarm.
    #[serde(default)]
    pub cancel: Vec<Step>,
    /// A person asked for help, or was reached but could not verify.
    #[serde(default)]
    pub dispatch: Vec<Step>,
    /// Nobody was reached.
    #[serde(default)]
    pub unreached: Vec<Step>,
}

/// One step of a plan. Steps run one after another; a deciding step continues with the
/// branch its outcome selects, then with the steps after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Request help now: the plan's agency, or this step's own (`agency`), e.g. a guard
    /// before the police under verified response.
    Dispatch {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agency: Option<AgencyRule>,
    },
    /// Wait this many seconds before the next step (1 to `MAX_WAIT_S`): an abort window in
    /// which a disarm, an app cancel or a callback the plan allows can still stop it.
    Wait { seconds: u32 },
    /// Agent calls, one contact at a time, until a person is reached and decides.
    Verify {
        contacts: Contacts,
        /// Place at least this many calls before nobody counts as reached: when the contacts
        /// picked are fewer, their numbers are called again, in order (enhanced call
        /// verification at an account with one contact). 1 to `MAX_MIN_CALLS`; absent: one
        /// call per contact.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_calls: Option<u32>,
        #[serde(flatten)]
        then: Branches,
    },
    /// Agent calls to tell every contact in turn; what they say changes nothing.
    Notify { contacts: Contacts },
    /// Recorded-message calls, one at a time, until a person is reached. With `agent`, the
    /// person may press 1 to be handled by an agent, whose decision selects a branch.
    Automated {
        contacts: Contacts,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<Branches>,
    },
}

impl Step {
    /// Request the plan's own agency.
    pub const DISPATCH: Step = Step::Dispatch { agency: None };
}

/// The most calls a `Step::Verify` may insist on.
pub const MAX_MIN_CALLS: u32 = 10;

/// The longest `Step::Wait`, in seconds: no plan may hold an alarm back for longer.
pub const MAX_WAIT_S: u32 = 600;

/// The words of a plan's calls, in place of the built-in ones: templates in which
/// `{center_name}`, `{center_phone}`, `{alarm_type}` ("a burglary alarm") and `{premises}`
/// (the address) are replaced (docs/plans.md).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    /// Left on a voicemail the center reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<String>,
    /// The recorded message of an automated call ("Press 1…" is added when the call
    /// offers an agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<String>,
}

impl Messages {
    pub fn is_empty(&self) -> bool {
        self.voicemail.is_none() && self.automated.is_none()
    }
}

/// The placeholders a message template may hold.
pub const PLACEHOLDERS: [&str; 4] = ["center_name", "center_phone", "alarm_type", "premises"];

/// Where a cancellation can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelSource {
    /// A user code disarmed the panel.
    Disarm,
    /// The subscriber pressed cancel in the app.
    App,
    /// A verified contact called the center back.
    Callback,
}

impl CancelSource {
    /// The disposition of an alarm canceled this way before any dispatch.
    pub fn disposition(self) -> Disposition {
        match self {
            CancelSource::Disarm => Disposition::CanceledByDisarm,
            CancelSource::App => Disposition::CanceledByApp,
            CancelSource::Callback => Disposition::CanceledByContact,
        }
    }
}

/// What a cancellation does once help has been requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterDispatch {
    /// Nothing: recorded only.
    Ignore,
    /// The agency is told to stand down (`dispatch_canceled`).
    Cancel,
    /// The agency is asked to stand down, which it may not do (`dispatch_cancel_requested`).
    RequestCancel,
}

/// Which agency a plan requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyRule {
    Police,
    Fire,
    Medical,
    /// Police, or the account's guard responder if it names one.
    SecurityResponder,
    /// The guard service, whatever the account's responder (verified response: a guard
    /// goes first, the police only on a person's confirmation).
    Guard,
}

impl AgencyRule {
    pub fn resolve(self, responder: Responder) -> Agency {
        match (self, responder) {
            (AgencyRule::Police, _) => Agency::Police,
            (AgencyRule::Fire, _) => Agency::Fire,
            (AgencyRule::Medical, _) => Agency::Medical,
            (AgencyRule::SecurityResponder, Responder::Police) => Agency::Police,
            (AgencyRule::SecurityResponder, Responder::Guard) => Agency::Guard,
            (AgencyRule::Guard, _) => Agency::Guard,
        }
    }
}

/// A whole response plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub agency: AgencyRule,
    /// Sources that stop the plan while no dispatch has been requested.
    pub cancel_before_dispatch: Vec<CancelSource>,
    /// Sources that act once a dispatch has been requested, and what they do.
    pub cancel_after_dispatch: Vec<CancelSource>,
    pub after_dispatch: AfterDispatch,
    /// A silent alarm: never call the premises or anyone else.
    #[serde(default)]
    pub silent: bool,
    /// A trouble: once the steps are done, stay open until the condition is restored.
    #[serde(default)]
    pub hold_until_restored: bool,
    /// How an alarm ends that was neither dispatched nor canceled: when a person was reached
    /// by some call, and when nobody was.
    pub quiet_end: QuietEnd,
    /// How long a dispatched alarm stays open for follow-up, in seconds, in place of the
    /// center's `alarms.follow_up`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_s: Option<u32>,
    /// The words of its calls, in place of the built-in ones.
    #[serde(default, skip_serializing_if = "Messages::is_empty")]
    pub messages: Messages,
    /// The plan neither requests help nor calls anyone, and is meant to (a practice duress
    /// alarm is only logged): without it such a plan is refused (`crate::plan_rules`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_response_intended: bool,
    /// The steps that run when someone other than a contact confirms the alarm
    /// (`Input::Confirmed`: a guard on site, video, audio), in place of what remained of the
    /// plan: verified response's `[{ step = "dispatch", agency = "police" }]`. Empty: a
    /// confirmation is recorded and changes nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_confirmation: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietEnd {
    pub reached: Disposition,
    pub unreached: Disposition,
}

const ALL_SOURCES: [CancelSource; 3] = [
    CancelSource::Disarm,
    CancelSource::App,
    CancelSource::Callback,
];

impl Plan {
    /// The seed's plan for an alarm kind in a monitoring mode; `None` in self mode, where no
    /// protocol runs.
    pub fn builtin(kind: AlarmKind, mode: Mode) -> Option<Plan> {
        match mode {
            Mode::SelfMonitored => None,
            Mode::Professional => Some(professional(kind)),
            Mode::Practice => Some(practice(kind)),
        }
    }
}

fn dispatch_branches() -> Branches {
    Branches {
        cancel: vec![],
        dispatch: vec![Step::DISPATCH],
        unreached: vec![Step::DISPATCH],
    }
}

/// A plan that does nothing, calls nobody and nothing cancels: what each plan builds on.
fn base() -> Plan {
    Plan {
        steps: vec![],
        agency: AgencyRule::Police,
        cancel_before_dispatch: vec![],
        cancel_after_dispatch: vec![],
        after_dispatch: AfterDispatch::Ignore,
        silent: false,
        hold_until_restored: false,
        // Every professional plan but water and freeze ends in a dispatch or a cancel.
        quiet_end: QuietEnd {
            reached: Disposition::Dispatched,
            unreached: Disposition::Dispatched,
        },
        follow_up_s: None,
        messages: Messages::default(),
        no_response_intended: false,
        on_confirmation: vec![],
    }
}

fn professional(kind: AlarmKind) -> Plan {
    let base = base();
    match kind {
        AlarmKind::Burglary => Plan {
            steps: vec![Step::Verify {
                contacts: Contacts::ALL,
                min_calls: None,
                then: dispatch_branches(),
            }],
            agency: AgencyRule::SecurityResponder,
            cancel_before_dispatch: ALL_SOURCES.to_vec(),
            cancel_after_dispatch: ALL_SOURCES.to_vec(),
            after_dispatch: AfterDispatch::Cancel,
            ..base
        },
        AlarmKind::Fire => Plan {
            steps: vec![Step::Verify {
                contacts: Contacts::FIRST,
                min_calls: None,
                then: dispatch_branches(),
            }],
            agency: AgencyRule::Fire,
            cancel_before_dispatch: ALL_SOURCES.to_vec(),
            cancel_after_dispatch: ALL_SOURCES.to_vec(),
            after_dispatch: AfterDispatch::RequestCancel,
            ..base
        },
        AlarmKind::CarbonMonoxide => Plan {
            steps: vec![
                Step::DISPATCH,
                Step::Notify {
                    contacts: Contacts::ALL,
                },
            ],
            agency: AgencyRule::Fire,
            ..base
        },
        AlarmKind::Panic => {
            let tell_the_rest = vec![Step::Notify {
                contacts: Contacts::REST,
            }];
            Plan {
                steps: vec![Step::Verify {
                    contacts: Contacts::FIRST,
                    min_calls: None,
                    then: Branches {
                        cancel: tell_the_rest.clone(),
                        dispatch: [vec![Step::DISPATCH], tell_the_rest.clone()].concat(),
                        unreached: [vec![Step::DISPATCH], tell_the_rest].concat(),
                    },
                }],
                ..base
            }
        }
        AlarmKind::Duress => Plan {
            steps: vec![Step::DISPATCH],
            silent: true,
            ..base
        },
        AlarmKind::Medical => Plan {
            steps: vec![Step::Verify {
                contacts: Contacts::FIRST,
                min_calls: None,
                then: Branches {
                    cancel: vec![],
                    dispatch: vec![Step::DISPATCH],
                    unreached: vec![
                        Step::DISPATCH,
                        Step::Notify {
                            contacts: Contacts::FIRST_TWO,
                        },
                    ],
                },
            }],
            agency: AgencyRule::Medical,
            cancel_before_dispatch: ALL_SOURCES.to_vec(),
            ..base
        },
        AlarmKind::Water | AlarmKind::Freeze => water_and_freeze(),
        // The queue shows it until the panel is heard again, or the account calms down.
        AlarmKind::CommFailure | AlarmKind::RunawayAccount => Plan {
            hold_until_restored: true,
            ..base
        },
    }
}

fn water_and_freeze() -> Plan {
    Plan {
        steps: vec![Step::Automated {
            contacts: Contacts::FIRST_TWO,
            agent: None,
        }],
        quiet_end: QuietEnd {
            reached: Disposition::Notified,
            unreached: Disposition::Unreached,
        },
        ..base()
    }
}

fn practice(kind: AlarmKind) -> Plan {
    let pro = professional(kind);
    match kind {
        AlarmKind::Water
        | AlarmKind::Freeze
        | AlarmKind::CommFailure
        | AlarmKind::RunawayAccount => pro,
        // Silent: logged, never called, never dispatched.
        AlarmKind::Duress => Plan {
            steps: vec![],
            quiet_end: QuietEnd {
                reached: Disposition::PracticeLogged,
                unreached: Disposition::PracticeLogged,
            },
            no_response_intended: true,
            ..pro
        },
        // One automated call to contact 1; an agent joins only if asked, and only the agent's
        // decision can request help.
        _ => Plan {
            steps: vec![Step::Automated {
                contacts: Contacts::FIRST,
                agent: Some(Branches {
                    cancel: vec![],
                    dispatch: vec![Step::DISPATCH],
                    unreached: vec![],
                }),
            }],
            quiet_end: QuietEnd {
                reached: Disposition::PracticeNotified,
                unreached: Disposition::PracticeNotified,
            },
            ..pro
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_ranges() {
        assert_eq!(Contacts::ALL.indexes(3).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(Contacts::FIRST.indexes(3).collect::<Vec<_>>(), [0]);
        assert_eq!(Contacts::REST.indexes(3).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(Contacts::REST.indexes(1).count(), 0);
        assert_eq!(Contacts::FIRST_TWO.indexes(1).collect::<Vec<_>>(), [0]);
        assert_eq!(Contacts::FIRST.indexes(0).count(), 0);
    }

    #[test]
    fn plans_are_data_that_round_trip() {
        for kind in AlarmKind::ALL {
            for mode in [Mode::Practice, Mode::Professional] {
                let plan = Plan::builtin(kind, mode).unwrap();
                let json = serde_json::to_string(&plan).unwrap();
                let back: Plan = serde_json::from_str(&json).unwrap();
                assert_eq!(plan, back, "{kind} {mode:?}");
            }
            assert!(Plan::builtin(kind, Mode::SelfMonitored).is_none());
        }
    }
}
