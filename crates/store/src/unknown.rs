//! Unknown-account items: a signal that would open an alarm (an alarm or trouble event) from an
//! account number that is not enrolled. The center adds one to its batch with the signal, so
//! both are stored in the same commit; an agent then resolves the item (README, "Unknown
//! accounts").

use crate::SignalRecord;
use serde::{Deserialize, Serialize};
use watchpost_core::{AlarmKind, Millis};

/// A signal from an unknown account that would have opened an alarm of `kind`, as the center
/// puts it in a batch. Writing it joins the account's open item, or opens one.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownSignal {
    pub signal: SignalRecord,
    pub kind: AlarmKind,
    /// The DC-09 receiver number and line prefix the frame was addressed to (`R1 L0`), when
    /// the receiver knows them.
    pub line: Option<String>,
}

/// How an agent resolved an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Routed as an existing account's signal (a panel programmed with the wrong number).
    Assigned,
    /// Routed to the account enrolled with the number the item was sent with.
    Enrolled,
    /// Not a real alarm; the reason says why.
    Noise,
}

/// Who resolved an item, when, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub outcome: Outcome,
    /// The account the signal was routed to (assigned, enrolled).
    pub account: Option<String>,
    /// Why it is noise (required for noise).
    pub reason: Option<String>,
    /// `agent:NAME`.
    pub by: String,
    pub at: Millis,
}

/// An unknown-account item: the first signal's time, the last signal's event, and how many
/// signals from the number joined it while it was open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownItem {
    pub id: i64,
    /// The account number as sent.
    pub account: String,
    /// When the first signal of the item was received (ms since the epoch).
    pub received_at: Millis,
    /// When the latest one was.
    pub last_at: Millis,
    /// The most urgent kind among its signals.
    pub kind: AlarmKind,
    /// The queue priority of `kind` (1 is most urgent; PROTOCOLS.md).
    pub priority: u8,
    /// The receiver line the latest signal came in on: the signal's source (`sia`, `cid` for
    /// the DC-09 receivers, `app`...).
    pub source: String,
    /// The DC-09 receiver number and line prefix of the latest signal's frame (`R1 L0`), when
    /// known.
    pub line: Option<String>,
    /// The latest signal as received (a DC-09 data block: `Nri1/FA003`).
    pub raw: String,
    /// The latest signal's event, routed as is when the item is assigned or enrolled.
    pub event: watchpost_core::router::Event,
    /// How many signals joined the item (1 for a lone one).
    pub count: u32,
    pub resolution: Option<Resolution>,
}

impl UnknownItem {
    /// The item's latest signal, as an account's: what assign and enrol route.
    pub fn signal_for(&self, account: &str, now: Millis) -> SignalRecord {
        SignalRecord {
            account: account.to_string(),
            received_at: now,
            source: self.source.clone(),
            event: self.event.clone(),
            raw: self.raw.clone(),
        }
    }
}

/// The kind an item keeps when a signal of `new` joins one of `old`: the more urgent.
pub fn joined_kind(old: AlarmKind, new: AlarmKind) -> AlarmKind {
    if new.priority() < old.priority() {
        new
    } else {
        old
    }
}
