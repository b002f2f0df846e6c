//! Which DC-09 frames are retransmissions. A panel resends a frame it got no ACK for, before
//! it sends anything else (README, "How the receiver behaves"). So a frame is a retransmission
//! only when it repeats its account's most recent frame — same message id, sequence and
//! decrypted data — and came less than [`RESEND_WINDOW_MS`] after it. Any other frame from
//! the account in between, a link test included, makes a repeat a new event: some panels
//! never change their sequence number.

use std::collections::{HashMap, HashSet};
use watchpost_core::Millis;
use watchpost_store::{Db, StoreError, Transmission};
use watchpost_wire::Message;

/// How long after an account's most recent frame a repeat of it is still taken for a resend
/// (ms). Panels wait 20–30 s for an ACK and try a few times, then their backup path: two
/// minutes covers that, a restart of the receiver and a failover to another node. A repeat
/// after it is stored again: a duplicate, never a loss.
pub const RESEND_WINDOW_MS: Millis = 2 * 60 * 1000;

/// Most stored frames forgotten in one round's prune.
pub const PRUNE_LIMIT: i64 = 10_000;

/// What the retransmission rule compares of an accepted frame.
pub fn transmission(message: &Message, received_at: Millis) -> Transmission {
    Transmission {
        account: message.account.clone(),
        fingerprint: format!(
            "{}|{:04}|{}",
            message.id.as_str(),
            message.sequence,
            message.data
        ),
        received_at,
    }
}

/// Each account's most recent frame, as committed.
pub struct LastFrames {
    /// Frames of the last window. Alone on its store, a node sees every frame written since
    /// it started; with other nodes (`shared`) the store is the truth and is asked each round.
    recent: HashMap<String, (String, Millis)>,
    shared: bool,
    started_at: Millis,
    pruned_at: Millis,
}

/// A round's view of the accounts it received frames for: their most recent frames, updated
/// frame by frame. It becomes the node's own only once the round's commit is durable.
pub struct Round {
    last: HashMap<String, (String, Millis)>,
}

impl LastFrames {
    pub fn new(now: Millis, shared: bool) -> LastFrames {
        LastFrames {
            recent: HashMap::new(),
            shared,
            started_at: now,
            // The first round prunes: a center restarted more often than the window would
            // otherwise never forget the frames of its earlier runs.
            pruned_at: now - RESEND_WINDOW_MS,
        }
    }

    /// Reads what the round needs: the most recent frame of each account it has frames for.
    /// Looked up in the store (one statement) when other nodes write there too, or for
    /// accounts not heard since this node started, while the store may still hold a frame of
    /// theirs from before.
    pub async fn round<'t>(
        &self,
        store: &Db,
        frames: impl Iterator<Item = &'t Transmission>,
        now: Millis,
    ) -> Result<Round, StoreError> {
        let mut last = HashMap::new();
        let mut unknown = HashSet::new();
        let before_start = now - self.started_at < RESEND_WINDOW_MS;
        for t in frames {
            match self.recent.get(&t.account) {
                Some(known) if !self.shared => {
                    last.insert(t.account.clone(), known.clone());
                }
                _ if self.shared || before_start => {
                    unknown.insert(t.account.clone());
                }
                _ => {}
            }
        }
        if !unknown.is_empty() {
            let unknown: Vec<String> = unknown.into_iter().collect();
            for t in store.last_transmissions(&unknown).await? {
                last.insert(t.account, (t.fingerprint, t.received_at));
            }
        }
        Ok(Round { last })
    }

    /// Takes the round's frames as the accounts' most recent ones: call it once the round is
    /// committed, never for a round that was not.
    pub fn commit(&mut self, round: Round) {
        if !self.shared {
            self.recent.extend(round.last);
        }
    }

    /// Forgets frames too old to be resent, here and in the store, once per window (and at
    /// the first round after a start), at most [`PRUNE_LIMIT`] rows a round: a round after
    /// a restart that follows a flood does not wait for all of them to go.
    pub async fn prune(&mut self, store: &Db, now: Millis) -> Result<(), StoreError> {
        if now - self.pruned_at < RESEND_WINDOW_MS {
            return Ok(());
        }
        self.recent
            .retain(|_, (_, at)| now - *at < RESEND_WINDOW_MS);
        self.recent.shrink_to_fit();
        let forgotten = store
            .forget_transmissions(now - RESEND_WINDOW_MS, PRUNE_LIMIT)
            .await?;
        // More left: the next round goes on.
        if forgotten < PRUNE_LIMIT as u64 {
            self.pruned_at = now;
        }
        Ok(())
    }
}

