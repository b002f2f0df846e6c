//! What goes into an alarm (inputs), what comes out (actions), and the records it keeps
//! (calls, dispatches, timeline). All serialisable: the alarm's log is made of these.

use crate::account::{Contact, Millis, Responder};
use crate::kind::{Agency, AlarmKind, Disposition, Mode};
use crate::plan::Plan;
use crate::runaway::RunawayLimit;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use thiserror::Error;

/// A call's number within its alarm, from 0.
pub type CallId = u32;

/// Center-wide settings an alarm is opened with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// A dispatched alarm stays open this long after the dispatch request.
    pub follow_up_ms: Millis,
    /// Left in voicemails and automated messages.
    pub center_phone: String,
    pub center_name: String,
    /// Beyond this rate an account is a runaway (`crate::runaway`); `None`: never. The
    /// center reads it, not the engine; an alarm's log keeps it only when it is not the
    /// default.
    #[serde(
        default = "default_runaway",
        skip_serializing_if = "is_default_runaway"
    )]
    pub runaway: Option<RunawayLimit>,
    /// The center's plans (`crate::plan_book`): read when an alarm opens; its log keeps the
    /// plan itself and `AlarmSpec::plan_set`, not the book.
    #[serde(skip)]
    pub plans: crate::plan_book::PlanBook,
}

fn default_runaway() -> Option<RunawayLimit> {
    Some(RunawayLimit::default())
}

fn is_default_runaway(limit: &Option<RunawayLimit>) -> bool {
    *limit == default_runaway()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            follow_up_ms: 3_600_000,
            center_phone: "+18005550199".into(),
            center_name: "the watchpost monitoring center".into(),
            runaway: default_runaway(),
            plans: Default::default(),
        }
    }
}

/// Why an alarm runs no protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmonitored {
    pub disposition: Disposition,
    pub reason: String,
}

/// Everything fixed when an alarm opens; the first entry of its log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmSpec {
    pub account: String,
    pub address: String,
    pub contacts: Vec<Contact>,
    /// The premises' own phone, the last number a `verify` step tries before calling the
    /// contacts again (`Line::Premises`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premises_phone: Option<String>,
    pub responder: Responder,
    pub kind: AlarmKind,
    pub mode: Mode,
    pub opened_at: Millis,
    /// The opening signal, as the timeline shows it ("BA zone 3").
    pub trigger: String,
    pub plan: Option<Plan>,
    /// The plan set and version `plan` comes from; `None`: the built-in plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_set: Option<crate::plan_file::PlanRef>,
    pub unmonitored: Option<Unmonitored>,
    pub settings: Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Cancel,
    Dispatch,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Cancel => "cancel",
            Decision::Dispatch => "dispatch",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// An agent call whose person can confirm or cancel.
    Verify,
    /// An agent call that only tells.
    Notify,
    /// A recorded message, no agent (unless the person asks for one).
    Automated,
    /// A contact called the center back.
    Callback,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Notify => "notify",
            Purpose::Automated => "automated",
            Purpose::Callback => "callback",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallResult {
    Answered,
    Voicemail,
    NoAnswer,
    Busy,
}

impl CallResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CallResult::Answered => "answered",
            CallResult::Voicemail => "voicemail",
            CallResult::NoAnswer => "no_answer",
            CallResult::Busy => "busy",
        }
    }
}

/// Which of an account's numbers a call dials (docs/plans.md, "Enhanced call verification").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Line {
    /// The contact's first number (`Contact::phone`); every call before second numbers
    /// existed.
    #[default]
    Phone,
    /// The contact's second number (`Contact::phone2`).
    Phone2,
    /// The premises' own phone (`AlarmSpec::premises_phone`). Its call's `contact` is the
    /// length of the contact list (no contact's index) and its `to` is `PREMISES`.
    Premises,
}

/// The name a call to the premises phone goes to (`Call::to`).
pub const PREMISES: &str = "premises";

/// One number to dial: a contact's (by index) or the premises' (`contact` = the length of
/// the contact list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dial {
    pub contact: usize,
    #[serde(default)]
    pub line: Line,
}

