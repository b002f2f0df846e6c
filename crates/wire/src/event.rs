//! Events as the center sees them, whatever the format they came in: a code, a zone and
//! what the code means (via watchpost-core).

use crate::account::split_data_account;
use crate::cid::{self, CidError, CidEvent};
use crate::dcs::{DcsEvent, parse_dcs};
use crate::header::MessageId;
use watchpost_core::{AlarmKind, SignalClass, classify_cid, classify_sia};

/// One event of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// SIA code (`BA`) or Contact ID event code (`131`).
    pub code: String,
    /// Zone (or user, for open/close) number.
    pub zone: Option<u32>,
    pub class: SignalClass,
    /// Area / partition (`ri`, or the Contact ID group).
    pub area: Option<u32>,
    /// User (`id`) when the panel names one.
    pub user: Option<u32>,
    /// Contact ID qualifier (1, 3, 6); `None` for SIA.
    pub qualifier: Option<u8>,
    /// Free text sent with the event.
    pub text: Option<String>,
}

impl Event {
    /// The alarm kind this event opens, if it is an alarm.
    pub fn kind(&self) -> Option<AlarmKind> {
        self.class.alarm_kind()
    }

    pub fn from_sia(event: DcsEvent) -> Event {
        Event {
            class: classify_sia(&event.code),
            code: event.code,
            zone: event.number,
            area: event.area,
            user: event.user,
            qualifier: None,
            text: event.text,
        }
    }

    pub fn from_contact_id(event: CidEvent) -> Event {
        let open_close = (400..500).contains(&event.code);
        Event {
            code: format!("{:03}", event.code),
            zone: Some(u32::from(event.zone)),
            class: classify_cid(event.qualifier, event.code),
            area: Some(u32::from(event.group)),
            user: open_close.then_some(u32::from(event.zone)),
            qualifier: Some(event.qualifier),
            text: None,
        }
    }
}

/// The account named in the data block and the events it carries, read per message type.
/// Only Contact ID can fail: SIA DCS is read leniently, and other ids carry no events.
pub fn read_events(id: &MessageId, data: &str) -> (Option<String>, Result<Vec<Event>, CidError>) {
    let (account, rest) = split_data_account(data);
    let events = match id {
        MessageId::SiaDcs => Ok(parse_dcs(rest).into_iter().map(Event::from_sia).collect()),
        MessageId::AdmCid if rest.trim().is_empty() => Ok(Vec::new()),
        MessageId::AdmCid => {
            cid::parse_dc09(rest.trim()).map(|event| vec![Event::from_contact_id(event)])
        }
        _ => Ok(Vec::new()),
    };
    (account.map(str::to_owned), events)
}
