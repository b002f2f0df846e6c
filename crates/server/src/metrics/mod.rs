//! The center's metrics (issue 15, item 1): one registry per running node, counted where each
//! event happens (receivers, runtime, supervision, sign-in, adapters) through the `Metrics`
//! handle they are given, and encoded in the OpenMetrics text format for `GET /metrics`.
//! Labels only take values from small fixed sets (never an account number or a user name);
//! node names are the one exception, bounded by the number of nodes. README, "Operating the
//! center".

mod labels;

pub use labels::{Adapter, CallOutcome, Reply, Transport};

use crate::board::Board;
use crate::cluster::Cluster;
use crate::retention::RetentionCounts;
use labels::{AdapterLabels, FrameLabels, OpenLabels, OutcomeLabels, RecordLabels};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use watchpost_core::AlarmKind;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    node: String,
}

/// The handle every part of the center counts through; cheap to share (`Arc<Metrics>`).
pub struct Metrics {
    registry: Registry,
    frames: Family<FrameLabels, Counter>,
    /// `frames`' counters by `Transport` and `Reply` (in `ALL` order): counting a frame is
    /// an atomic add, no label lookup on the receivers' path.
    frame_counters: [[Counter; 4]; 2],
    /// From a frame's arrival to its reply being ready (its signals durably stored), seconds.
    pub ack_latency: Histogram,
    /// Signals and inputs in each runtime commit.
    pub commit_size: Histogram,
    /// How long each runtime commit took until the disk held it (its sync), seconds.
    pub commit_latency: Histogram,
    open_alarms: Family<OpenLabels, Gauge>,
    /// From an alarm's opening to an agent taking it, seconds.
    pub queue_wait: Histogram,
    /// From an alarm's opening signal to its first call being asked for, seconds.
    pub first_call: Histogram,
    /// From an alarm's opening signal to a dispatch request, seconds.
    pub dispatch_request: Histogram,
    calls: Family<OutcomeLabels, Counter>,
    /// Dispatch requests the engine made.
    pub dispatches: Counter,
    /// Panels that missed their supervision interval (comm-failure signals raised).
    pub supervision_failures: Counter,
    /// Signals from accounts that are not enrolled (stored, not routed to an alarm).
    pub unknown_signals: Counter,
    /// Sign-ins refused for a wrong name or password.
    pub login_failures: Counter,
    partitions: Family<NodeLabels, Gauge>,
    adapter_errors: Family<AdapterLabels, Counter>,
    /// 1 while the watchdog finds the commit loop stalled (`crate::health`).
    pub commit_stalled: Gauge,
    /// Records the retention sweeps removed, by record (`crate::retention`).
    pub retention: Arc<RetentionCounts>,
    scrape: Mutex<()>,
}

/// Latencies from 0.5 ms to about 33 s.
fn fast() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 17))
}