/// One call of an alarm, outbound or a callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub id: CallId,
    /// Index into the alarm's contact list; for a call to the premises phone, the length of
    /// the list (`Line::Premises`).
    pub contact: usize,
    /// Which number the call dials; `phone` for callbacks.
    #[serde(default, skip_serializing_if = "is_first_line")]
    pub line: Line,
    /// The number dialled (E.164); for a callback, the contact's first number. Empty in
    /// alarms logged before calls recorded it (`Alarm::phone_of` reads those).
    #[serde(default)]
    pub phone: String,
    pub to: String,
    pub purpose: Purpose,
    pub requested_at: Millis,
    pub placed_at: Option<Millis>,
    pub answered_at: Option<Millis>,
    pub ended_at: Option<Millis>,
    pub result: Option<CallResult>,
    pub voicemail_left: bool,
    /// On an automated call, the person asked for an agent.
    pub agent_joined: bool,
    pub password_attempts: u8,
    pub verified: Option<bool>,
    pub decision: Option<Decision>,
}

impl Line {
    pub fn as_str(self) -> &'static str {
        match self {
            Line::Phone => "phone",
            Line::Phone2 => "phone2",
            Line::Premises => "premises",
        }
    }
}

fn is_first_line(line: &Line) -> bool {
    *line == Line::Phone
}

impl Call {
    /// The password check on this call in words: `not_checked` (no attempt), `match`,
    /// `no_match`.
    pub fn password(&self) -> &'static str {
        match (self.password_attempts, self.verified) {
            (0, _) => "not_checked",
            (_, Some(true)) => "match",
            _ => "no_match",
        }
    }

    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }

    /// An agent is talking with a person who may be asked for the password.
    pub fn in_conversation(&self) -> bool {
        self.is_open()
            && self.result == Some(CallResult::Answered)
            && match self.purpose {
                Purpose::Verify | Purpose::Callback => true,
                Purpose::Automated => self.agent_joined,
                Purpose::Notify => false,
            }
    }
}

/// One request to an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    pub agency: Agency,
    pub requested_at: Millis,
    pub canceled_at: Option<Millis>,
    /// The agency's incident number, once an agent or an interface confirms it.
    pub reference: Option<String>,
    /// Whom at the agency an agent told to stand down, once they confirm the cancellation
    /// (`Input::StandDownConfirmed`); `None` while the cancellation is a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stood_down: Option<String>,
    /// Why the alarm was closed without the agency's incident number (`Input::AgentClose`'s
    /// reason): the request is then no longer a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
}

/// What an agent still owes an agency on an alarm (issue 12, finding 5): a dispatch request
/// without its incident number, or a cancellation nobody has confirmed telling the agency.
/// Unconfirmed tasks keep the alarm in the queue, closed or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Request help and record the agency's incident number (`Input::DispatchConfirmed`).
    Request,
    /// Tell the agency to stand down and record whom (`Input::StandDownConfirmed`).
    StandDown,
}

/// One task: which agency, what, and since when (milliseconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub agency: Agency,
    pub kind: TaskKind,
    pub since: Millis,
}

/// One row of an alarm's timeline, kept shared (`Arc`) in `Alarm::timeline`. Its texts are
/// shared too, not owned: the grouped row is copied whenever it is recounted while the board
/// holds the alarm, and the actor's name is the same for many rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Millis,
    pub event: Arc<str>,
    pub detail: Arc<str>,
    /// Who caused it, as the log names the actor of the input that did (`agent:ann`, `sia`,
    /// `telephony`, `timer`, `center`…); `panel` for the opening signal. Empty in alarms
    /// handled without an actor (`Alarm::handle`).
    #[serde(default, skip_serializing_if = "no_actor")]
    pub by: Arc<str>,
}

fn no_actor(by: &Arc<str>) -> bool {
    by.is_empty()
}

/// Signals counted in one timeline row (`grouped`) instead of one row each: those of a
/// runaway account that only join the alarm, from the row's time until something else is
/// listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Group {
    /// Its row in the timeline.
    pub row: usize,
    count: u64,
    /// How many of each signal (as the timeline words it), in order of first arrival.
    signals: Vec<(String, u64)>,
    /// Signals beyond the first `GROUP_KINDS` different ones.
    others: u64,
}

/// Different signals a group names; the rest are counted together.
const GROUP_KINDS: usize = 6;

