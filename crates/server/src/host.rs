//! The DNS-rebinding guard on every HTTP request: a page on another site whose name an
//! attacker points at the center's address is "same-origin" to the browser, so the origin
//! checks (`api::origin`) pass it; the `Host` it sends still names the attacker's site. Only
//! the names the center is served under are answered, others get 421 Misdirected Request
//! (RFC 9110 §15.5.20). README, "Configuration" (`http.hosts`).

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// Which `Host` names are answered. Always: an IP address (no name was resolved, so none
/// was rebound), `localhost` and `*.localhost` (browsers resolve them to loopback
/// themselves), and a request without `Host`. Then the names listed in `http.hosts`, in any
/// case, with or without a final dot. When none are listed: any name over TLS on an address
/// other than loopback (a rebound name fails the certificate check), and no name otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    names: Vec<String>,
    any_name: bool,
}

impl Hosts {
    /// `names` from `http.hosts` (without port); `bound`: the listener's address; `tls`:
    /// whether it speaks TLS.
    pub fn new(names: &[String], bound: IpAddr, tls: bool) -> Hosts {
        Hosts {
            names: names
                .iter()
                .map(|n| n.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
            any_name: names.is_empty() && tls && !bound.is_loopback(),
        }
    }

    /// Whether a request whose `Host` header is `host` (`name[:port]`, `[v6]:port`) is
    /// answered.
    pub fn allows(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        if name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        self.any_name || self.names.iter().any(|allowed| allowed == name)
    }
}

/// The name part of a `Host` value: without its port, an IPv6 literal without brackets.
fn host_name(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        // `[::1]evil.example` is no address: kept whole, it names nothing answered.
        return match v6.split_once(']') {
            Some((address, "")) => address,
            Some((address, port)) if port.starts_with(':') => address,
            _ => host,
        };
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Every name the request gives — each `Host` header and an absolute-form target's
/// authority (RFC 9112 §3.2.2) — must be one the center answers.
pub async fn known_host(State(hosts): State<Arc<Hosts>>, request: Request, next: Next) -> Response {
    let mut named: Vec<String> = request
        .headers()
        .get_all(header::HOST)
        .iter()
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .collect();
    named.extend(request.uri().authority().map(|a| a.to_string()));
    match named.into_iter().find(|host| !hosts.allows(host)) {
        Some(host) => {
            let shown: String = host.chars().take(80).collect();
            let message =
                format!("refused: this center is not served under the name {shown:?} (http.hosts)");
            if request.uri().path().starts_with("/api/") {
                crate::api::ApiError::new(StatusCode::MISDIRECTED_REQUEST, message).into_response()
            } else {
                (StatusCode::MISDIRECTED_REQUEST, message).into_response()
            }
        }
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_listed_names_only_addresses_and_localhost_are_answered() {
        for (bound, tls) in [
            ("127.0.0.1", false),
            ("127.0.0.1", true),
            ("0.0.0.0", false),
        ] {
            let hosts = Hosts::new(&[], bound.parse().unwrap(), tls);
            for host in [
                "127.0.0.1:8080",
                "localhost:8080",
                "LocalHost",
                "console.localhost:8080",
                "[::1]:8080",
                "10.0.0.5",
            ] {
                assert!(hosts.allows(host), "{bound} {tls} {host}");
            }
            for host in [
                "evil.example:8080",
                "evil.example",
                "localhost.evil.example:8080",
                "[::1]evil.example",
            ] {
                assert!(!hosts.allows(host), "{bound} {tls} {host}");
            }
        }
        // Over TLS on a public address, the certificate stops a rebound name.
        let tls = Hosts::new(&[], "0.0.0.0".parse().unwrap(), true);
        assert!(tls.allows("center.example:443"));
    }

    #[test]
    fn listed_names_are_answered_in_any_case_with_or_without_a_final_dot() {
        let listed = ["Center.Example".to_string(), "trail.example.".to_string()];
        let named = Hosts::new(&listed, "0.0.0.0".parse().unwrap(), false);
        assert!(named.allows("center.example:8443"));
        assert!(named.allows("CENTER.EXAMPLE."));
        assert!(named.allows("trail.example"));
        assert!(named.allows("trail.example.:8443"));
        assert!(named.allows("192.0.2.4:8443"));
        assert!(!named.allows("evil.example:8443"));
        assert!(!named.allows("center.example.evil.example"));
    }
}
