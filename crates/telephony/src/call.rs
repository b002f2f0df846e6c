//! One call the engine placed, from INVITE to BYE. An automated call rings the contact and
//! speaks; an agent call first rings the phone of the agent who has the alarm, then the
//! contact, and bridges the two legs itself (B2BUA) so it can let the agent go the moment a
//! machine answers and stay on the line to leave the message. The final response becomes the
//! engine's outcome (TELEPHONY.md §6.9); then a media loop paces our audio every 20 ms and
//! feeds what the contact says to the call's `Flow`.

use crate::agent::{Agent, Found};
use crate::flow::{Flow, Side, Step};
use crate::invite::{Invited, Progress, Target, invite};
use crate::leg::{Heard, Leg};
use crate::{Event, Shared};
use rsipstack::dialog::dialog::{DialogState, TerminatedReason};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::Header;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};
use watchpost_core::Input;
use watchpost_core::alarm::{CallId, Purpose};
use watchpost_media::FRAME_SAMPLES;
use watchpost_media::bridge::Bridge;
use watchpost_media::recorder::Recorder;
use watchpost_store::AlarmId;

/// What the engine may still ask of a call in progress.
#[derive(Debug)]
pub enum Command {
    /// Leave this message once the machine's beep has gone (`Action::LeaveVoicemail`).
    Voicemail(String),
    /// End the call now (`Action::HangUp`): CANCEL while ringing, BYE once answered.
    HangUp,
    /// An agent said the machine is a person (`Action::ConnectAgent`): stop the message and
    /// connect them to an agent.
    ConnectAgent,
}

/// A call to place.
#[derive(Debug, Clone)]
pub struct Dial {
    /// The alarm the call is for; none for `watchpost call test`.
    pub alarm: Option<AlarmId>,
    pub call: CallId,
    /// E.164.
    pub to: String,
    pub purpose: Purpose,
    /// What an automated call says.
    pub message: Option<String>,
    pub offers_agent: bool,
    /// A call to the center that matched no single alarm: the alarm and call an agent
    /// attached it to, once they have (`watchpost_server::lines`). From then on its events
    /// and its recording are that call's.
    pub attached: Option<watch::Receiver<Option<(AlarmId, CallId)>>>,
}

impl Dial {
    /// The alarm and call the call's events belong to now.
    pub fn label(&self) -> (Option<AlarmId>, CallId) {
        match self.attached.as_ref().and_then(|a| *a.borrow()) {
            Some((alarm, call)) => (Some(alarm), call),
            None => (self.alarm, self.call),
        }
    }
}

/// How a call that was never answered ended, from its final response (RFC 3261 §21): busy
/// for 486 Busy Here, 600 Busy Everywhere and 603 Decline (the person or their network
/// refused it now); no answer for everything else (480, 404, 408, 487, 5xx…).
pub fn unanswered(call: CallId, status: u16) -> Input {
    match status {
        486 | 600 | 603 => Input::Busy { call },
        _ => Input::NoAnswer { call },
    }
}

/// How long an agent's phone may ring (it should answer by itself) before the call waits and
/// tries again.
const AGENT_RING: Duration = Duration::from_secs(15);
/// How often a waiting agent call looks for the alarm's agent.
const AGENT_POLL: Duration = Duration::from_millis(500);

/// Places the call and carries it to its end, reporting each event on `shared.events`, the
/// last one `Event::Ended`.
pub async fn run(shared: Arc<Shared>, dial: Dial, commands: mpsc::UnboundedReceiver<Command>) {
    let (alarm, call) = (dial.alarm, dial.call);
    attempt(shared.clone(), dial, commands).await;
    shared.report(alarm, call, Event::Ended);
}

