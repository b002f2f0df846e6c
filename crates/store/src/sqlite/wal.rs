//! Making SQLite's write-ahead log durable outside its commit. The center's rounds commit with
//! `synchronous=NORMAL` (no fsync) and then call `Store::sync`: one fdatasync of the WAL file
//! covers every transaction committed before it, so the writer commits the next round while
//! the disk takes the last ones, and nothing is acknowledged before its fsync returned —
//! what `synchronous=FULL` promises, with one fsync shared by several commits.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The WAL file of one database, and the file (inode) whose directory entry is known durable.
pub(super) struct Wal {
    path: PathBuf,
    dir: PathBuf,
    dir_synced_for: Mutex<Option<u64>>,
}

impl Wal {
    /// The WAL SQLite keeps beside the database file `db` (`<db>-wal`, the path resolved as
    /// SQLite resolves it).
    pub(super) fn beside(db: &Path) -> io::Result<Wal> {
        let db = std::fs::canonicalize(db)?;
        let mut path = db.clone().into_os_string();
        path.push("-wal");
        let dir = db
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(Wal {
            path: path.into(),
            dir,
            dir_synced_for: Mutex::new(None),
        })
    }

    /// Blocks until everything committed to the WAL so far is on disk. SQLite locks the
    /// shared-memory file, never the WAL itself, so opening and closing it here takes no
    /// lock of SQLite's away.
    pub(super) fn sync(&self) -> io::Result<()> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            // The last connection checkpointed the WAL into the database (fsynced) and
            // removed it: what it held is durable.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        file.sync_data()?;
        // A WAL created since the last sync survives a power cut only once its directory
        // entry does (SQLite's FULL mode syncs the directory of a new WAL too).
        let inode = file.metadata()?.ino();
        let mut synced_for = self.dir_synced_for.lock().expect("WAL lock");
        if *synced_for != Some(inode) {
            File::open(&self.dir)?.sync_all()?;
            *synced_for = Some(inode);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_wal_is_already_durable_and_a_new_one_syncs_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("center.db");
        std::fs::write(&db, b"").unwrap();
        let wal = Wal::beside(&db).unwrap();
        assert!(wal.path.ends_with("center.db-wal"), "{:?}", wal.path);
        wal.sync().expect("no WAL yet");
        assert_eq!(*wal.dir_synced_for.lock().unwrap(), None);
        std::fs::write(&wal.path, b"frames").unwrap();
        wal.sync().expect("synced");
        let inode = std::fs::metadata(&wal.path).unwrap().ino();
        assert_eq!(*wal.dir_synced_for.lock().unwrap(), Some(inode));
    }
}
