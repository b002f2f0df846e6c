//! Audio fixtures rendered with espeak-ng and sox (TELEPHONY.md §5.2): a person, an answering
//! machine with a beep, any sentence, and µ-law copies for sipp.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::run_tool;

/// What the answering machine says before its beep.
pub const GREETING: &str = "Hi, you have reached John. I can't take your call right now. Please leave a message after the tone.";

/// A temp directory of audio fixtures, each rendered on first use and then reused. All WAVs
/// are 8 kHz mono signed 16-bit unless said otherwise. Needs `espeak-ng` and `sox`; each method
/// panics with the tool's error when one is missing or fails.
pub struct Fixtures {
    /// Where the files are; removed with the `Fixtures`.
    pub dir: PathBuf,
    _tmp: TempDir,
}

impl Default for Fixtures {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixtures {
    /// An empty fixture directory.
    pub fn new() -> Fixtures {
        let tmp = tempfile::Builder::new()
            .prefix("rig-fixtures-")
            .tempdir()
            .expect("rig: temp dir");
        Fixtures {
            dir: tmp.path().to_path_buf(),
            _tmp: tmp,
        }
    }

    /// "Hello?" then 20 s of silence: what a person says on answering.
    pub fn person(&self) -> PathBuf {
        let out = self.dir.join("person.wav");
        if !out.exists() {
            let hello = self.say("Hello?");
            let silence = self.silence(20_000);
            self.concat(&[&hello, &silence], &out);
        }
        out
    }

    /// An answering machine: [`GREETING`] spoken, 0.5 s of silence, a sine beep of `beep_hz`
    /// (half of full scale) for `beep_ms`, then 30 s of silence. Also returns when the beep ends,
    /// in milliseconds from the start of the file.
    pub fn machine(&self, beep_hz: u32, beep_ms: u32) -> (PathBuf, u32) {
        let greeting = self.say(GREETING);
        let greeting_ms = samples(&greeting) as u32 / 8;
        let beep_end = greeting_ms + 500 + beep_ms;
        let out = self
            .dir
            .join(format!("machine-{beep_hz}hz-{beep_ms}ms.wav"));
        if !out.exists() {
            let beep = self.dir.join(format!("beep-{beep_hz}hz-{beep_ms}ms.wav"));
            let seconds = format!("{:.3}", f64::from(beep_ms) / 1000.0);
            let hz = beep_hz.to_string();
            let mut args = vec!["-n"];
            args.extend(FORMAT);
            args.extend([
                path_str(&beep),
                "synth",
                &seconds,
                "sine",
                &hz,
                "vol",
                "0.5",
            ]);
            run_tool("sox", &args);
            let gap = self.silence(500);
            let tail = self.silence(30_000);
            self.concat(&[&greeting, &gap, &beep, &tail], &out);
        }
        (out, beep_end)
    }

    /// `text` spoken by espeak-ng, resampled to 8 kHz, with no padding.
    pub fn say(&self, text: &str) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        text.hash(&mut hasher);
        let out = self.dir.join(format!("say-{:016x}.wav", hasher.finish()));
        if !out.exists() {
            let raw = self
                .dir
                .join(format!("say-{:016x}-22k.wav", hasher.finish()));
            run_tool("espeak-ng", &["-w", path_str(&raw), text]);
            let mut args = vec![path_str(&raw)];
            args.extend(FORMAT);
            args.push(path_str(&out));
            run_tool("sox", &args);
        }
        out
    }

    /// `wav` followed by `ms` of silence (a baresip source ends its call at end of file).
    pub fn then_silence(&self, wav: &Path, ms: u32) -> PathBuf {
        let stem = wav.file_stem().and_then(|s| s.to_str()).unwrap_or("audio");
        let out = self.dir.join(format!("{stem}-then-{ms}ms.wav"));
        if !out.exists() {
            let silence = self.silence(ms);
            self.concat(&[wav, &silence], &out);
        }
        out
    }

    /// `ms` milliseconds of digital silence.
    pub fn silence(&self, ms: u32) -> PathBuf {
        let out = self.dir.join(format!("silence-{ms}ms.wav"));
        if !out.exists() {
            let seconds = format!("{:.3}", f64::from(ms) / 1000.0);
            let mut args = vec!["-n"];
            args.extend(FORMAT);
            args.extend([path_str(&out), "trim", "0", &seconds]);
            run_tool("sox", &args);
        }
        out
    }

    /// The same audio as a µ-law WAV, which sipp's `rtp_stream` plays as PCMU (sox writes a
    /// 58-byte header with a fact chunk; sipp 3.6.1 reads it, TELEPHONY.md §5.2).
    pub fn ulaw(&self, wav: &Path) -> PathBuf {
        let stem = wav.file_stem().and_then(|s| s.to_str()).unwrap_or("audio");
        let out = self.dir.join(format!("{stem}-ulaw.wav"));
        if !out.exists() {
            to_ulaw(wav, &out);
        }
        out
    }

    fn concat(&self, parts: &[&Path], out: &Path) {
        let mut args: Vec<&str> = parts.iter().map(|part| path_str(part)).collect();
        args.push(path_str(out));
        run_tool("sox", &args);
    }
}

/// sox's output options for 8 kHz mono signed 16-bit.
const FORMAT: [&str; 8] = ["-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"];

/// Writes `wav` to `out` as 8 kHz mono µ-law WAV.
pub(crate) fn to_ulaw(wav: &Path, out: &Path) {
    run_tool(
        "sox",
        &[
            path_str(wav),
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "u-law",
            path_str(out),
        ],
    );
}

/// Whether a WAV file's format tag says µ-law (7, RFC 2361 WAVE_FORMAT_MULAW).
pub(crate) fn is_ulaw(wav: &Path) -> bool {
    let bytes = std::fs::read(wav).unwrap_or_default();
    bytes.len() > 22 && u16::from_le_bytes([bytes[20], bytes[21]]) == 7
}

fn samples(wav: &Path) -> usize {
    hound::WavReader::open(wav)
        .unwrap_or_else(|error| panic!("rig: read {}: {error}", wav.display()))
        .duration() as usize
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("rig: temp paths are UTF-8")
}
