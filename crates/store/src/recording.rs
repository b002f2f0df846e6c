//! A call recording as the store lists it: which alarm and call, when and how long, and the
//! file (in the center's recordings folder) that holds the audio.

use crate::{AlarmId, Result, StoreError};
use serde::{Deserialize, Serialize};
use watchpost_core::Millis;
use watchpost_core::alarm::CallId;

/// One call's audio, both sides, as one WAV file (issue 11, item 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub alarm: AlarmId,
    pub call: CallId,
    /// When the audio starts, ms since the epoch.
    pub started_at: Millis,
    pub duration_ms: u32,
    /// The file's size in bytes.
    pub bytes: u64,
    /// Relative to the recordings folder: `<alarm>/<call>.wav`.
    pub file: String,
}

/// `(alarm, call_id, started_at, duration_ms, bytes, file)` as selected.
pub(crate) type RecordingTuple = (i64, i64, i64, i64, i64, String);

/// The columns, in `RecordingTuple`'s order.
pub(crate) const COLUMNS: &str = "alarm, call_id, started_at, duration_ms, bytes, file";

impl Recording {
    /// A row as read back; numbers out of range are damage, not a panic.
    pub(crate) fn from_tuple(
        (alarm, call, started_at, duration_ms, bytes, file): RecordingTuple,
    ) -> Result<Recording> {
        let corrupt = |column: &str, value: i64| {
            StoreError::Corrupt(format!("recordings.{column} = {value} is out of range"))
        };
        Ok(Recording {
            alarm,
            call: CallId::try_from(call).map_err(|_| corrupt("call_id", call))?,
            started_at,
            duration_ms: u32::try_from(duration_ms)
                .map_err(|_| corrupt("duration_ms", duration_ms))?,
            bytes: u64::try_from(bytes).map_err(|_| corrupt("bytes", bytes))?,
            file,
        })
    }
}
