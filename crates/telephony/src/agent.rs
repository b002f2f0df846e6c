//! Whose phone an agent call rings: the agent who has the alarm (the one who took it at the
//! console), if their user has a phone (`watchpost users phone NAME sip:…`). With no agent on
//! the alarm the call waits, as it waits in the console's queue today.

use std::sync::Arc;
use watchpost_server::Board;
use watchpost_store::{AlarmId, Db};

/// The agent who has an alarm, and their phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub name: String,
    /// `sip:user@host[:port]`.
    pub phone: String,
}

/// Looks agents up on the board and in the store.
#[derive(Clone)]
pub struct Agents {
    pub board: Arc<Board>,
    pub store: Db,
    /// Where calls to the center that match no single open alarm wait for an agent to attach
    /// them.
    pub lines: Arc<watchpost_server::Lines>,
}

/// Where an alarm's agent call stands.
pub enum Found {
    Agent(Agent),
    /// Nobody has taken the alarm yet: wait.
    Waiting,
    /// The alarm's agent has no phone: they dial by hand (the console shows the call).
    NoPhone(String),
    /// The alarm is no longer on the board (closed, or another node drives it).
    Gone,
}

impl Agents {
    /// An agent with a phone who has no open alarm: whom an unmatched call back rings.
    /// `Found::Waiting` when every agent is busy or none has a phone.
    pub async fn free(&self) -> Found {
        let busy: std::collections::HashSet<String> = self
            .board
            .open_alarms()
            .iter()
            .filter_map(|(_, alarm)| alarm.handler().map(str::to_string))
            .collect();
        match self.store.users().await {
            Ok(users) => users
                .into_iter()
                .find(|u| u.phone.is_some() && !busy.contains(&u.name))
                .map_or(Found::Waiting, |u| {
                    Found::Agent(Agent {
                        phone: u.phone.unwrap_or_default(),
                        name: u.name,
                    })
                }),
            Err(e) => {
                tracing::warn!(error = %e, "agents could not be looked up");
                Found::Waiting
            }
        }
    }

    pub async fn for_alarm(&self, alarm: AlarmId) -> Found {
        let Some(state) = self.board.get(alarm) else {
            return Found::Gone;
        };
        let Some(name) = state.handler() else {
            return Found::Waiting;
        };
        match self.store.user(name).await {
            Ok(Some(user)) => match user.phone {
                Some(phone) => Found::Agent(Agent {
                    name: user.name,
                    phone,
                }),
                None => Found::NoPhone(user.name),
            },
            Ok(None) => Found::NoPhone(name.to_string()),
            Err(e) => {
                tracing::warn!(alarm, error = %e, "the alarm's agent could not be looked up");
                Found::Waiting
            }
        }
    }
}
