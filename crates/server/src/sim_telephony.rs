//! Simulated telephony for demos and training, in real time: simulated people answer the
//! engine's calls (a person, voicemail, no answer or busy), and a simulated agent relays what
//! they say — unless a human agent has taken the alarm, who then checks the password and
//! records the decision at the console. The same inputs an agent would give, through the same
//! commands, so the engine cannot tell the difference.

use crate::adapters::{self, OutboundCall};
use crate::board::Board;
use crate::intake::Commands;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use watchpost_core::alarm::{CallId, CallResult, Decision, Purpose, TaskKind};
use watchpost_core::{Agency, Alarm, AlarmKind, Input};
use watchpost_store::AlarmId;

/// How long things take on the phone, and how people answer.
#[derive(Debug, Clone)]
pub struct CallTiming {
    pub dial: Duration,
    pub answer_after: Duration,
    pub voicemail_after: Duration,
    pub detect_voicemail: Duration,
    pub ring_timeout: Duration,
    pub busy_after: Duration,
    pub conversation: Duration,
    pub message: Duration,
}

impl Default for CallTiming {
    fn default() -> Self {
        let s = Duration::from_secs;
        CallTiming {
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
    timing: CallTiming,
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
        let t = &self.timing;
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
        // Only the handler acts on an alarm: the simulated agent takes it for the
        // conversation (refused if a person took it meanwhile) and gives it back after.
        let sim = || "sim".to_string();
        if self
            .commands
            .send(alarm, Input::Take { agent: sim() }, SIM_AGENT)
            .await
            .is_err()
        {
            return;
        }
        self.converse_taken(alarm, call, knows, attempts, decision)
            .await;
        let _ = self
            .commands
            .send(alarm, Input::Release { agent: sim() }, SIM_AGENT)
            .await;
    }

    async fn converse_taken(
        &self,
        alarm: AlarmId,
        call: CallId,
        knows: bool,
        attempts: u8,
        decision: Decision,
    ) {
        for _ in 0..attempts {
            let checked = Input::PasswordChecked {
                call,
                matched: knows,
            };
            if self.commands.send(alarm, checked, SIM_AGENT).await.is_err() {
                return;
            }
        }
        let _ = self
            .commands
            .send(alarm, Input::Decision { call, decision }, SIM_AGENT)
            .await;
    }
}

/// Who the simulated agent's inputs are logged as.
const SIM_AGENT: &str = "agent:sim";

/// Simulated people on the phone.
pub struct SimTelephony {
    line: Arc<Line>,
    seed: AtomicU64,
}

impl SimTelephony {
    pub fn start(commands: Commands, board: Arc<Board>, timing: CallTiming) -> SimTelephony {
        let line = Arc::new(Line {
            commands,
            board,
            timing,
        });
        SimTelephony {
            line,
            seed: AtomicU64::new(0),
        }
    }
}

impl adapters::Telephony for SimTelephony {
    fn place(&self, call: OutboundCall) {
        let seed = self
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let line = self.line.clone();
        tokio::spawn(async move {
            let first = call.call == 0;
            line.call(
                call.alarm,
                call.call,
                call.purpose,
                call.offers_agent,
                first,
                seed,
            )
            .await;
        });
    }

    /// The simulated line plays the message into the voicemail; nothing answers.
    fn leave_voicemail(&self, _alarm: AlarmId, _call: CallId, _message: &str) {}

    /// A hung-up call's remaining steps are refused by the engine, which ends them.
    fn hang_up(&self, _alarm: AlarmId, _call: CallId) {}

    /// The call in progress is picked up where it is: ringing when the last node stopped,
    /// the person never picked up; in a conversation, it goes on.
    fn resume(&self, alarm: AlarmId, state: &Alarm) {
        let Some(call) = state.current_call() else {
            return;
        };
        let (line, id) = (self.line.clone(), call.id);
        if call.result.is_none() {
            let placed = call.placed_at.is_some();
            tokio::spawn(async move {
                if placed
                    || line
                        .after(Duration::ZERO, alarm, Input::CallPlaced { call: id })
                        .await
                {
                    let timeout = line.timing.ring_timeout;
                    line.after(timeout, alarm, Input::NoAnswer { call: id })
                        .await;
                }
            });
        } else if call.result == Some(CallResult::Answered) {
            let deciding = call.purpose == Purpose::Verify || call.agent_joined;
            let seed = self
                .seed
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
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
}

/// A simulated agency that confirms each request with an incident number, and each
/// cancellation with the name of its dispatcher, after a while: the tasks a manual center's
/// agents do by phone (README, "Dispatch tasks").
pub struct SimDispatch {
    pub commands: Commands,
    pub confirms_after: Duration,
}

/// Whom the simulated agency's stand-downs are confirmed with.
const SIM_DISPATCHER: &str = "the simulated dispatcher";

impl SimDispatch {
    fn confirm_later(&self, alarm: AlarmId, input: Input) {
        let commands = self.commands.clone();
        let wait = self.confirms_after;
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            // Settled meanwhile (canceled, or an agent confirmed it): nothing to confirm.
            let _ = commands.send(alarm, input, "dispatch").await;
        });
    }

    fn confirm_request(&self, alarm: AlarmId, agency: Agency) {
        let reference = format!("SIM-{}-{alarm}", agency.as_str().to_uppercase());
        self.confirm_later(alarm, Input::DispatchConfirmed { agency, reference });
    }

    fn confirm_stand_down(&self, alarm: AlarmId, agency: Agency) {
        let told = SIM_DISPATCHER.to_string();
        self.confirm_later(alarm, Input::StandDownConfirmed { agency, told });
    }
}

impl adapters::Dispatch for SimDispatch {
    fn request(&self, alarm: AlarmId, agency: Agency, _kind: AlarmKind, _address: &str) {
        self.confirm_request(alarm, agency);
    }

    fn cancel(&self, alarm: AlarmId, agency: Agency) {
        self.confirm_stand_down(alarm, agency);
    }

    /// What the last node asked and the agency has not confirmed yet is confirmed as if it
    /// had just been asked.
    fn resume(&self, alarm: AlarmId, state: &Alarm) {
        for task in state.open_tasks() {
            match task.kind {
                TaskKind::Request => self.confirm_request(alarm, task.agency),
                TaskKind::StandDown => self.confirm_stand_down(alarm, task.agency),
            }
        }
    }
}
