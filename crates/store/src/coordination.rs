//! Sharing one center between several nodes on one database: which nodes are alive, which
//! node drives which partition of the accounts (leases with fencing tokens), the inbox that
//! carries signals and agent commands to the node driving their alarms, alarm ids handed out
//! in blocks, how far each alarm's log has got (so every node's board can follow), and when
//! panels were last heard (so supervision does not depend on which node heard them).

use crate::{AlarmId, LogEntry, Result, SignalRecord};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use watchpost_core::{Input, Millis};

/// A slice of the accounts, driven by one node at a time.
pub type Partition = u16;

/// How many partitions there are. Fixed: the migration creates one lease row for each, and
/// every node must agree on which partition an account falls in.
pub const PARTITIONS: Partition = 64;

/// The partition an account falls in: FNV-1a of its number, which every node and every
/// version computes alike (std's hasher is not promised to stay the same).
pub fn partition_of(account: &str) -> Partition {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in account.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % u32::from(PARTITIONS)) as Partition
}

/// The right to drive a partition: held until it expires, and only while its token is the
/// partition's current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Lease {
    pub partition: Partition,
    /// Grows each time the partition changes hands; log entries are written with it.
    pub token: i64,
}

/// A partition's lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRow {
    pub partition: Partition,
    /// Who holds or last held it (empty: nobody ever).
    pub node: String,
    pub token: i64,
    pub expires_at: Millis,
}

/// What one node hands the node driving a partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "inbound", rename_all = "snake_case")]
pub enum Inbound {
    /// A signal already stored by the node that received it, to be routed.
    Signal { signal: SignalRecord },
    /// An agent's or adapter's input to an alarm; the answer goes back as its outcome.
    Command {
        alarm: AlarmId,
        input: Input,
        actor: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboxItem {
    pub id: i64,
    pub partition: Partition,
    pub inbound: Inbound,
}

/// How far an alarm's log has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmVersion {
    pub alarm: AlarmId,
    pub partition: Partition,
    /// The seq its next log entry will have (its log's length).
    pub next_seq: u32,
    pub open: bool,
}

#[async_trait]
pub trait Coordination: Send + Sync {
    /// `node` is alive at `now`.
    async fn heartbeat(&self, node: &str, now: Millis) -> Result<()>;
    /// Nodes seen alive at or after `since`, by name.
    async fn live_nodes(&self, since: Millis) -> Result<Vec<String>>;
    /// Every partition's lease, by partition.
    async fn leases(&self) -> Result<Vec<LeaseRow>>;
    /// Takes `partition` for `node` until `until`, if its lease has expired at `now` or was
    /// `node`'s own (a node restarting under its name). Returns the new lease, with a token
    /// that fences off whoever held it before.
    async fn acquire(
        &self,
        partition: Partition,
        node: &str,
        now: Millis,
        until: Millis,
    ) -> Result<Option<Lease>>;
    /// Extends the leases `node` still holds to `until`; returns those (the others were taken).
    async fn renew(&self, node: &str, held: &[Lease], until: Millis) -> Result<Vec<Lease>>;
    /// Gives a lease up now, so another node can take it at once.
    async fn release(&self, lease: Lease) -> Result<()>;
    /// Reserves `count` alarm ids; returns the first (the rest follow it).
    async fn allocate_alarm_ids(&self, count: i64) -> Result<AlarmId>;
    /// Unsettled inbox items of these partitions, oldest first.
    async fn inbox(&self, partitions: &[Partition], limit: i64) -> Result<Vec<InboxItem>>;
    /// Posts a command for the node driving `partition`; returns its inbox id.
    async fn post_command(
        &self,
        partition: Partition,
        at: Millis,
        alarm: AlarmId,
        input: &Input,
        actor: &str,
    ) -> Result<i64>;
    /// A posted command's outcome once its partition's driver settled it (the item is then
    /// removed); `None` while it waits.
    async fn command_outcome(&self, id: i64) -> Result<Option<String>>;
    /// Removes answered commands posted before `before` whose poster never read the outcome
    /// (it stopped while waiting).
    async fn forget_answered(&self, before: Millis) -> Result<()>;
    /// Every open alarm's version, and those of alarms closed at or after `closed_since`.
    async fn alarm_versions(&self, closed_since: Millis) -> Result<Vec<AlarmVersion>>;
    /// For each `(alarm, from)`, the alarm's log entries from seq `from` on (another node
    /// wrote them), by alarm then seq. One statement for many alarms.
    async fn logs_from(&self, from: &[(AlarmId, u32)]) -> Result<Vec<(AlarmId, LogEntry)>>;
    /// Panels heard, with when (a later time replaces an earlier one).
    async fn record_heard(&self, heard: &[(String, Millis)]) -> Result<()>;
    /// Panels heard at or after `since`.
    async fn heard_since(&self, since: Millis) -> Result<Vec<(String, Millis)>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        // Pinned: a change would move accounts between partitions across versions.
        assert_eq!(partition_of(""), (0x811c_9dc5u32 % 64) as Partition);
        assert_eq!(partition_of("4F39"), partition_of("4F39"));
        let mut seen = [0u32; PARTITIONS as usize];
        for n in 0..6400 {
            seen[partition_of(&format!("{n:06}")) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (50..150).contains(&c)), "{seen:?}");
    }
}
