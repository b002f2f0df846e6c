//! The board: what every console sees — each open alarm of the whole center as of the last
//! commit — and a notice each time one changes, for live updates. This node's own commits
//! update it at once; alarms other nodes drive are followed from the store (`follow`). The
//! open alarms are also kept sorted in queue order (`crate::queue`), each shared (`Arc`), so a
//! page of the queue or a count reads only what it shows and copies no alarm.

use crate::queue::QueueKey;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};
use watchpost_center::Center;
use watchpost_core::{Alarm, AlarmKind, Millis};
use watchpost_store::{AlarmId, AlarmVersion, Db, LogBody, LogEntry, Partition, replay};

/// An alarm changed (opened, moved on, closed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub alarm: AlarmId,
    pub open: bool,
}

struct Shown {
    alarm: Arc<Alarm>,
    /// Where it stands in `Alarms::order`.
    key: QueueKey,
    /// Its log's length when this state was taken: a state from a shorter log never
    /// replaces one from a longer.
    next_seq: u32,
    at: Instant,
}

#[derive(Default)]
struct Alarms {
    open: HashMap<AlarmId, Shown>,
    /// The open alarms' keys, in queue order.
    order: BTreeSet<QueueKey>,
    /// Recently closed, so a read of the store made before the closing cannot reopen them.
    closed: HashMap<AlarmId, Instant>,
}

pub struct Board {
    alarms: RwLock<Alarms>,
    /// The partitions this node drives: their alarms are shown from its own commits.
    driven_here: RwLock<HashSet<Partition>>,
    changes: broadcast::Sender<Change>,
    /// A notice each time an unknown-account item is opened, joined or resolved
    /// (`crate::unknown`).
    unknown: broadcast::Sender<()>,
    /// The center places its calls itself (SIP telephony): agents are told so, not to dial.
    center_dials: std::sync::atomic::AtomicBool,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            alarms: RwLock::new(Alarms::default()),
            driven_here: RwLock::new(HashSet::new()),
            changes: broadcast::channel(4096).0,
            unknown: broadcast::channel(64).0,
            center_dials: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// How often the store is read for other nodes' changes.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);
/// Closings are looked for this far back (a slower follower still sees each one).
const CLOSED_LOOKBACK_MS: Millis = 60_000;
const FORGET_CLOSED: Duration = Duration::from_secs(300);

impl Board {
    /// Open alarms in queue order (`crate::queue`), shared: each is one reference count, not a
    /// copy.
    pub fn open_alarms(&self) -> Vec<(AlarmId, Arc<Alarm>)> {
        let alarms = self.alarms.read().expect("board lock");
        alarms
            .order
            .iter()
            .map(|key| (key.id, alarms.open[&key.id].alarm.clone()))
            .collect()
    }

    /// How many alarms are open.
    pub fn open_count(&self) -> usize {
        self.alarms.read().expect("board lock").open.len()
    }

    /// A page of the queue: up to `limit` open alarms that `keep` admits, in queue order,
    /// from just after `after` (from the start when `None`), and whether more that `keep`
    /// admits follow. Reads the alarms from `after` on until the page is full (`keep` only
    /// looks at them); copies none.
    pub fn page(
        &self,
        after: Option<&QueueKey>,
        limit: usize,
        keep: impl Fn(&QueueKey, &Alarm) -> bool,
    ) -> (Vec<(QueueKey, Arc<Alarm>)>, bool) {
        let alarms = self.alarms.read().expect("board lock");
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut found = alarms
            .order
            .range((from, Bound::Unbounded))
            .map(|key| (*key, &alarms.open[&key.id].alarm))
            .filter(|(key, alarm)| keep(key, alarm));
        let page: Vec<(QueueKey, Arc<Alarm>)> = found
            .by_ref()
            .take(limit)
            .map(|(key, alarm)| (key, alarm.clone()))
            .collect();
        let more = found.next().is_some();
        (page, more)
    }

    /// Calls `each` on every open alarm in queue order, under the board's read lock (so it
    /// must not wait on anything): for counts over the whole queue without copying it.
    pub fn for_each(&self, mut each: impl FnMut(&QueueKey, &Alarm)) {
        let alarms = self.alarms.read().expect("board lock");
        for key in &alarms.order {
            each(key, &alarms.open[&key.id].alarm);
        }
    }

    /// The account and opening time of each open alarm of one kind (without copying the
    /// alarms).
    pub fn opened(&self, kind: AlarmKind) -> Vec<(String, Millis)> {
        let alarms = self.alarms.read().expect("board lock");
        alarms
            .open
            .values()
            .map(|shown| shown.alarm.spec())
            .filter(|spec| spec.kind == kind)
            .map(|spec| (spec.account.clone(), spec.opened_at))
            .collect()
    }

