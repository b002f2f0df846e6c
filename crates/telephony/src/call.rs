//! One outbound call from INVITE to BYE: ringing, the final response mapped to the engine's
//! outcome (TELEPHONY.md §6.9), then the media loop that paces our audio every 20 ms and
//! feeds what the contact says to the call's `Flow`.

use crate::flow::{Flow, Side, Step};
use crate::leg::{Heard, Leg};
use crate::{Event, Shared};
use rsipstack::dialog::dialog::{DialogState, TerminatedReason};
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::sip::{Header, Response, StatusCode, Uri};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use watchpost_core::Input;
use watchpost_core::alarm::{CallId, Purpose};
use watchpost_media::{FRAME_SAMPLES, sdp};
use watchpost_store::AlarmId;

/// What the engine may still ask of a call in progress.
#[derive(Debug)]
pub enum Command {
    /// Leave this message once the machine's beep has gone (`Action::LeaveVoicemail`).
    Voicemail(String),
    /// End the call now (`Action::HangUp`): CANCEL while ringing, BYE once answered.
    HangUp,
    /// The agent overturned the detector: `true` it's a machine, `false` a person.
    AgentSays { machine: bool },
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
}

/// How a call that was never answered ended, from its final response (RFC 3261 §21).
pub fn unanswered(status: u16) -> Input {
    let call = 0;
    match status {
        486 | 600 | 603 => Input::Busy { call },
        _ => Input::NoAnswer { call },
    }
}

fn with_call(input: Input, call: CallId) -> Input {
    match input {
        Input::Busy { .. } => Input::Busy { call },
        _ => Input::NoAnswer { call },
    }
}

/// Places the call and carries it to its end, reporting each event on `shared.events`, the
/// last one `Event::Ended`.
pub async fn run(shared: Arc<Shared>, dial: Dial, commands: mpsc::UnboundedReceiver<Command>) {
    let (alarm, call) = (dial.alarm, dial.call);
    attempt(shared.clone(), dial, commands).await;
    shared.report(alarm, call, Event::Ended);
}

