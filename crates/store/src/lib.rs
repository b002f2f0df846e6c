//! watchpost-store: where the center keeps what it must never lose — accounts, every received
//! signal, and each alarm's append-only log — and who may use it (users, sessions, API keys),
//! behind one `Store` trait.

pub mod backup;
mod center_secrets;
mod coordination;
mod log;
mod plans;
mod postgres;
mod recording;
mod report;
mod retention;
mod sqlite;
pub mod testing;
mod text;
mod unknown;
mod verification;
mod webhooks;

pub use center_secrets::{CenterSecrets, PEPPER};
pub use coordination::{
    AlarmVersion, Coordination, Inbound, InboxItem, Lease, LeaseRow, PARTITIONS, Partition,
    partition_of,
};
pub use log::{LogBody, LogEntry, replay};
pub use plans::{PlanScope, PlanVersion, Plans, RequiredScenario};
pub use postgres::PgStore;
pub use recording::Recording;
pub use report::{ReportQuery, ReportScope, Reports};
pub use sqlite::SqliteStore;
pub use unknown::{Outcome, Resolution, UnknownItem, UnknownSignal, joined_kind};
pub use verification::{Miss, MissLimit, PasswordCheck, Reservation, Verification};
pub use webhooks::{
    ATTEMPTS_KEPT, Attempt, EVENT_TYPES, Endpoint, OutboxEvent, Pending, SIGNAL_EVENT, Webhooks,
};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use thiserror::Error;
use watchpost_core::router::Event;
use watchpost_core::{Account, AlarmSpec, Disposition, Millis};

pub type AlarmId = i64;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// An error of the SQLite connection that writes the center's rounds (rusqlite).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store could not be opened: `db` as `printable` shows it, and why.
    #[error("database {db}: {cause}")]
    Open { db: String, cause: String },
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// A backup or restore refused or failed: the file and why.
    #[error("{file}: {cause}")]
    Backup { file: String, cause: String },
    #[error("alarm {0} does not exist")]
    NoSuchAlarm(AlarmId),
    /// The batch was made under a lease another node has since taken: nothing was written.
    #[error(
        "the lease of partition {0} was taken by another node: nothing of this batch was written"
    )]
    Fenced(Partition),
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

/// An account's most recent DC-09 frame, as the retransmission rule compares frames: a panel
/// resends a frame it got no ACK for before it sends anything else (README, "How the receiver
/// behaves").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmission {
    pub account: String,
    /// Message id, sequence and data block, decrypted: no pad and no timestamp, which a resend
    /// may change.
    pub fingerprint: String,
    pub received_at: Millis,
}

impl Transmission {
    /// Of each account's transmissions, the last one, by account: an upsert may not touch a
    /// row twice.
    pub fn latest(all: &[Transmission]) -> Vec<&Transmission> {
        let by_account: std::collections::BTreeMap<&str, &Transmission> =
            all.iter().map(|t| (t.account.as_str(), t)).collect();
        by_account.into_values().collect()
    }
}

/// Something a person did to an account outside its alarms, e.g. put it on test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEvent {
    pub account: String,
    /// ms since the epoch.
    pub at: Millis,
    /// `agent:NAME`.
    pub actor: String,
    /// In words: "on test until 2026-03-10T04:00:00Z: installer visit".
    pub what: String,
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
    /// The DC-09 frames this batch stores (with their signals, if any), in the order received:
    /// each account's last one becomes its most recent transmission.
    pub transmissions: Vec<Transmission>,
    /// Signals (also in `signals`) for partitions another node drives, posted to its inbox.
    pub forwarded: Vec<(Partition, SignalRecord)>,
    /// Inbox items this batch acted on: removed, or for a command given its outcome.
    pub settled: Vec<(i64, Option<String>)>,
    /// The leases the alarm writes and settled items were made under. Each must still be
    /// current when the batch is written, or nothing of it is.
    pub leases: Vec<Lease>,
    /// The fencing token each alarm's entries are written with (0 when none is given).
    pub fences: HashMap<AlarmId, i64>,
    /// Signals (also in `signals`) from accounts that are not enrolled and would have opened
    /// an alarm: each joins its number's open unknown-account item or opens one.
    pub unknown: Vec<UnknownSignal>,
    /// Webhook events reporting what this batch writes, in order: each is kept (with a
    /// delivery owed to each endpoint that wants it) in the same transaction.
    pub outbox: Vec<OutboxEvent>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.signals.is_empty()
            && self.opened.is_empty()
            && self.entries.is_empty()
            && self.closed.is_empty()
            && self.transmissions.is_empty()
            && self.forwarded.is_empty()
            && self.settled.is_empty()
            && self.unknown.is_empty()
            && self.outbox.is_empty()
    }
}

