//! Calls to the center not yet attached to an alarm: a caller whose number matched several
//! open alarms (the agent chooses) or none (the general queue; the agent searches accounts by
//! phone). The telephony registers each such call while it lasts; an agent attaches it to an
//! alarm's callback (`POST /api/lines/{id}/attach`), and from then on the call's events and
//! recording are that alarm's. Every change is published for the consoles (SSE `line`).

use crate::phone::Region;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use thiserror::Error;
use tokio::sync::{broadcast, watch};
use watchpost_core::Millis;
use watchpost_core::alarm::CallId;
use watchpost_store::AlarmId;

/// A call to the center's number, from 1 up, unique while the node runs.
pub type LineId = u64;

/// An open alarm the caller may be calling about: one of its contacts has the caller's
/// number. Never a silent alarm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub alarm: AlarmId,
    /// The contact's index in the alarm's contact list.
    pub contact: usize,
    /// The contact's name.
    pub name: String,
    /// The alarm's account number.
    pub account: String,
}

/// A waiting call as consoles and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub id: LineId,
    /// E.164; `None` when withheld.
    pub caller: Option<String>,
    /// When the call arrived (ms since the epoch).
    pub arrived_at_ms: Millis,
    pub candidates: Vec<Candidate>,
    /// The agent whose phone is bridged to the caller, once one answered.
    pub agent: Option<String>,
}

/// Why a line cannot be attached.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineError {
    #[error("line {0} is not a call in progress")]
    Unknown(LineId),
    #[error("line {0} is being attached by another agent")]
    Busy(LineId),
    #[error("line {0} is already alarm {1}'s call {2}")]
    Attached(LineId, AlarmId, CallId),
}

/// Where a line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    /// An agent's attach is under way (its callback input is being committed).
    Attaching,
    Attached(AlarmId, CallId),
}

struct Entry {
    line: Line,
    state: State,
    /// Tells the call's task which alarm and call it now is.
    attached: watch::Sender<Option<(AlarmId, CallId)>>,
}

#[derive(Default)]
struct Entries {
    last: LineId,
    open: BTreeMap<LineId, Entry>,
}

/// The registry, shared by the API and the telephony.
pub struct Lines {
    region: Region,
    entries: Mutex<Entries>,
    changes: broadcast::Sender<LineId>,
}

impl Lines {
    /// `region`: where national numbers typed in an account search are from.
    pub fn new(region: Region) -> Lines {
        Lines {
            region,
            entries: Mutex::default(),
            changes: broadcast::channel(256).0,
        }
    }

    pub fn region(&self) -> Region {
        self.region
    }

    /// A line changed (arrived, answered by an agent, attached, ended): its id.
    pub fn subscribe(&self) -> broadcast::Receiver<LineId> {
        self.changes.subscribe()
    }

    fn changed(&self, id: LineId) {
        let _ = self.changes.send(id);
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().expect("lines lock")
    }

    /// Registers a call that just arrived; it stays until the returned `Registered` drops
    /// (the call ended).
    pub fn register(
        self: &Arc<Self>,
        caller: Option<String>,
        arrived_at_ms: Millis,
        candidates: Vec<Candidate>,
    ) -> Registered {
        let (attached, watching) = watch::channel(None);
        let id = {
            let mut entries = self.entries();
            entries.last += 1;
            let id = entries.last;
            let line = Line {
                id,
                caller,
                arrived_at_ms,
                candidates,
                agent: None,
            };
            let entry = Entry {
                line,
                state: State::Waiting,
                attached,
            };
            entries.open.insert(id, entry);
            id
        };
        self.changed(id);
        Registered {
            lines: self.clone(),
            id,
            attached: watching,
        }
    }

    /// The calls not attached to an alarm yet, oldest first.
    pub fn waiting(&self) -> Vec<Line> {
        self.entries()
            .open
            .values()
            .filter(|e| !matches!(e.state, State::Attached(..)))
            .map(|e| e.line.clone())
            .collect()
    }

    /// Reserves a waiting line for one agent's attach, so two agents cannot both attach it.
    /// Errors: no such call (it ended), another attach under way, already attached.
    pub fn claim(self: &Arc<Self>, id: LineId) -> Result<Claim, LineError> {
        let mut entries = self.entries();
        let entry = entries.open.get_mut(&id).ok_or(LineError::Unknown(id))?;
        match entry.state {
            State::Waiting => entry.state = State::Attaching,
            State::Attaching => return Err(LineError::Busy(id)),
            State::Attached(alarm, call) => return Err(LineError::Attached(id, alarm, call)),
        }
        Ok(Claim {
            lines: self.clone(),
            id,
            line: entry.line.clone(),
            done: false,
        })
    }
}

