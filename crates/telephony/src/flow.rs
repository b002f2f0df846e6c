//! What the center does on an answered outbound call, sans-IO: it listens (answering-machine
//! detection), speaks its message to a person, waits for the beep and leaves the message on a
//! machine, listens for "1" on a practice call, and says when to hang up. The driver feeds it
//! the contact's 20 ms frames, digits and ticks, and carries out its steps.

use std::sync::Arc;
use watchpost_core::Input;
use watchpost_core::alarm::CallId;
use watchpost_media::amd::{Amd, AmdConfig, Answer, Verdict};
use watchpost_media::beep::{DropConfig, DropTimer, MessageStart, StartReason};

/// What the flow asks of the driver.
#[derive(Debug, Clone)]
pub enum Step {
    /// Give the engine this input (`Answered`, `Voicemail`, `AgentJoined`, `CallEnded`).
    Report(Input),
    /// Play these 8 kHz samples to the contact from now on, replacing what was playing.
    Play(Arc<Vec<i16>>),
    /// End the call (BYE).
    HangUp,
    /// A machine answered an agent call: let the agent go at once, to call the next contact;
    /// the center stays on the line to leave the message.
    ReleaseAgent,
    /// The detector's verdict, for the call's record and the diagnostic command.
    Detected(Verdict),
    /// Where the voicemail message started, for the record.
    MessageStarted(MessageStart),
}

/// Who is on the center's side of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// An automated call: the center speaks `message`; on a machine the detector decides
    /// alone (TELEPHONY.md §3.4). `offers_agent`: the message ends with "press 1".
    Automated { offers_agent: bool },
    /// A call with an agent, who hears the greeting and can overturn the detector.
    Agent,
}

enum Phase {
    Listening(Box<Amd>),
    /// A machine answered: waiting for the beep, and for the engine's message.
    Dropping {
        timer: Box<DropTimer>,
        /// When the timer started, since the answer: its times count from there.
        since_ms: u32,
        start: Option<MessageStart>,
        message: Option<Arc<Vec<i16>>>,
    },
    /// Playing to the end; then hang up, or wait for "1".
    Speaking {
        then: Then,
    },
    PressOne {
        until_ms: u32,
    },
    /// A person is on the line with an agent (or the call is done): nothing more to do here.
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    HangUp,
    PressOne,
}

/// One answered call.
pub struct Flow {
    call: CallId,
    side: Side,
    message: Option<Arc<Vec<i16>>>,
    drop: DropConfig,
    press_one_ms: u32,
    /// Milliseconds since the answer, by frames heard or ticks, whichever is later.
    now_ms: u32,
    phase: Phase,
    /// The drop timer runs from the answer, beside the detector, so a beep heard before the
    /// verdict (a short greeting) is not missed; with the time the message may start, if found.
    early: Option<(Box<DropTimer>, Option<MessageStart>)>,
}

impl Flow {
    /// A call answered now. `message` is what an automated call says to a person (rendered
    /// already, so a person never waits on the voice). `press_one_ms`: how long to wait for
    /// "1" after the message.
    pub fn answered(
        call: CallId,
        side: Side,
        message: Option<Arc<Vec<i16>>>,
        amd: AmdConfig,
        drop: DropConfig,
        press_one_ms: u32,
    ) -> Flow {
        Flow {
            call,
            side,
            message,
            early: Some((Box::new(DropTimer::new(drop.clone())), None)),
            drop,
            press_one_ms,
            now_ms: 0,
            phase: Phase::Listening(Box::new(Amd::new(amd))),
        }
    }

    /// A call the center answered and bridges to an agent (a call back): nothing to detect.
    pub fn bridged(call: CallId) -> Flow {
        Flow {
            call,
            side: Side::Agent,
            message: None,
            drop: DropConfig::default(),
            press_one_ms: 0,
            now_ms: 0,
            phase: Phase::Done,
            early: None,
        }
    }

    /// The contact's next 20 ms frame (160 samples at 8 kHz).
    pub fn heard(&mut self, frame: &[i16]) -> Vec<Step> {
        self.now_ms += watchpost_media::FRAME_MS;
        let mut steps = Vec::new();
        if let Some((timer, start @ None)) = &mut self.early {
            *start = timer.push(frame);
        }
        match &mut self.phase {
            Phase::Listening(amd) => {
                if let Some(verdict) = amd.push(frame) {
                    steps.push(Step::Detected(verdict.clone()));
                    self.decide(verdict.answer, &mut steps);
                }
            }
            Phase::Dropping {
                timer,
                since_ms,
                start,
                ..
            } => {
                if let (None, Some(at)) = (&start, timer.push(frame)) {
                    let at = since_answer(at, *since_ms);
                    steps.push(Step::MessageStarted(at));
                    *start = Some(at);
                    self.leave_message(&mut steps);
                }
            }
            _ => {}
        }
        self.timers(&mut steps);
        steps
    }