/// A whole store: the center's data, its coordination between nodes, its verbal-password
/// checks, its plans, its webhooks, its reports and its sealed secrets.
pub trait Database:
    Store + Coordination + Verification + Plans + Webhooks + Reports + CenterSecrets
{
}

impl<T: Store + Coordination + Verification + Plans + Webhooks + Reports + CenterSecrets> Database
    for T
{
}

/// The store as the center and its servers share it, whichever backend it is.
pub type Db = Arc<dyn Database>;

/// Opens (creating and migrating if needed) the store `db` names: a `postgres://` or
/// `postgresql://` URL is a PostgreSQL database, anything else a SQLite file (a path, or
/// `sqlite://` and a path).
///
/// An error names the database (password masked) and the cause.
pub async fn open(db: &str) -> Result<Db> {
    let opened: Result<Db> = if is_shared(db) {
        PgStore::connect(db).await.map(|s| Arc::new(s) as Db)
    } else {
        SqliteStore::open(sqlite_path(db))
            .await
            .map(|s| Arc::new(s) as Db)
    };
    opened.map_err(|e| opening(db, e))
}

/// Whether `db` already holds a center: the SQLite file exists, or the PostgreSQL database
/// has been migrated. Creates nothing; commands that must not start a new center ask first.
pub async fn exists(db: &str) -> Result<bool> {
    if is_shared(db) {
        PgStore::holds_center(db).await.map_err(|e| opening(db, e))
    } else {
        Ok(sqlite_path(db).exists())
    }
}

/// Now, in ms since the epoch: when the store records a change it was not told the time of.
pub(crate) fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as Millis)
}

/// The file a SQLite `db` (a path, or `sqlite://` and a path) names.
pub fn sqlite_path(db: &str) -> &std::path::Path {
    std::path::Path::new(db.strip_prefix("sqlite://").unwrap_or(db))
}

/// `error` from opening `db`, as one line that names the database and the cause. SQLite only
/// says "unable to open database file"; the usual reasons are said in words.
fn opening(db: &str, error: StoreError) -> StoreError {
    let cause = match &error {
        StoreError::Database(e) => e.to_string(),
        StoreError::Sqlite(e) => e.to_string(),
        other => other.to_string(),
    };
    let path = sqlite_path(db);
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    let cause = if is_shared(db) {
        cause
    } else if path.is_dir() {
        "it is a folder, not a database file".to_string()
    } else if let Some(folder) = folder.filter(|f| !f.is_dir()) {
        format!("the folder {} does not exist", folder.display())
    } else {
        cause
    };
    StoreError::Open {
        db: printable(db),
        cause,
    }
}

/// `db` as it may be printed or logged: a URL's password is masked.
pub fn printable(db: &str) -> String {
    match url::Url::parse(db) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => db.to_string(),
    }
}

