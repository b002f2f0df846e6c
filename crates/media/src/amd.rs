//! Answering-machine detection: the Asterisk `AMD()` energy and timing classifier, written from
//! its description (TELEPHONY.md §3.1), not from its GPL code.
//!
//! Each 20 ms frame is voice when its mean absolute amplitude reaches `silence_threshold`,
//! else silence. A word is at least `minimum_word_ms` of voice after at least
//! `between_words_silence_ms` of silence; the first voice ends the initial silence and starts
//! the greeting. People say a word or two and wait; machines talk on. One rule is ours, not
//! Asterisk's: a beep heard before the verdict makes it a machine.

use crate::beep::BeepDetector;
use crate::{FRAME_MS, mean_abs};

/// The classifier's thresholds; all durations are milliseconds of audio fed, counted in 20 ms
/// frames. [`AmdConfig::asterisk`] gives Asterisk's defaults (TELEPHONY.md §3.1,
/// `amd.conf.sample`). `Default` is tuned on the `watchpost bench detection` corpus (seed 1),
/// because Asterisk's missed its targets there: 25 % of people who answer with a sentence
/// ("Hello, this is John speaking") were taken for machines. It differs in three values,
/// noted on each field, and adds the beep rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmdConfig {
    /// Longest silence before the first word; exceeding it → Machine, "initial_silence"
    /// (2500 ms).
    pub initial_silence_ms: u32,
    /// Longest total voice in the greeting; reaching it → Machine, "long_greeting" (2500 ms;
    /// Asterisk 1500).
    pub greeting_ms: u32,
    /// Silence after the greeting that makes it a person → Person, "after_greeting_silence"
    /// (1500 ms; Asterisk 800). Longer waits let the beep of a short greeting arrive first.
    pub after_greeting_silence_ms: u32,
    /// Give up → NotSure, "too_long" (5000 ms).
    pub total_analysis_ms: u32,
    /// Shortest voice that counts as a word (100 ms).
    pub minimum_word_ms: u32,
    /// Silence that separates two words (50 ms).
    pub between_words_silence_ms: u32,
    /// Words that make it a machine → Machine, "max_words" (6; Asterisk 3).
    pub maximum_words: u32,
    /// Mean absolute amplitude (0–32767 scale) at or above which a frame is voice (256).
    pub silence_threshold: u16,
    /// Longest single utterance; reaching it → Machine, "max_word_length" (5000 ms).
    pub maximum_word_ms: u32,
    /// Not in Asterisk: a beep ([`BeepDetector`], TELEPHONY.md §3.3) heard before any other
    /// verdict → Machine, "beep" (true; `asterisk()`: false). A short greeting ("Leave a message.") is as long as a
    /// person's "Hello, this is John speaking"; the beep after it is what tells them apart.
    pub beep_is_machine: bool,
}

impl Default for AmdConfig {
    fn default() -> Self {
        AmdConfig {
            greeting_ms: 2500,
            after_greeting_silence_ms: 1500,
            maximum_words: 6,
            beep_is_machine: true,
            ..AmdConfig::asterisk()
        }
    }
}

impl AmdConfig {
    /// Asterisk `AMD()`'s defaults (TELEPHONY.md §3.1), without the beep rule.
    pub fn asterisk() -> AmdConfig {
        AmdConfig {
            initial_silence_ms: 2500,
            greeting_ms: 1500,
            after_greeting_silence_ms: 800,
            total_analysis_ms: 5000,
            minimum_word_ms: 100,
            between_words_silence_ms: 50,
            maximum_words: 3,
            silence_threshold: 256,
            maximum_word_ms: 5000,
            beep_is_machine: false,
        }
    }
}

/// Who answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Person,
    Machine,
    /// Nothing decided within `total_analysis_ms`. On agent calls lean to Person
    /// (TELEPHONY.md §6).
    NotSure,
}

/// The classifier's decision and why (like Asterisk's AMDSTATUS and AMDCAUSE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub answer: Answer,
    /// One of "initial_silence", "after_greeting_silence", "max_words", "long_greeting",
    /// "max_word_length", "too_long", and "beep" (see [`AmdConfig::beep_is_machine`]).
    pub cause: &'static str,
    /// Milliseconds of audio fed when the decision was made (since the answer).
    pub at_ms: u32,
    /// Milliseconds of voice heard in total.
    pub greeting_ms: u32,
    /// Words counted.
    pub words: u32,
}

/// The classifier for one answered call: feed it every 20 ms frame from the answer on.
#[derive(Debug, Clone)]
pub struct Amd {
    config: AmdConfig,
    total_ms: u32,
    voice_ms: u32,
    silence_run_ms: u32,
    voice_run_ms: u32,
    words: u32,
    in_word: bool,
    in_greeting: bool,
    decided: bool,
    beeps: BeepDetector,
}

