//! One call leg's media on the wire: its RTP socket (an even port from the configured range),
//! 20 ms packets out, packets in decoded and put back in order, digits heard (RFC 4733 and
//! in-band). Symmetric RTP: once the peer's packets arrive, they are answered where they came
//! from (RFC 4961), which is what a peer behind NAT needs.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Mutex;
use tokio::net::UdpSocket;
use watchpost_media::dtmf::{EventReceiver, InbandDtmf};
use watchpost_media::g711::Law;
use watchpost_media::rtp::{self, Reorder};
use watchpost_media::sdp::Media;

/// The RTP ports, handed out round robin so a port just freed rests before it is used again
/// (late packets of the last call must not reach the next one).
pub struct Ports {
    range: RangeInclusive<u16>,
    next: Mutex<u16>,
}

impl Ports {
    pub fn new(range: RangeInclusive<u16>) -> Ports {
        let first = *range.start() + (*range.start() % 2);
        Ports {
            range,
            next: Mutex::new(first),
        }
    }

    /// A UDP socket on the next free even port. Errors: every port of the range is taken.
    pub async fn bind(&self, ip: IpAddr) -> io::Result<UdpSocket> {
        let (low, high) = (*self.range.start(), *self.range.end());
        let even = (high - low) / 2 + 1;
        for _ in 0..even {
            let port = {
                let mut next = self.next.lock().unwrap();
                let port = *next;
                *next = if port.saturating_add(2) > high {
                    low + (low % 2)
                } else {
                    port + 2
                };
                port
            };
            match UdpSocket::bind(SocketAddr::new(ip, port)).await {
                Ok(socket) => return Ok(socket),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("every RTP port of {low}-{high} is in use: widen telephony.rtp_ports"),
        ))
    }
}

/// What arrived from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// The next 20 ms of the peer's audio, in order (a lost packet is a frame of silence).
    Frame(Vec<i16>),
    /// A key the peer pressed.
    Digit(char),
}

/// One leg's RTP.
pub struct Leg {
    pub socket: UdpSocket,
    remote: SocketAddr,
    latched: bool,
    law: Law,
    payload_type: u8,
    event_payload_type: Option<u8>,
    sender: rtp::Sender,
    reorder: Reorder,
    events: EventReceiver,
    inband: InbandDtmf,
    encoded: Vec<u8>,
    packet: Vec<u8>,
}

impl Leg {
    /// The leg on `socket`, sending to what the peer's SDP said.
    pub fn new(socket: UdpSocket, media: &Media) -> Leg {
        let ssrc: u32 = rand::random();
        Leg {
            socket,
            remote: SocketAddr::new(media.addr, media.port),
            latched: false,
            law: media.law,
            payload_type: media.payload_type,
            event_payload_type: media.event_payload_type,
            sender: rtp::Sender::new(ssrc, rand::random(), rand::random()),
            reorder: Reorder::new(4),
            events: EventReceiver::new(),
            inband: InbandDtmf::new(),
            encoded: Vec::with_capacity(160),
            packet: Vec::with_capacity(172),
        }
    }

    /// Sends one 20 ms frame (160 samples).
    pub async fn send(&mut self, frame: &[i16]) -> io::Result<()> {
        self.encoded.clear();
        self.law.encode(frame, &mut self.encoded);
        self.packet.clear();
        self.sender
            .audio(self.payload_type, &self.encoded, &mut self.packet);
        self.socket.send_to(&self.packet, self.remote).await?;
        Ok(())
    }

    /// Reads one datagram's worth of news. A datagram that is not RTP, or from a codec we did
    /// not agree on, is dropped (a stray packet must not end a call).
    pub fn received(&mut self, datagram: &[u8], from: SocketAddr) -> Vec<Heard> {
        let Ok(packet) = rtp::parse(datagram) else {
            return Vec::new();
        };
        if !self.latched {
            self.remote = from;
            self.latched = true;
        }
        let mut heard = Vec::new();
        if Some(packet.payload_type) == self.event_payload_type {
            if let Some(digit) = self.events.push(packet.timestamp, packet.payload) {
                heard.push(Heard::Digit(digit));
            }
            return heard;
        }
        if packet.payload_type != self.payload_type {
            return heard;
        }
        let mut pcm = Vec::with_capacity(packet.payload.len());
        self.law.decode(packet.payload, &mut pcm);
        for frame in self.reorder.push(packet.sequence, pcm) {
            if let Some(digit) = self.inband.push(&frame) {
                heard.push(Heard::Digit(digit));
            }
            heard.push(Heard::Frame(frame));
        }
        heard
    }
}