async fn attempt(shared: Arc<Shared>, dial: Dial, mut commands: mpsc::UnboundedReceiver<Command>) {
    let call = dial.call;
    let report = |event: Event| shared.report(dial.alarm, call, event);
    let agent_call = dial.purpose != Purpose::Automated;
    let agent = match (agent_call, dial.alarm, &shared.agents) {
        (true, Some(alarm), Some(_)) => {
            match ring_agent(&shared, alarm, call, &mut commands).await {
                Some(agent) => Some(agent),
                None => return,
            }
        }
        // An agent call without agents' phones (a test call, or none configured): the
        // agent dials by hand, as with the manual telephony.
        (true, _, _) if dial.alarm.is_some() => {
            tracing::info!(call, to = %dial.to, "call for an agent to make");
            return;
        }
        _ => None,
    };
    let message = dial.message.clone().map(|text| {
        let shared = shared.clone();
        tokio::spawn(async move { shared.speaker.say(&text).await })
    });
    let identity = format!(
        "<sip:{}@{}>",
        shared.config.caller_id, shared.config.trunk.host
    );
    let target = Target {
        uri: shared.config.trunk.uri_for(&dial.to),
        headers: vec![Header::Other("P-Asserted-Identity".into(), identity)],
        ring_timeout: shared.config.ring_timeout,
        trunk: true,
    };
    let progress = |p: Progress| match p {
        Progress::Sent => {
            report(Event::Invited);
            report(Event::Input(Input::CallPlaced { call }));
        }
        Progress::Provisional { code, reason } => report(Event::Provisional { code, reason }),
        Progress::EarlyMedia => report(Event::EarlyMedia),
        Progress::Final { code, reason } => report(Event::Final { code, reason }),
        Progress::RingTimeout => report(Event::RingTimeout),
    };
    let hang_up_agent = |agent: Option<AgentLeg>| async move {
        if let Some(agent) = agent {
            let _ = agent.dialog.bye().await;
        }
    };
    let (dialog, media, socket, mut states) =
        match invite(&shared, target, &progress, &mut commands).await {
            Invited::Answered {
                dialog,
                media,
                socket,
                states,
            } => (dialog, media, socket, states),
            Invited::Unanswered { code, timed_out } => {
                report(Event::Input(if timed_out {
                    Input::NoAnswer { call }
                } else {
                    unanswered(call, code)
                }));
                return hang_up_agent(agent).await;
            }
            Invited::HungUp => return hang_up_agent(agent).await,
            Invited::Failed(reason) => {
                report(Event::Failed(reason));
                report(Event::Input(Input::NoAnswer { call }));
                return hang_up_agent(agent).await;
            }
        };
    let message = match message {
        Some(rendering) => match rendering.await {
            Ok(Ok(samples)) => Some(samples),
            Ok(Err(e)) => {
                tracing::error!(call, error = %e, "the automated message could not be spoken");
                report(Event::Failed(e.to_string()));
                None
            }
            Err(_) => None,
        },
        None => None,
    };
    let side = if agent_call {
        Side::Agent
    } else {
        Side::Automated {
            offers_agent: dial.offers_agent,
        }
    };
    let flow = Flow::answered(
        call,
        side,
        message,
        shared.config.amd.clone(),
        shared.config.drop.clone(),
        shared.config.press_one_wait.as_millis() as u32,
    );
    let contact = Leg::new(socket, &media);
    let line = Line {
        we_are_uac: true,
        outcome_reported: false,
    };
    let ended_by_peer = converse(
        &shared,
        &dial,
        line,
        flow,
        contact,
        agent,
        &mut commands,
        &mut states,
    )
    .await;
    if !ended_by_peer {
        let _ = dialog.bye().await;
    }
}

/// The agent's answered phone.
pub(crate) struct AgentLeg {
    agent: Agent,
    dialog: InviteDialog,
    leg: Leg,
    states: mpsc::UnboundedReceiver<DialogState>,
}

