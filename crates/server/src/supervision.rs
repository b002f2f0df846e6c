//! Supervision: a supervised panel must be heard (any frame, a NULL link test included) at
//! least once per interval. A missed interval raises a comm_failure signal; the next frame
//! from that panel raises the restore that closes it. Among several nodes, a panel may be
//! heard by any of them: when each was last heard is shared through the store, and the node
//! driving an account's partition is the one that watches it.

use crate::board::Board;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use watchpost_core::{AlarmKind, Millis};
use watchpost_store::{AlarmState, Db, Store, StoreError};

#[derive(Default)]
struct State {
    intervals: HashMap<String, Millis>,
    last_heard: HashMap<String, Millis>,
    /// Accounts with a communication failure open, with when it was raised here (0: seen
    /// on the board).
    failed: HashMap<String, Millis>,
    /// Heard here since last shared with the other nodes.
    unshared: HashMap<String, Millis>,
    shared_until: Millis,
}

/// How long a failure raised here counts as open before the board shows it.
const RAISED_GRACE_MS: Millis = 10_000;

#[derive(Clone, Default)]
pub struct Supervision {
    state: Arc<Mutex<State>>,
}

impl Supervision {
    /// Every supervised account starts its interval now; open comm failures are remembered,
    /// so the next frame restores them.
    pub async fn load<S: Store + ?Sized>(
        store: &S,
        now: Millis,
    ) -> Result<Supervision, StoreError> {
        let supervision = Supervision::default();
        supervision.reload(store, now).await?;
        let open = store.alarms(AlarmState::Open).await?;
        let mut state = supervision.state.lock().expect("supervision lock");
        state.failed = open
            .into_iter()
            .filter(|a| a.kind == AlarmKind::CommFailure.as_str())
            .map(|a| (a.account, 0))
            .collect();
        drop(state);
        Ok(supervision)
    }

    /// Picks up accounts enrolled or changed since.
    pub async fn reload<S: Store + ?Sized>(
        &self,
        store: &S,
        now: Millis,
    ) -> Result<(), StoreError> {
        let intervals: HashMap<String, Millis> = store.supervised().await?.into_iter().collect();
        let mut state = self.state.lock().expect("supervision lock");
        for account in intervals.keys() {
            state.last_heard.entry(account.clone()).or_insert(now);
        }
        state.intervals = intervals;
        Ok(())
    }

    /// How often `account` must be heard from, when it is supervised.
    pub fn interval(&self, account: &str) -> Option<Millis> {
        let state = self.state.lock().expect("supervision lock");
        state.intervals.get(account).copied()
    }

    /// A frame came from `account`; true when that ends a communication failure.
    pub fn heard(&self, account: &str, now: Millis) -> bool {
        let mut state = self.state.lock().expect("supervision lock");
        if let Some(last) = state.last_heard.get_mut(account) {
            *last = now;
        } else if state.intervals.contains_key(account) {
            state.last_heard.insert(account.to_string(), now);
        }
        if state.intervals.contains_key(account) {
            state.unshared.insert(account.to_string(), now);
        }
        state.failed.remove(account).is_some()
    }

    /// Shares with the other nodes when panels were heard here, learns when they heard
    /// theirs, and takes the open communication failures from the board (another node may
    /// have raised one this node's receiver must restore). Returns the accounts this node
    /// watches (`watched`) whose open failure must be restored because another node heard
    /// the panel after the failure opened: that node's receiver may have heard it before it
    /// learned of the failure, and then raised no restore.
    pub async fn share(
        &self,
        store: &Db,
        board: &Board,
        now: Millis,
        watched: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, StoreError> {
        let (heard, since) = {
            let mut state = self.state.lock().expect("supervision lock");
            (std::mem::take(&mut state.unshared), state.shared_until)
        };
        let heard: Vec<(String, Millis)> = heard.into_iter().collect();
        if !heard.is_empty() {
            store.record_heard(&heard).await?;
        }
        // Overlapping reads: a node's share may commit a little after its time.
        let elsewhere = store.heard_since(since - 5_000).await?;
        // Each account's open failure, with when it opened.
        let mut open_failures: HashMap<String, Millis> = HashMap::new();
        for (account, opened_at) in board.opened(AlarmKind::CommFailure) {
            let opened = open_failures.entry(account).or_default();
            *opened = (*opened).max(opened_at);
        }
        let mut state = self.state.lock().expect("supervision lock");
        state.shared_until = now;
        let mut restore = HashSet::new();
        for (account, at) in elsewhere {
            // Still failed here: no frame heard here restored it since.
            if state.failed.contains_key(&account)
                && open_failures
                    .get(&account)
                    .is_some_and(|opened| at > *opened)
                && watched(&account)
            {
                restore.insert(account.clone());
            }
            if let Some(last) = state.last_heard.get_mut(&account) {
                *last = (*last).max(at);
            }
        }
        state.failed.retain(|a, raised| {
            !restore.contains(a)
                && (open_failures.contains_key(a) || now - *raised < RAISED_GRACE_MS)
        });
        for account in open_failures.into_keys() {
            if !restore.contains(&account) {
                state.failed.entry(account).or_insert(0);
            }
        }
        let mut restore: Vec<String> = restore.into_iter().collect();
        restore.sort();
        Ok(restore)
    }

    /// Accounts this node watches (`watched`) whose interval ran out since they were last
    /// heard, each reported once.
    pub fn overdue(&self, now: Millis, watched: impl Fn(&str) -> bool) -> Vec<String> {
        let mut state = self.state.lock().expect("supervision lock");
        let State {
            intervals,
            last_heard,
            failed,
            ..
        } = &mut *state;
        let mut late: Vec<String> = intervals
            .iter()
            .filter(|(account, interval)| {
                !failed.contains_key(*account)
                    && watched(account)
                    && last_heard
                        .get(*account)
                        .is_some_and(|at| now - at > **interval)
            })
            .map(|(account, _)| account.clone())
            .collect();
        late.sort();
        failed.extend(late.iter().map(|a| (a.clone(), now)));
        late
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missed_interval_is_reported_once_and_restored_by_the_next_frame() {
        let s = Supervision::default();
        {
            let mut state = s.state.lock().unwrap();
            state.intervals.insert("1234".into(), 60_000);
            state.last_heard.insert("1234".into(), 0);
        }
        assert!(
            s.overdue(60_000, |_| true).is_empty(),
            "exactly the interval is still on time"
        );
        s.heard("1234", 30_000);
        assert!(s.overdue(90_000, |_| true).is_empty());
        assert_eq!(s.overdue(90_001, |_| true), ["1234"]);
        assert!(s.overdue(200_000, |_| true).is_empty(), "reported once");
        assert!(s.heard("1234", 200_000), "the next frame restores");
        assert!(!s.heard("1234", 200_001));
        assert!(s.overdue(250_000, |_| true).is_empty());
        assert!(!s.heard("unsupervised", 1));
    }
}
