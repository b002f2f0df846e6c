//! One outbound INVITE, from our SDP offer to its final response: ringing, early media, a ring
//! timeout that CANCELs, a hang-up asked for meanwhile, digest answered by rsipstack (RFC 3261
//! §22). Used for the contact's leg (through the trunk) and for the agent's phone.

use crate::Shared;
use crate::call::Command;
use rsipstack::dialog::dialog::DialogState;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, Response, StatusCode, Uri};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use watchpost_media::g711::Law;
use watchpost_media::sdp::{self, Media};

/// Where the INVITE goes and what it carries.
pub struct Target {
    /// The Request-URI: `sip:<E.164>@trunk` for a contact, the agent's phone URI.
    pub uri: String,
    /// Extra headers: P-Asserted-Identity to a trunk, `Call-Info: answer-after=0` to an
    /// agent's phone (so it answers by itself).
    pub headers: Vec<Header>,
    pub ring_timeout: Duration,
    /// Answer a digest challenge with the trunk's credentials: for the trunk only, never for
    /// an agent's phone, which must not learn anything derived from the trunk password.
    pub trunk: bool,
}

/// What the callee's side did.
pub enum Invited {
    /// 200 OK: the dialog, the callee's media, our RTP socket, and the dialog's later states
    /// (a BYE from the callee shows there).
    Answered {
        dialog: InviteDialog,
        media: Media,
        socket: UdpSocket,
        states: mpsc::UnboundedReceiver<DialogState>,
    },
    /// A final response other than 200, or the ring timeout (`timed_out`).
    Unanswered { code: u16, timed_out: bool },
    /// We were asked to hang up before an answer (the INVITE was cancelled).
    HungUp,
    /// It could not be placed at all (no RTP port, a bad number, a transport error).
    Failed(String),
}

/// What the INVITE went through, as it happens.
pub enum Progress {
    Sent,
    Provisional {
        code: u16,
        reason: String,
    },
    /// The first RTP before the answer (a 183's ringback or announcement, RFC 3960). It is
    /// read and dropped, never classified: the detector hears only what follows the 200.
    EarlyMedia,
    Final {
        code: u16,
        reason: String,
    },
    RingTimeout,
}

/// Sends the INVITE and waits for its outcome. `progress` hears each step; a
/// `Command::HangUp` (or the end of `commands`) cancels it.
pub async fn invite(
    shared: &Shared,
    target: Target,
    progress: &(dyn Fn(Progress) + Sync),
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Invited {
    let socket = match shared.ports.bind(shared.config.media_ip()).await {
        Ok(socket) => socket,
        Err(e) => return Invited::Failed(e.to_string()),
    };
    let local = socket.local_addr().expect("a bound socket has an address");
    let offer = sdp::offer(
        local.ip(),
        local.port(),
        u64::from(rand::random::<u32>()),
        &[Law::Mu, Law::A],
    );
    let callee = match Uri::try_from(target.uri.as_str()) {
        Ok(uri) => uri,
        Err(e) => return Invited::Failed(format!("{:?} cannot be dialled: {e}", target.uri)),
    };
    let call_id = format!("{:032x}@watchpost", rand::random::<u128>());
    let option = InviteOption {
        caller: shared.endpoint.contact.clone(),
        callee,
        contact: shared.endpoint.contact.clone(),
        content_type: Some("application/sdp".into()),
        offer: Some(offer.into_bytes()),
        credential: shared.endpoint.credential.clone().filter(|_| target.trunk),
        headers: Some(target.headers),
        call_id: Some(call_id.clone()),
        ..Default::default()
    };
    let (state_tx, mut states) = shared.endpoint.dialogs.new_dialog_state_channel();
    let dialogs = shared.endpoint.dialogs.clone();
    let mut sent = tokio::spawn(async move { dialogs.do_invite(option, state_tx).await });
    progress(Progress::Sent);
    let ring_until = Instant::now() + target.ring_timeout;
    let mut cancelled = false;
    let mut timed_out = false;
    let mut early = [0u8; 2048];
    let mut early_heard = false;
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
    loop {
        tokio::select! {
            result = &mut sent => {
                // A 180 that came just before the final response is still queued: say it first.
                while let Ok(state) = states.try_recv() {
                    if let DialogState::Early(_, response) = state {
                        let (code, reason) = status_of(Some(&response));
                        progress(Progress::Provisional { code, reason });
                    }
                }
                return match result {
                    Ok(Ok((dialog, Some(response)))) if response.status_code == StatusCode::OK => {
                        progress(Progress::Final { code: 200, reason: "OK".into() });
                        if cancelled {
                            // The 200 crossed our CANCEL: end it (RFC 3261 §9.1).
                            let _ = dialog.bye().await;
                            return if timed_out {
                                Invited::Unanswered { code: 487, timed_out }
                            } else {
                                Invited::HungUp
                            };
                        }
                        match sdp::parse_answer(&String::from_utf8_lossy(response.body())) {
                            Ok(media) => Invited::Answered { dialog, media, socket, states },
                            Err(e) => {
                                // RFC 3264 §6: an answer we cannot use ends the call.
                                let _ = dialog.bye().await;
                                Invited::Failed(format!("the answer's SDP: {e}"))
                            }
                        }
                    }
                    Ok(Ok((_, response))) => {
                        let (code, reason) = status_of(response.as_ref());
                        progress(Progress::Final { code, reason });
                        if cancelled && !timed_out {
                            Invited::HungUp
                        } else {
                            Invited::Unanswered { code, timed_out }
                        }
                    }
                    Ok(Err(e)) => Invited::Failed(e.to_string()),
                    Err(e) => Invited::Failed(e.to_string()),
                };
            }
            // Left queued, early media would reach the detector after the 200 as if the
            // contact had said it.
            Ok(_) = socket.recv_from(&mut early) => {
                if !early_heard {
                    early_heard = true;
                    progress(Progress::EarlyMedia);
                }
            }
            Some(state) = states.recv() => {
                if let DialogState::Early(_, response) = state {
                    let (code, reason) = status_of(Some(&response));
                    progress(Progress::Provisional { code, reason });
                }
            }
            _ = tokio::time::sleep_until(ring_until), if !cancelled => {
                progress(Progress::RingTimeout);
                cancel();
                cancelled = true;
                timed_out = true;
            }
            command = commands.recv(), if !cancelled => {
                if matches!(command, Some(Command::HangUp) | None) {
                    cancel();
                    cancelled = true;
                }
            }
        }
    }
}

/// The status code and its reason phrase (`Busy Here`), as the peer wrote it when it did.
fn status_of(response: Option<&Response>) -> (u16, String) {
    match response {
        Some(r) => {
            let code = r.status_code.code();
            let reason = r.wire_reason.clone().unwrap_or_else(|| {
                let text = r.status_code.to_string();
                text.strip_prefix(&code.to_string())
                    .map_or(text.clone(), |rest| rest.trim().to_string())
            });
            (code, reason)
        }
        None => (408, "no final response".into()),
    }
}
