//! What the SIP telephony needs to know, checked once at start: our address, the trunk, the
//! credentials, the RTP port range, the voice and the timings.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::Duration;
use watchpost_media::amd::AmdConfig;
use watchpost_media::beep::DropConfig;

/// The SIP telephony's settings (README, "Telephony"; the `[telephony]` table).
#[derive(Clone)]
pub struct SipConfig {
    /// Our SIP address, UDP and TCP. Also the address our RTP ports are bound on.
    pub listen: SocketAddr,
    /// Where outbound INVITEs go: a trunk, a PBX or a proxy, as `host:port` (port 5060 when
    /// left out). Calls go to `sip:<E.164>@<trunk>`.
    pub trunk: Trunk,
    /// Digest credentials, used when the trunk challenges (401 or 407, RFC 3261 §22) and to
    /// REGISTER.
    pub credentials: Option<Credentials>,
    /// REGISTER with the trunk every `register_every` (some trunks authorise by IP instead).
    pub register: bool,
    /// The caller ID the center sends, in E.164: the center's callback number.
    pub caller_id: String,
    /// The UDP ports RTP may use, one per call leg (even ports only, RFC 3550 §11).
    pub rtp_ports: RangeInclusive<u16>,
    /// The program that speaks messages.
    pub voice: crate::tts::Voice,
    /// How long a call may ring before it is cancelled and counted as no answer.
    pub ring_timeout: Duration,
    /// Answering-machine detection (docs/telephony.md, "Person or machine").
    pub amd: AmdConfig,
    /// When a voicemail message starts after a machine answered (docs/telephony.md, "The
    /// voicemail drop").
    pub drop: DropConfig,
    /// How long a practice call waits for the person to press 1 once its message ended.
    pub press_one_wait: Duration,
    /// Where national numbers presented by callers are from (ISO 3166, like `US`).
    pub region: phonenumber::country::Id,
}

impl SipConfig {
    /// The settings with every default, for a center at `listen` calling through `trunk`.
    pub fn new(listen: SocketAddr, trunk: Trunk, caller_id: String) -> SipConfig {
        SipConfig {
            listen,
            trunk,
            credentials: None,
            register: false,
            caller_id,
            rtp_ports: 20000..=20999,
            voice: crate::tts::Voice::default(),
            ring_timeout: Duration::from_secs(30),
            amd: AmdConfig::default(),
            drop: DropConfig::default(),
            press_one_wait: Duration::from_secs(8),
            region: phonenumber::country::Id::US,
        }
    }

    /// The address RTP binds and SDP announces: the SIP listen address, or loopback's
    /// counterpart when SIP listens on every address (then the trunk must reach it there).
    pub fn media_ip(&self) -> IpAddr {
        self.listen.ip()
    }
}

impl fmt::Debug for SipConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SipConfig")
            .field("listen", &self.listen)
            .field("trunk", &self.trunk)
            .field("credentials", &self.credentials)
            .field("register", &self.register)
            .field("caller_id", &self.caller_id)
            .field("rtp_ports", &self.rtp_ports)
            .field("ring_timeout", &self.ring_timeout)
            .finish_non_exhaustive()
    }
}

/// Digest credentials. The password never shows in `Debug`, logs or errors.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// The trunk's host and port, from `sip:host[:port]` or `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    pub host: String,
    pub port: u16,
}

impl Trunk {
    /// `sip:<number>@host:port`, the Request-URI of a call to `number` (E.164, as the trunk
    /// wants it: Vonage, Telnyx and Twilio all take E.164 in the user part).
    pub fn uri_for(&self, number: &str) -> String {
        format!("sip:{number}@{}:{}", self.host, self.port)
    }

    /// `sip:host:port`, where REGISTER goes.
    pub fn uri(&self) -> String {
        format!("sip:{}:{}", self.host, self.port)
    }
}

impl std::str::FromStr for Trunk {
    type Err = String;

    /// Errors name what is wrong: a user part, parameters, an empty host, a bad port.
    fn from_str(text: &str) -> Result<Trunk, String> {
        let rest = text.strip_prefix("sip:").unwrap_or(text);
        if rest.starts_with("sips:") || text.starts_with("sips:") {
            return Err(format!(
                "{text:?}: TLS (sips:) is not supported yet; use sip:"
            ));
        }
        if rest.contains('@') {
            return Err(format!(
                "{text:?} holds a user part; give only the host and port (sip:host:port), the \
                 number dialled goes in front of it"
            ));
        }
        if rest.contains(';') || rest.contains('?') {
            return Err(format!(
                "{text:?}: parameters are not supported; give sip:host:port"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("{text:?}: {port:?} is not a port (1-65535)"))?;
                (host, port)
            }
            _ => (rest, 5060),
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{text:?} has no host"));
        }
        Ok(Trunk {
            host: host.to_string(),
            port,
        })
    }
}

/// `20000-20999`: an inclusive range of UDP ports with room for at least one call.
pub fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let bad = || format!("{text:?} is not a port range like 20000-20999");
    let (low, high) = text.split_once('-').ok_or_else(bad)?;
    let low: u16 = low.trim().parse().map_err(|_| bad())?;
    let high: u16 = high.trim().parse().map_err(|_| bad())?;
    if low == 0 || low > high {
        return Err(bad());
    }
    if high - low < 1 {
        return Err(format!(
            "{text:?} holds fewer than 2 ports; RTP takes an even port per call"
        ));
    }
    Ok(low..=high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunks_are_read_with_or_without_scheme_and_port() {
        let t: Trunk = "sip:127.0.0.1:5080".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 5080));
        assert_eq!(t.uri_for("+15555550101"), "sip:+15555550101@127.0.0.1:5080");
        let t: Trunk = "trunk.example.net".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("trunk.example.net", 5060));
        for (bad, says) in [
            ("sip:center@host", "user part"),
            ("sip:host:0", "not a port"),
            ("sip:host:99999", "not a port"),
            ("sip:", "no host"),
            ("sip:host;transport=tcp", "parameters"),
            ("sips:host", "TLS"),
        ] {
            let e = bad.parse::<Trunk>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range("20000-20999"), Ok(20000..=20999));
        for bad in ["20000", "2-1", "0-10", "a-b", "5-5"] {
            assert!(parse_port_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_show() {
        let c = Credentials {
            username: "center".into(),
            password: "s3cret-pw".into(),
        };
        let mut config = SipConfig::new(
            "127.0.0.1:5070".parse().unwrap(),
            "sip:127.0.0.1:5080".parse().unwrap(),
            "+15555550100".into(),
        );
        config.credentials = Some(c);
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
