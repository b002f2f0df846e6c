//! The listeners' keys of `[receiver]` and `[http]`: connection caps, timeouts, and HTTP's
//! TLS certificate and key. README, "Configuration" and "Connection floods".

use super::values::Span;
use super::{HttpTable, ReceiverTable};
use std::time::Duration;
use watchpost_server::listen::{Caps, Dc09Listen, HttpListen, ListenConfig, TlsFiles};

/// The listeners' rules from the two tables, each key checked; defaults from
/// `ListenConfig::default`. The error names `table.key` and the reason.
pub fn config(receiver: &ReceiverTable, http: &HttpTable) -> Result<ListenConfig, String> {
    let d = ListenConfig::default();
    let dc09 = Dc09Listen {
        caps: caps(
            "receiver",
            receiver.max_connections,
            receiver.max_per_source,
            d.dc09.caps,
        )?,
        frame_timeout: span(
            "receiver.frame_timeout",
            receiver.frame_timeout,
            d.dc09.frame_timeout,
            (1, 600),
        )?,
        idle_timeout: span(
            "receiver.idle_timeout",
            receiver.idle_timeout,
            d.dc09.idle_timeout,
            (10, 24 * 3600),
        )?,
    };
    let tls = match (&http.tls_cert, &http.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.into(),
            key: key.into(),
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(
                "http.tls_key: is not set, and http.tls_cert needs it (both or \
                        neither)"
                    .into(),
            );
        }
        (None, Some(_)) => {
            return Err(
                "http.tls_cert: is not set, and http.tls_key needs it (both or \
                        neither)"
                    .into(),
            );
        }
    };
    let http = HttpListen {
        caps: caps(
            "http",
            http.max_connections,
            http.max_per_source,
            d.http.caps,
        )?,
        header_timeout: span(
            "http.header_timeout",
            http.header_timeout,
            d.http.header_timeout,
            (1, 300),
        )?,
        request_timeout: span(
            "http.request_timeout",
            http.request_timeout,
            d.http.request_timeout,
            (1, 600),
        )?,
        tls,
        hosts: hosts(http.hosts.as_deref().unwrap_or_default())?,
    };
    Ok(ListenConfig { dc09, http })
}

/// `http.hosts`: DNS names (RFC 1123: letters, digits, `-`, dots), at most 253 characters,
/// without scheme or port.
fn hosts(names: &[String]) -> Result<Vec<String>, String> {
    for (n, name) in names.iter().enumerate() {
        let bad = |reason: &str| Err(format!("http.hosts[{n}]: {name:?} {reason}"));
        if name.is_empty() || name.len() > 253 {
            return bad("must be 1 to 253 characters long");
        }
        if name.contains(':') || name.contains('/') {
            return bad("must be a name alone, without scheme or port (center.example.com)");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return bad("may hold only letters, digits, '-' and '.'");
        }
    }
    Ok(names.to_vec())
}

fn caps(
    table: &str,
    total: Option<usize>,
    per_source: Option<usize>,
    default: Caps,
) -> Result<Caps, String> {
    let total = total.unwrap_or(default.total);
    if total == 0 {
        return Err(format!("{table}.max_connections: must be at least 1"));
    }
    let per_source = per_source.unwrap_or(default.per_source.min(total));
    if per_source == 0 {
        return Err(format!("{table}.max_per_source: must be at least 1"));
    }
    if per_source > total {
        return Err(format!(
            "{table}.max_per_source: {per_source} is more than {table}.max_connections \
             ({total})"
        ));
    }
    Ok(Caps { total, per_source })
}

/// A duration within `(least, most)` seconds.
fn span(
    key: &str,
    value: Option<Span>,
    default: Duration,
    (least, most): (u64, u64),
) -> Result<Duration, String> {
    let Some(Span(d)) = value else {
        return Ok(default);
    };
    if d < Duration::from_secs(least) || d > Duration::from_secs(most) {
        return Err(format!(
            "{key}: {d:?} is outside {:?} to {:?}",
            Duration::from_secs(least),
            Duration::from_secs(most)
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(text: &str) -> Result<ListenConfig, String> {
        let file: super::super::ConfigFile = toml::from_str(text).unwrap();
        config(&file.receiver, &file.http)
    }

    #[test]
    fn defaults_and_keys() {
        assert_eq!(tables("").unwrap(), ListenConfig::default());
        let config = tables(
            "[receiver]\nmax_connections = 100\nmax_per_source = 40\nframe_timeout = \"5s\"\n\
             idle_timeout = \"2m\"\n[http]\nmax_connections = 50\nmax_per_source = 5\n\
             header_timeout = 3\nrequest_timeout = \"1m\"\ntls_cert = \"/etc/wp/cert.pem\"\ntls_key = \"/etc/wp/key.pem\"",
        )
        .unwrap();
        assert_eq!(
            config.dc09.caps,
            Caps {
                total: 100,
                per_source: 40
            }
        );
        assert_eq!(config.dc09.frame_timeout, Duration::from_secs(5));
        assert_eq!(config.dc09.idle_timeout, Duration::from_secs(120));
        assert_eq!(
            config.http.caps,
            Caps {
                total: 50,
                per_source: 5
            }
        );
        assert_eq!(config.http.header_timeout, Duration::from_secs(3));
        assert_eq!(config.http.request_timeout, Duration::from_secs(60));
        let tls = config.http.tls.unwrap();
        assert_eq!(tls.cert.to_str(), Some("/etc/wp/cert.pem"));
        assert_eq!(tls.key.to_str(), Some("/etc/wp/key.pem"));
        assert!(config.http.hosts.is_empty());
        let named = tables("[http]\nhosts = [\"center.example\"]").unwrap();
        assert_eq!(named.http.hosts, ["center.example"]);
        // A small listener's per-source cap follows it down.
        let small = tables("[http]\nmax_connections = 10").unwrap();
        assert_eq!(small.http.caps.per_source, 10);
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("[http]\ntls_cert = \"c.pem\"", "http.tls_key: is not set"),
            ("[http]\ntls_key = \"k.pem\"", "http.tls_cert: is not set"),
            (
                "[receiver]\nmax_connections = 0",
                "receiver.max_connections: ",
            ),
            ("[http]\nmax_per_source = 0", "http.max_per_source: must be"),
            (
                "[receiver]\nmax_connections = 10\nmax_per_source = 11",
                "receiver.max_per_source: 11 is more than receiver.max_connections (10)",
            ),
            (
                "[receiver]\nframe_timeout = 0",
                "receiver.frame_timeout: 0ns is outside",
            ),
            (
                "[http]\nheader_timeout = \"1h\"",
                "http.header_timeout: 3600s is outside",
            ),
            (
                "[http]\nhosts = [\"center.example\", \"https://center.example\"]",
                "http.hosts[1]: \"https://center.example\" must be a name alone",
            ),
            (
                "[http]\nhosts = [\"\"]",
                "http.hosts[0]: \"\" must be 1 to 253",
            ),
            (
                "[http]\nhosts = [\"a b\"]",
                "http.hosts[0]: \"a b\" may hold only",
            ),
        ];
        for (text, expected) in cases {
            let error = tables(text).unwrap_err();
            assert!(error.starts_with(expected), "{text:?}: {error}");
        }
    }
}