    /// Wall-clock time since the answer, every 20 ms or so: a peer that sends no RTP still
    /// gets a verdict, a beep wait still gives up, a press-1 wait still ends.
    pub fn tick(&mut self, since_answer_ms: u32) -> Vec<Step> {
        let mut steps = Vec::new();
        if since_answer_ms > self.now_ms + 200 {
            // Nothing heard for a while: the time passes as silence.
            while self.now_ms + watchpost_media::FRAME_MS <= since_answer_ms {
                steps.extend(self.heard(&[0; watchpost_media::FRAME_SAMPLES]));
            }
            return steps;
        }
        self.timers(&mut steps);
        steps
    }

    /// The person pressed a key (RFC 4733 or in-band).
    pub fn digit(&mut self, digit: char) -> Vec<Step> {
        let offers_agent = matches!(self.side, Side::Automated { offers_agent: true });
        let listening = matches!(self.phase, Phase::Speaking { .. } | Phase::PressOne { .. });
        if digit == '1' && offers_agent && listening {
            self.phase = Phase::Done;
            return vec![
                Step::Play(Arc::new(Vec::new())),
                Step::Report(Input::AgentJoined { call: self.call }),
            ];
        }
        Vec::new()
    }

    /// The engine's voicemail message, rendered (`Action::LeaveVoicemail`). On an agent call
    /// taken for a person, it is the agent saying "it's voicemail": the center takes over.
    pub fn voicemail_message(&mut self, samples: Arc<Vec<i16>>) -> Vec<Step> {
        let mut steps = Vec::new();
        if self.side == Side::Agent && !matches!(self.phase, Phase::Dropping { .. }) {
            self.start_dropping(&mut steps);
        }
        if let Phase::Dropping { message, .. } = &mut self.phase {
            *message = Some(samples);
            self.leave_message(&mut steps);
        }
        steps
    }

    /// An agent said the machine is a person (`Action::ConnectAgent`): stop waiting for the
    /// beep or playing the message; the driver connects an agent. Empty when the center is
    /// not leaving a message on an agent's call (nothing to overturn).
    pub fn overturn(&mut self) -> Vec<Step> {
        let leaving = matches!(self.phase, Phase::Dropping { .. } | Phase::Speaking { .. });
        if self.side != Side::Agent || !leaving {
            return Vec::new();
        }
        self.phase = Phase::Done;
        self.early = None;
        vec![Step::Play(Arc::new(Vec::new()))]
    }

    /// Whether the center is on the line to leave a voicemail message.
    pub fn dropping(&self) -> bool {
        matches!(self.phase, Phase::Dropping { .. })
    }

    fn decide(&mut self, answer: Answer, steps: &mut Vec<Step>) {
        // An unsure detector on an automated call speaks to a person: a person must never
        // wait in silence, and the message plays to its end on a machine too.
        let machine = answer == Answer::Machine;
        if machine {
            steps.push(Step::Report(Input::Voicemail { call: self.call }));
            self.start_dropping(steps);
            return;
        }
        steps.push(Step::Report(Input::Answered { call: self.call }));
        // An agent may still say "it's voicemail": keep listening for the beep meanwhile.
        if self.side != Side::Agent {
            self.early = None;
        }
        match (self.side, &self.message) {
            (Side::Automated { offers_agent }, Some(message)) => {
                steps.push(Step::Play(message.clone()));
                self.phase = Phase::Speaking {
                    then: if offers_agent {
                        Then::PressOne
                    } else {
                        Then::HangUp
                    },
                };
            }
            _ => self.phase = Phase::Done,
        }
    }

    fn start_dropping(&mut self, steps: &mut Vec<Step>) {
        if self.side == Side::Agent {
            steps.push(Step::ReleaseAgent);
        }
        self.phase = match self.early.take() {
            // Listening from the answer: the timer's times are the call's.
            Some((timer, start)) => {
                if let Some(start) = start {
                    steps.push(Step::MessageStarted(start));
                }
                Phase::Dropping {
                    timer,
                    since_ms: 0,
                    start,
                    message: None,
                }
            }
            None => Phase::Dropping {
                timer: Box::new(DropTimer::new(self.drop.clone())),
                since_ms: self.now_ms,
                start: None,
                message: None,
            },
        };
    }

    fn leave_message(&mut self, steps: &mut Vec<Step>) {
        if let Phase::Dropping {
            start: Some(_),
            message: Some(message),
            ..
        } = &self.phase
        {
            let message = message.clone();
            steps.push(Step::Play(message.clone()));
            self.phase = Phase::Speaking { then: Then::HangUp };
        }
    }

