//! A call to the center's number: a contact calling back. The caller's number is matched
//! against the contacts of open alarms (`caller`); with one match the engine gets its
//! callback input and the alarm's agent is rung, with the alarm on their screen. With several
//! or none the call waits in `watchpost_server::lines` for an agent to attach it to an alarm
//! (the agent of one of the matching alarms is rung, else a free one); once attached, its end
//! and recording are that alarm's. The caller hears a short "please hold" until an agent's
//! phone answers, then the center bridges the two.

use crate::agent::{Agent, Agents, Found};
use crate::call::{self, Command, Line};
use crate::flow::Flow;
use crate::leg::Leg;
use crate::{Event, Shared, caller};
use rsipstack::dialog::dialog::DialogState;
use rsipstack::sip::StatusCode;
use rsipstack::transaction::transaction::Transaction;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use watchpost_core::alarm::CallId;
use watchpost_core::{Alarm, Input};
use watchpost_media::sdp;
use watchpost_server::lines::Candidate;
use watchpost_store::AlarmId;

/// What the caller hears while an agent's phone rings.
pub const HOLD: &str = "Thank you for calling back. Please hold while we connect you to an agent.";
/// What a person who pressed 1 hears while an agent's phone rings.
pub const HOLD_PRESSED: &str = "Please hold while we connect you to an agent.";

