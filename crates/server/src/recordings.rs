//! Call recordings kept with their alarm (issue 11, item 8): each call's audio, both sides, as
//! one WAV file `<alarm>/<call>.wav` under the center's recordings folder, listed in the store
//! and in the alarm's timeline, and deleted by a daily sweep once older than the retention
//! period — never while their alarm is open.

use crate::intake::Commands;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;
use thiserror::Error;
use watchpost_center::CenterError;
use watchpost_core::alarm::CallId;
use watchpost_core::{Input, Millis};
use watchpost_store::{AlarmId, Db, Recording, StoreError};

/// Where recordings live and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingsConfig {
    /// The folder; created when the first recording is saved.
    pub dir: PathBuf,
    /// Recordings older than this (by when they started) are deleted once their alarm is
    /// closed.
    pub keep: Duration,
}

impl RecordingsConfig {
    /// The default for the store `db`: `recordings/` beside a SQLite file; for PostgreSQL
    /// (several nodes, no file to sit beside) `recordings/` in the working directory.
    pub fn beside(db: &str) -> RecordingsConfig {
        let dir = if watchpost_store::is_shared(db) {
            PathBuf::from("recordings")
        } else {
            let file = Path::new(db.strip_prefix("sqlite://").unwrap_or(db));
            file.parent().unwrap_or(Path::new("")).join("recordings")
        };
        RecordingsConfig {
            dir,
            keep: crate::retention::DEFAULT_KEEP,
        }
    }
}

#[derive(Debug, Error)]
pub enum RecordingError {
    /// The bytes given to `save` do not start with a RIFF/WAVE header.
    #[error("recording of alarm {alarm} call {call}: not a WAV file (no RIFF/WAVE header)")]
    NotWav { alarm: AlarmId, call: CallId },
    #[error("recording file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The recording is stored and listed, but the alarm refused its timeline entry.
    #[error("recording of alarm {alarm} call {call} is kept, but not in the timeline: {cause}")]
    Timeline {
        alarm: AlarmId,
        call: CallId,
        cause: CenterError,
    },
}

/// The center's recordings: saved by telephony, listed and opened by the API.
pub struct Recordings {
    store: Db,
    commands: Commands,
    config: RecordingsConfig,
}

impl Recordings {
    pub fn new(store: Db, commands: Commands, config: RecordingsConfig) -> Recordings {
        Recordings {
            store,
            commands,
            config,
        }
    }

    pub fn config(&self) -> &RecordingsConfig {
        &self.config
    }

    /// Keeps one call's audio: `wav` (a whole WAV file; telephony's is stereo 8 kHz µ-law,
    /// left the contact, right the center) is written to `<alarm>/<call>.wav` atomically
    /// (temporary file, fsync, rename, fsync of the folder), then listed in the store, then
    /// entered in the alarm's timeline as `Input::Recorded` (actor `telephony`). A second
    /// save of the same call replaces the first.
    ///
    /// Errors: `NotWav` before anything is written; `Io` or `Store` when it could not be
    /// kept; `Timeline` when it is kept but the alarm refused the entry (an unknown call). An
    /// alarm that closed meanwhile is no error: the recording is listed, not in the timeline.
    pub async fn save(
        &self,
        alarm: AlarmId,
        call: CallId,
        started_at_ms: i64,
        duration_ms: u32,
        wav: &[u8],
    ) -> Result<(), RecordingError> {
        if wav.len() < 12 || &wav[0..4] != b"RIFF" || &wav[8..12] != b"WAVE" {
            return Err(RecordingError::NotWav { alarm, call });
        }
        let file = file_name(alarm, call);
        let path = self.config.dir.join(&file);
        let bytes = wav.to_vec();
        let target = path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
            .await
            .map_err(|e| RecordingError::Io {
                path: path.clone(),
                source: std::io::Error::other(e),
            })?
            .map_err(|source| RecordingError::Io { path, source })?;
        self.store
            .put_recording(&Recording {
                alarm,
                call,
                started_at: started_at_ms,
                duration_ms,
                bytes: wav.len() as u64,
                file,
            })
            .await?;
        let input = Input::Recorded { call, duration_ms };
        match self.commands.send(alarm, input, "telephony").await {
            Ok(()) => Ok(()),
            Err(CenterError::NotOpen(_)) => {
                tracing::info!(
                    alarm,
                    call,
                    "the alarm closed before the call's recording was saved"
                );
                Ok(())
            }
            Err(cause) => Err(RecordingError::Timeline { alarm, call, cause }),
        }
    }

