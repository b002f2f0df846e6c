//! SDP offer/answer (RFC 4566, RFC 3264) for one audio stream of PCMU/PCMA plus
//! telephone-event (RFC 4733). Hand-written: we need four line types and must tolerate
//! everything else real peers add (baresip, sipp, Asterisk, trunk SBCs).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::g711::Law;

/// The payload type we offer for telephone-event (a dynamic type, RFC 3551 §3).
pub const EVENT_PAYLOAD_TYPE: u8 = 101;

/// The far end's audio stream as its SDP describes it: where to send RTP, which codec and
/// payload type to use, and the payload type of its telephone events, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where the far end receives RTP (the `c=` line, media-level over session-level).
    pub addr: IpAddr,
    /// Its RTP port (the `m=audio` line).
    pub port: u16,
    /// The G.711 law chosen: the first of the far end's formats that we speak.
    pub law: Law,
    /// The payload type that law has in this session (0 or 8, or a dynamic one if mapped so).
    pub payload_type: u8,
    /// Payload type of `telephone-event/8000`, when offered.
    pub event_payload_type: Option<u8>,
    /// The far end's direction attribute (RFC 3264 §5.1), media-level over session-level,
    /// `SendRecv` by default. `SendOnly` from the far end means we are put on hold.
    pub direction: Direction,
}

