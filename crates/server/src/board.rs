//! The board: what every console sees — each open alarm as of the last commit — and a notice
//! each time one changes, for live updates.

use std::collections::HashMap;
use std::sync::RwLock;
use tokio::sync::broadcast;
use watchpost_center::Center;
use watchpost_core::Alarm;
use watchpost_store::{AlarmId, Store};

/// An alarm changed (opened, moved on, closed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub alarm: AlarmId,
    pub open: bool,
}

pub struct Board {
    open: RwLock<HashMap<AlarmId, Alarm>>,
    changes: broadcast::Sender<Change>,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            open: RwLock::new(HashMap::new()),
            changes: broadcast::channel(4096).0,
        }
    }
}

impl Board {
    /// Open alarms, most urgent first, then oldest first.
    pub fn open_alarms(&self) -> Vec<(AlarmId, Alarm)> {
        let mut alarms: Vec<(AlarmId, Alarm)> = self
            .open
            .read()
            .expect("board lock")
            .iter()
            .map(|(id, a)| (*id, a.clone()))
            .collect();
        alarms.sort_by_key(|(id, a)| (a.spec().kind.priority(), a.spec().opened_at, *id));
        alarms
    }

    pub fn get(&self, id: AlarmId) -> Option<Alarm> {
        self.open.read().expect("board lock").get(&id).cloned()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Copies the named alarms' state from the center after a commit.
    pub fn update<S: Store>(&self, center: &Center<S>, touched: &[AlarmId]) {
        let mut open = self.open.write().expect("board lock");
        for &id in touched {
            let change = match center.alarm(id) {
                Some(alarm) => {
                    open.insert(id, alarm.clone());
                    Change {
                        alarm: id,
                        open: true,
                    }
                }
                None => {
                    open.remove(&id);
                    Change {
                        alarm: id,
                        open: false,
                    }
                }
            };
            // Nobody listening is fine.
            let _ = self.changes.send(change);
        }
    }

    pub fn fill<S: Store>(&self, center: &Center<S>) {
        let ids: Vec<AlarmId> = center.open_alarms().map(|(id, _)| id).collect();
        self.update(center, &ids);
    }
}
