//! The beep after a voicemail greeting (TELEPHONY.md §3.3) and when to start our message once a
//! machine answered: after the beep, after the greeting's end, or when tired of waiting.

use crate::goertzel::{energy, power};
use crate::{FRAME_MS, mean_abs};

/// A beep: a single steady tone, reported at its trailing edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beep {
    /// Its frequency in Hz, to the 25 Hz grid of the detector, averaged over the tone.
    pub hz: u32,
    /// Start of its first tone frame, in ms since the detector's first frame.
    pub start_ms: u32,
    /// End of its last tone frame (the trailing edge), in ms since the detector's first frame;
    /// within 20 ms of the true edge.
    pub end_ms: u32,
}

/// The beep detector's thresholds. `Default` is what TELEPHONY.md §3.3 describes, with the
/// choices below.
#[derive(Debug, Clone, PartialEq)]
pub struct BeepConfig {
    /// Lowest frequency looked at, Hz (375: a 25 Hz margin under the 400 Hz of §3.3).
    pub low_hz: u32,
    /// Highest frequency looked at, Hz (2050: beeps run up to 2000 Hz, FreeSWITCH mod_avmd).
    pub high_hz: u32,
    /// Spacing of the Goertzel bins, Hz (25). A 20 ms frame resolves 50 Hz; bins 50 Hz apart
    /// would see a tone halfway between two of them at 40 % of its power, under `min_share`,
    /// so the bank is twice as dense and sees any tone at 80 % or more.
    pub step_hz: u32,
    /// Share of a frame's energy the strongest frequency must carry for the frame to be tone
    /// (0.9). A pure tone carries about 1 (0.98 or more through G.711 and line noise, once the
    /// frequency is refined between bins); §3.3 suggests 0.6, but on the `watchpost bench
    /// detection` corpus female espeak-ng voices held one harmonic at 60–85 % of a frame's
    /// energy for 80–300 ms, which 0.9 rejects.
    pub min_share: f64,
    /// Mean absolute amplitude a tone frame must reach (100, about -50 dBov): digital silence
    /// and line hiss are never tone.
    pub min_level: u16,
    /// How far the frequency may wander from the run's first frame and stay the same tone, Hz
    /// (50, as Genesys' 1000 ± 50 Hz).
    pub max_drift_hz: u32,
    /// Shortest tone that is a beep, ms (80). §3.3 suggests 120 ms; we take 80 ms so that a
    /// 100 ms beep, which covers only 4 whole 20 ms frames when it straddles frame boundaries,
    /// is still found. Speech does not hold one frequency with 90 % of its energy that long
    /// (tested below and in `watchpost bench detection`).
    pub min_tone_ms: u32,
}