/// An SDP direction attribute (RFC 4566 §6, RFC 3264 §5.1), from the point of view of the
/// side that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The attribute name without `a=`.
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer takes to an offer of this direction (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    fn parse(attribute: &str) -> Option<Direction> {
        match attribute {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// Why an SDP body gives us no audio stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP line {line}: field {field} {reason}")]
    Field {
        line: usize,
        field: &'static str,
        reason: String,
    },
    #[error("SDP has no usable m=audio line (none, or all with port 0)")]
    NoAudio,
    #[error("SDP audio offers no codec we speak (PCMU/8000 or PCMA/8000); formats were {formats}")]
    NoCommonCodec { formats: String },
    #[error("SDP audio stream has no c= line at media or session level (RFC 4566 §5.7)")]
    NoConnection,
}

/// An SDP offer for one audio stream: the `laws` in order of preference (PCMU, PCMA or both),
/// telephone-event/8000 on payload type 101 (events 0–16), `a=ptime:20` and `a=sendrecv`.
/// Lines end with CRLF (RFC 4566 §5). An empty `laws` offers PCMU.
pub fn offer(addr: IpAddr, port: u16, session_id: u64, laws: &[Law]) -> String {
    let laws = if laws.is_empty() {
        &[Law::Mu][..]
    } else {
        laws
    };
    let formats: Vec<(u8, &str)> = laws.iter().map(|l| (l.payload_type(), l.name())).collect();
    describe(
        addr,
        port,
        session_id,
        &formats,
        Some(EVENT_PAYLOAD_TYPE),
        Direction::SendRecv,
        &[],
    )
}

/// Parses the far end's answer (RFC 3264 §6) and returns its first `m=audio` stream that has a
/// non-zero port and a codec we speak. Errors: [`SdpError::NoAudio`], [`SdpError::NoCommonCodec`],
/// [`SdpError::NoConnection`], or [`SdpError::Field`] naming a malformed `c=` or `m=` line.
pub fn parse_answer(sdp: &str) -> Result<Media, SdpError> {
    parse(sdp).map(|(media, _)| media)
}

/// Answers an incoming offer (RFC 3264 §6): takes the first of the offer's audio formats we
/// speak, echoes its telephone-event payload type if any, answers the direction (sendonly →
/// recvonly, …) and declines every other `m=` line with port 0, keeping the line count as
/// §6 requires. Returns the answer's text and the offerer's stream. Errors as [`parse_answer`];
/// [`SdpError::NoCommonCodec`] when the offer has neither PCMU nor PCMA.
pub fn answer(
    offer: &str,
    addr: IpAddr,
    port: u16,
    session_id: u64,
) -> Result<(String, Media), SdpError> {
    let (media, chosen) = parse(offer)?;
    let declined: Vec<String> = chosen
        .others
        .iter()
        .map(|(kind, proto, first)| format!("m={kind} 0 {proto} {first}\r\n"))
        .collect();
    let text = describe(
        addr,
        port,
        session_id,
        &[(media.payload_type, media.law.name())],
        media.event_payload_type,
        media.direction.answer(),
        &declined,
    );
    // Declined lines must keep their place: RFC 3264 §6 matches m= lines by position.
    let text = if chosen.index == 0 {
        text
    } else {
        reorder_media(&text, chosen.index)
    };
    Ok((text, media))
}

fn describe(
    addr: IpAddr,
    port: u16,
    session_id: u64,
    formats: &[(u8, &str)],
    event: Option<u8>,
    direction: Direction,
    declined: &[String],
) -> String {
    let family = if addr.is_ipv4() { "IP4" } else { "IP6" };
    let mut pts: Vec<String> = formats.iter().map(|(pt, _)| pt.to_string()).collect();
    pts.extend(event.map(|pt| pt.to_string()));
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write!(
        s,
        "v=0\r\no=watchpost {session_id} {session_id} IN {family} {addr}\r\ns=watchpost\r\n\
         c=IN {family} {addr}\r\nt=0 0\r\nm=audio {port} RTP/AVP {}\r\n",
        pts.join(" ")
    );
    for (pt, name) in formats {
        let _ = write!(s, "a=rtpmap:{pt} {name}/8000\r\n");
    }
    if let Some(pt) = event {
        let _ = write!(
            s,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
    let _ = write!(s, "a=ptime:20\r\na={}\r\n", direction.attribute());
    for line in declined {
        s.push_str(line);
    }
    s
}

/// Moves the audio section (which `describe` writes first) to position `index` among the
/// m= sections.
fn reorder_media(text: &str, index: usize) -> String {
    let start = text.find("m=audio").unwrap_or(text.len());
    let (session, rest) = text.split_at(start);
    let mut sections: Vec<String> = Vec::new();
    for line in rest.split_inclusive("\r\n") {
        if line.starts_with("m=") || sections.is_empty() {
            sections.push(String::new());
        }
        if let Some(last) = sections.last_mut() {
            last.push_str(line);
        }
    }
    let audio = sections.remove(0);
    sections.insert(index.min(sections.len()), audio);
    format!("{session}{}", sections.concat())
}

/// The chosen m= line's position and the other m= lines (kind, proto, first format), for
/// declining them in an answer.
struct Chosen {
    index: usize,
    others: Vec<(String, String, String)>,
}

#[derive(Default)]
struct Section {
    kind: String,
    port: u16,
    proto: String,
    formats: Vec<u8>,
    raw_formats: String,
    connection: Option<IpAddr>,
    rtpmap: HashMap<u8, (String, u32)>,
    direction: Option<Direction>,
}

fn parse(sdp: &str) -> Result<(Media, Chosen), SdpError> {
    let mut session_connection = None;
    let mut session_direction = None;
    let mut sections: Vec<Section> = Vec::new();
    for (number, raw) in sdp.lines().enumerate() {
        let line = number + 1;
        let raw = raw.trim();
        let Some((kind, value)) = raw.split_once('=') else {
            continue; // blank or garbage lines are tolerated, as most stacks do
        };
        match kind {
            "m" => sections.push(parse_m(value, line)?),
            "c" => {
                let addr = parse_c(value, line)?;
                match sections.last_mut() {
                    Some(section) => section.connection = Some(addr),
                    None => session_connection = Some(addr),
                }
            }
            "a" => {
                let direction = Direction::parse(value);
                let Some(section) = sections.last_mut() else {
                    session_direction = direction.or(session_direction);
                    continue;
                };
                if direction.is_some() {
                    section.direction = direction;
                } else if let Some((pt, encoding)) =
                    value.strip_prefix("rtpmap:").and_then(parse_rtpmap)
                {
                    section.rtpmap.insert(pt, encoding);
                }
            }
            _ => {}
        }
    }
    let mut last_error = SdpError::NoAudio;
    for (index, section) in sections.iter().enumerate() {
        if section.kind != "audio" || section.port == 0 || !section.proto.starts_with("RTP/AVP") {
            continue;
        }
        let Some((law, payload_type)) = section.formats.iter().find_map(|&pt| {
            match section.rtpmap.get(&pt) {
                Some((name, 8000)) => Law::from_name(name),
                Some(_) => None,
                None => Law::from_payload_type(pt),
            }
            .map(|law| (law, pt))
        }) else {
            last_error = SdpError::NoCommonCodec {
                formats: section.raw_formats.clone(),
            };
            continue;
        };
        let event_payload_type = section.formats.iter().copied().find(|pt| {
            section.rtpmap.get(pt).is_some_and(|(name, rate)| {
                name.eq_ignore_ascii_case("telephone-event") && *rate == 8000
            })
        });
        let addr = section
            .connection
            .or(session_connection)
            .ok_or(SdpError::NoConnection)?;
        let others = sections
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, s)| {
                let first = s.raw_formats.split_whitespace().next().unwrap_or("0");
                (s.kind.clone(), s.proto.clone(), first.to_string())
            })
            .collect();
        let media = Media {
            addr,
            port: section.port,
            law,
            payload_type,
            event_payload_type,
            direction: section
                .direction
                .or(session_direction)
                .unwrap_or(Direction::SendRecv),
        };
        return Ok((media, Chosen { index, others }));
    }
    Err(last_error)
}

/// `m=<media> <port>[/<count>] <proto> <fmt> ...` (RFC 4566 §5.14).
fn parse_m(value: &str, line: usize) -> Result<Section, SdpError> {
    let bad = |reason: &str| SdpError::Field {
        line,
        field: "m=",
        reason: reason.to_string(),
    };
    let mut parts = value.split_whitespace();
    let kind = parts.next().ok_or_else(|| bad("has no media type"))?;
    let port = parts.next().ok_or_else(|| bad("has no port"))?;
    let port = port.split('/').next().unwrap_or(port);
    let port: u16 = port
        .parse()
        .map_err(|_| bad(&format!("port {port:?} is not a number 0-65535")))?;
    let proto = parts
        .next()
        .ok_or_else(|| bad("has no transport protocol"))?;
    let rest: Vec<&str> = parts.collect();
    let formats = if proto.starts_with("RTP/") {
        rest.iter()
            .map(|f| f.parse::<u8>().ok().filter(|pt| *pt < 128))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                bad(&format!(
                    "RTP payload types {rest:?} are not all numbers 0-127"
                ))
            })?
    } else {
        Vec::new()
    };
    Ok(Section {
        kind: kind.to_string(),
        port,
        proto: proto.to_string(),
        formats,
        raw_formats: rest.join(" "),
        ..Section::default()
    })
}