/// Whether `db` names a store several nodes can share: a PostgreSQL database.
pub fn is_shared(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// What a signed-in person may do. The center's roles are ordered `Agent < Supervisor <
/// Admin`, each able to do everything the roles below it may. A dealer's roles,
/// `DealerViewer < DealerAdmin`, come before them all, so that no comparison with a center
/// role ever admits a dealer's user: they are allowed only where a route says so
/// (docs/api.md, "Dealers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    DealerViewer,
    DealerAdmin,
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Agent,
        Role::Supervisor,
        Role::Admin,
        Role::DealerAdmin,
        Role::DealerViewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::DealerAdmin => "dealer_admin",
            Role::DealerViewer => "dealer_viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// A dealer's role: its user must name a dealer, and sees only that dealer's accounts.
    pub fn is_dealer(self) -> bool {
        matches!(self, Role::DealerAdmin | Role::DealerViewer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Role, String> {
        Role::parse(text).ok_or_else(|| {
            format!(
                "unknown role {text:?}: use agent, supervisor, admin, dealer_admin or \
                 dealer_viewer"
            )
        })
    }
}

/// A person who signs in. The password is kept only as an argon2 PHC string, which is never
/// serialised (so a `User` can be sent to a client as is) and never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    #[serde(skip_serializing, default)]
    pub password_hash: String,
    /// Failed sign-ins, from every address, since the last success or `users unlock`.
    pub failed_logins: u32,
    /// Until when some address that failed to sign in as this user must wait before its next
    /// attempt (it may be in the past: then it is over). Set by
    /// `Store::record_login_failure`; addresses that did not fail are never made to wait.
    pub locked_until: Option<Millis>,
    /// When `users unlock` or `users passwd` last lifted every wait (ms); `put_user` leaves
    /// it as it is.
    #[serde(skip_serializing, default)]
    pub waits_lifted_at: Option<Millis>,
    /// A disabled user cannot sign in, and their sessions stop working.
    #[serde(default)]
    pub disabled: bool,
    pub created_at: Millis,
    /// The agent's phone: a SIP URI (`sip:amy@10.0.0.21:5060`) the center calls to connect
    /// the agent to a contact when it places the call itself (README, "Telephony").
    pub phone: Option<String>,
    /// The dealer a `dealer_admin` or `dealer_viewer` belongs to; `None` for the center's
    /// users (the store refuses any other pairing).
    #[serde(default)]
    pub dealer: Option<String>,
}

/// A dealer (installer) the center monitors for (`watchpost_core::dealer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dealer {
    /// `[A-Z0-9-]{1,16}`.
    pub id: String,
    pub name: String,
    pub created_at: Millis,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password_hash", &"<hidden>")
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("dealer", &self.dealer)
            .finish()
    }
}

/// A session as stored: the SHA-256 hex of its token, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user: String,
    pub created_at: Millis,
    /// When it ends unless touched again (idle timeout, capped by the absolute maximum).
    pub expires_at: Millis,
    pub last_seen: Millis,
}

/// An account-scoped API key as stored: the SHA-256 hex of the key, never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub key_hash: String,
    pub account: String,
    pub label: String,
    pub created_at: Millis,
    /// When it was last used, to the hour (`Store::touch_api_key`); `None`: not yet.
    #[serde(default)]
    pub last_used: Option<Millis>,
}