impl Group {
    pub fn at(row: usize) -> Group {
        Group {
            row,
            count: 0,
            signals: Vec::new(),
            others: 0,
        }
    }

    pub fn count(&mut self, detail: String) {
        self.count += 1;
        if let Some((_, n)) = self.signals.iter_mut().find(|(d, _)| *d == detail) {
            *n += 1;
        } else if self.signals.len() < GROUP_KINDS {
            self.signals.push((detail, 1));
        } else {
            self.others += 1;
        }
    }

    /// `… and 412 more signals: BA zone 3 ×400, BR zone 3 ×12`.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "… and {} more signal{}: ",
            self.count,
            if self.count == 1 { "" } else { "s" }
        );
        for (i, (detail, n)) in self.signals.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!("{detail} ×{n}"));
        }
        if self.others > 0 {
            text.push_str(&format!(", others ×{}", self.others));
        }
        text
    }
}

/// Everything that can happen to an alarm from outside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    /// A further signal of the same kind, an arming or a restore: recorded only.
    Signal {
        detail: String,
    },
    /// Such a signal from a runaway account: counted in a group, not listed.
    Grouped {
        detail: String,
    },
    Disarm {
        detail: String,
    },
    AppCancel,
    CallPlaced {
        call: CallId,
    },
    /// A person answered. After `Voicemail` on an agent's call, it is the agent overturning
    /// the detector while the center is still on the line (`Alarm::can_overturn`).
    Answered {
        call: CallId,
    },
    Voicemail {
        call: CallId,
    },
    NoAnswer {
        call: CallId,
    },
    Busy {
        call: CallId,
    },
    /// On an automated call the person pressed 1 and an agent took the call.
    AgentJoined {
        call: CallId,
    },
    /// The agent compared what the person said with the stored hash.
    PasswordChecked {
        call: CallId,
        matched: bool,
    },
    /// What the person on the call asked for.
    Decision {
        call: CallId,
        decision: Decision,
    },
    /// The call finished without a decision (a notification told, a message played, a
    /// person hung up).
    CallEnded {
        call: CallId,
    },
    /// A contact (by list index) called the center back; the agent handles it as a call.
    Callback {
        contact: usize,
    },
    DispatchConfirmed {
        agency: Agency,
        reference: String,
    },
    ResponderUpdate {
        text: String,
    },
    Note {
        text: String,
    },
    /// The audio of a call (both sides) was stored; listed in the timeline, nothing else
    /// changes. Sent by the live center after the recording is durable (issue 11, item 8);
    /// scenarios never produce it.
    Recorded {
        call: CallId,
        /// How long the recording lasts, in milliseconds.
        duration_ms: u32,
    },
    /// The answering-machine detector's verdict on an answered call, in words (what it
    /// heard and when it decided): listed in the timeline, so the agent sees why, nothing else
    /// changes (the outcome itself comes as `Answered` or `Voicemail`). Sent by the live
    /// center's SIP telephony; scenarios never produce it.
    Detected {
        call: CallId,
        detail: String,
    },
    /// The handler closes a dispatched alarm before its follow-up window ends, with a
    /// resolution code (required; the center's list is checked by the desk) and, when a
    /// dispatch has no incident number, the reason to close without it.
    AgentClose {
        #[serde(default)]
        resolution: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// An agent told the agency to stand down after a cancellation, and names whom they told.
    StandDownConfirmed {
        agency: Agency,
        told: String,
    },
    /// A duress alarm (by its id in the center) opened, or was open, at this alarm's account:
    /// from now on nothing from the premises side cancels this alarm (PROTOCOLS.md, Duress 3).
    DuressOpen {
        alarm: i64,
    },
    /// That duress alarm closed.
    DuressClosed {
        alarm: i64,
    },
    /// The trouble condition an alarm holds open for has cleared.
    Restored {
        detail: String,
    },
    /// An agent takes the alarm: it is theirs to work until they release it.
    Take {
        agent: String,
    },
    Release {
        agent: String,
    },
    /// A supervisor takes the alarm over from whoever handles it (or takes it, if nobody
    /// does). The desk checks the role.
    TakeOver {
        agent: String,
    },
    /// Someone other than a contact confirmed the intrusion or the emergency, as an agent
    /// records it: the plan's `on_confirmation` steps run in place of what remained of it
    /// (verified response: the police on a guard's report).
    Confirmed {
        by: Confirmer,
        /// What they reported, in their words (may be empty).
        #[serde(default)]
        text: String,
    },
    /// The alarm's timer (`poll_timeout`) is due.
    Timer,
}