async fn attempt(shared: Arc<Shared>, dial: Dial, mut commands: mpsc::UnboundedReceiver<Command>) {
    let report = |event: Event| shared.report(dial.alarm, dial.call, event);
    let call = dial.call;
    let message = dial.message.clone().map(|text| {
        let shared = shared.clone();
        tokio::spawn(async move { shared.speaker.say(&text).await })
    });
    let socket = match shared.ports.bind(shared.config.media_ip()).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::error!(call, error = %e, "no RTP port for a call");
            report(Event::Failed(e.to_string()));
            report(Event::Input(Input::NoAnswer { call }));
            return;
        }
    };
    let local_rtp = socket.local_addr().expect("a bound socket has an address");
    let offer = sdp::offer(
        local_rtp.ip(),
        local_rtp.port(),
        rand::random::<u32>() as u64,
        &[
            watchpost_media::g711::Law::Mu,
            watchpost_media::g711::Law::A,
        ],
    );
    let call_id = format!("{:032x}@watchpost", rand::random::<u128>());
    let callee = match Uri::try_from(shared.config.trunk.uri_for(&dial.to).as_str()) {
        Ok(uri) => uri,
        Err(e) => {
            report(Event::Failed(format!(
                "{:?} cannot be dialled: {e}",
                dial.to
            )));
            report(Event::Input(Input::NoAnswer { call }));
            return;
        }
    };
    let identity = format!(
        "<sip:{}@{}>",
        shared.config.caller_id, shared.config.trunk.host
    );
    let option = InviteOption {
        caller_display_name: None,
        caller: shared.endpoint.contact.clone(),
        callee,
        contact: shared.endpoint.contact.clone(),
        content_type: Some("application/sdp".into()),
        offer: Some(offer.into_bytes()),
        credential: shared.endpoint.credential.clone(),
        headers: Some(vec![Header::Other("P-Asserted-Identity".into(), identity)]),
        call_id: Some(call_id.clone()),
        ..Default::default()
    };
    let (state_tx, mut states) = shared.endpoint.dialogs.new_dialog_state_channel();
    let dialogs = shared.endpoint.dialogs.clone();
    let mut invite = tokio::spawn(async move { dialogs.do_invite(option, state_tx).await });
    report(Event::Invited);
    report(Event::Input(Input::CallPlaced { call }));

    let ring_until = Instant::now() + shared.config.ring_timeout;
    let cancel = || {
        for dialog in shared
            .endpoint
            .dialogs
            .get_client_dialog_by_call_id(&call_id)
        {
            tokio::spawn(async move {
                let _ = dialog.hangup().await;
            });
        }
    };
    let mut hung_up = false;
    let (dialog, answer) = loop {
        tokio::select! {
            result = &mut invite => match result {
                Ok(Ok((dialog, Some(response)))) if response.status_code == StatusCode::OK => {
                    if hung_up {
                        let _ = dialog.bye().await;
                        return;
                    }
                    break (dialog, response);
                }
                Ok(Ok((_, response))) => {
                    let (code, reason) = status_of(response.as_ref());
                    report(Event::Final { code, reason: reason.clone() });
                    if !hung_up {
                        let timed_out = Instant::now() >= ring_until;
                        let outcome = if timed_out { Input::NoAnswer { call } } else {
                            with_call(unanswered(code), call)
                        };
                        report(Event::Input(outcome));
                    }
                    return;
                }
                Ok(Err(e)) => {
                    report(Event::Failed(e.to_string()));
                    if !hung_up {
                        report(Event::Input(Input::NoAnswer { call }));
                    }
                    return;
                }
                Err(_) => return,
            },
            Some(state) = states.recv() => {
                if let DialogState::Early(_, response) = state {
                    let (code, reason) = status_of(Some(&response));
                    report(Event::Provisional { code, reason });
                }
            }
            _ = tokio::time::sleep_until(ring_until), if !hung_up => {
                // No answer: CANCEL; the 487 (or a 200 that crossed it) ends the loop.
                report(Event::RingTimeout);
                cancel();
                hung_up = true;
                report(Event::Input(Input::NoAnswer { call }));
            }
            command = commands.recv() => match command {
                Some(Command::HangUp) | None => {
                    if !hung_up {
                        cancel();
                        hung_up = true;
                    }
                }
                Some(_) => {}
            },
        }
    };
    report(Event::Final {
        code: 200,
        reason: "OK".into(),
    });
    let media = match sdp::parse_answer(&String::from_utf8_lossy(answer.body())) {
        Ok(media) => media,
        Err(e) => {
            // RFC 3264 §6: an answer we cannot use ends the call; count it as unanswered.
            report(Event::Failed(format!("the answer's SDP: {e}")));
            let _ = dialog.bye().await;
            report(Event::Input(Input::NoAnswer { call }));
            return;
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
    let side = match dial.purpose {
        Purpose::Automated => Side::Automated {
            offers_agent: dial.offers_agent,
        },
        _ => Side::Agent,
    };
    let flow = Flow::answered(
        call,
        side,
        message,
        shared.config.amd.clone(),
        shared.config.drop.clone(),
        shared.config.press_one_wait.as_millis() as u32,
    );
    let leg = Leg::new(socket, &media);
    let ended_by_peer = converse(&shared, &dial, flow, leg, &mut commands, &mut states).await;
    if !ended_by_peer {
        let _ = dialog.bye().await;
    }
}

/// The answered call's media loop. Returns whether the contact hung up.
async fn converse(
    shared: &Arc<Shared>,
    dial: &Dial,
    mut flow: Flow,
    mut leg: Leg,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    states: &mut mpsc::UnboundedReceiver<DialogState>,
) -> bool {
    let call = dial.call;
    let report = |event: Event| shared.report(dial.alarm, call, event);
    let answered_at = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut playing: Option<(Arc<Vec<i16>>, usize)> = None;
    let mut buffer = vec![0u8; 2048];
    let mut steps: Vec<Step> = Vec::new();
    let mut reported_outcome = false;
    // A call without a fresh verdict for this long is abandoned (a peer that answers and then
    // sends nothing, and never hangs up): the engine moves on.
    let limit = Duration::from_secs(600);
    loop {
        tokio::select! {
            scheduled = ticker.tick() => {
                let late = scheduled.elapsed();
                shared.jitter.record(late);
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
                }
                if let Err(e) = leg.send(&frame).await {
                    tracing::debug!(call, error = %e, "RTP send");
                }
                let since = answered_at.elapsed();
                if since > limit {
                    return false;
                }
                steps.extend(flow.tick(since.as_millis() as u32));
            }
            received = leg.socket.recv_from(&mut buffer) => {
                if let Ok((n, from)) = received {
                    for heard in leg.received(&buffer[..n], from) {
                        steps.extend(match heard {
                            Heard::Frame(frame) => flow.heard(&frame),
                            Heard::Digit(digit) => {
                                report(Event::Digit(digit));
                                flow.digit(digit)
                            }
                        });
                    }
                }
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
                Some(Command::AgentSays { machine }) => steps.extend(flow.agent_says(machine)),
                Some(Command::HangUp) | None => return false,
            },
            Some(state) = states.recv() => {
                if let DialogState::Terminated(_, reason) = state {
                    let by_peer = !matches!(reason, TerminatedReason::UacBye | TerminatedReason::UacCancel);
                    if by_peer && !flow.done() {
                        if !reported_outcome {
                            // Hung up before the detector spoke: someone answered.
                            report(Event::Input(Input::Answered { call }));
                        }
                        report(Event::Input(Input::CallEnded { call }));
                    }
                    return by_peer;
                }
            }
        }
        let mut hang_up = false;
        for step in steps.drain(..) {
            match step {
                Step::Report(input) => {
                    if matches!(input, Input::Answered { .. } | Input::Voicemail { .. }) {
                        reported_outcome = true;
                    }
                    report(Event::Input(input));
                }
                Step::Play(samples) => {
                    playing = (!samples.is_empty()).then_some((samples, 0));
                }
                Step::HangUp => hang_up = true,
                Step::Detected(verdict) => report(Event::Detected(verdict)),
                Step::MessageStarted(start) => report(Event::MessageStarted(start)),
            }
        }
        if hang_up {
            return false;
        }
    }
}

fn status_of(response: Option<&Response>) -> (u16, String) {
    match response {
        Some(r) => (
            r.status_code.code(),
            r.wire_reason
                .clone()
                .unwrap_or_else(|| r.status_code.to_string()),
        ),
        None => (408, "no final response".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_responses_map_to_the_engine_outcomes() {
        for busy in [486, 600, 603] {
            assert!(matches!(unanswered(busy), Input::Busy { .. }), "{busy}");
        }
        for none in [404, 408, 480, 487, 500, 503] {
            assert!(matches!(unanswered(none), Input::NoAnswer { .. }), "{none}");
        }
    }
}