impl Amd {
    pub fn new(config: AmdConfig) -> Amd {
        Amd {
            config,
            total_ms: 0,
            voice_ms: 0,
            silence_run_ms: 0,
            voice_run_ms: 0,
            words: 0,
            in_word: false,
            in_greeting: false,
            decided: false,
            beeps: BeepDetector::new(),
        }
    }

    /// Takes the next 20 ms frame (160 samples at 8 kHz; a lost frame is passed as silence).
    /// Returns the verdict once, on the frame that decides it, and `None` before and after.
    pub fn push(&mut self, frame: &[i16]) -> Option<Verdict> {
        if self.decided {
            return None;
        }
        let beep = self.config.beep_is_machine && self.beeps.push(frame).is_some();
        let mut verdict = self.step(mean_abs(frame) >= u32::from(self.config.silence_threshold));
        if beep && verdict.as_ref().is_none_or(|v| v.answer != Answer::Machine) {
            verdict = Some(self.verdict(Answer::Machine, "beep"));
        }
        self.decided = verdict.is_some();
        verdict
    }

    fn step(&mut self, voice: bool) -> Option<Verdict> {
        use Answer::{Machine, NotSure, Person};
        let c = &self.config;
        self.total_ms += FRAME_MS;
        // The rules below are checked in Asterisk's order (TELEPHONY.md §3.1).
        if self.total_ms >= c.total_analysis_ms {
            return Some(self.verdict(NotSure, "too_long"));
        }
        if voice {
            self.silence_run_ms = 0;
            self.voice_run_ms += FRAME_MS;
            self.voice_ms += FRAME_MS;
            if self.voice_run_ms >= c.minimum_word_ms && !self.in_word {
                self.in_word = true;
                self.words += 1;
            }
            if self.voice_run_ms >= c.maximum_word_ms {
                return Some(self.verdict(Machine, "max_word_length"));
            }
            if self.words >= c.maximum_words {
                return Some(self.verdict(Machine, "max_words"));
            }
            if self.in_greeting && self.voice_ms >= c.greeting_ms {
                return Some(self.verdict(Machine, "long_greeting"));
            }
            if !self.in_greeting && self.voice_ms >= c.minimum_word_ms {
                self.in_greeting = true;
            }
        } else {
            self.silence_run_ms += FRAME_MS;
            if self.silence_run_ms >= c.between_words_silence_ms {
                self.in_word = false;
                self.voice_run_ms = 0;
            }
            if !self.in_greeting && self.silence_run_ms >= c.initial_silence_ms {
                return Some(self.verdict(Machine, "initial_silence"));
            }
            if self.in_greeting && self.silence_run_ms >= c.after_greeting_silence_ms {
                return Some(self.verdict(Person, "after_greeting_silence"));
            }
        }
        None
    }

