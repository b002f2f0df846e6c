//! How much the receivers take from account numbers that are not enrolled: frames from them
//! are stored and make unknown-account items (README, "Unknown accounts"), but only within a
//! rate per number, a rate for all of them together and a cap on open items. A frame beyond
//! them is not acknowledged — never ACKed and dropped — so the panel sends it again, and once
//! its account is enrolled it is heard. Refusals are logged at a bounded rate
//! (`admission::Tally`), as warnings: a supervisor resolves the open items.
//!
//! The limits are per node, in memory: after a restart they start full.

use crate::admission::{self, ReceiverLimits, Refusal, Tally};
use crate::keys::Keys;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use watchpost_store::{Db, StoreError};

/// How long an account found enrolled is taken as enrolled without asking the store again.
const ENROLLED_FOR: Duration = Duration::from_secs(60);
/// Past this many, the remembered enrolled accounts are forgotten at once.
const ENROLLED_MAX: usize = 200_000;
/// How long the open unknown-account items read from the store are taken as current.
const OPEN_ITEMS_FOR: Duration = Duration::from_secs(5);

/// The open unknown-account items as last read, and the unknown numbers let in since.
struct OpenItems {
    accounts: HashSet<String>,
    read_at: Option<Instant>,
    /// Numbers without an open item admitted since the read: each may be opening one.
    admitted: HashSet<String>,
}

pub struct UnknownBudget {
    store: Db,
    keys: Keys,
    enrolled: Mutex<HashMap<String, Instant>>,
    per_account: Option<DefaultKeyedRateLimiter<String>>,
    total: Option<DefaultDirectRateLimiter>,
    open_cap: usize,
    open: tokio::sync::Mutex<OpenItems>,
    tally: Arc<Tally>,
}

impl UnknownBudget {
    pub fn new(store: Db, keys: Keys, limits: &ReceiverLimits, tally: Arc<Tally>) -> Self {
        UnknownBudget {
            store,
            keys,
            enrolled: Mutex::new(HashMap::new()),
            per_account: admission::keyed(limits.unknown_per_account),
            total: admission::direct(limits.unknown_total),
            open_cap: limits.unknown_open_items,
            open: tokio::sync::Mutex::new(OpenItems {
                accounts: HashSet::new(),
                read_at: None,
                admitted: HashSet::new(),
            }),
            tally,
        }
    }

    /// Whether a frame from `account` (canonical) may be acknowledged: always for an enrolled
    /// account; for another, within the limits (a refusal is tallied). An error: the store
    /// could not say, so nothing is acknowledged.
    pub async fn admits(&self, account: &str) -> Result<bool, StoreError> {
        if self.is_enrolled(account).await? {
            return Ok(true);
        }
        if !self.room_for(account).await? {
            self.tally.refused(Refusal::UnknownItemsFull, &account);
            return Ok(false);
        }
        if let Some(limiter) = &self.per_account
            && limiter.check_key(&account.to_string()).is_err()
        {
            self.tally.refused(Refusal::UnknownAccountRate, &account);
            return Ok(false);
        }
        if let Some(limiter) = &self.total
            && limiter.check().is_err()
        {
            self.tally.refused(Refusal::UnknownTotalRate, &account);
            return Ok(false);
        }
        Ok(true)
    }

    /// Enrolled: it has a DC-09 key, or the store has it (remembered for `ENROLLED_FOR`; a
    /// number found unknown is asked again each time, so an enrolment counts at once).
    async fn is_enrolled(&self, account: &str) -> Result<bool, StoreError> {
        if self.keys.get(account).is_some() {
            return Ok(true);
        }
        let now = Instant::now();
        if let Some(at) = self.enrolled.lock().expect("enrolled lock").get(account)
            && now.duration_since(*at) < ENROLLED_FOR
        {
            return Ok(true);
        }
        let found = !self
            .store
            .enrolled_among(&[account.to_string()])
            .await?
            .is_empty();
        if found {
            let mut enrolled = self.enrolled.lock().expect("enrolled lock");
            if enrolled.len() >= ENROLLED_MAX {
                enrolled.clear();
            }
            enrolled.insert(account.to_string(), now);
        }
        Ok(found)
    }

    /// Whether `account` has an open item, or there is room for one more.
    async fn room_for(&self, account: &str) -> Result<bool, StoreError> {
        let mut open = self.open.lock().await;
        if open.read_at.is_none_or(|at| at.elapsed() >= OPEN_ITEMS_FOR) {
            let items = self.store.unknown_items(false).await?;
            open.accounts = items.into_iter().map(|i| i.account).collect();
            open.read_at = Some(Instant::now());
            open.admitted.clear();
        }
        if open.accounts.contains(account) || open.admitted.contains(account) {
            return Ok(true);
        }
        if open.accounts.len() + open.admitted.len() >= self.open_cap {
            return Ok(false);
        }
        open.admitted.insert(account.to_string());
        Ok(true)
    }

    /// Forgets numbers whose rate is back to full, and enrolled accounts remembered longer
    /// than `ENROLLED_FOR` (asked again anyway): after a flood from many accounts the map
    /// goes back to the few heard in the last minute, and its memory with it.
    pub fn forget_quiet(&self) {
        if let Some(limiter) = &self.per_account {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = Instant::now();
        let mut enrolled = self.enrolled.lock().expect("enrolled lock");
        enrolled.retain(|_, at| now.duration_since(*at) < ENROLLED_FOR);
        enrolled.shrink_to_fit();
    }
}