    /// An alarm's recordings, by call.
    pub async fn list(&self, alarm: AlarmId) -> Result<Vec<Recording>, StoreError> {
        self.store.recordings(alarm).await
    }

    /// The file of one call's recording, if one is listed (the file itself may be gone).
    /// `Corrupt` when the stored file name would leave the recordings folder.
    pub async fn open(&self, alarm: AlarmId, call: CallId) -> Result<Option<PathBuf>, StoreError> {
        match self.store.recording(alarm, call).await? {
            Some(r) => self.path_of(&r).map(Some),
            None => Ok(None),
        }
    }

    fn path_of(&self, r: &Recording) -> Result<PathBuf, StoreError> {
        let relative = Path::new(&r.file);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(StoreError::Corrupt(format!(
                "recordings.file = {:?} leaves the recordings folder",
                r.file
            )));
        }
        Ok(self.config.dir.join(relative))
    }

    /// Deletes the recordings of closed alarms that started more than `keep` before `now`
    /// (ms) or whose alarm closed before `alarms_closed_before` (ms; the alarms' retention):
    /// the file first, then the row (a crash in between leaves a row without a file, which the
    /// next sweep removes), `batch` at a time with `pause` after each full batch, each added
    /// to `count`. Returns how many were deleted.
    pub async fn sweep(
        &self,
        now: Millis,
        alarms_closed_before: Millis,
        batch: i64,
        pause: Duration,
        count: &prometheus_client::metrics::counter::Counter,
    ) -> Result<u64, RecordingError> {
        let before = crate::retention::cut(now, Some(self.config.keep));
        let mut deleted = 0;
        loop {
            let page = self
                .store
                .expired_recordings(before, alarms_closed_before, batch)
                .await?;
            for r in &page {
                let path = self.path_of(r)?;
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => return Err(RecordingError::Io { path, source }),
                }
                if let Some(folder) = path.parent() {
                    // Only succeeds once the alarm's last recording is gone.
                    let _ = tokio::fs::remove_dir(folder).await;
                }
                if self.store.delete_recording(r.alarm, r.call).await? {
                    deleted += 1;
                    count.inc();
                }
            }
            if (page.len() as i64) < batch.max(1) {
                return Ok(deleted);
            }
            tokio::time::sleep(pause).await;
        }
    }
}

/// `<alarm>/<call>.wav`, relative to the recordings folder.
fn file_name(alarm: AlarmId, call: CallId) -> String {
    format!("{alarm}/{call}.wav")
}

/// Writes `bytes` to `path` so that a reader (or a crash) sees the old file or the whole new
/// one: a temporary file in the same folder, fsynced, renamed over `path`, then the folder
/// fsynced so the rename itself is durable.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no folder"))?;
    let created = !folder.is_dir();
    std::fs::create_dir_all(folder)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".recording")
        .suffix(".tmp")
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(folder)?.sync_all()?;
    if created && let Some(parent) = folder.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_written_whole_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("7").join("0.wav");
        write_atomically(&path, b"first").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write_atomically(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["0.wav"], "no temporary file is left behind");
    }

    #[test]
    fn the_default_folder_sits_beside_a_sqlite_file() {
        assert_eq!(
            RecordingsConfig::beside("/var/lib/watchpost/center.db").dir,
            Path::new("/var/lib/watchpost/recordings")
        );
        assert_eq!(
            RecordingsConfig::beside("sqlite://center.db").dir,
            Path::new("recordings")
        );
        assert_eq!(
            RecordingsConfig::beside("postgres://db.example/center").dir,
            Path::new("recordings")
        );
        assert_eq!(
            RecordingsConfig::beside("x.db").keep.as_secs(),
            400 * 86_400
        );
    }
}