impl Round {
    /// Whether `frame` repeats its account's most recent frame within the window; either way
    /// it is the account's most recent frame from now on.
    pub fn is_resend(&mut self, frame: &Transmission) -> bool {
        let resend = self
            .last
            .get(&frame.account)
            .is_some_and(|(fingerprint, at)| {
                *fingerprint == frame.fingerprint && frame.received_at - at < RESEND_WINDOW_MS
            });
        self.last.insert(
            frame.account.clone(),
            (frame.fingerprint.clone(), frame.received_at),
        );
        resend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(account: &str, fingerprint: &str, at: Millis) -> Transmission {
        Transmission {
            account: account.into(),
            fingerprint: fingerprint.into(),
            received_at: at,
        }
    }

    #[test]
    fn only_a_repeat_of_the_accounts_most_recent_frame_within_the_window_is_a_resend() {
        let mut round = Round {
            last: HashMap::new(),
        };
        let nop = frame("1234", "SIA-DCS|0001|#1234|NOP1", 0);
        assert!(!round.is_resend(&nop), "a first frame");
        assert!(round.is_resend(&Transmission {
            received_at: 1_000,
            ..nop.clone()
        }));
        // Another account's frame in between changes nothing for this one.
        assert!(!round.is_resend(&frame("9999", "SIA-DCS|0001|#9999|NCL1", 2_000)));
        assert!(round.is_resend(&Transmission {
            received_at: 3_000,
            ..nop.clone()
        }));
        // A link test from the account in between: the repeat is a new event.
        assert!(!round.is_resend(&frame("1234", "NULL|0001|", 4_000)));
        assert!(!round.is_resend(&Transmission {
            received_at: 5_000,
            ..nop.clone()
        }));
        // Too late for a resend, measured from the latest time it came.
        let late = 5_000 + RESEND_WINDOW_MS;
        assert!(!round.is_resend(&Transmission {
            received_at: late,
            ..nop.clone()
        }));
        // The same data under another sequence number is another frame.
        let other = frame("1234", "SIA-DCS|0002|#1234|NOP1", late + 1);
        assert!(!round.is_resend(&other));
    }

    #[tokio::test]
    async fn a_start_forgets_stale_frames_at_its_first_round_in_bounded_steps() {
        use watchpost_store::{Batch, SqliteStore};
        let store: Db = std::sync::Arc::new(SqliteStore::memory().await.unwrap());
        let now = 10 * RESEND_WINDOW_MS;
        let stale = PRUNE_LIMIT as usize + 10;
        let transmissions: Vec<Transmission> = (0..stale)
            .map(|n| frame(&format!("{}", 100_000 + n), "NULL|0001|", n as Millis))
            .chain([frame("4F39", "NULL|0001|", now - 1_000)])
            .collect();
        store
            .write(&Batch {
                transmissions,
                ..Batch::default()
            })
            .await
            .unwrap();
        let all: Vec<String> = (0..stale)
            .map(|n| format!("{}", 100_000 + n))
            .chain(["4F39".to_string()])
            .collect();
        // A center restarted a moment after its last run: it prunes at its first round,
        // at most PRUNE_LIMIT rows, the rest at the next.
        let mut frames = LastFrames::new(now, false);
        frames.prune(&store, now).await.unwrap();
        assert_eq!(store.last_transmissions(&all).await.unwrap().len(), 11);
        frames.prune(&store, now + 1).await.unwrap();
        let kept = store.last_transmissions(&all).await.unwrap();
        assert_eq!(kept.len(), 1, "only the recent frame is kept");
        assert_eq!(kept[0].account, "4F39");
        // Then once per window again.
        store
            .write(&Batch {
                transmissions: vec![frame("5001", "NULL|0001|", 0)],
                ..Batch::default()
            })
            .await
            .unwrap();
        frames.prune(&store, now + 2).await.unwrap();
        assert_eq!(
            store
                .last_transmissions(&["5001".into()])
                .await
                .unwrap()
                .len(),
            1
        );
    }
}
