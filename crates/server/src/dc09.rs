//! The SIA DC-09 receivers, TCP and UDP. Each frame is decided by watchpost-wire; an accepted
//! message is committed through the intake before its ACK is sent, so an ACK always means
//! stored. Over TCP malformed frames get a NAK and never end the connection; over UDP only a
//! datagram with DC-09 framing gets any answer (docs/wire.md, "What gets an answer"). What is
//! let in at all is `crate::admission`'s; how much from unknown accounts, `crate::unknown_budget`'s;
//! TCP connections are admitted under the listener's caps (`crate::listen`) and dropped when
//! they keep quiet (refused frames count as quiet) or leave a reply unread.

use crate::admission::{Admission, Refusal};
use crate::intake::Intake;
use crate::keys::Keys;
use crate::listen::{Acceptor, Admitted, Dc09Listen, Gate};
use crate::metrics::{Metrics, Reply, Transport};
use crate::supervision::Supervision;
use crate::unknown_budget::UnknownBudget;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;
use tokio::time::Instant;
use watchpost_core::router::Event;
use watchpost_store::SignalRecord;
use watchpost_wire::{
    Chunk, CrcForm, FrameSplitter, MessageId, RngPad, Window, duh, nak, parse_header_only,
    receive_with,
};

pub struct Receiver {
    pub intake: Intake,
    pub keys: Keys,
    pub supervision: Supervision,
    pub window: Window,
    /// Who may send at all, and how much (UDP).
    pub admission: Admission,
    /// How much is taken from accounts that are not enrolled.
    pub unknown: UnknownBudget,
    pub metrics: Arc<Metrics>,
    /// Told while the receivers listen (`crate::health`).
    pub health: Arc<crate::health::Health>,
}

/// The UDP receive buffer asked for: room for a few thousand datagrams, so a burst is read
/// and sorted by this loop (a panel's datagram kept, a flood's dropped) rather than dropped
/// unseen by the kernel. The kernel may grant less (`net.core.rmem_max`).
const UDP_RECEIVE_BUFFER: usize = 4 << 20;

/// How often the rate tables forget sources and numbers that have been quiet.
const FORGET_QUIET_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl Receiver {
    /// The reply to one frame that came over `transport`, after whatever it carried was
    /// committed; counted in the metrics.
    pub async fn handle(&self, raw: &[u8], transport: Transport) -> Option<Vec<u8>> {
        self.handle_heard(raw, transport, &mut None).await
    }

    /// `handle`, and `heard` set to the account whose message was stored.
    async fn handle_heard(
        &self,
        raw: &[u8],
        transport: Transport,
        heard: &mut Option<String>,
    ) -> Option<Vec<u8>> {
        let arrived = Instant::now();
        let reply = self.reply(raw, heard).await;
        let kind = reply.as_ref().map_or(Reply::None, |r| r.kind.into());
        self.metrics.frame(transport, kind);
        if kind == Reply::Ack {
            self.metrics
                .ack_latency
                .observe(arrived.elapsed().as_secs_f64());
        }
        reply.map(|r| r.bytes)
    }

    async fn reply(&self, raw: &[u8], heard: &mut Option<String>) -> Option<watchpost_wire::Reply> {
        let now = chrono::Utc::now();
        let receive = || {
            receive_with(
                raw,
                |account| account.and_then(|a| self.keys.get(a)),
                now,
                self.window,
                // The thread's CSPRNG: seeding a new one per frame cost a getrandom call each.
                &mut RngPad(rand::thread_rng()),
            )
        };
        let mut received = receive();
        // A key enrolled since the account feed was last read works on its first frame.
        if let Some(watchpost_wire::WireError::NoKey(account)) = &received.error
            && self.keys.look_up(account).await
        {
            received = receive();
        }
        if let Some(error) = &received.error {
            tracing::debug!("DC-09 frame not accepted: {error}");
        }
        if let Some(message) = &received.message {
            // A panel with a key must always encrypt: a plain frame in its name could be
            // forged, an alarm or a link test keeping a cut line looking alive. Its account
            // may be in the header or only in the data block.
            if !message.encrypted && self.keys.get(&message.account).is_some() {
                tracing::warn!(
                    account = %message.account,
                    "plain DC-09 frame for an account that must encrypt: refused"
                );
                let (crc, header) = parse_header_only(raw).ok()?;
                let echo = header.account.as_deref().unwrap_or(&message.account);
                return Some(duh(&header, Some(echo), crc));
            }
            // Beyond the unknown-account limits nothing is stored, so nothing is acknowledged.
            match self.unknown.admits(&message.account).await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    tracing::warn!(account = %message.account, "enrolment not known: {e}");
                    return None;
                }
            }
            let now_ms = now.timestamp_millis();
            if self.supervision.heard(&message.account, now_ms) {
                let intake = self.intake.clone();
                let restored = supervision_signal(&message.account, now_ms, Event::CommRestored);
                tokio::spawn(async move { intake.submit(vec![restored], None).await });
            }
            let source = match message.id {
                MessageId::AdmCid => "cid",
                _ => "sia",
            };
            let signals: Vec<SignalRecord> = message
                .events
                .iter()
                .map(|e| SignalRecord {
                    account: message.account.clone(),
                    received_at: now_ms,
                    source: source.into(),
                    event: Event::Panel {
                        class: e.class,
                        code: e.code.clone(),
                        zone: e.zone,
                    },
                    raw: message.data.clone(),
                })
                .collect();
            // Every frame goes through the intake, a link test too (it stores no signal): it
            // is the account's most recent frame, so a repeat after it is a new event.
            let frame = crate::retransmit::transmission(message, now_ms);
            let line = [("R", &message.receiver), ("L", &message.line)]
                .iter()
                .filter_map(|(tag, part)| part.as_ref().map(|p| format!("{tag}{p}")))
                .collect::<Vec<_>>()
                .join(" ");
            let line = (!line.is_empty()).then_some(line);
            if !self.intake.submit_on_line(signals, Some(frame), line).await {
                // Not stored, so not acknowledged: the panel will send it again.
                return None;
            }
            *heard = Some(message.account.clone());
        }
        received.reply
    }
}