/// Waits for the alarm's agent and rings their phone until it answers. `None`: the call
/// is not ours to make any more (hung up, the alarm gone, or its agent dials by hand).
pub(crate) async fn ring_agent(
    shared: &Shared,
    alarm: AlarmId,
    call: CallId,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Option<AgentLeg> {
    let agents = shared.agents.as_ref().expect("agent calls have agents");
    loop {
        match agents.for_alarm(alarm).await {
            Found::Agent(agent) => {
                if let Some(leg) = ring(shared, agent, Some(alarm), call, commands).await {
                    return Some(leg);
                }
            }
            Found::Waiting => {}
            Found::NoPhone(name) => {
                tracing::info!(alarm, call, agent = %name, "the agent has no phone: a call for them to make");
                return None;
            }
            Found::Gone => return None,
        }
        tokio::select! {
            _ = tokio::time::sleep(AGENT_POLL) => {}
            command = commands.recv() => {
                if matches!(command, Some(Command::HangUp) | None) {
                    return None;
                }
            }
        }
    }
}

/// Rings one agent's phone once; it should answer by itself (`Call-Info: answer-after=0`).
pub(crate) async fn ring(
    shared: &Shared,
    agent: Agent,
    alarm: Option<AlarmId>,
    call: CallId,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Option<AgentLeg> {
    let target = Target {
        uri: agent.phone.clone(),
        headers: vec![Header::Other(
            "Call-Info".into(),
            "<sip:watchpost>;answer-after=0".into(),
        )],
        ring_timeout: AGENT_RING,
        trunk: false,
    };
    match invite(shared, target, &|_| {}, commands).await {
        Invited::Answered {
            dialog,
            media,
            socket,
            states,
        } => {
            tracing::info!(alarm, call, agent = %agent.name, "agent's phone answered");
            Some(AgentLeg {
                leg: Leg::new(socket, &media),
                agent,
                dialog,
                states,
            })
        }
        Invited::HungUp => None,
        Invited::Unanswered { code, .. } => {
            tracing::warn!(alarm, call, agent = %agent.name, phone = %agent.phone, code, "the agent's phone did not answer");
            None
        }
        Invited::Failed(reason) => {
            tracing::warn!(alarm, call, agent = %agent.name, phone = %agent.phone, %reason, "the agent's phone could not be called");
            None
        }
    }
}

/// Which side of the contact's dialog the center is on, and what the engine knows already.
pub(crate) struct Line {
    /// We sent the INVITE (an outbound call); else the contact did (a call back).
    pub we_are_uac: bool,
    /// The engine already knows the call was answered (a call back is answered by the
    /// center).
    pub outcome_reported: bool,
}

/// The answered call's media loop, recorded (both sides, README "Telephony": recordings).
/// Returns whether the contact hung up.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn converse(
    shared: &Arc<Shared>,
    dial: &Dial,
    line: Line,
    flow: Flow,
    contact: Leg,
    agent: Option<AgentLeg>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    states: &mut mpsc::UnboundedReceiver<DialogState>,
) -> bool {
    let started_at = watchpost_server::now_ms();
    let mut recorder = Recorder::new();
    let ended_by_peer = media_loop(
        shared,
        dial,
        line,
        flow,
        contact,
        agent,
        commands,
        states,
        &mut recorder,
    )
    .await;
    if let (Some(recordings), (Some(alarm), call)) = (&shared.recordings, dial.label()) {
        let recordings = recordings.clone();
        tokio::spawn(async move {
            let duration = recorder.duration_ms();
            let wav = recorder.finish();
            if let Err(e) = recordings
                .save(alarm, call, started_at, duration, &wav)
                .await
            {
                tracing::error!(alarm, call, error = %e, "the call's recording was not kept");
            }
        });
    }
    ended_by_peer
}

#[allow(clippy::too_many_arguments)]
async fn media_loop(
    shared: &Arc<Shared>,
    dial: &Dial,
    line: Line,
    mut flow: Flow,
    mut contact: Leg,
    mut agent: Option<AgentLeg>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    states: &mut mpsc::UnboundedReceiver<DialogState>,
    recorder: &mut Recorder,
) -> bool {
    // Where each side's next frame goes in the recording, in ms since the answer.
    let (mut sent_ms, mut heard_ms) = (0u32, 0u32);
    let call = dial.call;
    let report = |event: Event| {
        let (alarm, call) = dial.label();
        shared.report(alarm, call, event)
    };
    let answered_at = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut playing: Option<(Arc<Vec<i16>>, usize)> = None;
    // "Press 1 to speak with an agent", or "it's a person": an agent is being rung for the
    // person on the line.
    let mut ringing: Option<Pin<Box<dyn Future<Output = AgentLeg> + Send + '_>>> = None;
    let mut bridge = Bridge::new();
    let mut contact_buffer = vec![0u8; 2048];
    let mut agent_buffer = vec![0u8; 2048];
    let mut steps: Vec<Step> = Vec::new();
    let mut outcome_reported = line.outcome_reported;
    let mut ended_reported = false;
    // A call nobody ends (a peer that answers, then sends nothing and never hangs up) is
    // abandoned after this long.
    let limit = Duration::from_secs(3600);
    loop {
        tokio::select! {
            scheduled = ticker.tick() => {
                shared.jitter.record(scheduled.elapsed());
                let mut frame = [0i16; FRAME_SAMPLES];
                if let Some((samples, at)) = &mut playing {
                    let end = (*at + FRAME_SAMPLES).min(samples.len());
                    frame[..end - *at].copy_from_slice(&samples[*at..end]);
                    *at = end;
                    if *at >= samples.len() {
                        report(Event::Played);
                        playing = None;
                        steps.extend(flow.played());
                    }
                } else if let Some(spoken) = bridge.for_contact() {
                    frame[..spoken.len().min(FRAME_SAMPLES)].copy_from_slice(&spoken[..spoken.len().min(FRAME_SAMPLES)]);
                }
                recorder.center(sent_ms, &frame);
                sent_ms += watchpost_media::FRAME_MS;
                if let Err(e) = contact.send(&frame).await {
                    tracing::debug!(call, error = %e, "RTP send to the contact");
                }
                if let Some(agent) = &mut agent {
                    let heard = bridge.for_agent();
                    if let Err(e) = agent.leg.send(&heard).await {
                        tracing::debug!(call, error = %e, "RTP send to the agent");
                    }
                }
                let since = answered_at.elapsed();
                if since > limit {
                    return false;
                }
                steps.extend(flow.tick(since.as_millis() as u32));
            }
            received = contact.socket.recv_from(&mut contact_buffer) => {
                if let Ok((n, from)) = received {
                    for heard in contact.received(&contact_buffer[..n], from) {
                        steps.extend(match heard {
                            Heard::Frame(frame) => {
                                recorder.contact(heard_ms, &frame);
                                heard_ms += watchpost_media::FRAME_MS;
                                let steps = flow.heard(&frame);
                                if agent.is_some() {
                                    bridge.from_contact(frame);
                                }
                                steps
                            }
                            Heard::Digit(digit) => {
                                report(Event::Digit(digit));
                                flow.digit(digit)
                            }
                        });
                    }
                }
            }
            event = agent_event(&mut agent, &mut agent_buffer) => match event {
                AgentEvent::Datagram(n, from) => {
                    if let Some(a) = &mut agent {
                        for heard in a.leg.received(&agent_buffer[..n], from) {
                            if let Heard::Frame(frame) = heard {
                                bridge.from_agent(frame);
                            }
                        }
                    }
                }
                AgentEvent::State(state) if matches!(*state, DialogState::Terminated(..)) => {
                    let reason = match *state {
                        DialogState::Terminated(_, reason) => Some(reason),
                        _ => None,
                    };
                    let name = agent.take().map(|a| a.agent.name).unwrap_or_default();
                    tracing::info!(call, agent = %name, ?reason, "the agent hung up");
                    bridge.clear();
                    if !flow.dropping() {
                        let call = dial.label().1;
                        // The agent ended the conversation: so does the center.
                        if !outcome_reported {
                            report(Event::Input(Input::Answered { call }));
                        }
                        report(Event::Input(Input::CallEnded { call }));
                        return false;
                    }
                }
                AgentEvent::State(_) => {}
            },
            leg = async { ringing.as_mut().expect("guarded").await }, if ringing.is_some() => {
                ringing = None;
                playing = None;
                agent = Some(leg);
            }
            command = commands.recv() => match command {
                Some(Command::Voicemail(text)) => match shared.speaker.say(&text).await {
                    Ok(samples) => steps.extend(flow.voicemail_message(samples)),
                    Err(e) => {
                        tracing::error!(call, error = %e, "the voicemail message could not be spoken");
                        report(Event::Failed(e.to_string()));
                        report(Event::Input(Input::CallEnded { call }));
                        return false;
                    }
                },
                Some(Command::ConnectAgent) => {
                    let stopped = flow.overturn();
                    if stopped.is_empty() {
                        // The message is over: nobody to connect; it stays a voicemail.
                        report(Event::Input(Input::Voicemail { call }));
                    } else {
                        steps.extend(stopped);
                        (ringing, playing) = call_an_agent(shared, dial.alarm, call).await;
                    }
                }
                Some(Command::HangUp) | None => {
                    release(&mut agent).await;
                    return false;
                }
            },
            Some(state) = states.recv() => {
                if let DialogState::Terminated(_, reason) = state {
                    let ours = if line.we_are_uac {
                        matches!(reason, TerminatedReason::UacBye | TerminatedReason::UacCancel)
                    } else {
                        matches!(reason, TerminatedReason::UasBye)
                    };
                    let by_peer = !ours;
                    if by_peer && !ended_reported {
                        let call = dial.label().1;
                        if !outcome_reported {
                            // Hung up before the detector spoke: someone answered.
                            report(Event::Input(Input::Answered { call }));
                        }
                        report(Event::Input(Input::CallEnded { call }));
                    }
                    release(&mut agent).await;
                    return by_peer;
                }
            }
        }
        let mut hang_up = false;
        for step in steps.drain(..) {
            match step {
                Step::Report(input) => {
                    match input {
                        Input::Answered { .. } | Input::Voicemail { .. } => outcome_reported = true,
                        Input::CallEnded { .. } => ended_reported = true,
                        Input::AgentJoined { .. } if agent.is_none() => {
                            (ringing, playing) = call_an_agent(shared, dial.alarm, call).await;
                        }
                        _ => {}
                    }
                    report(Event::Input(input));
                }
                Step::Play(samples) => {
                    playing = (!samples.is_empty()).then_some((samples, 0));
                }
                Step::HangUp => hang_up = true,
                Step::ReleaseAgent => {
                    bridge.clear();
                    release(&mut agent).await;
                }
                Step::Detected(verdict) => report(Event::Detected(verdict)),
                Step::MessageStarted(start) => report(Event::MessageStarted(start)),
            }
        }
        if hang_up {
            release(&mut agent).await;
            return false;
        }
    }
}

/// An agent being rung for the person on the line, and the "please hold" they hear meanwhile.
type Ringing<'a> = (
    Option<Pin<Box<dyn Future<Output = AgentLeg> + Send + 'a>>>,
    Option<(Arc<Vec<i16>>, usize)>,
);

