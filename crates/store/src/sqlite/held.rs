//! Webhook deliveries a round wrote but the disk may not hold yet. A round's pending rows
//! (`webhook_pending.seq`, consecutive within its transaction) are held from before its
//! COMMIT until a WAL sync that started after the COMMIT has returned (`wal.rs`), so no
//! endpoint hears of an event the center could still lose to a power cut: a webhook is an
//! action, and actions wait for the disk like ACKs do (DESIGN.md, the log first).

use std::sync::Mutex;

/// One round's pending rows: `seqs` inclusive, and the commit that made them visible
/// (`None` while its transaction is open).
struct Round {
    seqs: (i64, i64),
    commit: Option<u64>,
}

/// The rounds whose deliveries are held.
#[derive(Default)]
pub(super) struct Held {
    rounds: Mutex<Rounds>,
}

#[derive(Default)]
struct Rounds {
    held: Vec<Round>,
    commits: u64,
}

/// What a sync covers: every round committed before it started.
pub(super) struct Covered(u64);

impl Held {
    /// Holds `seqs` (first and last, inclusive) before the transaction writing them commits.
    pub(super) fn hold(&self, seqs: (i64, i64)) {
        let mut rounds = self.rounds.lock().expect("held lock");
        rounds.held.push(Round { seqs, commit: None });
    }

    /// The transaction holding `seqs` committed (`committed`) or rolled back.
    pub(super) fn settle(&self, seqs: (i64, i64), committed: bool) {
        let mut rounds = self.rounds.lock().expect("held lock");
        let Some(at) = rounds
            .held
            .iter()
            .position(|r| r.seqs == seqs && r.commit.is_none())
        else {
            return;
        };
        if committed {
            rounds.commits += 1;
            let commit = rounds.commits;
            rounds.held[at].commit = Some(commit);
        } else {
            rounds.held.remove(at);
        }
    }

    /// Called as a sync starts: what it will cover.
    pub(super) fn covering(&self) -> Covered {
        Covered(self.rounds.lock().expect("held lock").commits)
    }

    /// The sync that started with `covered` returned: its rounds' deliveries may go.
    pub(super) fn release(&self, covered: Covered) {
        let mut rounds = self.rounds.lock().expect("held lock");
        rounds
            .held
            .retain(|r| r.commit.is_none_or(|c| c > covered.0));
    }

    /// Whether the delivery `seq` is held.
    pub(super) fn holds(&self, seq: i64) -> bool {
        let rounds = self.rounds.lock().expect("held lock");
        rounds
            .held
            .iter()
            .any(|r| (r.seqs.0..=r.seqs.1).contains(&seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_is_released_only_by_a_sync_that_started_after_its_commit() {
        let held = Held::default();
        held.hold((1, 3));
        assert!(held.holds(2), "held while its transaction is open");
        let early = held.covering();
        held.settle((1, 3), true);
        held.release(early);
        assert!(
            held.holds(1),
            "a sync that started before the commit does not cover it"
        );
        held.hold((4, 4));
        let sync = held.covering();
        held.settle((4, 4), true);
        held.release(sync);
        assert!(!held.holds(3), "committed before the second sync started");
        assert!(held.holds(4), "committed after it started");
        let sync = held.covering();
        held.release(sync);
        assert!(!held.holds(1) && !held.holds(4) && !held.holds(5));
    }

    #[test]
    fn a_rolled_back_round_holds_nothing() {
        let held = Held::default();
        held.hold((7, 9));
        held.settle((7, 9), false);
        assert!(!held.holds(8));
    }
}
