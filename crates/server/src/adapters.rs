//! Where the engine's actions go once committed. Telephony places calls, drops voicemails and
//! hangs up; dispatch asks an agency for help and calls it off. Each is a trait with a manual
//! implementation (the action is a task for an agent at the console) and a simulated one
//! (demos, training); SIP telephony or electronic dispatch (ASAP-to-PSAP) are further
//! implementations, and the engine never knows which one is in use.

use crate::board::Board;
use std::sync::Arc;
use tokio::sync::mpsc;
use watchpost_center::Effect;
use watchpost_core::alarm::{CallId, Purpose};
use watchpost_core::{Action, Agency, Alarm, AlarmKind};
use watchpost_store::AlarmId;

/// A call the engine asks for.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    pub alarm: AlarmId,
    pub call: CallId,
    pub to: String,
    pub phone: String,
    pub purpose: Purpose,
    /// The recorded message of an automated call.
    pub message: Option<String>,
    pub offers_agent: bool,
}

pub trait Telephony: Send + Sync {
    fn place(&self, call: OutboundCall);
    fn leave_voicemail(&self, alarm: AlarmId, call: CallId, message: &str);
    fn hang_up(&self, alarm: AlarmId, call: CallId);
    /// An agent said a person answered a call taken for a machine, and the center is still on
    /// the line leaving its message (`Action::ConnectAgent`): stop the message and connect the
    /// person to an agent. Nothing to do where agents make the calls: they are on the line.
    fn connect_agent(&self, _alarm: AlarmId, _call: CallId) {}
    /// This node has just taken the alarm over (a restart, or another node died) with a call
    /// of it in progress: carry that call on. Nothing to do where agents make the calls: the
    /// console shows the call as the next step.
    fn resume(&self, _alarm: AlarmId, _state: &Alarm) {}
}

pub trait Dispatch: Send + Sync {
    fn request(&self, alarm: AlarmId, agency: Agency, kind: AlarmKind, address: &str);
    fn cancel(&self, alarm: AlarmId, agency: Agency);
    /// This node has just taken the alarm over with dispatches requested and not yet
    /// confirmed: follow them up. Nothing to do where agents ask the agencies.
    fn resume(&self, _alarm: AlarmId, _state: &Alarm) {}
}

/// Agents do it: the console shows each call to make, the message to leave and the agency to
/// ask, and the agent records what happened.
pub struct Manual;

impl Telephony for Manual {
    fn place(&self, call: OutboundCall) {
        tracing::info!(alarm = call.alarm, call = call.call, to = %call.to, "call for an agent to make");
    }

    fn leave_voicemail(&self, alarm: AlarmId, call: CallId, _message: &str) {
        tracing::info!(alarm, call, "voicemail for an agent to leave");
    }

    fn hang_up(&self, alarm: AlarmId, call: CallId) {
        tracing::info!(alarm, call, "call for an agent to end");
    }
}

impl Dispatch for Manual {
    fn request(&self, alarm: AlarmId, agency: Agency, kind: AlarmKind, address: &str) {
        tracing::info!(alarm, %agency, %kind, address, "dispatch for an agent to request");
    }

    fn cancel(&self, alarm: AlarmId, agency: Agency) {
        tracing::info!(alarm, %agency, "dispatch cancellation for an agent to send");
    }
}

/// Hands every action to its adapter, and every alarm this node takes over to telephony,
/// until the center stops.
pub async fn carry_out(
    mut effects: mpsc::UnboundedReceiver<Vec<Effect>>,
    mut adopted: mpsc::UnboundedReceiver<Vec<AlarmId>>,
    board: Arc<Board>,
    telephony: Arc<dyn Telephony>,
    dispatch: Arc<dyn Dispatch>,
) {
    loop {
        let batch = tokio::select! {
            // Taken-over alarms first: their later actions must find the calls resumed.
            biased;
            Some(alarms) = adopted.recv() => {
                for alarm in alarms {
                    if let Some(state) = board.get(alarm) {
                        telephony.resume(alarm, &state);
                        dispatch.resume(alarm, &state);
                    }
                }
                continue;
            }
            batch = effects.recv() => match batch {
                Some(batch) => batch,
                None => return,
            },
        };
        for Effect { alarm, action } in batch {
            match action {
                Action::PlaceCall {
                    call,
                    to,
                    phone,
                    purpose,
                    message,
                    offers_agent,
                    ..
                } => telephony.place(OutboundCall {
                    alarm,
                    call,
                    to,
                    phone,
                    purpose,
                    message,
                    offers_agent,
                }),
                Action::LeaveVoicemail { call, message } => {
                    telephony.leave_voicemail(alarm, call, &message)
                }
                Action::HangUp { call } => telephony.hang_up(alarm, call),
                Action::ConnectAgent { call } => telephony.connect_agent(alarm, call),
                Action::RequestDispatch {
                    agency,
                    kind,
                    address,
                } => dispatch.request(alarm, agency, kind, &address),
                Action::CancelDispatch { agency } => dispatch.cancel(alarm, agency),
                Action::Close { .. } => {}
            }
        }
    }
}
