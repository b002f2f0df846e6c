//! The board: what every console sees — each open alarm of the whole center as of the last
//! commit — and a notice each time one changes, for live updates. This node's own commits
//! update it at once; alarms other nodes drive are followed from the store (`follow`).

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};
use watchpost_center::Center;
use watchpost_core::{Alarm, Millis};
use watchpost_store::{AlarmId, AlarmVersion, Db, LogBody, Partition, replay};

/// An alarm changed (opened, moved on, closed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub alarm: AlarmId,
    pub open: bool,
}

struct Shown {
    alarm: Alarm,
    /// Its log's length when this state was taken: a state from a shorter log never
    /// replaces one from a longer.
    next_seq: u32,
    at: Instant,
}

#[derive(Default)]
struct Alarms {
    open: HashMap<AlarmId, Shown>,
    /// Recently closed, so a read of the store made before the closing cannot reopen them.
    closed: HashMap<AlarmId, Instant>,
}

pub struct Board {
    alarms: RwLock<Alarms>,
    /// The partitions this node drives: their alarms are shown from its own commits.
    driven_here: RwLock<HashSet<Partition>>,
    changes: broadcast::Sender<Change>,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            alarms: RwLock::new(Alarms::default()),
            driven_here: RwLock::new(HashSet::new()),
            changes: broadcast::channel(4096).0,
        }
    }
}

/// How often the store is read for other nodes' changes.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);
/// Closings are looked for this far back (a slower follower still sees each one).
const CLOSED_LOOKBACK_MS: Millis = 60_000;
const FORGET_CLOSED: Duration = Duration::from_secs(300);

impl Board {
    /// Open alarms, most urgent first, then oldest first.
    pub fn open_alarms(&self) -> Vec<(AlarmId, Alarm)> {
        let mut alarms: Vec<(AlarmId, Alarm)> = self
            .alarms
            .read()
            .expect("board lock")
            .open
            .iter()
            .map(|(id, shown)| (*id, shown.alarm.clone()))
            .collect();
        alarms.sort_by_key(|(id, a)| (a.spec().kind.priority(), a.spec().opened_at, *id));
        alarms
    }

