//! This node among the others on the same database: it says it is alive, keeps the leases of
//! the partitions it drives, takes partitions whose driver died (their leases ran out), and
//! gives idle ones up when more nodes share the work, so each live node drives about as many
//! as the others. What it last saw is kept for the API and the console.

use std::collections::HashSet;
use std::sync::RwLock;
use std::time::Duration;
use watchpost_center::{Center, CenterError};
use watchpost_core::Millis;
use watchpost_store::{AlarmId, Db, LeaseRow, PARTITIONS, Partition};

/// Answered commands whose poster never came back for the answer are kept this long.
const FORGET_ANSWERED_MS: Millis = 10 * 60 * 1000;

/// How one node shares the work.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Its name: unique among the nodes, and the same across its restarts (a node restarting
    /// under its name takes its own leases back at once instead of waiting them out).
    pub name: String,
    /// How long a lease lasts unless renewed: the longest a dead node's alarms wait for
    /// another node to take them over.
    pub lease: Duration,
    /// Whether other nodes can share the store (PostgreSQL).
    pub shared: bool,
}

impl NodeConfig {
    /// How long leases last unless told otherwise: a dead node's alarms are taken over
    /// within this and one renewal period (a sixth of it).
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(6);

    /// A node named `name` on the store `db` names, with the default lease.
    pub fn new(name: &str, db: &str) -> NodeConfig {
        NodeConfig {
            name: name.to_string(),
            lease: Self::DEFAULT_LEASE,
            shared: watchpost_store::is_shared(db),
        }
    }
}

/// What this node last saw of the cluster.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ClusterView {
    pub node: String,
    pub live_nodes: Vec<String>,
    pub leases: Vec<LeaseRow>,
    pub seen_at: Millis,
}

pub struct Cluster {
    config: NodeConfig,
    store: Db,
    view: RwLock<ClusterView>,
}

impl Cluster {
    pub fn new(config: NodeConfig, store: Db) -> Cluster {
        let view = ClusterView {
            node: config.name.clone(),
            ..ClusterView::default()
        };
        Cluster {
            config,
            store,
            view: RwLock::new(view),
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn shared(&self) -> bool {
        self.config.shared
    }

    pub fn view(&self) -> ClusterView {
        self.view.read().expect("cluster view lock").clone()
    }

    /// Whether this node drives an account's partition, as last seen.
    pub fn drives(&self, account: &str, now: Millis) -> bool {
        self.driver_of(account, now).as_deref() == Some(self.config.name.as_str())
    }

    /// The node driving an account's partition, as last seen.
    pub fn driver_of(&self, account: &str, now: Millis) -> Option<String> {
        let partition = watchpost_store::partition_of(account);
        let view = self.view.read().expect("cluster view lock");
        view.leases
            .iter()
            .find(|l| l.partition == partition && l.expires_at >= now && !l.node.is_empty())
            .map(|l| l.node.clone())
    }

    /// Renewing several times per lease keeps one slow round from losing it.
    pub fn renew_every(&self) -> Duration {
        self.config.lease / 6
    }

    fn lease_ms(&self) -> Millis {
        self.config.lease.as_millis() as Millis
    }

    /// One round of keeping leases: renew those held (dropping the alarms of any lost),
    /// take free partitions up to this node's share, give idle ones above it up. Returns the
    /// alarms it started driving.
    pub async fn keep_leases(
        &self,
        center: &mut Center,
        now: Millis,
    ) -> Result<Vec<AlarmId>, CenterError> {
        let name = self.config.name.as_str();
        let until = now + self.lease_ms();
        self.store.heartbeat(name, now).await?;
        let held = center.held();
        let kept = self.store.renew(name, &held, until).await?;
        for lost in held.iter().filter(|l| !kept.contains(l)) {
            tracing::warn!(
                "partition {} was taken by another node: its alarms are driven there now",
                lost.partition
            );
            center.give_up(lost.partition);
        }
        let live = self.store.live_nodes(now - self.lease_ms()).await?;
        let others = live.iter().filter(|n| n.as_str() != name).count();
        let share = (PARTITIONS as usize).div_ceil(others + 1);
        let rows = self.store.leases().await?;
        self.store.forget_answered(now - FORGET_ANSWERED_MS).await?;
        let mut taken = Vec::new();
        let mut mine: HashSet<Partition> = kept.iter().map(|l| l.partition).collect();
        if mine.len() < share {
            // Our own old leases first (a restart), then those that ran out.
            let mut free: Vec<&LeaseRow> = rows
                .iter()
                .filter(|r| !mine.contains(&r.partition))
                .filter(|r| r.node == name || r.expires_at < now)
                .collect();
            free.sort_by_key(|r| (r.node != name, r.partition));
            for row in free {
                if mine.len() >= share {
                    break;
                }
                if let Some(lease) = self.store.acquire(row.partition, name, now, until).await? {
                    tracing::info!(
                        "driving partition {} (token {})",
                        lease.partition,
                        lease.token
                    );
                    taken.push(lease);
                    mine.insert(lease.partition);
                }
            }
        } else if mine.len() > share {
            // Only idle partitions move: an alarm in the middle of its protocol stays with
            // the node that is working it.
            for lease in kept.iter().rev() {
                if mine.len() <= share {
                    break;
                }
                if !center.drives_alarms_in(lease.partition) {
                    center.give_up(lease.partition);
                    self.store.release(*lease).await?;
                    mine.remove(&lease.partition);
                }
            }
        }
        let moved = !taken.is_empty() || mine.len() != kept.len();
        let adopted = center.adopt(&taken).await?;
        // Read again only when this round moved leases; otherwise the first read stands.
        let rows = if moved {
            self.store.leases().await?
        } else {
            rows
        };
        *self.view.write().expect("cluster view lock") = ClusterView {
            node: name.to_string(),
            live_nodes: live,
            leases: rows,
            seen_at: now,
        };
        Ok(adopted)
    }

    /// After a refused commit: forgets what the center held in memory and picks up again
    /// what the store holds for the leases still held.
    pub async fn start_again(
        &self,
        center: &mut Center,
        now: Millis,
    ) -> Result<Vec<AlarmId>, CenterError> {
        let held = center.reset();
        let kept = self
            .store
            .renew(&self.config.name, &held, now + self.lease_ms())
            .await?;
        center.adopt(&kept).await
    }

    /// On a graceful stop: gives every lease up, so other nodes take the partitions at once.
    pub async fn leave(&self, center: &mut Center) -> Result<(), CenterError> {
        for lease in center.reset() {
            self.store.release(lease).await?;
        }
        Ok(())
    }
}