/// One agent's reservation of a line; dropped without `attach`, the line waits again.
pub struct Claim {
    lines: Arc<Lines>,
    id: LineId,
    line: Line,
    done: bool,
}

impl Claim {
    /// The line as it was claimed.
    pub fn line(&self) -> &Line {
        &self.line
    }

    /// The call is now `alarm`'s call `call`. Error: the call ended meanwhile.
    pub fn attach(mut self, alarm: AlarmId, call: CallId) -> Result<(), LineError> {
        self.done = true;
        {
            let mut entries = self.lines.entries();
            let entry = entries
                .open
                .get_mut(&self.id)
                .ok_or(LineError::Unknown(self.id))?;
            entry.state = State::Attached(alarm, call);
            entry.attached.send_replace(Some((alarm, call)));
        }
        self.lines.changed(self.id);
        Ok(())
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(entry) = self.lines.entries().open.get_mut(&self.id) {
            entry.state = State::Waiting;
        }
    }
}

/// A registered call, held by its task; the line leaves the registry when this drops.
pub struct Registered {
    lines: Arc<Lines>,
    id: LineId,
    attached: watch::Receiver<Option<(AlarmId, CallId)>>,
}

impl Registered {
    pub fn id(&self) -> LineId {
        self.id
    }

    /// The alarm and call an agent attached the call to, as it changes.
    pub fn attached(&self) -> watch::Receiver<Option<(AlarmId, CallId)>> {
        self.attached.clone()
    }

    /// The agent whose phone is bridged to the caller (`None`: nobody's any more).
    pub fn set_agent(&self, agent: Option<&str>) {
        if let Some(entry) = self.lines.entries().open.get_mut(&self.id) {
            entry.line.agent = agent.map(str::to_string);
        }
        self.lines.changed(self.id);
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.lines.entries().open.remove(&self.id);
        self.lines.changed(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Arc<Lines> {
        Arc::new(Lines::new(Region::US))
    }

    fn candidate(alarm: AlarmId) -> Candidate {
        Candidate {
            alarm,
            contact: 0,
            name: "Ann Lee".into(),
            account: "4F39".into(),
        }
    }

    #[test]
    fn a_line_waits_until_its_call_ends() {
        let lines = lines();
        let mut changes = lines.subscribe();
        let call = lines.register(Some("+15555550101".into()), 1000, vec![candidate(1)]);
        call.set_agent(Some("amy"));
        let waiting = lines.waiting();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].id, call.id());
        assert_eq!(waiting[0].agent.as_deref(), Some("amy"));
        assert_eq!(waiting[0].candidates, [candidate(1)]);
        drop(call);
        assert!(lines.waiting().is_empty());
        let published: Vec<LineId> = std::iter::from_fn(|| changes.try_recv().ok()).collect();
        assert_eq!(published, [1, 1, 1], "arrived, answered, ended");
    }

    #[test]
    fn an_attached_line_tells_its_call_and_leaves_the_list() {
        let lines = lines();
        let call = lines.register(None, 1000, vec![]);
        let attached = call.attached();
        let claim = lines.claim(call.id()).unwrap();
        assert_eq!(claim.line().caller, None);
        claim.attach(2, 5).unwrap();
        assert_eq!(*attached.borrow(), Some((2, 5)));
        assert!(lines.waiting().is_empty());
        assert_eq!(
            lines.claim(call.id()).err(),
            Some(LineError::Attached(call.id(), 2, 5))
        );
    }

    #[test]
    fn one_agent_attaches_at_a_time_and_a_dropped_claim_frees_the_line() {
        let lines = lines();
        let call = lines.register(None, 1000, vec![]);
        let first = lines.claim(call.id()).unwrap();
        assert_eq!(
            lines.claim(call.id()).err(),
            Some(LineError::Busy(call.id()))
        );
        assert_eq!(lines.waiting().len(), 1, "still unattached while claimed");
        drop(first);
        assert!(lines.claim(call.id()).is_ok());
    }

    #[test]
    fn a_call_that_ended_cannot_be_attached() {
        let lines = lines();
        let call = lines.register(None, 1000, vec![]);
        let id = call.id();
        let claim = lines.claim(id).unwrap();
        drop(call);
        assert_eq!(claim.attach(1, 0), Err(LineError::Unknown(id)));
        assert_eq!(lines.claim(id).err(), Some(LineError::Unknown(id)));
        let next = lines.register(None, 2000, vec![]);
        assert_ne!(next.id(), id, "ids are not reused");
    }
}