pub fn supervision_signal(
    account: &str,
    now: watchpost_core::Millis,
    event: Event,
) -> SignalRecord {
    SignalRecord {
        account: account.to_string(),
        received_at: now,
        source: "supervision".into(),
        raw: event.describe(),
        event,
    }
}

/// Serves DC-09 over TCP until `stop`: each connection admitted by the caps of `rules`, and
/// dropped when it keeps silent beyond the timeouts of `rules` (panels reconnect).
pub async fn serve_tcp(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    rules: Dc09Listen,
    stop: watch::Receiver<bool>,
) {
    let _listening = receiver.health.listening();
    let mut acceptor = Acceptor::new(listener, Gate::new("DC-09", rules.caps));
    let rules = Arc::new(rules);
    loop {
        let mut stopping = stop.clone();
        tokio::select! {
            (stream, peer, place) = acceptor.next() => {
                let _ = stream.set_nodelay(true);
                let (receiver, rules, stop) = (receiver.clone(), rules.clone(), stop.clone());
                tokio::spawn(async move {
                    connection(stream, peer, receiver, &rules, &place, stop).await;
                });
            }
            _ = stopping.changed() => return,
        }
    }
}

/// When a connection that has been quiet is dropped.
struct Quiet {
    opened: Instant,
    /// The last frame stored (and ACKed), and its account.
    last_frame: Option<Instant>,
    account: Option<String>,
    /// When the bytes the splitter holds back (a frame begun) started arriving.
    partial_since: Option<Instant>,
}

