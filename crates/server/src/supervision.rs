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

/// A supervised account: how often it must be heard, and when it last was.
#[derive(Debug, Clone, Copy)]
struct Watched {
    interval: Millis,
    last_heard: Millis,
}

impl Watched {
    fn due(&self) -> Millis {
        self.last_heard.saturating_add(self.interval)
    }
}

#[derive(Default)]
struct State {
    /// Only the supervised accounts (a tenth of a large center): the others cost nothing.
    accounts: HashMap<Box<str>, Watched>,
    /// Accounts with a communication failure open, with when it was raised here (0: seen
    /// on the board).
    failed: HashMap<String, Millis>,
    /// Heard here since last shared with the other nodes; kept only when there are others
    /// (`shared`): alone, nothing would ever take them.
    unshared: HashMap<String, Millis>,
    shared: bool,
    shared_until: Millis,
    /// No account without a failure is due before this: until then a tick looks at none.
    /// Hearing a panel only moves its due time later, so it stays a lower bound; whatever
    /// can make an account due sooner (a new interval, a failure ending) lowers it.
    next_due: Millis,
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
    /// `shared`: other nodes share the store, and when panels were heard is shared with them.
    pub async fn load<S: Store + ?Sized>(
        store: &S,
        now: Millis,
        shared: bool,
    ) -> Result<Supervision, StoreError> {
        let supervision = Supervision::default();
        supervision.reload(store, now).await?;
        let open = store.alarms(AlarmState::Open).await?;
        let mut state = supervision.state.lock().expect("supervision lock");
        state.shared = shared;
        state.failed = open
            .into_iter()
            .filter(|a| a.kind == AlarmKind::CommFailure.as_str())
            .map(|a| (a.account, 0))
            .collect();
        drop(state);
        Ok(supervision)
    }

    /// Reads every supervised account again (at start, and when the account-change feed
    /// cannot say what changed); those already supervised keep when they were last heard.
    pub async fn reload<S: Store + ?Sized>(
        &self,
        store: &S,
        now: Millis,
    ) -> Result<(), StoreError> {
        let intervals = store.supervised().await?;
        let mut state = self.state.lock().expect("supervision lock");
        let mut accounts = HashMap::with_capacity(intervals.len());
        for (account, interval) in intervals {
            let last_heard = state
                .accounts
                .get(account.as_str())
                .map_or(now, |w| w.last_heard);
            accounts.insert(
                account.into_boxed_str(),
                Watched {
                    interval,
                    last_heard,
                },
            );
        }
        state.accounts = accounts;
        state.next_due = Millis::MIN;
        Ok(())
    }

    /// Takes `interval` (`None`: not supervised) as `account`'s from now on; an account
    /// newly supervised starts its interval now.
    pub fn apply(&self, account: &str, interval: Option<Millis>, now: Millis) {
        let mut state = self.state.lock().expect("supervision lock");
        let Some(interval) = interval else {
            state.accounts.remove(account);
            return;
        };
        let watched = state
            .accounts
            .entry(account.into())
            .and_modify(|w| w.interval = interval)
            .or_insert(Watched {
                interval,
                last_heard: now,
            });
        let due = watched.due();
        state.next_due = state.next_due.min(due);
    }

    /// How many accounts are supervised.
    pub fn count(&self) -> usize {
        self.state.lock().expect("supervision lock").accounts.len()
    }

    /// How often `account` must be heard from, when it is supervised.
    pub fn interval(&self, account: &str) -> Option<Millis> {
        let state = self.state.lock().expect("supervision lock");
        state.accounts.get(account).map(|w| w.interval)
    }

    /// A frame came from `account`; true when that ends a communication failure.
    pub fn heard(&self, account: &str, now: Millis) -> bool {
        let mut guard = self.state.lock().expect("supervision lock");
        let state = &mut *guard;
        if let Some(watched) = state.accounts.get_mut(account) {
            watched.last_heard = now;
            if state.shared {
                state.unshared.insert(account.to_string(), now);
            }
        }
        let restored = state.failed.remove(account).is_some();
        if restored {
            // Watched again from now: it may be due before anything else.
            state.next_due = Millis::MIN;
        }
        restored
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
            if let Some(watched) = state.accounts.get_mut(account.as_str()) {
                watched.last_heard = watched.last_heard.max(at);
            }
        }
        let failures = state.failed.len();
        state.failed.retain(|a, raised| {
            !restore.contains(a)
                && (open_failures.contains_key(a) || now - *raised < RAISED_GRACE_MS)
        });
        if state.failed.len() < failures {
            state.next_due = Millis::MIN;
        }
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
    /// heard, each reported once. Looks at every supervised account only when one may be
    /// due (`State::next_due`).
    pub fn overdue(&self, now: Millis, watched: impl Fn(&str) -> bool) -> Vec<String> {
        let mut state = self.state.lock().expect("supervision lock");
        if now <= state.next_due {
            return Vec::new();
        }
        let State {
            accounts,
            failed,
            next_due,
            ..
        } = &mut *state;
        let mut late = Vec::new();
        let mut soonest = Millis::MAX;
        for (account, w) in accounts.iter() {
            if failed.contains_key(&**account) {
                continue;
            }
            if now - w.last_heard <= w.interval {
                soonest = soonest.min(w.due());
            } else if watched(account) {
                late.push(account.to_string());
            } else {
                // Overdue on a partition another node drives: if this node takes it over,
                // it must still be seen, so every tick looks again (the old behaviour).
                soonest = Millis::MIN;
            }
        }
        *next_due = soonest;
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
        s.apply("1234", Some(60_000), 0);
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

    #[test]
    fn an_interval_applied_or_removed_counts_at_once() {
        let s = Supervision::default();
        s.apply("A", Some(60_000), 0);
        s.apply("B", Some(600_000), 0);
        assert!(s.overdue(50_000, |_| true).is_empty());
        // A shorter interval for B: due sooner than the soonest the last tick saw.
        s.apply("B", Some(10_000), 0);
        assert_eq!(s.overdue(50_001, |_| true), ["B"]);
        s.apply("A", None, 0);
        assert!(
            s.overdue(70_000, |_| true).is_empty(),
            "A is not supervised"
        );
        assert_eq!(s.interval("A"), None);
        // Newly supervised: its interval starts when it is applied.
        s.apply("C", Some(1_000), 80_000);
        assert!(s.overdue(81_000, |_| true).is_empty());
        assert_eq!(s.overdue(81_001, |_| true), ["C"]);
    }

    #[test]
    fn an_account_another_node_watches_is_looked_at_again_once_watched_here() {
        let s = Supervision::default();
        s.apply("A", Some(1_000), 0);
        assert!(s.overdue(2_000, |_| false).is_empty(), "not watched here");
        assert_eq!(s.overdue(2_001, |_| true), ["A"], "taken over");
    }

    #[test]
    fn a_restored_account_is_watched_again() {
        let s = Supervision::default();
        s.apply("A", Some(1_000), 0);
        s.apply("B", Some(100_000), 0);
        assert_eq!(s.overdue(1_001, |_| true), ["A"]);
        assert!(s.heard("A", 2_000));
        assert!(s.overdue(3_000, |_| true).is_empty());
        assert_eq!(s.overdue(3_001, |_| true), ["A"], "before B's due time");
    }
}
