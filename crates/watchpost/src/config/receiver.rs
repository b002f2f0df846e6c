//! The `[receiver]` keys that bound what the DC-09 receivers let in: the allow-list of panel
//! networks, the UDP rates, and the limits on accounts that are not enrolled. README,
//! "Configuration"; docs/wire.md, "What gets an answer".

use super::ReceiverTable;
use super::values::Limit;
use watchpost_server::{IpNet, Rate, ReceiverLimits};

/// Most open unknown-account items the cap may allow: more is no cap an operator can work.
const MOST_OPEN_ITEMS: usize = 100_000;
/// Most datagrams in flight: each holds a task and up to 64 KiB.
const MOST_IN_FLIGHT: usize = 65_536;

/// One allow-list entry: a network (`10.0.0.0/8`, `2001:db8::/32`) or one address.
fn network(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{entry:?} is not a network (like \"10.0.0.0/8\") or an address"))
}

/// A rate key: its value, its default when absent, none when `off`.
fn rate(value: Option<Limit>, default: Option<Rate>) -> Option<Rate> {
    match value {
        None => default,
        Some(Limit(limit)) => limit.map(|l| Rate {
            count: l.signals,
            per: std::time::Duration::from_millis(l.window_ms.max(1) as u64),
        }),
    }
}

/// A count key: its value (from 1 to `most`) or its default. The error names `receiver.<key>`.
fn count(key: &str, value: Option<usize>, default: usize, most: usize) -> Result<usize, String> {
    match value {
        None => Ok(default),
        Some(n) if (1..=most).contains(&n) => Ok(n),
        Some(n) => Err(format!("receiver.{key}: {n} is not from 1 to {most}")),
    }
}

impl ReceiverTable {
    /// The receivers' limits, each checked; an error names `receiver.<key>` (and, for the
    /// allow-list, the entry) and the reason.
    pub fn limits(&self) -> Result<ReceiverLimits, String> {
        let d = ReceiverLimits::default();
        let mut allow = Vec::new();
        for (n, entry) in self.allow.iter().flatten().enumerate() {
            allow
                .push(network(entry).map_err(|e| format!("receiver.allow: entry {}: {e}", n + 1))?);
        }
        Ok(ReceiverLimits {
            allow,
            udp_per_source: rate(self.udp_per_source, d.udp_per_source),
            udp_in_flight: count(
                "udp_in_flight",
                self.udp_in_flight,
                d.udp_in_flight,
                MOST_IN_FLIGHT,
            )?,
            unknown_per_account: rate(self.unknown_per_account, d.unknown_per_account),
            unknown_total: rate(self.unknown_total, d.unknown_total),
            unknown_open_items: count(
                "unknown_open_items",
                self.unknown_open_items,
                d.unknown_open_items,
                MOST_OPEN_ITEMS,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn table(text: &str) -> ReceiverTable {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_keys() {
        assert_eq!(table("").limits().unwrap(), ReceiverLimits::default());
        let limits = table(
            "allow = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\"]\n\
             udp_per_source = \"100/1s\"\nudp_in_flight = 64\nunknown_per_account = \"off\"\n\
             unknown_total = \"1000/1h\"\nunknown_open_items = 20",
        )
        .limits()
        .unwrap();
        let allow: Vec<String> = limits.allow.iter().map(ToString::to_string).collect();
        assert_eq!(allow, ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]);
        assert_eq!(
            limits.udp_per_source,
            Some(Rate {
                count: 100,
                per: Duration::from_secs(1)
            })
        );
        assert_eq!(limits.udp_in_flight, 64);
        assert_eq!(limits.unknown_per_account, None);
        assert_eq!(limits.unknown_total.unwrap().per, Duration::from_secs(3600));
        assert_eq!(limits.unknown_open_items, 20);
    }

    #[test]
    fn bad_values_name_their_key_and_entry() {
        let error = table("allow = [\"10.0.0.0/8\", \"10.0.0.0/33\"]")
            .limits()
            .unwrap_err();
        assert_eq!(
            error,
            "receiver.allow: entry 2: \"10.0.0.0/33\" is not a network (like \"10.0.0.0/8\") \
             or an address"
        );
        let error = table("unknown_open_items = 0").limits().unwrap_err();
        assert_eq!(
            error,
            "receiver.unknown_open_items: 0 is not from 1 to 100000"
        );
        let error = table("udp_in_flight = 1000000").limits().unwrap_err();
        assert!(error.starts_with("receiver.udp_in_flight: "), "{error}");
    }
}
