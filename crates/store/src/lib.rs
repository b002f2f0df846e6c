//! watchpost-store: where the center keeps what it must never lose — accounts, every received
//! signal, and each alarm's append-only log — behind one `Store` trait.

mod log;
mod sqlite;

pub use log::{LogBody, LogEntry, replay};
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use watchpost_core::router::Event;
use watchpost_core::{Account, AlarmSpec, Disposition, Millis};

pub type AlarmId = i64;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("alarm {0} does not exist")]
    NoSuchAlarm(AlarmId),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A received signal, as stored before anything acts on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalRecord {
    pub account: String,
    pub received_at: Millis,
    /// Where it came from: `sia`, `cid`, `dc09`, `app`, `phone`...
    pub source: String,
    pub event: Event,
}

/// An alarm as the queue and listings see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRow {
    pub id: AlarmId,
    pub account: String,
    pub kind: String,
    pub mode: String,
    pub priority: u8,
    pub opened_at: Millis,
    pub closed_at: Option<Millis>,
    pub disposition: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Open,
    Closed,
    All,
}

/// How an alarm closed, for the alarm listing.
pub type Closing = Option<(Millis, Disposition)>;

#[async_trait]
pub trait Store: Send + Sync {
    /// Inserts or replaces an account with its contacts and zones, atomically.
    async fn put_account(&self, account: &Account) -> Result<()>;
    async fn account(&self, number: &str) -> Result<Option<Account>>;
    async fn record_signal(&self, signal: &SignalRecord) -> Result<i64>;
    /// Creates an alarm with the first entries of its log; returns its id.
    async fn open_alarm(
        &self,
        spec: &AlarmSpec,
        entries: &[LogEntry],
        closed: Closing,
    ) -> Result<AlarmId>;
    /// Appends to an alarm's log (and records its closing) in one transaction.
    async fn append(&self, alarm: AlarmId, entries: &[LogEntry], closed: Closing) -> Result<()>;
    /// An alarm's whole log, in order.
    async fn log(&self, alarm: AlarmId) -> Result<Vec<LogEntry>>;
    async fn alarms(&self, state: AlarmState) -> Result<Vec<AlarmRow>>;
    async fn signals(&self, account: &str) -> Result<Vec<SignalRecord>>;
}