/// `c=IN IP4 <addr>[/ttl]` or `c=IN IP6 <addr>` (RFC 4566 §5.7).
fn parse_c(value: &str, line: usize) -> Result<IpAddr, SdpError> {
    let bad = |reason: String| SdpError::Field {
        line,
        field: "c=",
        reason,
    };
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [network, family, addr] = parts[..] else {
        return Err(bad(format!("{value:?} is not \"IN IP4|IP6 <address>\"")));
    };
    if network != "IN" || !matches!(family, "IP4" | "IP6") {
        return Err(bad(format!("{network} {family} is not IN IP4 or IN IP6")));
    }
    let addr = addr.split('/').next().unwrap_or(addr);
    addr.parse().map_err(|_| {
        bad(format!(
            "{addr:?} is not an IP address (host names are not supported)"
        ))
    })
}

/// `<pt> <name>/<rate>[/<channels>]` (RFC 4566 §6); `None` when malformed.
fn parse_rtpmap(value: &str) -> Option<(u8, (String, u32))> {
    let (pt, encoding) = value.split_once(' ')?;
    let mut parts = encoding.trim().split('/');
    let name = parts.next()?.to_string();
    let rate = parts.next()?.parse().ok()?;
    Some((pt.trim().parse().ok()?, (name, rate)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn offer_round_trips() {
        let sdp = offer(LOCAL, 4000, 42, &[Law::A, Law::Mu]);
        assert!(sdp.contains("m=audio 4000 RTP/AVP 8 0 101\r\n"));
        assert!(sdp.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        assert!(sdp.contains("a=ptime:20\r\n"));
        let media = parse_answer(&sdp).unwrap();
        assert_eq!(
            media,
            Media {
                addr: LOCAL,
                port: 4000,
                law: Law::A,
                payload_type: 8,
                event_payload_type: Some(101),
                direction: Direction::SendRecv
            }
        );
        let v6 = offer(IpAddr::V6(Ipv6Addr::LOCALHOST), 5000, 1, &[]);
        assert!(v6.contains("c=IN IP6 ::1\r\n") && v6.contains("RTP/AVP 0 101"));
    }

    /// As baresip 1.x/3.x writes an answer: LF or CRLF, many codecs, a=rtcp-fb, a=extmap…
    #[test]
    fn parses_a_baresip_answer() {
        let sdp = "v=0\r\no=- 1397418373 3226213637 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\n\
t=0 0\r\na=tool:baresip 3.10.1\r\nm=audio 10370 RTP/AVP 0 101\r\nb=AS:64\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=rtcp:10371\r\na=sendrecv\r\na=label:1\r\n\
a=ssrc:2766434712 cname:1ad0b1a7-5b1d-4e36-bd5f-0b16fa6ac0d4\r\na=rtcp-mux\r\na=ptime:20\r\n";
        let m = parse_answer(sdp).unwrap();
        assert_eq!(m.addr, "192.168.1.20".parse::<IpAddr>().unwrap());
        assert_eq!(
            (m.port, m.law, m.payload_type, m.event_payload_type),
            (10370, Law::Mu, 0, Some(101))
        );
    }

    /// sipp's uas scenario answer: no rtpmap for the static type, c= at session level, LF.
    #[test]
    fn parses_a_sipp_answer() {
        let sdp = "v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n\
m=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
        let m = parse_answer(sdp).unwrap();
        assert_eq!((m.port, m.law, m.event_payload_type), (6000, Law::Mu, None));
        let bare = "v=0\nc=IN IP4 127.0.0.1\nm=audio 6002 RTP/AVP 8\n";
        assert_eq!(parse_answer(bare).unwrap().law, Law::A);
    }

    /// Asterisk/SBC style: media-level c= overriding the session, codecs we do not speak first,
    /// a dynamic telephone-event type, a hold (sendonly) and a video line.
    #[test]
    fn parses_an_sbc_offer_and_answers_it() {
        let offer_sdp = "v=0\r\no=root 31589 31589 IN IP4 203.0.113.1\r\ns=Asterisk PBX 18\r\n\
c=IN IP4 203.0.113.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\nm=audio 18000 RTP/AVP 9 18 8 0 96 97\r\n\
c=IN IP4 198.51.100.7/127\r\na=rtpmap:9 G722/8000\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n\
a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 opus/48000/2\r\n\
a=rtpmap:97 telephone-event/8000\r\na=fmtp:97 0-16\r\na=ptime:20\r\na=maxptime:150\r\na=sendonly\r\n";
        let (text, media) = answer(offer_sdp, LOCAL, 7000, 9).unwrap();
        assert_eq!(media.addr, "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(
            (media.port, media.law, media.payload_type),
            (18000, Law::A, 8)
        );
        assert_eq!(media.event_payload_type, Some(97));
        assert_eq!(media.direction, Direction::SendOnly);
        let video = text.find("m=video 0 RTP/AVP 96").unwrap();
        let audio = text.find("m=audio 7000 RTP/AVP 8 97\r\n").unwrap();
        assert!(video < audio, "m= lines keep the offer's order:\n{text}");
        assert!(
            text.contains("a=recvonly\r\n") && text.contains("a=rtpmap:97 telephone-event/8000")
        );
        // Our own parser reads our answer back.
        let back = parse_answer(&text).unwrap();
        assert_eq!(
            (back.port, back.event_payload_type, back.direction),
            (7000, Some(97), Direction::RecvOnly)
        );
    }

    #[test]
    fn errors_say_why() {
        let opus_only =
            "v=0\nc=IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n";
        assert_eq!(
            answer(opus_only, LOCAL, 1, 1).unwrap_err(),
            SdpError::NoCommonCodec {
                formats: "111".into()
            }
        );
        assert_eq!(
            parse_answer("v=0\nm=audio 0 RTP/AVP 0\n"),
            Err(SdpError::NoAudio)
        );
        assert_eq!(
            parse_answer("v=0\nm=audio 5000 RTP/AVP 0\n"),
            Err(SdpError::NoConnection)
        );
        let bad_port = parse_answer("v=0\nm=audio 99999 RTP/AVP 0\n").unwrap_err();
        assert!(
            bad_port.to_string().contains("m=") && bad_port.to_string().contains("99999"),
            "{bad_port}"
        );
        let bad_c = parse_answer("v=0\nc=IN IP4 example.com\nm=audio 5 RTP/AVP 0\n").unwrap_err();
        assert!(
            matches!(
                bad_c,
                SdpError::Field {
                    field: "c=",
                    line: 2,
                    ..
                }
            ),
            "{bad_c}"
        );
        // A PCMU name on a 16 kHz clock is not G.711.
        let wide = "v=0\nc=IN IP4 1.2.3.4\nm=audio 5000 RTP/AVP 0\na=rtpmap:0 PCMU/16000\n";
        assert!(matches!(
            parse_answer(wide),
            Err(SdpError::NoCommonCodec { .. })
        ));
    }
}
