//! SIP telephony for the live center, behind the server's `Telephony` trait: the center places
//! its own calls through a trunk, detects answering machines, leaves its message after the
//! beep, and tells the engine each outcome as the inputs an agent would give. Signalling is
//! `rsipstack` (pinned); media comes from the sans-IO `watchpost-media`. README, "Telephony".

pub mod agent;
pub mod call;
pub mod caller;
pub mod config;
pub mod endpoint;
pub mod flow;
pub mod inbound;
pub mod invite;
pub mod jitter;
pub mod leg;
pub mod test_call;
pub mod tts;

pub use config::{Credentials, SipConfig, Trunk};
pub use endpoint::StartError;

use call::{Command, Dial};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use watchpost_core::Input;
use watchpost_core::alarm::{CallId, Purpose};
use watchpost_media::amd::Verdict;
use watchpost_media::beep::MessageStart;
use watchpost_server::adapters::{OutboundCall, Telephony};
use watchpost_store::AlarmId;

/// What happened on a call, in order: the engine's inputs, and what the record and the
/// diagnostic command show besides.
#[derive(Debug, Clone)]
pub enum Event {
    /// The INVITE went out.
    Invited,
    /// 180 Ringing or 183 Session Progress.
    Provisional { code: u16, reason: String },
    /// RTP arrived before the answer (early media): listened to, not classified.
    EarlyMedia,
    /// The final response to the INVITE.
    Final { code: u16, reason: String },
    /// The call rang for `ring_timeout` and was cancelled.
    RingTimeout,
    /// The answering-machine detector's verdict.
    Detected(Verdict),
    /// When and why the voicemail message started.
    MessageStarted(MessageStart),
    /// A message played to its end.
    Played,
    /// The contact pressed a key.
    Digit(char),
    /// For the engine.
    Input(Input),
    /// Something went wrong that the call could not get past (no RTP port, bad SDP, no voice).
    Failed(String),
    /// The call is over.
    Ended,
}

/// Everything calls share.
pub struct Shared {
    pub config: SipConfig,
    pub endpoint: endpoint::Endpoint,
    pub ports: leg::Ports,
    pub speaker: tts::Speaker,
    pub jitter: jitter::Jitter,
    /// Where agent calls find the agent's phone; none: agents dial by hand.
    pub agents: Option<agent::Agents>,
    /// Where each alarm call's recording is kept; none: calls are not recorded.
    pub recordings: Option<Arc<watchpost_server::Recordings>>,
    events: mpsc::UnboundedSender<(Option<AlarmId>, CallId, Event)>,
}

impl Shared {
    fn report(&self, alarm: Option<AlarmId>, call: CallId, event: Event) {
        let _ = self.events.send((alarm, call, event));
    }
}

/// A call's events, labelled with its alarm (none for a test call).
pub type Events = mpsc::UnboundedReceiver<(Option<AlarmId>, CallId, Event)>;

/// The SIP telephony: one user agent, any number of calls at once.
pub struct SipTelephony {
    shared: Arc<Shared>,
    calls: Arc<Mutex<Calls>>,
}

/// The calls in progress, by alarm and call, and how to reach each.
type Calls = HashMap<(AlarmId, CallId), mpsc::UnboundedSender<Command>>;

impl SipTelephony {
    /// Starts the user agent and checks the voice. Returns the telephony and the stream of
    /// every call's events (the engine's inputs among them). Errors: the address is taken,
    /// the caller ID is not E.164, the voice program is missing.
    /// `agents`: where agent calls find the phone of the alarm's agent; without it they are
    /// left to the agents to dial by hand. `recordings`: where each call's audio is kept.
    pub async fn start(
        config: SipConfig,
        agents: Option<agent::Agents>,
        recordings: Option<Arc<watchpost_server::Recordings>>,
    ) -> Result<(SipTelephony, Events), StartError> {
        let (shared, events) = Shared::start(config, agents, recordings).await?;
        Ok((
            SipTelephony {
                shared,
                calls: Arc::default(),
            },
            events,
        ))
    }

    /// How late the 20 ms sends have been so far (the RTP pacing benchmark).
    pub fn jitter(&self) -> &jitter::Jitter {
        &self.shared.jitter
    }

    /// Whether the call was still in progress to take the command.
    fn send(&self, alarm: AlarmId, call: CallId, command: Command) -> bool {
        match self.calls.lock().unwrap().get(&(alarm, call)) {
            Some(tx) => tx.send(command).is_ok(),
            None => false,
        }
    }
}

impl Shared {
    /// The user agent, the voice and the RTP ports, answering calls to the center (which
    /// need `agents`). Errors: as `SipTelephony::start`.
    pub async fn start(
        config: SipConfig,
        agents: Option<agent::Agents>,
        recordings: Option<Arc<watchpost_server::Recordings>>,
    ) -> Result<(Arc<Shared>, Events), StartError> {
        if !watchpost_core::account::is_e164(&config.caller_id) {
            return Err(StartError::CallerId(config.caller_id.clone()));
        }
        let speaker = tts::Speaker::start(config.voice.clone()).await?;
        let (endpoint, incoming) = endpoint::Endpoint::start(&config).await?;
        let (events, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            ports: leg::Ports::new(config.rtp_ports.clone()),
            config,
            endpoint,
            speaker,
            jitter: jitter::Jitter::default(),
            agents,
            recordings,
            events,
        });
        tokio::spawn(endpoint::serve_requests(Arc::downgrade(&shared), incoming));
        Ok((shared, rx))
    }
}

