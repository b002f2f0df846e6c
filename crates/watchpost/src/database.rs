//! The database as the commands open and name it: which commands may create a center's
//! database, and errors that always say which database failed. README, The command line.

use anyhow::bail;
use watchpost_center::CenterError;
use watchpost_server::ServerError;
use watchpost_server::auth::AuthError;
use watchpost_store::{Db, StoreError, printable};

/// Opens `db`, which must already hold a center: commands that only read never create one.
pub async fn open_existing(db: &str) -> anyhow::Result<Db> {
    if !watchpost_store::exists(db).await? {
        bail!(
            "database {} holds no center: check the name (`watchpost accounts import` makes \
             a new one)",
            printable(db)
        );
    }
    Ok(watchpost_store::open(db).await?)
}

/// Opens `db`, making a new, empty center there when it holds none, and says so on stderr:
/// for the commands that set a center up (`accounts import`, `users add`, `keys add`).
pub async fn open_or_create(db: &str) -> anyhow::Result<Db> {
    let existed = watchpost_store::exists(db).await?;
    let store = watchpost_store::open(db).await?;
    if !existed {
        err!("watchpost: created a new center database {}", printable(db));
    }
    Ok(store)
}

/// A node seen this recently is taken to be running (each renews its heartbeat every lease
/// period, a few seconds): commands that must not run beside a center (`secrets rotate`,
/// `restore`) ask.
pub const RUNNING_WITHIN_MS: i64 = 30_000;

/// `error`, prefixed with the database it came from when it is the database's and does not
/// name it yet.
pub fn named(db: &str, error: impl Into<anyhow::Error>) -> anyhow::Error {
    let error = error.into();
    let shown = printable(db);
    let from_store = error.chain().any(|cause| {
        cause.is::<StoreError>()
            || matches!(
                cause.downcast_ref::<ServerError>(),
                Some(ServerError::Store(_) | ServerError::Center(CenterError::Store(_)))
            )
            || matches!(
                cause.downcast_ref::<CenterError>(),
                Some(CenterError::Store(_))
            )
            || matches!(cause.downcast_ref::<AuthError>(), Some(AuthError::Store(_)))
    });
    if from_store && !error.to_string().contains(&format!("database {shown}")) {
        error.context(format!("database {shown}"))
    } else {
        error
    }
}
