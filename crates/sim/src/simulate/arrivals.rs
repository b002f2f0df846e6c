//! The alarms of a run: a Poisson process (the rate multiplied inside storms), each alarm's
//! account and kind, whether it is disarmed and when, and how each of its contacts will behave
//! on the phone. Drawn from the seed in a fixed order, so every automation level replays the
//! same alarms and the same people.

use super::config::{Answer, Config, Volume};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use watchpost_core::{AlarmKind, Millis};

/// Contacts an account can have at most.
pub const MAX_CONTACTS: usize = 3;

/// How one contact behaves on every call of one alarm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Person {
    pub answers: Answer,
    /// Picks up after this long (a human; voicemail uses the timing's fixed delay).
    pub answer_ms: Millis,
    /// An agent conversation with them takes this long.
    pub talk_ms: Millis,
    pub knows_password: bool,
    pub says_cancel: bool,
    pub wants_agent: bool,
}

/// One generated alarm signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    /// Its number in the run, from 0.
    pub index: u64,
    /// Milliseconds after the run's start.
    pub at: Millis,
    pub account: u32,
    pub kind: AlarmKind,
    /// A keypad disarm this long after the signal.
    pub disarm_after: Option<Millis>,
    pub people: [Person; MAX_CONTACTS],
}

/// Separates the arrivals' random stream from the accounts'.
const STREAM: u64 = 0x6172_7269_7661_6c73;

/// The run's alarms, in order of arrival.
pub struct Arrivals<'a> {
    config: &'a Config,
    rng: ChaCha8Rng,
    /// Virtual time of the last arrival (ms, fractional).
    t: f64,
    count: u64,
    mix_total: f64,
    answers_total: f64,
}

impl<'a> Arrivals<'a> {
    pub fn new(config: &'a Config) -> Arrivals<'a> {
        let a = config.answers;
        Arrivals {
            config,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ STREAM),
            t: 0.0,
            count: 0,
            mix_total: config.mix.iter().map(|(_, w)| w).sum(),
            answers_total: a.human + a.voicemail + a.no_answer + a.busy,
        }
    }

    /// The rate multiplier at time `t` and when it next changes.
    fn factor_at(&self, t: f64) -> (f64, f64) {
        let mut factor = 1.0;
        let mut next = f64::INFINITY;
        for s in &self.config.storms {
            let (start, end) = (s.start as f64, (s.start + s.duration) as f64);
            if t >= start && t < end {
                factor *= s.factor;
                next = next.min(end);
            } else if t < start {
                next = next.min(start);
            }
        }
        (factor, next)
    }

    /// The next arrival time after `self.t`, by integrating the piecewise-constant rate.
    fn next_time(&mut self) -> Option<f64> {
        let base = self.config.rate_per_hour / 3_600_000.0;
        let mut need: f64 = -(1.0 - self.rng.r#gen::<f64>()).ln();
        let mut t = self.t;
        loop {
            let (factor, until) = self.factor_at(t);
            let rate = base * factor;
            if rate > 0.0 {
                let dt = need / rate;
                if t + dt < until {
                    return Some(t + dt);
                }
                need -= (until - t) * rate;
            }
            if !until.is_finite() {
                return None;
            }
            t = until;
        }
    }

    fn person(&mut self) -> Person {
        let c = self.config;
        let a = c.answers;
        let u = self.rng.r#gen::<f64>() * self.answers_total;
        let answers = if u < a.human {
            Answer::Human
        } else if u < a.human + a.voicemail {
            Answer::Voicemail
        } else if u < a.human + a.voicemail + a.no_answer {
            Answer::NoAnswer
        } else {
            Answer::Busy
        };
        let jitter = |rng: &mut ChaCha8Rng, mean: Millis| {
            ((mean as f64) * rng.gen_range(0.5..1.5)).round() as Millis
        };
        Person {
            answers,
            answer_ms: jitter(&mut self.rng, c.timing.answer_after),
            talk_ms: jitter(&mut self.rng, c.timing.conversation),
            knows_password: self.rng.r#gen::<f64>() < c.knows_password,
            says_cancel: self.rng.r#gen::<f64>() < c.says_cancel,
            wants_agent: self.rng.r#gen::<f64>() < c.wants_agent,
        }
    }
}

impl Iterator for Arrivals<'_> {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        if let Volume::Alarms(n) = self.config.volume
            && self.count >= n
        {
            return None;
        }
        let t = self.next_time()?;
        if let Volume::Hours(h) = self.config.volume
            && t >= h * 3_600_000.0
        {
            return None;
        }
        self.t = t;
        let account = self.rng.gen_range(0..self.config.accounts.max(1));
        let mut u = self.rng.r#gen::<f64>() * self.mix_total;
        let mut kind = self.config.mix[0].0;
        for (k, w) in &self.config.mix {
            if *w > 0.0 {
                kind = *k;
                if u < *w {
                    break;
                }
                u -= w;
            }
        }
        let disarmed = self.rng.r#gen::<f64>() < self.config.disarm_share;
        let disarm_after = self.rng.gen_range(30_000..300_000);
        let people = [self.person(), self.person(), self.person()];
        let index = self.count;
        self.count += 1;
        Some(Arrival {
            index,
            at: t.round() as Millis,
            account,
            kind,
            disarm_after: (disarmed && kind == AlarmKind::Burglary).then_some(disarm_after),
            people,
        })
    }
}