/// One line of the audit trail: who changed who may do what, to whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// ms since the epoch.
    pub at: Millis,
    /// `cli:<os user>`, `admin:<name>`, or `login` for what the sign-in rules did.
    pub actor: String,
    /// `user.disable`, `key.revoke`, `login.throttled`...
    pub action: String,
    /// The user name, account number or key id acted on.
    pub subject: String,
    /// In words; never a secret.
    pub detail: String,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Whether the store answers: a trivial statement through the connection the center's
    /// commits go through (SQLite: taking and dropping the write lock, so a lock another
    /// process holds counts as not answering; PostgreSQL: `SELECT 1` from the pool). For
    /// `/readyz`, which bounds it with a timeout.
    async fn ping(&self) -> Result<()>;
    /// Closes every connection, waiting for those in use to come back; the store answers
    /// nothing after. SQLite then checkpoints its WAL into the database file and removes it,
    /// so a center stopped cleanly is one file an administrator can copy.
    async fn close(&self);
    /// Inserts or replaces an account with its contacts and zones, atomically.
    async fn put_account(&self, account: &Account) -> Result<()>;
    async fn account(&self, number: &str) -> Result<Option<Account>>;
    /// Those of `numbers` that are enrolled, whole (contacts, zones), in no particular order;
    /// numbers not enrolled are left out. A round's accounts in one look-up rather than one
    /// each (SQLite: three statements in all); the default reads them one at a time.
    async fn accounts(&self, numbers: &[String]) -> Result<Vec<Account>> {
        let mut found = Vec::with_capacity(numbers.len());
        for number in numbers {
            if let Some(account) = self.account(number).await? {
                found.push(account);
            }
        }
        Ok(found)
    }
    /// Writes a batch atomically; returns the ids given to its signals, in order.
    async fn write(&self, batch: &Batch) -> Result<Vec<i64>>;
    /// `write`, but where a commit waits for the disk (SQLite's fsync) it returns once the
    /// batch is committed, before the disk holds it: the batch is durable once a `sync`
    /// called after this returned has returned. One `sync` covers every batch written before
    /// it, and runs while the next batch is written (group commit at the disk). A store whose
    /// commits are durable by themselves (PostgreSQL) writes as `write` does.
    /// The batch is shared (`Arc`) so that a store may hand it to another thread whole,
    /// without a copy.
    async fn write_unsynced(&self, batch: Arc<Batch>) -> Result<Vec<i64>> {
        self.write(&batch).await
    }
    /// Makes every batch `write_unsynced` returned before this call durable (SQLite: one
    /// fdatasync of the WAL); nothing to do where commits are durable by themselves.
    async fn sync(&self) -> Result<()> {
        Ok(())
    }
    /// Gives back the memory of the caches kept per connection (SQLite: each open
    /// connection's page cache, `PRAGMA shrink_memory`); they fill again from the operating
    /// system's file cache as they are used. Nothing to do where the database server keeps
    /// the caches (PostgreSQL).
    async fn release_memory(&self) -> Result<()> {
        Ok(())
    }
    /// An alarm's whole log, in order.
    async fn log(&self, alarm: AlarmId) -> Result<Vec<LogEntry>>;
    async fn alarms(&self, state: AlarmState) -> Result<Vec<AlarmRow>>;
    async fn signals(&self, account: &str) -> Result<Vec<SignalRecord>>;
    /// `(account, DC-09 key as hex)` of every account that has a key.
    async fn dc09_keys(&self) -> Result<Vec<(String, String)>>;
    /// Replaces the DC-09 key of each `(account, key)` that is enrolled, in one transaction:
    /// all or nothing. The store keeps the text as given (the center seals keys before).
    async fn set_dc09_keys(&self, keys: &[(String, String)]) -> Result<()>;
    /// Replaces the account's verbal-password hash `old` with `new`, a stronger hash of the
    /// same phrase (`VerbalPassword::upgrade`), changing nothing else of it, and records the
    /// account as changed so that every node's caches read it again. False, writing nothing,
    /// when the account is gone or its hash is no longer `old` (changed meanwhile: the newer
    /// one stays).
    async fn upgrade_verbal_password(
        &self,
        account: &str,
        old: &watchpost_core::password::VerbalPassword,
        new: &watchpost_core::password::VerbalPassword,
    ) -> Result<bool>;
    /// `(account, interval)` of every supervised account.
    async fn supervised(&self) -> Result<Vec<(String, Millis)>>;
    /// Inserts or replaces many accounts in one transaction: all or nothing.
    async fn put_accounts(&self, accounts: &[Account]) -> Result<()>;
    async fn count_accounts(&self) -> Result<i64>;
    /// Account numbers in order, after `after`, at most `limit`.
    async fn account_numbers(&self, after: &str, limit: i64) -> Result<Vec<String>>;
    /// Those of `numbers` that are enrolled, in no particular order (one indexed lookup each).
    async fn enrolled_among(&self, numbers: &[String]) -> Result<Vec<String>>;
    /// The accounts with a contact at `phone` (E.164, compared exactly), in order.
    async fn accounts_with_phone(&self, phone: &str) -> Result<Vec<String>>;
    /// Removes an account with its contacts and zones, and revokes its API keys in the same
    /// transaction (a key never outlives the enrolment it was made for); false when there was
    /// none. Its signals and alarms stay: the record is kept.
    async fn delete_account(&self, number: &str) -> Result<bool>;
    /// The most recent transmission of each of these accounts that has one.
    async fn last_transmissions(&self, accounts: &[String]) -> Result<Vec<Transmission>>;
    /// Forgets at most `limit` of the most recent transmissions received before `before`
    /// (ms), oldest first; returns how many went (`limit`: call again, more may be left).
    async fn forget_transmissions(&self, before: Millis, limit: i64) -> Result<u64>;

    /// The newest entry of the account-change feed (0 when it is empty): what a reader that
    /// has just read every account is up to date with.
    async fn last_account_change(&self) -> Result<i64>;
    /// The feed's entries after `after`, oldest first, at most `limit`: `(id, account)`.
    /// Every write of an account (`put_accounts`, `delete_account`, `set_dc09_keys`) adds
    /// one per account in its own transaction. With several writers (PostgreSQL), an entry
    /// may become visible after one with a higher id: readers read again a little behind.
    async fn account_changes(&self, after: i64, limit: i64) -> Result<Vec<(i64, String)>>;
    /// Forgets at most `limit` feed entries recorded before `before` (ms); returns how many.
    async fn forget_account_changes(&self, before: Millis, limit: i64) -> Result<u64>;
    /// What the receivers hold of those of `numbers` that are enrolled, in no particular
    /// order: `(number, DC-09 key as stored, supervision interval in ms)`.
    async fn receiver_settings(
        &self,
        numbers: &[String],
    ) -> Result<Vec<(String, Option<String>, Option<Millis>)>>;
    /// The logs of these alarms, in one read: each alarm's entries in order; an alarm with
    /// none is missing from the map.
    async fn logs(&self, alarms: &[AlarmId]) -> Result<HashMap<AlarmId, Vec<LogEntry>>>;
    /// The dealer of each of these accounts that is enrolled and has one.
    async fn account_dealers(&self, numbers: &[String]) -> Result<HashMap<String, String>>;

    /// Account numbers, in order, at most `limit`, whose number, address or a contact's name
    /// holds `text` (case-insensitive).
    async fn search_accounts(&self, text: &str, limit: i64) -> Result<Vec<String>>;
    /// The account's most recent alarms, newest first, at most `limit`.
    async fn recent_alarms(&self, account: &str, limit: i64) -> Result<Vec<AlarmRow>>;
    /// The account's most recent signals, newest first, at most `limit`.
    async fn recent_signals(&self, account: &str, limit: i64) -> Result<Vec<SignalRecord>>;
    /// Puts the account on test until `until` (milliseconds since the epoch), or ends test
    /// mode (`None`), changing nothing else of it, and records `event` (who, when, why) in the
    /// same transaction. False, writing nothing, when the account is not enrolled.
    async fn set_test_until(&self, event: &AccountEvent, until: Option<Millis>) -> Result<bool>;
    /// An account's recorded events, newest first, at most `limit`.
    async fn account_events(&self, account: &str, limit: i64) -> Result<Vec<AccountEvent>>;

    /// Unknown-account items, oldest first: the open ones, or all (`all`).
    async fn unknown_items(&self, all: bool) -> Result<Vec<UnknownItem>>;
    async fn unknown_item(&self, id: i64) -> Result<Option<UnknownItem>>;
    /// Resolves an open item, atomically; false when it is already resolved or does not
    /// exist (nothing is written then).
    async fn resolve_unknown(&self, id: i64, resolution: &Resolution) -> Result<bool>;

    /// Inserts a dealer or renames one of the same id.
    async fn put_dealer(&self, dealer: &Dealer) -> Result<()>;
    async fn dealer(&self, id: &str) -> Result<Option<Dealer>>;
    /// Every dealer, by id.
    async fn dealers(&self) -> Result<Vec<Dealer>>;
    /// The numbers of `dealer`'s accounts, in order, after `after`, at most `limit`.
    async fn dealer_accounts(&self, dealer: &str, after: &str, limit: i64) -> Result<Vec<String>>;

    /// Inserts a user or replaces one of the same name (its sessions are kept).
    async fn put_user(&self, user: &User) -> Result<()>;
    async fn user(&self, name: &str) -> Result<Option<User>>;
    /// Every user, by name.
    async fn users(&self) -> Result<Vec<User>>;
    /// Records a failed sign-in for `name` (from any address, on any node), atomically:
    /// `failed_logins` goes up by one, and when the failure made its address wait,
    /// `locked_until` becomes the later of its value and `waits_until` (ms). Returns the user
    /// as it now is, `None` when there is no such user. The sign-in delay itself is kept per
    /// address by the server; this is what supervisors see.
    async fn record_login_failure(
        &self,
        name: &str,
        waits_until: Option<Millis>,
    ) -> Result<Option<User>>;
    /// After a successful sign-in: `failed_logins` back to 0 (the waits of other addresses,
    /// and `locked_until`, stay).
    async fn reset_login_failures(&self, name: &str) -> Result<()>;
    /// `users unlock`, `users passwd`: no failures, no wait, and `waits_lifted_at = at` (ms),
    /// which tells every node to forget the waits it began before then.
    async fn lift_login_waits(&self, name: &str, at: Millis) -> Result<()>;
    /// Ends every session of `name`; returns how many there were.
    async fn end_sessions(&self, name: &str) -> Result<u64>;

    async fn put_session(&self, session: &SessionRecord) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;
    /// Records activity: the session was last seen at `last_seen` and now ends at `expires_at`.
    async fn touch_session(
        &self,
        token_hash: &str,
        last_seen: Millis,
        expires_at: Millis,
    ) -> Result<()>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Deletes every session that ends at or before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: Millis) -> Result<u64>;

    async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<()>;
    /// The account an API key (by its hash) speaks for.
    async fn api_key(&self, key_hash: &str) -> Result<Option<String>>;
    /// The API keys (hashes, never keys) of one account or of all, by account then age.
    async fn api_keys(&self, account: Option<&str>) -> Result<Vec<ApiKeyRecord>>;
    /// Records that a key was used at `at`.
    async fn touch_api_key(&self, key_hash: &str, at: Millis) -> Result<()>;
    /// Revokes a key by its hash; false when there was none.
    async fn delete_api_key(&self, key_hash: &str) -> Result<bool>;

    /// Adds a line to the audit trail.
    async fn put_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// The most recent audit lines, newest first, at most `limit`.
    async fn audit(&self, limit: i64) -> Result<Vec<AuditEntry>>;

    /// Lists a call recording whose file is already durable; replaces the row of the same
    /// alarm and call.
    async fn put_recording(&self, recording: &Recording) -> Result<()>;
    /// An alarm's recordings, by call.
    async fn recordings(&self, alarm: AlarmId) -> Result<Vec<Recording>>;
    async fn recording(
        &self,
        alarm: AlarmId,
        call: watchpost_core::alarm::CallId,
    ) -> Result<Option<Recording>>;
    /// Recordings of closed alarms that started before `before` (ms) or whose alarm closed
    /// before `alarms_closed_before` (ms: the alarms' retention, so that their files go
    /// before the alarm does), oldest first, at most `limit`. An open alarm's recordings are
    /// never among them.
    async fn expired_recordings(
        &self,
        before: Millis,
        alarms_closed_before: Millis,
        limit: i64,
    ) -> Result<Vec<Recording>>;
    /// Forgets a recording (its file is the caller's); false when there was none.
    async fn delete_recording(
        &self,
        alarm: AlarmId,
        call: watchpost_core::alarm::CallId,
    ) -> Result<bool>;
    /// Deletes at most `limit` signals received before `before` (ms), oldest first, of
    /// accounts that have no open alarm (an open alarm's account keeps all its signals until
    /// it closes). Returns how many were deleted (README, "Retention").
    async fn expire_signals(&self, before: Millis, limit: i64) -> Result<u64>;
    /// Deletes at most `limit` alarms closed before `before` (ms), oldest first, each with its
    /// log and its verbal-password checks, in one transaction. Never an open alarm, nor one
    /// that still lists a recording (their files go first: `expired_recordings`) or whose
    /// webhook events are still owed. Returns how many alarms were deleted.
    async fn expire_alarms(&self, before: Millis, limit: i64) -> Result<u64>;
    /// Deletes at most `limit` unknown-account items resolved before `before` (ms); open
    /// ones stay. Returns how many were deleted.
    async fn expire_unknown_items(&self, before: Millis, limit: i64) -> Result<u64>;
}

#[cfg(test)]
mod tests {
    #[test]
    fn printable_masks_only_a_password() {
        assert_eq!(
            super::printable("postgres://amy:s3cret@db.example:5432/center"),
            "postgres://amy:***@db.example:5432/center"
        );
        assert_eq!(
            super::printable("postgres://amy@db.example/center"),
            "postgres://amy@db.example/center"
        );
        assert_eq!(super::printable("center.db"), "center.db");
    }
}