/// Answers one inbound INVITE and carries the call to its end.
pub async fn answer(shared: Arc<Shared>, mut tx: Transaction) {
    let headers: Vec<(String, String)> = tx
        .original
        .headers
        .iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect();
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let number = caller::caller_number(&pairs, &shared.config.trunk.host, shared.config.region);
    let Some(agents) = shared.agents.clone() else {
        let _ = tx.reply(StatusCode::TemporarilyUnavailable).await;
        return;
    };
    let offer = String::from_utf8_lossy(&tx.original.body).into_owned();
    let socket = match shared.ports.bind(shared.config.media_ip()).await {
        Ok(socket) => socket,
        Err(e) => {
            tracing::error!(error = %e, "no RTP port for a call back");
            let _ = tx.reply(StatusCode::ServiceUnavailable).await;
            return;
        }
    };
    let local = socket.local_addr().expect("a bound socket has an address");
    let (answer, media) = match sdp::answer(&offer, local.ip(), local.port(), rand::random()) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::info!(error = %e, "a call back offered no codec we speak");
            let _ = tx.reply(StatusCode::NotAcceptableHere).await;
            return;
        }
    };
    let (state_tx, mut states) = shared.endpoint.dialogs.new_dialog_state_channel();
    let dialog = match shared.endpoint.dialogs.get_or_create_server_invite(
        &tx,
        state_tx,
        None,
        Some(shared.endpoint.contact.clone()),
    ) {
        Ok(dialog) => dialog,
        Err(e) => {
            tracing::warn!(error = %e, "an inbound INVITE could not start a dialog");
            return;
        }
    };
    let mut handling = dialog.clone();
    tokio::spawn(async move {
        let _ = handling.handle(&mut tx).await;
    });
    let content_type = rsipstack::sip::Header::ContentType("application/sdp".into());
    if dialog
        .accept(Some(vec![content_type]), Some(answer.into_bytes()))
        .is_err()
    {
        return;
    }

    // Whose call it is.
    let alarms = agents.board.open_alarms();
    let mut found = number
        .as_deref()
        .map(|n| caller::matches(&alarms, n))
        .unwrap_or_default();
    // The candidates an agent chooses from read most urgent first, then oldest: the same list
    // in the same order whoever has taken which.
    found.sort_by_key(|(alarm, _)| {
        alarms
            .iter()
            .find(|(id, _)| id == alarm)
            .map(|(id, a)| (a.spec().kind.priority(), a.spec().opened_at, *id))
    });
    let mut waiting = None;
    let (alarm, call) = match found.as_slice() {
        [(alarm, contact)] => {
            let call = alarms
                .iter()
                .find(|(id, _)| id == alarm)
                .map_or(0, |(_, a)| a.calls().len() as CallId);
            shared.report(
                Some(*alarm),
                call,
                Event::Input(Input::Callback { contact: *contact }),
            );
            (Some(*alarm), call)
        }
        _ => {
            tracing::info!(
                caller = number.as_deref().unwrap_or("withheld"),
                alarms = found.len(),
                "a call to the center that matches no single open alarm: an agent attaches it"
            );
            let candidates = found
                .iter()
                .filter_map(|(alarm, contact)| candidate(&alarms, *alarm, *contact))
                .collect();
            let arrived = watchpost_server::now_ms();
            waiting = Some(agents.lines.register(number.clone(), arrived, candidates));
            (None, 0)
        }
    };
    let dial = call::Dial {
        alarm,
        call,
        to: number.unwrap_or_default(),
        purpose: watchpost_core::alarm::Purpose::Callback,
        message: None,
        offers_agent: false,
        attached: waiting.as_ref().map(|line| line.attached()),
    };
    let (commands_tx, mut commands) = mpsc::unbounded_channel::<Command>();
    let report = |event: Event| {
        let (alarm, call) = dial.label();
        shared.report(alarm, call, event)
    };

    // Hold, and ring an agent: the alarm's, or for a waiting call the agent of one of the
    // alarms it may be about (of the alarm it was attached to, once it is), or a free one.
    let mut contact = Leg::new(socket, &media);
    let hold = shared.speaker.say(HOLD).await.ok();
    let agent = {
        let ringing = async {
            match alarm {
                Some(alarm) => call::ring_agent(&shared, alarm, call, &mut commands).await,
                None => loop {
                    let alarms: Vec<AlarmId> = match dial.label() {
                        (Some(attached), _) => vec![attached],
                        (None, _) => found.iter().map(|(alarm, _)| *alarm).collect(),
                    };
                    if let Some(agent) = agent_for(&agents, &alarms).await {
                        let name = agent.name.clone();
                        if let Some(leg) =
                            call::ring(&shared, agent, None, call, &mut commands).await
                        {
                            if let Some(line) = &waiting {
                                line.set_agent(Some(&name));
                            }
                            break Some(leg);
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                },
            }
        };
        tokio::select! {
            leg = ringing => leg,
            hung_up = hold_until_agent(&mut contact, hold, &mut states) => {
                if hung_up {
                    report(Event::Input(Input::CallEnded { call: dial.label().1 }));
                }
                None
            }
        }
    };
    drop(commands_tx);
    let Some(agent) = agent else {
        let _ = dialog.bye().await;
        return;
    };
    let (_keep, mut commands) = mpsc::unbounded_channel();
    let line = Line {
        we_are_uac: false,
        outcome_reported: true,
    };
    let flow = Flow::bridged(call);
    let ended_by_caller = call::converse(
        &shared,
        &dial,
        line,
        flow,
        contact,
        Some(agent),
        &mut commands,
        &mut states,
    )
    .await;
    if !ended_by_caller {
        let _ = dialog.bye().await;
    }
    report(Event::Ended);
}

/// What the console shows of an alarm a waiting call may be about.
fn candidate(alarms: &[(AlarmId, Arc<Alarm>)], id: AlarmId, contact: usize) -> Option<Candidate> {
    let (_, alarm) = alarms.iter().find(|(a, _)| *a == id)?;
    let spec = alarm.spec();
    Some(Candidate {
        alarm: id,
        contact,
        name: spec.contacts.get(contact)?.name.clone(),
        account: spec.account.clone(),
    })
}

/// The agent of the first of `alarms` who has one with a phone, else a free agent.
async fn agent_for(agents: &Agents, alarms: &[AlarmId]) -> Option<Agent> {
    for alarm in alarms {
        if let Found::Agent(agent) = agents.for_alarm(*alarm).await {
            return Some(agent);
        }
    }
    match agents.free().await {
        Found::Agent(agent) => Some(agent),
        _ => None,
    }
}

/// Plays the hold message (then silence) to the caller until the future is dropped; returns
/// `true` if the caller hung up first.
async fn hold_until_agent(
    contact: &mut Leg,
    hold: Option<Arc<Vec<i16>>>,
    states: &mut mpsc::UnboundedReceiver<DialogState>,
) -> bool {
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let mut at = 0;
    let mut buffer = [0u8; 2048];
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let mut frame = [0i16; watchpost_media::FRAME_SAMPLES];
                if let Some(hold) = &hold {
                    let end = (at + frame.len()).min(hold.len());
                    if at < end {
                        frame[..end - at].copy_from_slice(&hold[at..end]);
                    }
                    at = end;
                }
                let _ = contact.send(&frame).await;
            }
            // What the caller says while holding goes nowhere.
            _ = contact.socket.recv_from(&mut buffer) => {}
            state = states.recv() => match state {
                Some(DialogState::Terminated(..)) | None => return true,
                Some(_) => {}
            }
        }
    }
}
