//! Supervision: a supervised panel must be heard (any frame, a NULL link test included) at
//! least once per interval. A missed interval raises a comm_failure signal; the next frame
//! from that panel raises the restore that closes it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use watchpost_core::Millis;
use watchpost_store::{AlarmState, Store, StoreError};

#[derive(Default)]
struct State {
    intervals: HashMap<String, Millis>,
    last_heard: HashMap<String, Millis>,
    failed: HashSet<String>,
}

#[derive(Clone, Default)]
pub struct Supervision {
    state: Arc<Mutex<State>>,
}

impl Supervision {
    /// Every supervised account starts its interval now; open comm failures are remembered,
    /// so the next frame restores them.
    pub async fn load<S: Store>(store: &S, now: Millis) -> Result<Supervision, StoreError> {
        let supervision = Supervision::default();
        supervision.reload(store, now).await?;
        let open = store.alarms(AlarmState::Open).await?;
        let mut state = supervision.state.lock().expect("supervision lock");
        state.failed = open
            .into_iter()
            .filter(|a| a.kind == watchpost_core::AlarmKind::CommFailure.as_str())
            .map(|a| a.account)
            .collect();
        drop(state);
        Ok(supervision)
    }

    /// Picks up accounts enrolled or changed since.
    pub async fn reload<S: Store>(&self, store: &S, now: Millis) -> Result<(), StoreError> {
        let intervals: HashMap<String, Millis> = store.supervised().await?.into_iter().collect();
        let mut state = self.state.lock().expect("supervision lock");
        for account in intervals.keys() {
            state.last_heard.entry(account.clone()).or_insert(now);
        }
        state.intervals = intervals;
        Ok(())
    }

    /// A frame came from `account`; true when that ends a communication failure.
    pub fn heard(&self, account: &str, now: Millis) -> bool {
        let mut state = self.state.lock().expect("supervision lock");
        if let Some(last) = state.last_heard.get_mut(account) {
            *last = now;
        } else if state.intervals.contains_key(account) {
            state.last_heard.insert(account.to_string(), now);
        }
        state.failed.remove(account)
    }

    /// Accounts whose interval ran out since they were last heard, each reported once.
    pub fn overdue(&self, now: Millis) -> Vec<String> {
        let mut state = self.state.lock().expect("supervision lock");
        let State {
            intervals,
            last_heard,
            failed,
        } = &mut *state;
        let mut late: Vec<String> = intervals
            .iter()
            .filter(|(account, interval)| {
                !failed.contains(*account)
                    && last_heard
                        .get(*account)
                        .is_some_and(|at| now - at > **interval)
            })
            .map(|(account, _)| account.clone())
            .collect();
        late.sort();
        failed.extend(late.iter().cloned());
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
            s.overdue(60_000).is_empty(),
            "exactly the interval is still on time"
        );
        s.heard("1234", 30_000);
        assert!(s.overdue(90_000).is_empty());
        assert_eq!(s.overdue(90_001), ["1234"]);
        assert!(s.overdue(200_000).is_empty(), "reported once");
        assert!(s.heard("1234", 200_000), "the next frame restores");
        assert!(!s.heard("1234", 200_001));
        assert!(s.overdue(250_000).is_empty());
        assert!(!s.heard("unsupervised", 1));
    }
}