/// Who confirmed an alarm (`Input::Confirmed`). A closed set: the confirmations that
/// verified-response policies accept besides a contact's (ANSI/SIA CP-01 and police
/// verified-response ordinances: a guard or keyholder on site, video, audio), so a plan, a
/// report and a webhook can say which, and a free-text source cannot slip in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirmer {
    /// A guard (or the guard service's responder) on site.
    Guard,
    /// An agent saw the intrusion on the premises' video.
    Video,
    /// An agent heard it on the premises' audio (listen-in).
    Audio,
}

impl Confirmer {
    pub const ALL: [Confirmer; 3] = [Confirmer::Guard, Confirmer::Video, Confirmer::Audio];

    pub fn as_str(self) -> &'static str {
        match self {
            Confirmer::Guard => "guard",
            Confirmer::Video => "video",
            Confirmer::Audio => "audio",
        }
    }

    /// `guard`, `video` or `audio`.
    pub fn parse(text: &str) -> Option<Confirmer> {
        Confirmer::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// What the engine asks the world to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    PlaceCall {
        call: CallId,
        contact: usize,
        to: String,
        phone: String,
        purpose: Purpose,
        /// The recorded message of an automated call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// The automated call lets the person press 1 for an agent.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        offers_agent: bool,
    },
    LeaveVoicemail {
        call: CallId,
        message: String,
    },
    HangUp {
        call: CallId,
    },
    /// A person is on the center's side of this call (the center was leaving a voicemail
    /// message when an agent said it is a person): stop the message and connect them to an
    /// agent, the alarm's first.
    ConnectAgent {
        call: CallId,
    },
    RequestDispatch {
        agency: Agency,
        kind: AlarmKind,
        address: String,
    },
    CancelDispatch {
        agency: Agency,
    },
    Close {
        disposition: Disposition,
    },
}

/// An input the alarm cannot take in its present state; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejected {
    #[error("the alarm is closed")]
    Closed,
    #[error("call {0} does not exist")]
    UnknownCall(CallId),
    #[error("call {0} has ended")]
    CallEnded(CallId),
    #[error("call {0} is not the call in progress")]
    NotCurrent(CallId),
    #[error("call {0} already has an outcome")]
    AlreadyAnswered(CallId),
    #[error("call {0} was not answered by a person")]
    NotAnswered(CallId),
    #[error("call {0} has no agent conversation that can take a password or a decision")]
    NoConversation(CallId),
    #[error("call {0}: two password attempts per call have been used")]
    TooManyAttempts(CallId),
    #[error("call {0}: the caller is already verified")]
    AlreadyVerified(CallId),
    #[error("call {0}: an agent can join only an automated call that offers one")]
    NoAgentOffered(CallId),
    #[error("contact {0} is not on this alarm's contact list")]
    UnknownContact(usize),
    #[error("no {0} dispatch was requested for this alarm")]
    NoDispatch(Agency),
    #[error(
        "the response plan is still running; only a dispatched alarm in follow-up can be closed early"
    )]
    StillRunning,
    #[error("no timer is due")]
    NotDue,
    #[error("this alarm does not wait for a restore")]
    NotHeld,
    #[error(
        "the alarm is being handled by {0}; only they act on it (a supervisor may take it over)"
    )]
    TakenBy(String),
    #[error("{0} is not handling this alarm")]
    NotHandling(String),
    #[error(
        "nobody has taken this alarm: take it first; only the agent handling an alarm acts on it"
    )]
    NotTaken,
    #[error("closing needs a resolution code")]
    NoResolution,
    #[error(
        "the {0} dispatch has no incident number: confirm it first, or give the reason to close without it"
    )]
    Unconfirmed(Agency),
    #[error("no {0} dispatch was canceled on this alarm, or its stand-down is already confirmed")]
    NoStandDown(Agency),
    #[error("the alarm is closed and owes no agency anything")]
    NoTasks,
}
