//! watchpost-server: the live center. Panels' signals come in through the DC-09 receivers,
//! are committed by the intake before they are acknowledged, and reach the engine through
//! the runtime, which also wakes alarms on time and watches supervision intervals.

mod account_feed;
pub mod adapters;
pub mod admission;
mod alarm_metrics;
pub mod api;
pub mod attention;
pub mod auth;
mod board;
pub mod cluster;
mod console;
mod dc09;
pub mod demo;
pub mod desk;
mod durable;
pub mod enrolment;
pub mod guessing;
pub mod health;
mod host;
mod http;
mod intake;
mod keys;
pub mod lines;
pub mod listen;
pub mod metrics;
pub mod pepper;
pub mod phone;
pub mod plan_changes;
pub mod plans;
pub mod queue;
pub mod recordings;
pub mod report;
pub mod resolution;
pub mod retention;
mod retransmit;
mod runtime;
pub mod secrets;
mod server;
pub mod sim_telephony;
mod supervision;
mod tls;
pub mod unknown;
mod unknown_budget;
pub mod view;
pub mod webhooks;

pub use admission::{Rate, ReceiverLimits};
pub use attention::ConsoleConfig;
pub use board::{Board, Change};
pub use cluster::{Cluster, ClusterView, NodeConfig};
pub use intake::{Commands, Intake};
pub use ipnet::IpNet;
pub use lines::Lines;
pub use listen::ListenConfig;
pub use recordings::{RecordingError, Recordings, RecordingsConfig};
pub use retention::{RetentionConfig, RetentionCounts};
pub use secrets::SecretsConfig;
pub use server::{Config, Server, ServerError};

use watchpost_core::Millis;

/// The wall clock, in the engine's milliseconds. The only clock the live center reads.
pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}