impl Quiet {
    /// A first accepted frame within `frame_timeout` of connecting, a begun frame completed
    /// within it, and then silence for no longer than the supervision interval of the account last
    /// heard (none when unsupervised) plus `idle_timeout`.
    fn deadline(&self, rules: &Dc09Listen, supervision: &Supervision) -> Instant {
        let silence = match self.last_frame {
            None => self.opened + rules.frame_timeout,
            Some(at) => {
                let interval = self
                    .account
                    .as_deref()
                    .and_then(|a| supervision.interval(a))
                    .and_then(|ms| u64::try_from(ms).ok())
                    .map_or(Duration::ZERO, Duration::from_millis);
                at.checked_add(interval + rules.idle_timeout)
                    .unwrap_or(at + rules.idle_timeout)
            }
        };
        match self.partial_since {
            Some(since) => silence.min(since + rules.frame_timeout),
            None => silence,
        }
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: std::net::SocketAddr,
    receiver: Arc<Receiver>,
    rules: &Dc09Listen,
    place: &Admitted,
    mut stop: watch::Receiver<bool>,
) {
    if !receiver.admission.allows(peer.ip()) {
        return;
    }
    let mut splitter = FrameSplitter::new();
    let mut buffer = vec![0u8; 8192];
    let mut quiet = Quiet {
        opened: Instant::now(),
        last_frame: None,
        account: None,
        partial_since: None,
    };
    loop {
        let deadline = quiet.deadline(rules, &receiver.supervision);
        let read = tokio::select! {
            read = stream.read(&mut buffer) => read,
            _ = tokio::time::sleep_until(deadline) => {
                tracing::debug!("DC-09 connection from {peer} dropped: quiet too long");
                return;
            }
            // Full, the listener gave this connection's place (no frame stored yet, or its
            // source held more than its share) to a newer one. Only between frames: a frame
            // read is stored and answered first.
            _ = place.evicted() => {
                tracing::debug!("DC-09 connection from {peer} closed: its place went to a newer one");
                return;
            }
            _ = stop.changed() => return,
        };
        let n = match read {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) => {
                tracing::debug!("DC-09 connection from {peer} ended: {e}");
                return;
            }
        };
        for chunk in splitter.push(&buffer[..n]) {
            let reply = match chunk {
                Chunk::Frame(frame) => {
                    let mut heard = None;
                    let reply = receiver
                        .handle_heard(&frame, Transport::Tcp, &mut heard)
                        .await;
                    // Only a frame that was stored (and so ACKed) is a panel speaking: one
                    // answered DUH or NAK, or dropped, buys no time, or a few junk bytes
                    // would hold a place for the whole idle timeout.
                    if heard.is_some() {
                        place.proven();
                        quiet.last_frame = Some(Instant::now());
                        quiet.account = heard;
                    }
                    reply
                }
                Chunk::Malformed(_) => {
                    receiver.metrics.frame(Transport::Tcp, Reply::Nak);
                    Some(nak(chrono::Utc::now(), CrcForm::Hex).bytes)
                }
            };
            // A reply the peer does not take within `frame_timeout` ends the connection: a
            // client that never reads must not hold its place past every timeout.
            if let Some(reply) = reply {
                match tokio::time::timeout(rules.frame_timeout, stream.write_all(&reply)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::debug!("DC-09 connection from {peer} ended: {e}");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!("DC-09 connection from {peer} dropped: reply not read");
                        return;
                    }
                }
            }
        }
        quiet.partial_since = match splitter.buffered() {
            0 => None,
            _ => quiet.partial_since.or(Some(Instant::now())),
        };
    }
}

pub async fn serve_udp(
    socket: UdpSocket,
    receiver: Arc<Receiver>,
    mut stop: watch::Receiver<bool>,
) {
    let _listening = receiver.health.listening();
    widen_receive_buffer(&socket);
    let socket = Arc::new(socket);
    let mut buffer = vec![0u8; 65_536];
    let mut forget = tokio::time::interval(FORGET_QUIET_EVERY);
    loop {
        let (n, peer) = tokio::select! {
            got = socket.recv_from(&mut buffer) => match got {
                Ok(got) => got,
                Err(e) => {
                    tracing::debug!("DC-09 UDP receive failed: {e}");
                    continue;
                }
            },
            _ = forget.tick() => {
                receiver.admission.forget_quiet();
                receiver.unknown.forget_quiet();
                continue;
            }
            _ = stop.changed() => return,
        };
        // Refused here costs a table lookup and nothing else: no task, no answer.
        let Some(permit) = receiver.admission.datagram(peer.ip()) else {
            continue;
        };
        let datagram = &buffer[..n];
        // Not a frame (no LF and CR, a length or CRC that does not check, a header that does
        // not read): no answer, or one forged byte would buy a 47-byte NAK for someone else.
        if parse_header_only(datagram).is_err() {
            receiver.admission.tally.refused(Refusal::NotAFrame, &peer);
            continue;
        }
        let datagram = datagram.to_vec();
        let (socket, receiver) = (socket.clone(), receiver.clone());
        tokio::spawn(async move {
            let _in_flight = permit;
            if let Some(reply) = receiver.handle(&datagram, Transport::Udp).await {
                let _ = socket.send_to(&reply, peer).await;
            }
        });
    }
}

fn widen_receive_buffer(socket: &UdpSocket) {
    let socket = socket2::SockRef::from(socket);
    if let Err(e) = socket.set_recv_buffer_size(UDP_RECEIVE_BUFFER) {
        tracing::debug!("DC-09 UDP receive buffer left as it was: {e}");
    }
}
