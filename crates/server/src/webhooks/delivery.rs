//! Posting the outbox: one worker per endpoint takes its pending deliveries oldest first and
//! posts each until the endpoint answers 2xx; a failure holds back the endpoint's later events
//! until a retry succeeds (so events of one alarm arrive in order), with a wait that doubles
//! (`WebhookConfig::backoff`). Every attempt is in the endpoint's delivery log. Delivery is at
//! least once: an event whose 2xx was not recorded (a crash in between) is posted again, with
//! the same id. Among several nodes on PostgreSQL, only the holder of the webhook lease
//! delivers.

use super::WebhookConfig;
use super::signature::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use crate::secrets::MasterKey;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use watchpost_core::Millis;
use watchpost_store::{Attempt, Db, Endpoint, Pending};

/// Pending deliveries read at a time per endpoint.
const BATCH: i64 = 100;

/// Who delivers, and how.
pub struct Delivery {
    pub store: Db,
    pub master: Option<Arc<MasterKey>>,
    /// This node's name, for the lease.
    pub node: String,
    /// Whether other nodes may share the store (then the lease decides who delivers).
    pub shared: bool,
    pub config: WebhookConfig,
    /// Set to whether some endpoint exists, at every look: the center derives events only
    /// then.
    pub wanted: Arc<AtomicBool>,
    /// Failed attempts are counted here.
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Delivery {
    /// Runs until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let client = match reqwest::Client::builder()
            .timeout(self.config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("watchpost-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(client) => client,
            Err(e) => {
                tracing::error!("webhooks: no HTTP client, nothing will be delivered: {e}");
                return;
            }
        };
        let lease_until = Arc::new(AtomicI64::new(0));
        let mut workers: HashMap<String, JoinHandle<()>> = HashMap::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = stop.changed() => break,
            }
            let endpoints = match self.store.endpoints().await {
                Ok(endpoints) => endpoints,
                Err(e) => {
                    tracing::warn!("webhooks: endpoints not read: {e}");
                    continue;
                }
            };
            self.wanted.store(!endpoints.is_empty(), Ordering::Relaxed);
            if !self.keep_lease(&lease_until, crate::now_ms()).await {
                continue;
            }
            workers.retain(|id, worker| {
                let keep = endpoints.iter().any(|e| &e.id == id);
                if !keep {
                    worker.abort();
                }
                keep && !worker.is_finished()
            });
            for endpoint in endpoints {
                if workers.contains_key(&endpoint.id) {
                    continue;
                }
                let worker = Worker {
                    store: self.store.clone(),
                    client: client.clone(),
                    secret: self.secret(&endpoint),
                    endpoint: endpoint.clone(),
                    config: self.config,
                    lease_until: lease_until.clone(),
                    metrics: self.metrics.clone(),
                };
                workers.insert(endpoint.id, tokio::spawn(worker.drain()));
            }
        }
        for worker in workers.values() {
            worker.abort();
        }
    }

    /// Whether this node may deliver now: always when it is alone on its store, else while
    /// it holds the lease (renewed when half of it is left).
    async fn keep_lease(&self, lease_until: &AtomicI64, now: Millis) -> bool {
        if !self.shared {
            lease_until.store(Millis::MAX, Ordering::Relaxed);
            return true;
        }
        let lease = self.config.lease.as_millis() as Millis;
        if lease_until.load(Ordering::Relaxed) - now > lease / 2 {
            return true;
        }
        let until = now + lease;
        match self.store.webhook_lease(&self.node, now, until).await {
            Ok(true) => {
                // Workers start no POST that could outlast the lease: another node may take it
                // when it ends.
                let margin = (self.config.timeout.as_millis() as Millis).max(lease / 6);
                lease_until.store(until - margin, Ordering::Relaxed);
                true
            }
            Ok(false) => {
                lease_until.store(0, Ordering::Relaxed);
                false
            }
            Err(e) => {
                tracing::warn!("webhooks: lease not renewed: {e}");
                false
            }
        }
    }

    fn secret(&self, endpoint: &Endpoint) -> Result<String, String> {
        let master = self
            .master
            .as_deref()
            .ok_or("the center has no master key to open the endpoint's secret with")?;
        super::endpoints::secret_of(master, endpoint).map_err(|e| {
            format!(
                "the secret does not open: {}",
                e.to_string().replace("DC-09 key", "secret")
            )
        })
    }
}

/// Delivers one endpoint's pending events until none is due.
struct Worker {
    store: Db,
    client: reqwest::Client,
    secret: Result<String, String>,
    endpoint: Endpoint,
    config: WebhookConfig,
    lease_until: Arc<AtomicI64>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Worker {
    async fn drain(self) {
        loop {
            let pending = match self.store.pending(&self.endpoint.id, BATCH).await {
                Ok(pending) => pending,
                Err(e) => {
                    tracing::warn!("webhooks: {}: pending not read: {e}", self.endpoint.id);
                    return;
                }
            };
            if pending.is_empty() {
                return;
            }
            for delivery in pending {
                let now = crate::now_ms();
                if delivery.next_at > now || now >= self.lease_until.load(Ordering::Relaxed) {
                    return;
                }
                if !self.attempt(&delivery).await {
                    return;
                }
            }
        }
    }

    /// Posts one event and records the attempt; true when it was delivered.
    async fn attempt(&self, delivery: &Pending) -> bool {
        let (status, error) = match &self.secret {
            Ok(secret) => self.post(secret, delivery).await,
            Err(e) => (None, Some(e.clone())),
        };
        let delivered = error.is_none();
        if !delivered {
            self.metrics.adapter_error(crate::metrics::Adapter::Webhook);
        }
        let attempt = Attempt {
            endpoint: self.endpoint.id.clone(),
            event: delivery.event.id.clone(),
            kind: delivery.event.kind.clone(),
            at: crate::now_ms(),
            attempt: delivery.attempts + 1,
            status,
            error,
            delivered,
        };
        let wait = self.config.backoff(attempt.attempt);
        let next_at = attempt.at + wait.as_millis() as Millis;
        if let Err(e) = self
            .store
            .record_attempt(delivery.seq, &attempt, next_at)
            .await
        {
            // Not recorded: the event stays pending and is posted again (at least once).
            tracing::warn!("webhooks: {}: attempt not recorded: {e}", self.endpoint.id);
            return false;
        }
        delivered
    }

    /// The HTTP status (if any answer came) and, unless it was 2xx, why it failed.
    async fn post(&self, secret: &str, delivery: &Pending) -> (Option<u16>, Option<String>) {
        let timestamp = chrono::Utc::now().timestamp();
        let body = &delivery.event.body;
        let sent = self
            .client
            .post(&self.endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ID_HEADER, &delivery.event.id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sign(secret, timestamp, body))
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => {
                let status = response.status();
                (Some(status.as_u16()), Some(format!("HTTP {status}")))
            }
            Err(e) => (None, Some(failure(&e))),
        }
    }
}

/// A failed POST in words, without the URL (it may carry a token).
fn failure(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {cause}")
    }
}