impl Telephony for SipTelephony {
    fn place(&self, call: OutboundCall) {
        let (tx, rx) = mpsc::unbounded_channel();
        let key = (call.alarm, call.call);
        self.calls.lock().unwrap().insert(key, tx);
        let shared = self.shared.clone();
        let calls = self.calls.clone();
        let dial = Dial {
            alarm: Some(call.alarm),
            call: call.call,
            to: call.phone,
            purpose: call.purpose,
            message: call.message,
            offers_agent: call.offers_agent,
            attached: None,
        };
        tokio::spawn(async move {
            call::run(shared, dial, rx).await;
            calls.lock().unwrap().remove(&key);
        });
    }

    fn leave_voicemail(&self, alarm: AlarmId, call: CallId, message: &str) {
        self.send(alarm, call, Command::Voicemail(message.to_string()));
    }

    fn hang_up(&self, alarm: AlarmId, call: CallId) {
        self.send(alarm, call, Command::HangUp);
    }

    /// With the call gone (the message was left and the center hung up, or the contact did),
    /// nobody is there to connect: the engine hears it was a voicemail after all.
    fn connect_agent(&self, alarm: AlarmId, call: CallId) {
        if !self.send(alarm, call, Command::ConnectAgent) {
            let input = Input::Voicemail { call };
            self.shared.report(Some(alarm), call, Event::Input(input));
        }
    }

    /// This node took the alarm over (a restart, or another node died) with a call of it in
    /// progress. That call's SIP dialog died with the node that had it, so nothing is left to
    /// carry on: an agent call still ringing is dialled again; an automated call still
    /// ringing, whose words were the old node's, counts as unanswered; an answered call has
    /// ended. Either way the plan moves on rather than wait for a call nobody is making.
    fn resume(&self, alarm: AlarmId, state: &watchpost_core::Alarm) {
        let Some(call) = state.current_call() else {
            return;
        };
        if self.calls.lock().unwrap().contains_key(&(alarm, call.id)) {
            return;
        }
        let id = call.id;
        let report = |input| self.shared.report(Some(alarm), id, Event::Input(input));
        match call.result {
            None if call.purpose != Purpose::Automated => {
                let phone = state.phone_of(call).to_string();
                if !phone.is_empty() {
                    tracing::info!(
                        alarm,
                        call = id,
                        "dialling again a call the old node had placed"
                    );
                    self.place(OutboundCall {
                        alarm,
                        call: id,
                        to: call.to.clone(),
                        phone,
                        purpose: call.purpose,
                        message: None,
                        offers_agent: false,
                    });
                }
            }
            None => report(Input::NoAnswer { call: id }),
            Some(_) => report(Input::CallEnded { call: id }),
        }
    }
}

/// Hands each call's inputs to the engine, in order, as the actor `telephony`, and logs the
/// rest of what happened on the line; failed calls are counted in `metrics`. Runs until the
/// telephony stops.
pub async fn feed(
    mut events: Events,
    commands: watchpost_server::Commands,
    metrics: Arc<watchpost_server::metrics::Metrics>,
) {
    while let Some((alarm, call, event)) = events.recv().await {
        match (alarm, event) {
            (Some(alarm), Event::Detected(verdict)) => {
                let input = Input::Detected {
                    call,
                    detail: describe(&verdict),
                };
                if let Err(e) = commands.send(alarm, input, "telephony").await {
                    tracing::debug!(alarm, call, error = %e, "telephony input refused");
                }
            }
            (Some(alarm), Event::Input(input)) => {
                if let Err(e) = commands.send(alarm, input, "telephony").await {
                    // The engine moved on (a disarm ended the call, the alarm closed).
                    tracing::debug!(alarm, call, error = %e, "telephony input refused");
                }
            }
            (alarm, Event::Failed(reason)) => {
                metrics.adapter_error(watchpost_server::metrics::Adapter::Sip);
                tracing::warn!(alarm, call, %reason, "call failed");
            }
            (alarm, event) => tracing::info!(alarm, call, ?event, "call"),
        }
    }
}

/// A verdict in an agent's words, e.g. "the detector heard a machine: a greeting of 2.1 s,
/// 6 words (max_words), decided 3.3 s after the answer".
fn describe(v: &Verdict) -> String {
    let answer = match v.answer {
        watchpost_media::amd::Answer::Person => "a person",
        watchpost_media::amd::Answer::Machine => "a machine",
        watchpost_media::amd::Answer::NotSure => "nothing sure",
    };
    format!(
        "the detector heard {answer}: {:.1} s of voice, {} words ({}), decided {:.1} s after the answer",
        f64::from(v.greeting_ms) / 1000.0,
        v.words,
        v.cause,
        f64::from(v.at_ms) / 1000.0
    )
}
