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
/// case; when none are listed, any name unless the listener is on a loopback address, where
/// only a rebound name can reach it from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    names: Vec<String>,
    loopback_only: bool,
}

impl Hosts {
    /// `names` from `http.hosts` (without port); `bound`: the listener's address.
    pub fn new(names: &[String], bound: IpAddr) -> Hosts {
        Hosts {
            names: names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            loopback_only: bound.is_loopback(),
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
        if self.names.is_empty() {
            return !self.loopback_only;
        }
        self.names.iter().any(|allowed| allowed == name)
    }
}

/// The name part of a `Host` value: without its port, an IPv6 literal without brackets.
fn host_name(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or_default();
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

pub async fn known_host(State(hosts): State<Arc<Hosts>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    match host {
        Some(host) if !hosts.allows(&host) => {
            let shown: String = host.chars().take(80).collect();
            let message =
                format!("refused: this center is not served under the name {shown:?} (http.hosts)");
            if request.uri().path().starts_with("/api/") {
                crate::api::ApiError::new(StatusCode::MISDIRECTED_REQUEST, message).into_response()
            } else {
                (StatusCode::MISDIRECTED_REQUEST, message).into_response()
            }
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_loopback_only_addresses_and_localhost_are_answered_unless_names_are_listed() {
        let loopback = Hosts::new(&[], "127.0.0.1".parse().unwrap());
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LocalHost",
            "console.localhost:8080",
            "[::1]:8080",
            "10.0.0.5",
        ] {
            assert!(loopback.allows(host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "evil.example",
            "localhost.evil.example:8080",
        ] {
            assert!(!loopback.allows(host), "{host}");
        }
        let anywhere = Hosts::new(&[], "0.0.0.0".parse().unwrap());
        assert!(anywhere.allows("center.example:443"));
        let named = Hosts::new(&["Center.Example".into()], "0.0.0.0".parse().unwrap());
        assert!(named.allows("center.example:8443"));
        assert!(named.allows("CENTER.EXAMPLE."));
        assert!(named.allows("192.0.2.4:8443"));
        assert!(!named.allows("evil.example:8443"));
        assert!(!named.allows("center.example.evil.example"));
    }
}
