//! Following the store's account-change feed: every second, the entries after the last one
//! read, and for just those accounts their key and supervision interval, handed to the
//! receivers (`crate::keys`, `crate::supervision`). No periodic read of every account: a
//! center of a million accounts costs the same idle as one of a thousand. The whole set is
//! read again only when the feed cannot say what changed (a bulk import, a long pause).

use crate::keys::Keys;
use crate::supervision::Supervision;
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;
use tokio::sync::watch;
use watchpost_core::Millis;
use watchpost_store::{Db, StoreError};

/// How often the feed is read.
pub const POLL: Duration = Duration::from_secs(1);
/// Entries read at most per poll; more means a bulk change: everything is read again.
const BATCH: i64 = 5_000;
/// With several writers (PostgreSQL) an entry can become visible after one with a higher
/// id: each poll reads again the entries of the last few seconds (applying one twice does
/// nothing), longer than any account write's transaction lasts.
const OVERLAP_MS: Millis = 10_000;
/// How long entries are kept in the store; a node that could not read the feed for nearly
/// this long reads everything again instead.
pub const KEPT_MS: Millis = 60 * 60 * 1000;
/// How often old entries are pruned, and at most how many at a time.
const PRUNE_EVERY_MS: Millis = 60_000;
const PRUNE_LIMIT: i64 = 10_000;

/// Where to read from after reading everything with the feed at `last`: a little before,
/// for entries (PostgreSQL) given a lower id but not yet committed then.
fn behind(last: i64) -> i64 {
    (last - BATCH / 2).max(0)
}

/// Where a node is in the feed.
pub struct Follower {
    store: Db,
    keys: Keys,
    supervision: Supervision,
    /// Entries up to this id were read at least `OVERLAP_MS` ago.
    settled: i64,
    /// `(when, highest id then)` of the recent polls, oldest first.
    recent: VecDeque<(Millis, i64)>,
    read_at: Millis,
    pruned_at: Millis,
}

impl Follower {
    /// Starts after `since`: what the keys and supervision were read with (read
    /// `Store::last_account_change` before reading them).
    pub fn new(store: Db, keys: Keys, supervision: Supervision, since: i64, now: Millis) -> Self {
        Follower {
            store,
            keys,
            supervision,
            settled: behind(since),
            recent: VecDeque::new(),
            read_at: now,
            pruned_at: now - PRUNE_EVERY_MS,
        }
    }

    /// Reads the feed once and applies what changed; returns how many accounts it applied.
    pub async fn poll(&mut self, now: Millis) -> Result<usize, StoreError> {
        if now - self.read_at > KEPT_MS - OVERLAP_MS * 6 {
            self.read_everything(now).await?;
            return Ok(0);
        }
        let entries = self.store.account_changes(self.settled, BATCH).await?;
        if entries.len() as i64 >= BATCH {
            self.read_everything(now).await?;
            return Ok(0);
        }
        let highest = entries.last().map_or(self.settled, |(id, _)| *id);
        let accounts: Vec<String> = entries
            .into_iter()
            .map(|(_, account)| account)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let applied = self.apply(&accounts, now).await?;
        self.read_at = now;
        self.recent.push_back((now, highest));
        while let Some(&(at, id)) = self.recent.front()
            && now - at >= OVERLAP_MS
        {
            self.settled = self.settled.max(id);
            self.recent.pop_front();
        }
        if now - self.pruned_at >= PRUNE_EVERY_MS {
            self.store
                .forget_account_changes(now - KEPT_MS, PRUNE_LIMIT)
                .await?;
            self.pruned_at = now;
        }
        Ok(applied)
    }

    /// Each of `accounts` as the store now has it: key and interval, or neither (removed).
    async fn apply(&self, accounts: &[String], now: Millis) -> Result<usize, StoreError> {
        if accounts.is_empty() {
            return Ok(0);
        }
        let found = self.store.receiver_settings(accounts).await?;
        let mut gone: BTreeSet<&str> = accounts.iter().map(String::as_str).collect();
        for (account, key, interval) in &found {
            gone.remove(account.as_str());
            self.keys.apply(account, key.as_deref());
            self.supervision.apply(account, *interval, now);
        }
        for account in gone {
            self.keys.apply(account, None);
            self.supervision.apply(account, None, now);
        }
        Ok(accounts.len())
    }

    async fn read_everything(&mut self, now: Millis) -> Result<(), StoreError> {
        let since = self.store.last_account_change().await?;
        self.keys.reload(&*self.store).await?;
        self.supervision.reload(&*self.store, now).await?;
        tracing::info!(
            keys = self.keys.count(),
            supervised = self.supervision.count(),
            "accounts read again: too many changes at once, or the feed was not read for long"
        );
        self.settled = behind(since);
        self.recent.clear();
        self.read_at = now;
        Ok(())
    }

    /// Polls every `POLL` until `stop`.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.changed() => return,
            }
            if let Err(e) = self.poll(crate::now_ms()).await {
                tracing::warn!("account changes not read: {e}");
            }
        }
    }
}
