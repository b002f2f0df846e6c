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
