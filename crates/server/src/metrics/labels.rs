//! The label values of the center's metrics: each a small fixed set (a transport, a reply, a
//! call outcome, an adapter, an alarm kind and its priority), never an account number, a user
//! name or an address.

use prometheus_client::encoding::EncodeLabelSet;
use watchpost_core::AlarmKind;

/// The transport a DC-09 frame came over.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
}

/// What a DC-09 frame was answered with; `none`: no answer (not stored, so not acknowledged,
/// or beyond the unknown-account limits).
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Reply {
    Ack,
    Nak,
    Duh,
    None,
}

impl Transport {
    pub(super) const ALL: [Transport; 2] = [Transport::Tcp, Transport::Udp];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

impl Reply {
    pub(super) const ALL: [Reply; 4] = [Reply::Ack, Reply::Nak, Reply::Duh, Reply::None];

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Reply::Ack => "ack",
            Reply::Nak => "nak",
            Reply::Duh => "duh",
            Reply::None => "none",
        }
    }
}

impl From<watchpost_wire::ReplyKind> for Reply {
    fn from(kind: watchpost_wire::ReplyKind) -> Reply {
        match kind {
            watchpost_wire::ReplyKind::Ack => Reply::Ack,
            watchpost_wire::ReplyKind::Nak => Reply::Nak,
            watchpost_wire::ReplyKind::Duh => Reply::Duh,
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct FrameLabels {
    pub(super) transport: &'static str,
    pub(super) result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OpenLabels {
    pub(super) kind: &'static str,
    pub(super) priority: u8,
}

impl OpenLabels {
    pub(super) fn of(kind: AlarmKind) -> OpenLabels {
        OpenLabels {
            kind: kind.as_str(),
            priority: kind.priority(),
        }
    }
}

/// What became of an outbound call, as the telephony or the agent reported it.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum CallOutcome {
    Answered,
    Voicemail,
    NoAnswer,
    Busy,
}

impl CallOutcome {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Answered => "answered",
            CallOutcome::Voicemail => "voicemail",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Busy => "busy",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OutcomeLabels {
    pub(super) outcome: &'static str,
}

/// An adapter whose work failed.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Adapter {
    /// A SIP call could not be placed or failed on the trunk.
    Sip,
    /// A webhook delivery attempt failed (it is retried).
    Webhook,
}

impl Adapter {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Adapter::Sip => "sip",
            Adapter::Webhook => "webhook",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct AdapterLabels {
    pub(super) adapter: &'static str,
}

/// A kind of record the retention sweep removes: `signal`, `alarm` (with its log),
/// `recording`, `unknown_item`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RecordLabels {
    pub(super) record: &'static str,
}
