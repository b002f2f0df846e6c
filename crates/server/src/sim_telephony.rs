//! Simulated telephony for demos and training, in real time: simulated people answer the
//! engine's calls (a person, voicemail, no answer or busy), and a simulated agent relays what
//! they say — unless a human agent has taken the alarm, who then checks the password and
//! records the decision at the console. The same inputs an agent would give, through the same
//! commands, so the engine cannot tell the difference.

use crate::board::Board;
use crate::intake::Commands;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use watchpost_center::Effect;
use watchpost_core::alarm::{CallId, CallResult, Decision, Purpose};
use watchpost_core::{Action, Input};
use watchpost_store::AlarmId;

/// How long things take on the phone, and how people answer.
#[derive(Debug, Clone)]
pub struct Telephony {
    pub dial: Duration,
    pub answer_after: Duration,
    pub voicemail_after: Duration,
    pub detect_voicemail: Duration,
    pub ring_timeout: Duration,
    pub busy_after: Duration,
    pub conversation: Duration,
    pub message: Duration,
}

impl Default for Telephony {
    fn default() -> Self {
        let s = Duration::from_secs;
        Telephony {
            dial: s(1),
            answer_after: s(6),
            voicemail_after: s(20),
            detect_voicemail: s(3),
            ring_timeout: s(30),
            busy_after: s(3),
            conversation: s(25),
            message: s(15),
        }
    }
}

#[derive(Clone, Copy)]
enum Answers {
    Person,
    Voicemail,
    NoAnswer,
    Busy,
}

struct Line {
    commands: Commands,
    board: Arc<Board>,
    telephony: Telephony,
}

impl Line {
    async fn after(&self, wait: Duration, alarm: AlarmId, input: Input) -> bool {
        tokio::time::sleep(wait).await;
        // A call hung up meanwhile (a disarm, say) refuses the input: that ends this call.
        self.commands.send(alarm, input, "telephony").await.is_ok()
    }

    fn handled_by_person(&self, alarm: AlarmId) -> bool {
        self.board.get(alarm).is_some_and(|a| a.handler().is_some())
    }

    /// One call, from dialling to its end.
    async fn call(
        &self,
        alarm: AlarmId,
        call: CallId,
        purpose: Purpose,
        offers_agent: bool,
        first: bool,
        seed: u64,
    ) {
        let t = &self.telephony;
        let mut rng = StdRng::seed_from_u64(seed);
        let answers = match rng.gen_range(0..100) {
            0..55 => Answers::Person,
            55..80 => Answers::Voicemail,
            80..95 => Answers::NoAnswer,
            _ => Answers::Busy,
        };
        let dial = if first { t.dial } else { Duration::ZERO };
        if !self.after(dial, alarm, Input::CallPlaced { call }).await {
            return;
        }
        match answers {
            Answers::Person => {
                if !self
                    .after(t.answer_after, alarm, Input::Answered { call })
                    .await
                {
                    return;
                }
                match purpose {
                    Purpose::Verify => self.converse(alarm, call, &mut rng, t.conversation).await,
                    Purpose::Automated if offers_agent && rng.gen_bool(0.3) => {
                        if self
                            .after(t.message, alarm, Input::AgentJoined { call })
                            .await
                        {
                            self.converse(alarm, call, &mut rng, t.conversation).await;
                        }
                    }
                    Purpose::Automated => {
                        self.after(t.message, alarm, Input::CallEnded { call })
                            .await;
                    }
                    Purpose::Notify | Purpose::Callback => {
                        self.after(t.conversation, alarm, Input::CallEnded { call })
                            .await;
                    }
                }
            }
            Answers::Voicemail => {
                let detected = t.voicemail_after + t.detect_voicemail;
                if self.after(detected, alarm, Input::Voicemail { call }).await
                    && purpose == Purpose::Automated
                {
                    self.after(t.message, alarm, Input::CallEnded { call })
                        .await;
                }
            }
            Answers::NoAnswer => {
                self.after(t.ring_timeout, alarm, Input::NoAnswer { call })
                    .await;
            }
            Answers::Busy => {
                self.after(t.busy_after, alarm, Input::Busy { call }).await;
            }
        }
    }

    /// The simulated agent's side of a conversation, unless a person took the alarm.
    async fn converse(&self, alarm: AlarmId, call: CallId, rng: &mut StdRng, takes: Duration) {
        tokio::time::sleep(takes).await;
        if self.handled_by_person(alarm) {
            return;
        }
        let knows = rng.gen_bool(0.85);
        let decision = if rng.gen_bool(0.7) {
            Decision::Cancel
        } else {
            Decision::Dispatch
        };
        let attempts = if knows { 1 } else { 2 };
        for _ in 0..attempts {
            let checked = Input::PasswordChecked {
                call,
                matched: knows,
            };
            if self
                .commands
                .send(alarm, checked, "agent:sim")
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = self
            .commands
            .send(alarm, Input::Decision { call, decision }, "agent:sim")
            .await;
    }
}

/// Carries out the engine's calls with simulated people until the effects channel closes.
/// Calls already in progress when it starts (after a restart) are picked up where they are.
pub async fn run(
    mut effects: mpsc::UnboundedReceiver<Vec<Effect>>,
    commands: Commands,
    board: Arc<Board>,
    telephony: Telephony,
) {
    let line = Arc::new(Line {
        commands,
        board: board.clone(),
        telephony,
    });
    let mut seed = 0u64;
    for (alarm, state) in board.open_alarms() {
        if let Some(call) = state.current_call()
            && call.result.is_none()
        {
            // Ringing when the center stopped: the person never picked up.
            let (line, id) = (line.clone(), call.id);
            let placed = call.placed_at.is_some();
            tokio::spawn(async move {
                if placed
                    || line
                        .after(Duration::ZERO, alarm, Input::CallPlaced { call: id })
                        .await
                {
                    line.after(
                        line.telephony.ring_timeout,
                        alarm,
                        Input::NoAnswer { call: id },
                    )
                    .await;
                }
            });
        } else if let Some(call) = state.current_call()
            && call.result == Some(CallResult::Answered)
        {
            let (line, id) = (line.clone(), call.id);
            let deciding = call.purpose == Purpose::Verify || call.agent_joined;
            seed = seed.wrapping_add(1);
            let mut rng = StdRng::seed_from_u64(seed);
            tokio::spawn(async move {
                if deciding {
                    line.converse(alarm, id, &mut rng, Duration::ZERO).await;
                } else {
                    line.after(Duration::ZERO, alarm, Input::CallEnded { call: id })
                        .await;
                }
            });
        }
    }
    while let Some(batch) = effects.recv().await {
        for Effect { alarm, action } in batch {
            if let Action::PlaceCall {
                call,
                purpose,
                offers_agent,
                ..
            } = action
            {
                seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let line = line.clone();
                tokio::spawn(async move {
                    line.call(alarm, call, purpose, offers_agent, call == 0, seed)
                        .await;
                });
            }
        }
    }
}
