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
    /// What was received, as received (a DC-09 data block, a scenario line).
    pub raw: String,
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

/// Everything one commit writes: received signals, new alarms, log entries and closings.
/// Written in one transaction, so one fsync covers many signals (group commit).
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub signals: Vec<SignalRecord>,
    pub opened: Vec<(AlarmId, AlarmSpec)>,
    pub entries: Vec<(AlarmId, LogEntry)>,
    pub closed: Vec<(AlarmId, Millis, Disposition)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.signals.is_empty()
            && self.opened.is_empty()
            && self.entries.is_empty()
            && self.closed.is_empty()
    }
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Inserts or replaces an account with its contacts and zones, atomically.
    async fn put_account(&self, account: &Account) -> Result<()>;
    async fn account(&self, number: &str) -> Result<Option<Account>>;
    /// Writes a batch atomically; returns the ids given to its signals, in order.
    async fn write(&self, batch: &Batch) -> Result<Vec<i64>>;
    /// The highest alarm id ever used (0 when none), so ids can be handed out in memory.
    async fn last_alarm_id(&self) -> Result<AlarmId>;
    /// An alarm's whole log, in order.
    async fn log(&self, alarm: AlarmId) -> Result<Vec<LogEntry>>;
    async fn alarms(&self, state: AlarmState) -> Result<Vec<AlarmRow>>;
    async fn signals(&self, account: &str) -> Result<Vec<SignalRecord>>;
    /// `(account, DC-09 key as hex)` of every account that has a key.
    async fn dc09_keys(&self) -> Result<Vec<(String, String)>>;
    /// `(account, interval)` of every supervised account.
    async fn supervised(&self) -> Result<Vec<(String, Millis)>>;
    /// Inserts or replaces many accounts in one transaction: all or nothing.
    async fn put_accounts(&self, accounts: &[Account]) -> Result<()>;
    async fn count_accounts(&self) -> Result<i64>;
}