impl Default for BeepConfig {
    fn default() -> Self {
        BeepConfig {
            low_hz: 375,
            high_hz: 2050,
            step_hz: 25,
            min_share: 0.9,
            min_level: 100,
            max_drift_hz: 50,
            min_tone_ms: 80,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Run {
    start_frame: u32,
    frames: u32,
    first_hz: u32,
    hz_sum: u64,
}

/// Finds beeps in a stream of 20 ms frames: a Goertzel bank over 375–2050 Hz, a frame is tone
/// when its strongest frequency carries at least 90 % of its energy above a level floor, and a run of
/// tone frames within ±50 Hz lasting at least 80 ms is a beep, reported on the first frame
/// after it (its trailing edge), whatever ends it — speech, noise, another tone or digital
/// silence (the bug in TELEPHONY.md §3.3).
#[derive(Debug, Clone)]
pub struct BeepDetector {
    config: BeepConfig,
    bins: Vec<u32>,
    frame: u32,
    run: Option<Run>,
}

impl Default for BeepDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl BeepDetector {
    /// A detector with [`BeepConfig::default`].
    pub fn new() -> Self {
        Self::with_config(BeepConfig::default())
    }

    /// A detector with other thresholds; a `step_hz` of 0 is taken as 25.
    pub fn with_config(config: BeepConfig) -> Self {
        let step = if config.step_hz == 0 {
            25
        } else {
            config.step_hz
        };
        let bins = (config.low_hz..=config.high_hz)
            .step_by(step as usize)
            .collect();
        BeepDetector {
            config,
            bins,
            frame: 0,
            run: None,
        }
    }

    /// Takes the next 20 ms frame (160 samples at 8 kHz); returns a beep on the frame right
    /// after its last tone frame.
    pub fn push(&mut self, frame: &[i16]) -> Option<Beep> {
        let tone = self.tone(frame);
        let index = self.frame;
        self.frame += 1;
        if let (Some(run), Some(hz)) = (self.run.as_mut(), tone)
            && hz.abs_diff(run.first_hz) <= self.config.max_drift_hz
        {
            run.frames += 1;
            run.hz_sum += u64::from(hz);
            return None;
        }
        let ended = self.close();
        self.run = tone.map(|hz| Run {
            start_frame: index,
            frames: 1,
            first_hz: hz,
            hz_sum: u64::from(hz),
        });
        ended
    }

    /// Ends the stream: a beep still sounding on the last frame is reported now.
    pub fn finish(&mut self) -> Option<Beep> {
        self.close()
    }

    fn close(&mut self) -> Option<Beep> {
        let run = self.run.take()?;
        (run.frames * FRAME_MS >= self.config.min_tone_ms).then(|| Beep {
            hz: (run.hz_sum / u64::from(run.frames)) as u32,
            start_ms: run.start_frame * FRAME_MS,
            end_ms: (run.start_frame + run.frames) * FRAME_MS,
        })
    }

    /// The frequency of the frame's dominant tone, if it is one.
    fn tone(&self, frame: &[i16]) -> Option<u32> {
        if frame.is_empty() || mean_abs(frame) < u32::from(self.config.min_level) {
            return None;
        }
        let total = energy(frame);
        let n = frame.len() as f64;
        // 2·power/n over the energy: 1 for a pure sine at the bin's frequency (goertzel.rs).
        let share = |hz: f64| 2.0 * power(frame, hz) / n / total;
        let (hz, best) = self
            .bins
            .iter()
            .map(|&hz| (f64::from(hz), share(f64::from(hz))))
            .fold(
                (0.0, 0.0),
                |best, bin| if bin.1 > best.1 { bin } else { best },
            );
        // A tone between two bins shows at 80 % or more on the nearer one; look closer around
        // it, a quarter and an eighth of the spacing either side, to see it at 98 % or more.
        if best < self.config.min_share * 0.75 {
            return None;
        }
        let quarter = f64::from(self.config.step_hz.max(1)) / 4.0;
        let (hz, best) = [-2.0, -1.0, 1.0, 2.0]
            .iter()
            .map(|k| hz + k * quarter / 2.0)
            .map(|f| (f, share(f)))
            .fold(
                (hz, best),
                |best, bin| if bin.1 > best.1 { bin } else { best },
            );
        (best >= self.config.min_share).then_some(hz.round() as u32)
    }
}

/// When to start a voicemail message once a machine answered. Durations in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropConfig {
    /// Wait after the beep's trailing edge before speaking (200; TELEPHONY.md §3.3).
    pub after_beep_ms: u32,
    /// Silence after speech that means the greeting ended without a beep (2000; §3.3 gives
    /// 1.5–2.5 s).
    pub silence_ms: u32,
    /// Start anyway this long after the first frame (30 000).
    pub give_up_ms: u32,
    /// Mean absolute amplitude below which a frame is silence (256, as [`crate::AmdConfig`]).
    pub silence_threshold: u16,
}

impl Default for DropConfig {
    fn default() -> Self {
        DropConfig {
            after_beep_ms: 200,
            silence_ms: 2000,
            give_up_ms: 30_000,
            silence_threshold: 256,
        }
    }
}

/// Why the message starts now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartReason {
    /// The beep was heard and `after_beep_ms` have passed since its trailing edge.
    Beep(Beep),
    /// `silence_ms` of silence followed the greeting, and no beep came.
    Silence,
    /// `give_up_ms` passed.
    GaveUp,
}

/// The moment to start speaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageStart {
    pub reason: StartReason,
    /// Ms since the timer's first frame: the end of the frame that returned this.
    pub at_ms: u32,
}

/// Decides when a voicemail message starts: after the beep's trailing edge + 200 ms, else after
/// 2 s of silence that follows speech, else at 30 s (TELEPHONY.md §3.3). Feed it every frame
/// from the answer on, alongside [`crate::Amd`], so a beep that comes before the machine
/// verdict is not missed; act on its answer once the verdict is Machine (at once if it answered
/// earlier). Silence is only counted after some speech: a silent machine waits for `give_up_ms`.
#[derive(Debug, Clone)]
pub struct DropTimer {
    config: DropConfig,
    beeps: BeepDetector,
    total_ms: u32,
    heard_voice: bool,
    silence_run_ms: u32,
    beep: Option<Beep>,
    done: bool,
}

