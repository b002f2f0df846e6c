//! The center's voice: each distinct message rendered once by a text-to-speech program run as
//! a separate process (espeak-ng is GPL-3: run, never linked; TELEPHONY.md §2), brought to
//! 8 kHz and kept in memory.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;

/// Which program speaks. `espeak-ng` is the default; `flite` is the fallback a center can
/// choose when espeak-ng is not installed (README, "Telephony").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Voice {
    /// `espeak-ng --stdout -v <voice> -s <words per minute>`.
    Espeak {
        voice: String,
        words_per_minute: u32,
    },
    /// `flite -voice slt`, which writes 8 kHz itself.
    Flite,
}

impl Default for Voice {
    fn default() -> Voice {
        Voice::Espeak {
            voice: "en-us".into(),
            words_per_minute: 150,
        }
    }
}

impl std::str::FromStr for Voice {
    type Err = String;

    /// `espeak-ng`, `espeak-ng:<voice>` (like `espeak-ng:en-us+f3`) or `flite`.
    fn from_str(text: &str) -> Result<Voice, String> {
        match text.split_once(':') {
            None if text == "espeak-ng" => Ok(Voice::default()),
            None if text == "flite" => Ok(Voice::Flite),
            Some(("espeak-ng", voice))
                if !voice.is_empty()
                    && voice
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-+_".contains(c)) =>
            {
                Ok(Voice::Espeak {
                    voice: voice.into(),
                    words_per_minute: 150,
                })
            }
            _ => Err(format!(
                "{text:?} is not a voice: use espeak-ng, espeak-ng:<voice> (like \
                 espeak-ng:en-us+f3) or flite"
            )),
        }
    }
}

/// Why a message could not be spoken.
#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error(
        "{program} is not installed or does not run ({reason}); install it (apt-get install \
         {program}) or choose the other voice (telephony.tts = \"{other}\")"
    )]
    Missing {
        program: &'static str,
        other: &'static str,
        reason: String,
    },
    #[error("{program} failed: {reason}")]
    Failed {
        program: &'static str,
        reason: String,
    },
    #[error("{program} wrote audio that could not be read: {reason}")]
    Audio {
        program: &'static str,
        reason: String,
    },
}

/// Renders messages to 8 kHz mono samples, once per distinct text.
pub struct Speaker {
    voice: Voice,
    cache: Mutex<HashMap<String, Arc<Vec<i16>>>>,
    /// Renders at once: in a storm each alarm's message differs (its address), and unbounded
    /// voice processes would starve the intake of CPU (README, `bench invite`).
    rendering: tokio::sync::Semaphore,
}

/// Beyond this many distinct messages the cache starts over: each alarm's messages differ by
/// its address, and a center runs for months.
const CACHED: usize = 512;

impl Speaker {
    /// Checks that the program runs, so a missing one is a clear error at start, not a silent
    /// call at 3 a.m. Errors: `TtsError::Missing`.
    pub async fn start(voice: Voice) -> Result<Speaker, TtsError> {
        let speaker = Speaker {
            voice,
            cache: Mutex::new(HashMap::new()),
            rendering: tokio::sync::Semaphore::new(2),
        };
        speaker.render("Test.").await.map_err(|e| match e {
            TtsError::Failed { program, reason } | TtsError::Audio { program, reason } => {
                TtsError::Missing {
                    program,
                    other: other(program),
                    reason,
                }
            }
            missing => missing,
        })?;
        Ok(speaker)
    }

    /// The message as 8 kHz mono samples. Errors: the program is missing, fails, or writes
    /// something that is not a WAV file.
    pub async fn say(&self, text: &str) -> Result<Arc<Vec<i16>>, TtsError> {
        if let Some(samples) = self.cache.lock().unwrap().get(text) {
            return Ok(samples.clone());
        }
        let samples = Arc::new(self.render(text).await?);
        let mut cache = self.cache.lock().unwrap();
        if cache.len() >= CACHED {
            cache.clear();
        }
        cache.insert(text.to_string(), samples.clone());
        Ok(samples)
    }

    async fn render(&self, text: &str) -> Result<Vec<i16>, TtsError> {
        let _turn = self.rendering.acquire().await.expect("never closed");
        let (program, mut command) = match &self.voice {
            Voice::Espeak {
                voice,
                words_per_minute,
            } => {
                let mut c = tokio::process::Command::new("espeak-ng");
                c.args(["--stdout", "-v", voice, "-s", &words_per_minute.to_string()]);
                ("espeak-ng", c)
            }
            Voice::Flite => {
                let mut c = tokio::process::Command::new("flite");
                c.args(["-f", "/dev/stdin", "-o", "/dev/stdout"]);
                ("flite", c)
            }
        };
        // The text goes on standard input: nothing in it can be read as an option.
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| TtsError::Missing {
            program,
            other: other(program),
            reason: e.to_string(),
        })?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let words = text.as_bytes().to_vec();
        let feed = tokio::spawn(async move {
            let _ = stdin.write_all(&words).await;
        });
        let output = child
            .wait_with_output()
            .await
            .map_err(|e| TtsError::Failed {
                program,
                reason: e.to_string(),
            })?;
        let _ = feed.await;
        if !output.status.success() {
            return Err(TtsError::Failed {
                program,
                reason: format!(
                    "{}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        // Decoding and resampling is CPU work: off the threads that take signals in.
        tokio::task::spawn_blocking(move || watchpost_media::wav::read_8k_mono(&output.stdout))
            .await
            .map_err(|e| TtsError::Audio {
                program,
                reason: e.to_string(),
            })?
            .map_err(|e| TtsError::Audio {
                program,
                reason: e.to_string(),
            })
    }
}

fn other(program: &str) -> &'static str {
    if program == "flite" {
        "espeak-ng"
    } else {
        "flite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_are_named() {
        assert_eq!("espeak-ng".parse(), Ok(Voice::default()));
        assert_eq!("flite".parse(), Ok(Voice::Flite));
        assert_eq!(
            "espeak-ng:en-us+f3".parse(),
            Ok(Voice::Espeak {
                voice: "en-us+f3".into(),
                words_per_minute: 150
            })
        );
        for bad in ["piper", "espeak-ng:", "espeak-ng:en us", "espeak-ng:$(x)"] {
            assert!(bad.parse::<Voice>().is_err(), "{bad}");
        }
    }

    #[tokio::test]
    #[ignore = "needs espeak-ng (.ci/run installs it)"]
    async fn espeak_renders_once_at_8_khz() {
        let speaker = Speaker::start(Voice::default()).await.unwrap();
        let a = speaker
            .say("Your alarm reported a burglary.")
            .await
            .unwrap();
        // Between half a second and ten seconds of 8 kHz audio, not 22 kHz.
        assert!((4_000..80_000).contains(&a.len()), "{} samples", a.len());
        let b = speaker
            .say("Your alarm reported a burglary.")
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&a, &b), "the second time comes from the cache");
    }
}