    /// Whether the center places its calls itself (`telephony.adapter = "sip"`), which the
    /// agents' next steps say; set once at start.
    pub fn set_center_dials(&self, yes: bool) {
        self.center_dials
            .store(yes, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn center_dials(&self) -> bool {
        self.center_dials.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn get(&self, id: AlarmId) -> Option<Alarm> {
        let alarms = self.alarms.read().expect("board lock");
        alarms.open.get(&id).map(|shown| Alarm::clone(&shown.alarm))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Tells every console that the unknown-account items changed.
    pub fn unknown_changed(&self) {
        let _ = self.unknown.send(());
    }

    pub fn subscribe_unknown(&self) -> broadcast::Receiver<()> {
        self.unknown.subscribe()
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
        let key = QueueKey::of_alarm(id, &alarm);
        let shown = Shown {
            alarm: Arc::new(alarm),
            key,
            next_seq,
            at: Instant::now(),
        };
        if let Some(before) = alarms.open.insert(id, shown) {
            alarms.order.remove(&before.key);
        }
        alarms.order.insert(key);
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
        if let Some(shown) = alarms.open.remove(&id) {
            alarms.order.remove(&shown.key);
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

    /// The center's partitions changed hands: what it now drives is shown from its commits
    /// (the rest is followed from the store), starting with the alarms it just took over.
    pub fn follow_center(&self, center: &Center, taken: &[AlarmId]) {
        *self.driven_here.write().expect("board lock") =
            center.held().iter().map(|l| l.partition).collect();
        self.update(center, taken);
    }

    /// Where an alarm shown here stands: its log's length, or 0 when not shown (it must be
    /// read whole).
    fn shown_seq(&self, id: AlarmId) -> u32 {
        let alarms = self.alarms.read().expect("board lock");
        alarms.open.get(&id).map_or(0, |shown| shown.next_seq)
    }

    /// Applies log entries from seq `from` on (all of them when `from` is 0) to what is shown;
    /// false when they do not follow on from it, and the log must be read whole.
    fn apply(&self, id: AlarmId, from: u32, entries: Vec<LogEntry>) -> bool {
        let shown = {
            let alarms = self.alarms.read().expect("board lock");
            alarms.open.get(&id).map(|shown| Alarm::clone(&shown.alarm))
        };
        let (mut alarm, rest) = match (from, shown) {
            (0, _) => match replay(&entries) {
                Ok(alarm) => (alarm, &entries[entries.len()..]),
                Err(why) => {
                    tracing::error!(alarm = id, "log does not replay: {why}");
                    return true;
                }
            },
            (_, Some(alarm)) => (alarm, &entries[..]),
            (_, None) => return false,
        };
        let mut next_seq = if from == 0 {
            entries.len() as u32
        } else {
            from
        };
        for entry in rest {
            if entry.seq != next_seq {
                return false;
            }
            match &entry.body {
                LogBody::Input { input } => {
                    if alarm
                        .handle_by(entry.at, &entry.actor, input.clone())
                        .is_err()
                    {
                        return false;
                    }
                    while alarm.poll_action().is_some() {}
                }
                LogBody::Action { .. } => {}
                LogBody::Opened { .. } => return false,
            }
            next_seq += 1;
        }
        if !alarm.in_queue() {
            self.close(id);
        } else {
            self.show(id, alarm, next_seq);
        }
        true
    }

    /// Reads the named alarms' new log entries (in a few statements for all of them) and
    /// shows what they did.
    async fn read(&self, store: &Db, ids: &[AlarmId]) {
        let from: Vec<(AlarmId, u32)> = ids.iter().map(|id| (*id, self.shown_seq(*id))).collect();
        let mut entries: HashMap<AlarmId, Vec<LogEntry>> = HashMap::new();
        match store.logs_from(&from).await {
            Ok(rows) => {
                for (id, entry) in rows {
                    entries.entry(id).or_default().push(entry);
                }
            }
            Err(e) => {
                tracing::warn!("other nodes' alarms not read: {e}");
                return;
            }
        }
        for (id, seq) in from {
            let new = entries.remove(&id).unwrap_or_default();
            if !self.apply(id, seq, new) {
                // Out of step: read it whole.
                match store.logs_from(&[(id, 0)]).await {
                    Ok(rows) => {
                        self.apply(id, 0, rows.into_iter().map(|(_, e)| e).collect());
                    }
                    Err(e) => tracing::warn!(alarm = id, "log not read: {e}"),
                }
            }
        }
    }

    /// Shows an alarm as its stored log has it (another node drives it).
    pub async fn reload(&self, store: &Db, id: AlarmId) {
        self.read(store, &[id]).await;
    }

    /// Brings the board up to the store's versions: alarms opened or moved on by other nodes
    /// are read (only what they added since) and applied, closed ones leave.
    async fn catch_up(&self, store: &Db, versions: Vec<AlarmVersion>) {
        let listed: HashMap<AlarmId, AlarmVersion> =
            versions.iter().map(|v| (v.alarm, *v)).collect();
        let driven_here = self.driven_here.read().expect("board lock").clone();
        let mut behind = Vec::new();
        for version in versions {
            if driven_here.contains(&version.partition) {
                continue;
            }
            if !version.open {
                self.close(version.alarm);
                continue;
            }
            let alarms = self.alarms.read().expect("board lock");
            if !alarms.closed.contains_key(&version.alarm)
                && alarms
                    .open
                    .get(&version.alarm)
                    .is_none_or(|shown| shown.next_seq < version.next_seq)
            {
                behind.push(version.alarm);
            }
        }
        self.read(store, &behind).await;
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