impl DropTimer {
    /// A timer with the default [`BeepConfig`].
    pub fn new(config: DropConfig) -> Self {
        Self::with_beep_config(config, BeepConfig::default())
    }

    /// A timer whose beep detector has other thresholds.
    pub fn with_beep_config(config: DropConfig, beep: BeepConfig) -> Self {
        DropTimer {
            config,
            beeps: BeepDetector::with_config(beep),
            total_ms: 0,
            heard_voice: false,
            silence_run_ms: 0,
            beep: None,
            done: false,
        }
    }

    /// Takes the next 20 ms frame; returns the start once, on the frame it falls in.
    pub fn push(&mut self, frame: &[i16]) -> Option<MessageStart> {
        if self.done {
            return None;
        }
        self.total_ms += FRAME_MS;
        if let Some(beep) = self.beeps.push(frame) {
            self.beep = Some(beep);
        }
        if mean_abs(frame) >= u32::from(self.config.silence_threshold) {
            self.heard_voice = true;
            self.silence_run_ms = 0;
        } else {
            self.silence_run_ms += FRAME_MS;
        }
        let reason = match self.beep {
            Some(beep) if self.total_ms >= beep.end_ms + self.config.after_beep_ms => {
                Some(StartReason::Beep(beep))
            }
            Some(_) => None,
            None if self.heard_voice && self.silence_run_ms >= self.config.silence_ms => {
                Some(StartReason::Silence)
            }
            None if self.total_ms >= self.config.give_up_ms => Some(StartReason::GaveUp),
            None => None,
        };
        self.done = reason.is_some();
        reason.map(|reason| MessageStart {
            reason,
            at_ms: self.total_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;
    use crate::amd::tests::{noise, voice};

    fn tone(hz: f64, samples: usize, amplitude: f64, phase_sample: usize) -> Vec<i16> {
        (phase_sample..phase_sample + samples)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * hz * i as f64 / 8000.0).sin()) as i16
            })
            .collect()
    }

    /// Runs the detector over the samples, 160 at a time, then `finish`.
    fn beeps(samples: &[i16]) -> Vec<Beep> {
        let mut d = BeepDetector::new();
        let mut found: Vec<Beep> = samples
            .chunks(FRAME_SAMPLES)
            .filter_map(|f| d.push(f))
            .collect();
        found.extend(d.finish());
        found
    }

    /// silence_ms of digital silence, tone of `ms` at `hz`, then `after` samples.
    fn with_beep(lead_samples: usize, hz: f64, ms: usize, after: &[i16]) -> Vec<i16> {
        let mut s = vec![0; lead_samples];
        s.extend(tone(hz, ms * 8, 6000.0, 0));
        s.extend_from_slice(after);
        s
    }

    #[test]
    fn beeps_at_440_and_2000_hz() {
        for hz in [440.0, 1000.0, 1400.0, 2000.0] {
            let s = with_beep(8000, hz, 500, &vec![0; 4000]);
            let found = beeps(&s);
            assert_eq!(found.len(), 1, "{hz} Hz: {found:?}");
            assert!(found[0].hz.abs_diff(hz as u32) <= 25, "{hz} Hz: {found:?}");
            assert_eq!((found[0].start_ms, found[0].end_ms), (1000, 1500));
        }
    }

    /// TELEPHONY.md §3.3: a run that ends because the next frame is digital silence (below the
    /// level floor) must still be reported, on that frame.
    #[test]
    fn a_beep_ended_by_digital_silence_is_reported() {
        let s = with_beep(1600, 1000.0, 300, &vec![0; FRAME_SAMPLES]);
        let mut d = BeepDetector::new();
        let results: Vec<Option<Beep>> = s.chunks(FRAME_SAMPLES).map(|f| d.push(f)).collect();
        let last = results
            .last()
            .unwrap()
            .expect("reported on the silent frame");
        assert_eq!((last.start_ms, last.end_ms), (200, 500));
        assert!(results[..results.len() - 1].iter().all(Option::is_none));
    }

    #[test]
    fn a_beep_ended_by_noise_or_speech_is_reported_at_its_edge() {
        let mut seed = 3;
        let after: Vec<i16> = (0..10)
            .flat_map(|_| noise(400, &mut seed))
            .chain(voice(3000))
            .collect();
        // The beep straddles frame boundaries: 45 samples of lead (5.6 ms).
        let found = beeps(&with_beep(45, 800.0, 400, &after));
        assert_eq!(found.len(), 1, "{found:?}");
        let true_end_ms = (45.0 + 3200.0) / 8.0;
        assert!(
            (f64::from(found[0].end_ms) - true_end_ms).abs() <= 20.0,
            "{found:?}"
        );
    }

    /// A 100 ms beep is a beep (we take 80 ms as the minimum, see `BeepConfig::min_tone_ms`)
    /// whatever its alignment with the frames; 60 ms is a blip.
    #[test]
    fn a_100_ms_beep_counts_and_a_60_ms_blip_does_not() {
        for lead in [0, 40, 80, 120] {
            let found = beeps(&with_beep(1600 + lead, 425.0, 100, &vec![0; 1600]));
            assert_eq!(found.len(), 1, "lead {lead}: {found:?}");
            let found = beeps(&with_beep(1600 + lead, 1000.0, 60, &vec![0; 1600]));
            assert!(found.is_empty(), "lead {lead}: {found:?}");
        }
    }

    #[test]
    fn speech_noise_and_two_tone_ringback_are_not_beeps() {
        // Speech-like: harmonics of a gliding 110–260 Hz voice, formant-weighted.
        let speech: Vec<i16> = (0..8000 * 3)
            .map(|i| {
                let t = i as f64 / 8000.0;
                let f0 = 110.0 + 150.0 * (t * 1.3).sin().abs();
                (1..=15)
                    .map(|h| {
                        let f = f0 * h as f64;
                        let weight = 1.0 / (1.0 + ((f - 700.0) / 300.0).powi(2))
                            + 0.5 / (1.0 + ((f - 1200.0) / 200.0).powi(2));
                        weight * (2.0 * std::f64::consts::PI * f * t).sin()
                    })
                    .sum::<f64>()
                    * 3000.0
            })
            .map(|x| x as i16)
            .collect();
        assert!(beeps(&speech).is_empty());
        let mut seed = 11;
        let hiss: Vec<i16> = (0..100).flat_map(|_| noise(1500, &mut seed)).collect();
        assert!(beeps(&hiss).is_empty());
        let ringback: Vec<i16> = tone(440.0, 16000, 4000.0, 0)
            .iter()
            .zip(tone(480.0, 16000, 4000.0, 0))
            .map(|(a, b)| a + b)
            .collect();
        assert!(beeps(&ringback).is_empty());
        let quiet = with_beep(0, 1000.0, 500, &[])
            .iter()
            .map(|s| s / 100)
            .collect::<Vec<_>>();
        assert!(beeps(&quiet).is_empty(), "below the level floor");
    }

    fn frames_of(segments: &[(u32, &str)]) -> Vec<Vec<i16>> {
        let mut out = Vec::new();
        for &(ms, kind) in segments {
            let samples = match kind {
                "voice" => (0..ms / 20).flat_map(|_| voice(3000)).collect(),
                "beep" => tone(1000.0, ms as usize * 8, 8000.0, 0),
                _ => vec![0; ms as usize * 8],
            };
            out.extend(samples.chunks(FRAME_SAMPLES).map(<[i16]>::to_vec));
        }
        out
    }

    fn drop_start(segments: &[(u32, &str)]) -> Option<MessageStart> {
        let mut timer = DropTimer::new(DropConfig::default());
        frames_of(segments).iter().find_map(|f| timer.push(f))
    }

    #[test]
    fn message_starts_200_ms_after_the_beep() {
        let start = drop_start(&[
            (3000, "voice"),
            (600, "silence"),
            (400, "beep"),
            (5000, "silence"),
        ])
        .unwrap();
        assert_eq!(
            start.reason,
            StartReason::Beep(Beep {
                hz: 1000,
                start_ms: 3600,
                end_ms: 4000
            })
        );
        assert_eq!(start.at_ms, 4200);
    }

    #[test]
    fn without_a_beep_it_starts_after_silence_or_gives_up() {
        let start = drop_start(&[(400, "silence"), (2500, "voice"), (10_000, "silence")]).unwrap();
        assert_eq!(
            (start.reason, start.at_ms),
            (StartReason::Silence, 2900 + 2000)
        );
        // A pause shorter than 2 s inside the greeting does not start it.
        let start = drop_start(&[
            (2000, "voice"),
            (1500, "silence"),
            (1000, "voice"),
            (5000, "silence"),
        ])
        .unwrap();
        assert_eq!(start.at_ms, 4500 + 2000);
        let start = drop_start(&[(40_000, "silence")]).unwrap();
        assert_eq!((start.reason, start.at_ms), (StartReason::GaveUp, 30_000));
    }
}