    /// The message asked for last has played to its end.
    pub fn played(&mut self) -> Vec<Step> {
        let mut steps = Vec::new();
        if let Phase::Speaking { then } = self.phase {
            match then {
                Then::HangUp => self.finish(&mut steps),
                Then::PressOne => {
                    self.phase = Phase::PressOne {
                        until_ms: self.now_ms + self.press_one_ms,
                    }
                }
            }
        }
        steps
    }

    fn timers(&mut self, steps: &mut Vec<Step>) {
        match self.phase {
            Phase::PressOne { until_ms } if self.now_ms >= until_ms => self.finish(steps),
            _ => {}
        }
    }

    fn finish(&mut self, steps: &mut Vec<Step>) {
        self.phase = Phase::Done;
        steps.push(Step::HangUp);
        steps.push(Step::Report(Input::CallEnded { call: self.call }));
    }
}

/// A drop timer's times, which count from the machine's verdict, counted from the answer.
fn since_answer(mut at: MessageStart, since_ms: u32) -> MessageStart {
    at.at_ms += since_ms;
    if let StartReason::Beep(beep) = &mut at.reason {
        beep.start_ms += since_ms;
        beep.end_ms += since_ms;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use watchpost_media::FRAME_SAMPLES;

    /// 20 ms frames of `ms` of speech-like noise (a word) or silence, or a tone.
    fn noise(ms: u32, seed: &mut u32) -> Vec<Vec<i16>> {
        (0..ms / 20)
            .map(|_| {
                (0..FRAME_SAMPLES)
                    .map(|_| {
                        *seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        (*seed >> 16) as i16 % 6000
                    })
                    .collect()
            })
            .collect()
    }
    fn silence(ms: u32) -> Vec<Vec<i16>> {
        vec![vec![0; FRAME_SAMPLES]; (ms / 20) as usize]
    }
    fn tone(hz: f64, ms: u32) -> Vec<Vec<i16>> {
        let samples: Vec<i16> = (0..ms as usize * 8)
            .map(|n| (8000.0 * (2.0 * std::f64::consts::PI * hz * n as f64 / 8000.0).sin()) as i16)
            .collect();
        samples.chunks(FRAME_SAMPLES).map(<[i16]>::to_vec).collect()
    }

    fn flow(side: Side) -> Flow {
        let message = Arc::new(vec![100i16; 8000]);
        Flow::answered(
            7,
            side,
            Some(message),
            AmdConfig::default(),
            DropConfig::default(),
            4000,
        )
    }

    fn feed(flow: &mut Flow, frames: Vec<Vec<i16>>) -> Vec<Step> {
        frames.iter().flat_map(|f| flow.heard(f)).collect()
    }

    fn reports(steps: &[Step]) -> Vec<Input> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Report(input) => Some(input.clone()),
                _ => None,
            })
            .collect()
    }

    /// Eight words of a greeting, then a beep and silence: a machine.
    fn machine() -> Vec<Vec<i16>> {
        let mut seed = 1;
        let mut frames = Vec::new();
        for _ in 0..8 {
            frames.extend(noise(300, &mut seed));
            frames.extend(silence(120));
        }
        frames.extend(silence(400));
        frames.extend(tone(1000.0, 500));
        frames.extend(silence(3000));
        frames
    }

    #[test]
    fn a_person_hears_the_message_then_the_call_ends() {
        let mut f = flow(Side::Automated {
            offers_agent: false,
        });
        let mut seed = 9;
        let mut frames = noise(400, &mut seed);
        frames.extend(silence(3000));
        let steps = feed(&mut f, frames);
        assert_eq!(reports(&steps), [Input::Answered { call: 7 }]);
        assert!(
            steps
                .iter()
                .any(|s| matches!(s, Step::Play(m) if m.len() == 8000))
        );
        let end = f.played();
        assert!(matches!(
            end[..],
            [Step::HangUp, Step::Report(Input::CallEnded { call: 7 })]
        ));
    }

    #[test]
    fn a_machine_gets_the_message_after_its_beep() {
        let mut f = flow(Side::Automated {
            offers_agent: false,
        });
        let mut steps = Vec::new();
        let mut asked = false;
        for frame in machine() {
            steps.extend(f.heard(&frame));
            if !asked && reports(&steps).contains(&Input::Voicemail { call: 7 }) {
                // The engine answers with its voicemail message.
                asked = true;
                steps.extend(f.voicemail_message(Arc::new(vec![5; 800])));
            }
        }
        assert_eq!(reports(&steps), [Input::Voicemail { call: 7 }]);
        let start = steps
            .iter()
            .find_map(|s| match s {
                Step::MessageStarted(start) => Some(*start),
                _ => None,
            })
            .expect("the message started");
        let StartReason::Beep(beep) = start.reason else {
            panic!("no beep: {start:?}")
        };
        // 8 words of 420 ms and 400 ms of silence: the beep is from 3.76 s to 4.26 s.
        assert!(beep.end_ms.abs_diff(4260) <= 40, "{beep:?}");
        assert!(start.at_ms > beep.end_ms, "{start:?}");
        let played = steps
            .iter()
            .position(|s| matches!(s, Step::Play(m) if m.len() == 800));
        assert!(played.is_some(), "the message was never played");
    }

    #[test]
    fn pressing_1_stops_the_message_and_asks_for_an_agent() {
        let mut f = flow(Side::Automated { offers_agent: true });
        let mut seed = 3;
        let mut frames = noise(400, &mut seed);
        frames.extend(silence(2000));
        feed(&mut f, frames);
        assert!(f.digit('2').is_empty());
        let steps = f.digit('1');
        assert!(matches!(&steps[0], Step::Play(m) if m.is_empty()));
        assert_eq!(reports(&steps), [Input::AgentJoined { call: 7 }]);
        // Once is enough.
        assert!(f.digit('1').is_empty());
    }

    #[test]
    fn without_the_offer_1_does_nothing_and_the_call_ends_after_the_message() {
        let mut f = flow(Side::Automated {
            offers_agent: false,
        });
        let mut seed = 3;
        let mut frames = noise(400, &mut seed);
        frames.extend(silence(2000));
        feed(&mut f, frames);
        assert!(f.digit('1').is_empty());
    }

    #[test]
    fn a_practice_call_waits_for_1_after_its_message_then_hangs_up() {
        let mut f = flow(Side::Automated { offers_agent: true });
        let mut seed = 3;
        let mut frames = noise(400, &mut seed);
        frames.extend(silence(2000));
        feed(&mut f, frames);
        assert!(f.played().is_empty(), "it waits for 1");
        let steps = feed(&mut f, silence(4100));
        assert_eq!(reports(&steps), [Input::CallEnded { call: 7 }]);
    }

    #[test]
    fn a_machine_on_an_agent_call_releases_the_agent() {
        let mut f = flow(Side::Agent);
        let steps = feed(&mut f, machine());
        let voicemail = steps
            .iter()
            .position(|s| matches!(s, Step::Report(Input::Voicemail { .. })))
            .expect("a machine verdict");
        assert!(matches!(steps[voicemail + 1], Step::ReleaseAgent));
        assert!(f.dropping());
    }

    #[test]
    fn an_agent_who_hears_a_machine_after_a_person_verdict_hands_it_to_the_center() {
        let mut f = flow(Side::Agent);
        let mut seed = 5;
        let mut frames = noise(400, &mut seed);
        frames.extend(silence(2000));
        let steps = feed(&mut f, frames);
        assert_eq!(reports(&steps), [Input::Answered { call: 7 }]);
        // The agent's "Voicemail": the engine sends its message. The greeting was followed by
        // 2 s of silence already (the drop timer listened from the answer): it starts now.
        let steps = f.voicemail_message(Arc::new(vec![5; 800]));
        assert!(matches!(steps[0], Step::ReleaseAgent), "{steps:?}");
        assert!(
            steps
                .iter()
                .any(|s| matches!(s, Step::Play(m) if m.len() == 800)),
            "{steps:?}"
        );
    }

    #[test]
    fn an_agent_who_hears_a_person_after_a_machine_verdict_stops_the_message() {
        let mut f = flow(Side::Agent);
        feed(&mut f, machine());
        assert!(f.dropping());
        let steps = f.overturn();
        assert!(
            matches!(&steps[..], [Step::Play(m)] if m.is_empty()),
            "{steps:?}"
        );
        assert!(!f.dropping());
        // Nothing more happens on its own: no message, no hang-up, whatever is heard.
        let mut seed = 11;
        let later = feed(&mut f, noise(3000, &mut seed));
        assert!(later.is_empty(), "{later:?}");
        // "It's voicemail" after all: the center takes the line back.
        let steps = f.voicemail_message(Arc::new(vec![5; 800]));
        assert!(matches!(steps[0], Step::ReleaseAgent), "{steps:?}");
        assert!(f.dropping());

        // An automated call is the detector's alone.
        let mut f = flow(Side::Automated {
            offers_agent: false,
        });
        feed(&mut f, machine());
        assert!(f.overturn().is_empty());
    }

    #[test]
    fn a_peer_that_sends_nothing_still_gets_a_verdict() {
        let mut f = flow(Side::Automated {
            offers_agent: false,
        });
        let steps = f.tick(6000);
        assert_eq!(reports(&steps), [Input::Voicemail { call: 7 }], "{steps:?}");
    }
}