    fn verdict(&self, answer: Answer, cause: &'static str) -> Verdict {
        Verdict {
            answer,
            cause,
            at_ms: self.total_ms,
            greeting_ms: self.voice_ms,
            words: self.words,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::FRAME_SAMPLES;

    /// A frame of "speech": a 300 Hz buzz with the given mean absolute amplitude, roughly.
    pub(crate) fn voice(level: i16) -> Vec<i16> {
        (0..FRAME_SAMPLES)
            .map(|i| {
                let x = (2.0 * std::f64::consts::PI * 300.0 * i as f64 / 8000.0).sin();
                (x * f64::from(level) * 1.57) as i16
            })
            .collect()
    }

    /// Deterministic noise of about the given mean absolute amplitude.
    pub(crate) fn noise(level: i16, seed: &mut u32) -> Vec<i16> {
        (0..FRAME_SAMPLES)
            .map(|_| {
                *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let uniform = f64::from(*seed >> 8) / f64::from(1u32 << 24) * 2.0 - 1.0;
                (uniform * 2.0 * f64::from(level)) as i16
            })
            .collect()
    }

    /// Feeds `(ms, voice?)` segments and returns the verdict, if any.
    fn run(config: AmdConfig, segments: &[(u32, bool)]) -> Option<Verdict> {
        let mut amd = Amd::new(config);
        let mut verdict = None;
        let mut seed = 7;
        for &(ms, is_voice) in segments {
            for _ in 0..ms / FRAME_MS {
                let frame = if is_voice {
                    voice(3000)
                } else {
                    noise(60, &mut seed)
                };
                if let Some(v) = amd.push(&frame) {
                    assert!(verdict.is_none(), "a second verdict");
                    verdict = Some(v);
                }
            }
        }
        verdict
    }

    #[test]
    fn a_person_says_hello_and_waits() {
        let v = run(
            AmdConfig::asterisk(),
            &[(600, false), (500, true), (2000, false)],
        )
        .unwrap();
        assert_eq!(
            (v.answer, v.cause),
            (Answer::Person, "after_greeting_silence")
        );
        assert_eq!((v.at_ms, v.greeting_ms, v.words), (1900, 500, 1));
    }

    #[test]
    fn a_machine_talks_in_many_words() {
        let speech: Vec<(u32, bool)> = (0..10).flat_map(|_| [(300, true), (100, false)]).collect();
        let v = run(AmdConfig::asterisk(), &speech).unwrap();
        assert_eq!(
            (v.answer, v.cause, v.words),
            (Answer::Machine, "max_words", 3)
        );
        assert_eq!(v.at_ms, 2 * 400 + 100);
    }

    #[test]
    fn one_long_utterance_is_a_long_greeting() {
        let v = run(AmdConfig::asterisk(), &[(200, false), (3000, true)]).unwrap();
        assert_eq!(
            (v.answer, v.cause, v.at_ms, v.greeting_ms),
            (Answer::Machine, "long_greeting", 1700, 1500)
        );
        let patient = AmdConfig {
            greeting_ms: 10_000,
            total_analysis_ms: 20_000,
            ..AmdConfig::asterisk()
        };
        let v = run(patient, &[(6000, true)]).unwrap();
        assert_eq!((v.cause, v.at_ms), ("max_word_length", 5000));
    }

    #[test]
    fn silence_is_a_machine_and_endless_chatter_is_not_sure() {
        let v = run(AmdConfig::asterisk(), &[(4000, false)]).unwrap();
        assert_eq!(
            (v.answer, v.cause, v.at_ms),
            (Answer::Machine, "initial_silence", 2500)
        );
        let slow = AmdConfig {
            maximum_words: 100,
            greeting_ms: 100_000,
            ..AmdConfig::asterisk()
        };
        let speech: Vec<(u32, bool)> = (0..20).flat_map(|_| [(300, true), (400, false)]).collect();
        let v = run(slow, &speech).unwrap();
        assert_eq!(
            (v.answer, v.cause, v.at_ms),
            (Answer::NotSure, "too_long", 5000)
        );
    }

    #[test]
    fn a_beep_after_a_short_greeting_is_a_machine() {
        let mut frames: Vec<Vec<i16>> = Vec::new();
        frames.extend((0..50).map(|_| voice(3000))); // 1 s "Leave a message."
        frames.extend((0..20).map(|_| vec![0; FRAME_SAMPLES])); // 400 ms pause
        let beep: Vec<i16> = (0..8 * 300)
            .map(|i| {
                (6000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        frames.extend(beep.chunks(FRAME_SAMPLES).map(<[i16]>::to_vec));
        frames.extend((0..100).map(|_| vec![0; FRAME_SAMPLES]));
        let verdict = |config: AmdConfig| {
            let mut amd = Amd::new(config);
            frames.iter().find_map(|f| amd.push(f)).unwrap()
        };
        let v = verdict(AmdConfig::default());
        assert_eq!(
            (v.answer, v.cause, v.at_ms),
            (Answer::Machine, "beep", 1700 + 20)
        );
        let asterisk = verdict(AmdConfig {
            beep_is_machine: false,
            ..AmdConfig::asterisk()
        });
        assert_eq!(
            (asterisk.answer, asterisk.cause),
            (Answer::Person, "after_greeting_silence")
        );
    }

    /// "Hello, this is John speaking": four words and 1.6 s of voice, then waiting.
    #[test]
    fn a_sentence_is_a_person_by_default_and_a_machine_for_asterisk() {
        let sentence: Vec<(u32, bool)> = [(500, false)]
            .into_iter()
            .chain((0..4).flat_map(|_| [(400, true), (100, false)]))
            .chain([(3000, false)])
            .collect();
        let v = run(AmdConfig::default(), &sentence).unwrap();
        assert_eq!((v.answer, v.words), (Answer::Person, 4));
        let v = run(AmdConfig::asterisk(), &sentence).unwrap();
        assert_eq!((v.answer, v.cause), (Answer::Machine, "max_words"));
    }

    #[test]
    fn short_blips_are_not_words_and_a_verdict_comes_once() {
        // 60 ms clicks between silences never make a word, so no max_words verdict.
        let clicks: Vec<(u32, bool)> = (0..20).flat_map(|_| [(60, true), (200, false)]).collect();
        let v = run(AmdConfig::asterisk(), &clicks);
        assert_eq!(v.map(|v| v.cause), Some("too_long"));
    }
}
