//! The sign-in delay, kept per (source address, name) in memory: from the policy's last free
//! attempt on, each further attempt from that address for that name waits 2 s, 4 s, 8 s… up
//! to `max_delay`. Keyed by address so that nobody can keep a user out by failing as them
//! from elsewhere (issue 13, item 3: no hard lock anyone can trigger), and the same for names
//! nobody has, so a refusal never tells whether a name exists.

use super::Policy;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use watchpost_core::Millis;

/// At most this many (address, name) pairs are remembered. Past that, pairs whose wait is
/// over are forgotten first, then the one whose wait ends soonest (an attacker spraying
/// names or addresses only spends their own rate limit).
const PAIRS_KEPT: usize = 50_000;

/// Where a sign-in comes from: the source's address or IPv6 /64
/// (`crate::listen::source_of`), `None` for a local one (the command line).
pub type Source = Option<IpAddr>;

/// What counting an attempt decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Inside the pair's wait: refused before the password is checked, and not counted.
    Refused,
    /// Counted; if this attempt fails, the pair's next one may not come before `wait_until`
    /// (ms; `None` while attempts are free).
    Counted { wait_until: Option<Millis> },
}

#[derive(Clone, Copy)]
struct Tally {
    attempts: u32,
    /// The end of the wait (ms; 0: none).
    until: Millis,
    /// When the first of these attempts was counted (ms).
    since: Millis,
}

#[derive(Default)]
pub struct Attempts(Mutex<HashMap<(Source, String), Tally>>);

impl Attempts {
    /// Counts an attempt from `source` for `name` at `now`, before its password is checked,
    /// so that of many parallel guesses only the free ones (then one per wait) get that far.
    /// `lifted_at` is the user's `waits_lifted_at` (`users unlock` on any node): attempts
    /// counted before it are forgotten.
    pub fn claim(
        &self,
        source: Source,
        name: &str,
        now: Millis,
        policy: &Policy,
        lifted_at: Option<Millis>,
    ) -> Claim {
        let mut pairs = self.0.lock().expect("attempts lock");
        let key = (source, name.to_string());
        if pairs.len() >= PAIRS_KEPT && !pairs.contains_key(&key) {
            make_room(&mut pairs, now);
        }
        let fresh = Tally {
            attempts: 0,
            until: 0,
            since: now,
        };
        let tally = pairs.entry(key).or_insert(fresh);
        if lifted_at.is_some_and(|lifted| tally.since <= lifted) {
            *tally = fresh;
        }
        if tally.until > now {
            return Claim::Refused;
        }
        tally.attempts += 1;
        let delay = policy.delay_after(tally.attempts);
        tally.until = if delay > 0 { now + delay } else { 0 };
        Claim::Counted {
            wait_until: (delay > 0).then_some(tally.until),
        }
    }

    /// After a success: that source's count for the name starts again (other sources keep
    /// theirs).
    pub fn succeeded(&self, source: Source, name: &str) {
        let mut pairs = self.0.lock().expect("attempts lock");
        pairs.remove(&(source, name.to_string()));
    }

    /// `users unlock` on this node: every source's count for the name is forgotten at once
    /// (other nodes forget theirs at their next attempt, from the user's `waits_lifted_at`).
    pub fn forget(&self, name: &str) {
        let mut pairs = self.0.lock().expect("attempts lock");
        pairs.retain(|(_, n), _| n != name);
    }
}

fn make_room(pairs: &mut HashMap<(Source, String), Tally>, now: Millis) {
    pairs.retain(|_, tally| tally.until > now);
    if pairs.len() >= PAIRS_KEPT
        && let Some(soonest) = pairs
            .iter()
            .min_by_key(|(_, tally)| tally.until)
            .map(|(key, _)| key.clone())
    {
        pairs.remove(&soonest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            free_attempts: 2,
            max_delay: 5_000,
            ..Policy::default()
        }
    }

    #[test]
    fn each_source_waits_alone_and_the_wait_doubles_to_its_cap() {
        let (attempts, policy) = (Attempts::default(), policy());
        let a: Source = Some("10.0.0.1".parse().unwrap());
        let b: Source = Some("10.0.0.2".parse().unwrap());
        let counted = |until| Claim::Counted { wait_until: until };
        let claim = |source, name, now| attempts.claim(source, name, now, &policy, None);
        assert_eq!(claim(a, "ann", 0), counted(None));
        assert_eq!(claim(a, "ann", 0), counted(Some(2_000)));
        assert_eq!(claim(a, "ann", 1_999), Claim::Refused);
        // Another address, and another name from the same address, are not held up.
        assert_eq!(claim(b, "ann", 1), counted(None));
        assert_eq!(claim(a, "bob", 1), counted(None));
        assert_eq!(claim(a, "ann", 2_000), counted(Some(6_000)));
        assert_eq!(claim(a, "ann", 6_000), counted(Some(11_000)));
        attempts.succeeded(b, "ann");
        assert_eq!(claim(a, "ann", 10_999), Claim::Refused);
        attempts.forget("ann");
        assert_eq!(claim(a, "ann", 10_999), counted(None));
    }

    #[test]
    fn a_lift_on_another_node_forgets_the_waits_begun_before_it() {
        let (attempts, policy) = (Attempts::default(), policy());
        let a: Source = Some("10.0.0.1".parse().unwrap());
        attempts.claim(a, "ann", 100, &policy, None);
        attempts.claim(a, "ann", 100, &policy, None);
        assert_eq!(
            attempts.claim(a, "ann", 200, &policy, Some(50)),
            Claim::Refused
        );
        let lifted = attempts.claim(a, "ann", 200, &policy, Some(150));
        assert_eq!(lifted, Claim::Counted { wait_until: None });
        // The same lift, seen again, does not forget what was counted after it.
        attempts.claim(a, "ann", 300, &policy, Some(150));
        assert_eq!(
            attempts.claim(a, "ann", 400, &policy, Some(150)),
            Claim::Refused
        );
    }

    #[test]
    fn when_full_the_waits_that_are_over_go_first() {
        let (attempts, policy) = (Attempts::default(), policy());
        let waiting: Source = Some("10.0.0.1".parse().unwrap());
        let claim = |source, name: &str, now| attempts.claim(source, name, now, &policy, None);
        claim(waiting, "ann", 0);
        claim(waiting, "ann", 0);
        for n in 0..PAIRS_KEPT {
            claim(None, &format!("name{n}"), 0);
        }
        let pairs = attempts.0.lock().unwrap().len();
        assert!(pairs <= PAIRS_KEPT, "{pairs}");
        assert_eq!(claim(waiting, "ann", 1), Claim::Refused);
    }
}