    pub fn get(&self, id: AlarmId) -> Option<Alarm> {
        let alarms = self.alarms.read().expect("board lock");
        alarms.open.get(&id).map(|shown| shown.alarm.clone())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn show(&self, id: AlarmId, alarm: Alarm, next_seq: u32) {
        let mut alarms = self.alarms.write().expect("board lock");
        if alarms.closed.contains_key(&id)
            || alarms
                .open
                .get(&id)
                .is_some_and(|shown| shown.next_seq >= next_seq)
        {
            return;
        }
        alarms.open.insert(
            id,
            Shown {
                alarm,
                next_seq,
                at: Instant::now(),
            },
        );
        drop(alarms);
        // Nobody listening is fine.
        let _ = self.changes.send(Change {
            alarm: id,
            open: true,
        });
    }

    fn close(&self, id: AlarmId) {
        let mut alarms = self.alarms.write().expect("board lock");
        alarms.closed.insert(id, Instant::now());
        if alarms.open.remove(&id).is_some() {
            drop(alarms);
            let _ = self.changes.send(Change {
                alarm: id,
                open: false,
            });
        }
    }

    /// Copies the named alarms' state from the center after a commit: those it no longer
    /// holds open were closed.
    pub fn update(&self, center: &Center, touched: &[AlarmId]) {
        for &id in touched {
            match (center.alarm(id), center.next_seq(id)) {
                (Some(alarm), Some(next_seq)) => self.show(id, alarm.clone(), next_seq),
                _ => self.close(id),
            }
        }
    }

    /// The partitions this node now drives.
    pub fn drive(&self, partitions: impl IntoIterator<Item = Partition>) {
        *self.driven_here.write().expect("board lock") = partitions.into_iter().collect();
    }

    /// Brings a shown alarm up to its stored log by applying the inputs added since; false
    /// when it must be read whole instead.
    async fn advance(&self, store: &Db, id: AlarmId) -> bool {
        let Some((mut alarm, from)) = ({
            let alarms = self.alarms.read().expect("board lock");
            alarms
                .open
                .get(&id)
                .map(|shown| (shown.alarm.clone(), shown.next_seq))
        }) else {
            return false;
        };
        let Ok(entries) = store.log_from(id, from).await else {
            return false;
        };
        let mut next_seq = from;
        for entry in entries {
            if entry.seq != next_seq {
                return false;
            }
            match entry.body {
                LogBody::Input { input } => {
                    if alarm.handle(entry.at, input).is_err() {
                        return false;
                    }
                    while alarm.poll_action().is_some() {}
                }
                LogBody::Action { .. } => {}
                LogBody::Opened { .. } => return false,
            }
            next_seq += 1;
        }
        if alarm.closed().is_some() {
            self.close(id);
        } else {
            self.show(id, alarm, next_seq);
        }
        true
    }

    /// Shows an alarm as its stored log has it (another node drives it).
    pub async fn reload(&self, store: &Db, id: AlarmId) {
        if self.advance(store, id).await {
            return;
        }
        match store.log(id).await.map(|log| {
            let next_seq = log.last().map_or(0, |e| e.seq + 1);
            replay(&log).map(|alarm| (alarm, next_seq))
        }) {
            Ok(Ok((alarm, _))) if alarm.closed().is_some() => self.close(id),
            Ok(Ok((alarm, next_seq))) => self.show(id, alarm, next_seq),
            Ok(Err(why)) => tracing::error!("alarm {id}: log does not replay: {why}"),
            Err(e) => tracing::warn!("alarm {id}: log not read: {e}"),
        }
    }

    /// Brings the board up to the store's versions: alarms opened or moved on by other nodes
    /// are read and replayed from their logs, closed ones leave.
    async fn catch_up(&self, store: &Db, versions: Vec<AlarmVersion>) {
        let listed: HashMap<AlarmId, AlarmVersion> =
            versions.iter().map(|v| (v.alarm, *v)).collect();
        let driven_here = self.driven_here.read().expect("board lock").clone();
        for version in versions {
            if driven_here.contains(&version.partition) {
                continue;
            }
            if !version.open {
                self.close(version.alarm);
                continue;
            }
            let behind = {
                let alarms = self.alarms.read().expect("board lock");
                !alarms.closed.contains_key(&version.alarm)
                    && alarms
                        .open
                        .get(&version.alarm)
                        .is_none_or(|shown| shown.next_seq < version.next_seq)
            };
            if behind {
                self.reload(store, version.alarm).await;
            }
        }
        // Closed long enough ago to be out of the listing, and not shown since.
        let stale: Vec<AlarmId> = {
            let alarms = self.alarms.read().expect("board lock");
            alarms
                .open
                .iter()
                .filter(|(id, shown)| {
                    !listed.contains_key(id)
                        && shown.at.elapsed() > Duration::from_millis(CLOSED_LOOKBACK_MS as u64)
                })
                .map(|(id, _)| *id)
                .collect()
        };
        for id in stale {
            self.close(id);
        }
        let mut alarms = self.alarms.write().expect("board lock");
        alarms.closed.retain(|_, at| at.elapsed() < FORGET_CLOSED);
    }
}

/// Follows the alarms other nodes drive, until the center stops.
pub async fn follow(board: std::sync::Arc<Board>, store: Db, mut stop: watch::Receiver<bool>) {
    loop {
        match store
            .alarm_versions(crate::now_ms() - CLOSED_LOOKBACK_MS)
            .await
        {
            Ok(versions) => board.catch_up(&store, versions).await,
            Err(e) => tracing::warn!("other nodes' alarms not read: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