/// Starts ringing an agent for the person on the line (`any_agent`), who is asked to hold.
async fn call_an_agent(shared: &Shared, alarm: Option<AlarmId>, call: CallId) -> Ringing<'_> {
    let hold = shared.speaker.say(crate::inbound::HOLD_PRESSED).await.ok();
    (
        Some(Box::pin(any_agent(shared, alarm, call))),
        hold.map(|hold| (hold, 0)),
    )
}

/// The alarm's agent if they have a phone, else a free agent, rung until one answers: for
/// a person who asked for an agent. Without agents' phones, never.
async fn any_agent(shared: &Shared, alarm: Option<AlarmId>, call: CallId) -> AgentLeg {
    let Some(agents) = &shared.agents else {
        return std::future::pending().await;
    };
    // Nobody can cancel this ringing but the call's end, which drops it.
    let (_keep, mut commands) = mpsc::unbounded_channel();
    loop {
        let found = match alarm {
            Some(alarm) => match agents.for_alarm(alarm).await {
                Found::Agent(agent) => Found::Agent(agent),
                _ => agents.free().await,
            },
            None => agents.free().await,
        };
        if let Found::Agent(agent) = found
            && let Some(leg) = ring(shared, agent, alarm, call, &mut commands).await
        {
            return leg;
        }
        tokio::time::sleep(AGENT_POLL).await;
    }
}

async fn release(agent: &mut Option<AgentLeg>) {
    if let Some(a) = agent.take() {
        let _ = a.dialog.bye().await;
    }
}

/// What the agent's leg brought.
enum AgentEvent {
    Datagram(usize, std::net::SocketAddr),
    State(Box<DialogState>),
}

/// The agent's next datagram or dialog state; never, without an agent.
async fn agent_event(agent: &mut Option<AgentLeg>, buffer: &mut [u8]) -> AgentEvent {
    let Some(a) = agent else {
        return std::future::pending().await;
    };
    tokio::select! {
        received = a.leg.socket.recv_from(buffer) => match received {
            Ok((n, from)) => AgentEvent::Datagram(n, from),
            Err(_) => std::future::pending().await,
        },
        Some(state) = a.states.recv() => AgentEvent::State(Box::new(state)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_responses_map_to_the_engine_outcomes() {
        for busy in [486, 600, 603] {
            assert!(
                matches!(unanswered(3, busy), Input::Busy { call: 3 }),
                "{busy}"
            );
        }
        for none in [404, 408, 480, 487, 500, 503] {
            assert!(
                matches!(unanswered(3, none), Input::NoAnswer { call: 3 }),
                "{none}"
            );
        }
    }
}