/// Alarm-level waits from 1 s to about 2.3 h.
fn slow() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("watchpost");
        let frames = Family::<FrameLabels, Counter>::default();
        // Every series of a fixed label set exists from the start, at 0: a rate over it works
        // from the first scrape, and a dashboard finds it before the first event.
        let frame_counters = Transport::ALL.map(|transport| {
            Reply::ALL.map(|result| {
                frames
                    .get_or_create(&FrameLabels {
                        transport: transport.as_str(),
                        result: result.as_str(),
                    })
                    .clone()
            })
        });
        let removed = Family::<RecordLabels, Counter>::default();
        let record = |record| removed.get_or_create(&RecordLabels { record }).clone();
        let retention = Arc::new(RetentionCounts {
            signals: record("signal"),
            alarms: record("alarm"),
            recordings: record("recording"),
            unknown_items: record("unknown_item"),
        });
        let m = Metrics {
            retention,
            frames,
            frame_counters,
            ack_latency: fast(),
            commit_size: Histogram::new(exponential_buckets(1.0, 2.0, 14)),
            commit_latency: fast(),
            open_alarms: Family::default(),
            queue_wait: slow(),
            first_call: slow(),
            dispatch_request: slow(),
            calls: Family::default(),
            dispatches: Counter::default(),
            supervision_failures: Counter::default(),
            unknown_signals: Counter::default(),
            login_failures: Counter::default(),
            partitions: Family::default(),
            adapter_errors: Family::default(),
            commit_stalled: Gauge::default(),
            registry: Registry::default(),
            scrape: Mutex::new(()),
        };
        let r = &mut registry;
        r.register(
            "signals_received",
            "DC-09 frames received, by transport and the reply they got",
            m.frames.clone(),
        );
        r.register_with_unit(
            "ack_latency",
            "From a DC-09 frame's arrival to its durable ACK",
            Unit::Seconds,
            m.ack_latency.clone(),
        );
        r.register(
            "commit_batch_size",
            "Signals and inputs per runtime commit",
            m.commit_size.clone(),
        );
        r.register_with_unit(
            "commit_duration",
            "How long each runtime commit took until the disk held it",
            Unit::Seconds,
            m.commit_latency.clone(),
        );
        r.register(
            "open_alarms",
            "Alarms open now, by kind and queue priority (1 most urgent)",
            m.open_alarms.clone(),
        );
        r.register_with_unit(
            "alarm_queue_wait",
            "From an alarm's opening to an agent taking it",
            Unit::Seconds,
            m.queue_wait.clone(),
        );
        r.register_with_unit(
            "alarm_first_call",
            "From an alarm's opening signal to its first call",
            Unit::Seconds,
            m.first_call.clone(),
        );
        r.register_with_unit(
            "alarm_dispatch_request",
            "From an alarm's opening signal to a dispatch request",
            Unit::Seconds,
            m.dispatch_request.clone(),
        );
        r.register("calls", "Outbound calls by outcome", m.calls.clone());
        r.register(
            "dispatch_requests",
            "Dispatch requests made",
            m.dispatches.clone(),
        );
        r.register(
            "supervision_failures",
            "Panels that missed their supervision interval",
            m.supervision_failures.clone(),
        );
        r.register(
            "unknown_account_signals",
            "Signals from accounts that are not enrolled",
            m.unknown_signals.clone(),
        );
        r.register(
            "login_failures",
            "Sign-ins refused for a wrong name or password",
            m.login_failures.clone(),
        );
        r.register(
            "partitions_held",
            "Partitions whose lease each live node holds, as this node last read them",
            m.partitions.clone(),
        );
        r.register(
            "adapter_errors",
            "Failed adapter work: SIP calls, webhook deliveries",
            m.adapter_errors.clone(),
        );
        r.register(
            "retention_removed",
            "Records the retention sweeps removed, by record",
            removed,
        );
        r.register(
            "commit_stalled",
            "1 while work waits and no commit has finished within the watchdog's limit",
            m.commit_stalled.clone(),
        );
        for outcome in [
            CallOutcome::Answered,
            CallOutcome::Voicemail,
            CallOutcome::NoAnswer,
            CallOutcome::Busy,
        ] {
            m.calls
                .get_or_create(&OutcomeLabels {
                    outcome: outcome.as_str(),
                })
                .inc_by(0);
        }
        for adapter in [Adapter::Sip, Adapter::Webhook] {
            m.adapter_errors
                .get_or_create(&AdapterLabels {
                    adapter: adapter.as_str(),
                })
                .inc_by(0);
        }
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn frame(&self, transport: Transport, result: Reply) {
        self.frame_counters[transport as usize][result as usize].inc();
    }

    pub fn call(&self, outcome: CallOutcome) {
        self.calls
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
    }

    pub fn adapter_error(&self, adapter: Adapter) {
        self.adapter_errors
            .get_or_create(&AdapterLabels {
                adapter: adapter.as_str(),
            })
            .inc();
    }

    /// The metrics in OpenMetrics text, the gauges read from `board` (open alarms) and
    /// `cluster` (leases) as they stand now.
    pub fn encode(&self, board: &Board, cluster: &Cluster, now: watchpost_core::Millis) -> String {
        // One scrape at a time: the gauges are cleared and set again for each.
        let _scraping = self.scrape.lock().expect("metrics scrape lock");
        let mut open: HashMap<OpenLabels, i64> = AlarmKind::ALL
            .iter()
            .map(|&kind| (OpenLabels::of(kind), 0))
            .collect();
        board.for_each(|_, alarm| *open.entry(OpenLabels::of(alarm.spec().kind)).or_default() += 1);
        self.open_alarms.clear();
        for (labels, count) in open {
            self.open_alarms.get_or_create(&labels).set(count);
        }
        let view = cluster.view();
        self.partitions.clear();
        for node in &view.live_nodes {
            self.partitions
                .get_or_create(&NodeLabels { node: node.clone() })
                .set(0);
        }
        for lease in view.leases.iter().filter(|l| l.expires_at >= now) {
            self.partitions
                .get_or_create(&NodeLabels {
                    node: lease.node.clone(),
                })
                .inc();
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}
