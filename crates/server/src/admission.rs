//! What the DC-09 receivers let in before doing any work for it: the allow-list of panel
//! networks (UDP and TCP), and for UDP a rate per source address and a bound on datagrams
//! being handled at once. A datagram refused here gets no reply at all (docs/wire.md, "What
//! gets an answer"): an answer to a flood would make the center an amplifier.

use crate::listen::LogLimit;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// At most `count` in any `per`, with a burst of `count` allowed at once (a token bucket that
/// holds `count` and refills over `per`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// `count` per `per`; `None` when either is zero.
    fn quota(self) -> Option<Quota> {
        let burst = NonZeroU32::new(self.count)?;
        Quota::with_period(self.per / self.count).map(|q| q.allow_burst(burst))
    }
}

/// The receivers' limits (`[receiver]` keys in the configuration file; README,
/// "Configuration"). A `None` rate is no limit.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverLimits {
    /// Panel networks allowed to reach the receivers; empty: every address.
    pub allow: Vec<IpNet>,
    /// UDP datagrams from one source address (an IPv6 source counts by its /64).
    pub udp_per_source: Option<Rate>,
    /// UDP datagrams being handled at once, every source together; beyond it datagrams are
    /// dropped unanswered.
    pub udp_in_flight: usize,
    /// Frames from one account number that is not enrolled, over TCP and UDP.
    pub unknown_per_account: Option<Rate>,
    /// Frames from all account numbers that are not enrolled, together.
    pub unknown_total: Option<Rate>,
    /// Open unknown-account items; beyond it, frames from a further unknown number are
    /// refused (those of numbers that have an open item still join it, within their rates).
    pub unknown_open_items: usize,
}

impl Default for ReceiverLimits {
    /// 300 datagrams a source per 10 s (a burst of 300, then 30 a second: a panel's backlog
    /// of 50 after an outage, or a few hundred panels behind one NAT, stay well inside);
    /// 256 datagrams in flight; an unknown number 50 frames an hour, all unknown numbers 500
    /// an hour, 100 open unknown-account items.
    fn default() -> Self {
        ReceiverLimits {
            allow: Vec::new(),
            udp_per_source: Some(Rate {
                count: 300,
                per: Duration::from_secs(10),
            }),
            udp_in_flight: 256,
            unknown_per_account: Some(Rate {
                count: 50,
                per: Duration::from_secs(3600),
            }),
            unknown_total: Some(Rate {
                count: 500,
                per: Duration::from_secs(3600),
            }),
            unknown_open_items: 100,
        }
    }
}

/// Why something was turned away; each is logged apart, at a bounded rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The source is outside the allow-list.
    NotAllowed,
    /// The source sent more UDP datagrams than its rate.
    SourceRate,
    /// Too many datagrams were being handled at once.
    Busy,
    /// A datagram that is not a DC-09 frame.
    NotAFrame,
    /// An unknown account's own rate.
    UnknownAccountRate,
    /// All unknown accounts' rate together.
    UnknownTotalRate,
    /// The open unknown-account items are at their cap.
    UnknownItemsFull,
}

impl Refusal {
    const ALL: usize = 7;

    fn describe(self) -> &'static str {
        match self {
            Refusal::NotAllowed => "from addresses outside receiver.allow, dropped",
            Refusal::SourceRate => "UDP datagrams over receiver.udp_per_source, dropped unanswered",
            Refusal::Busy => "UDP datagrams over receiver.udp_in_flight, dropped unanswered",
            Refusal::NotAFrame => "UDP datagrams that are not DC-09 frames, dropped unanswered",
            Refusal::UnknownAccountRate => {
                "frames from unknown accounts over receiver.unknown_per_account, not \
                 acknowledged"
            }
            Refusal::UnknownTotalRate => {
                "frames from unknown accounts over receiver.unknown_total, not acknowledged"
            }
            Refusal::UnknownItemsFull => {
                "frames from further unknown accounts while receiver.unknown_open_items \
                 items are open, not acknowledged: resolve the open unknown-account items"
            }
        }
    }

    /// Refusals a supervisor must act on (the unknown-account caps) are warnings; floods
    /// and garbage are information.
    fn is_warning(self) -> bool {
        matches!(
            self,
            Refusal::UnknownAccountRate | Refusal::UnknownTotalRate | Refusal::UnknownItemsFull
        )
    }
}

/// How often each kind of refusal is logged at most: one line with the count since the last.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// Counts refusals and logs each kind at most once per `LOG_EVERY`.
#[derive(Debug)]
pub struct Tally {
    logs: [LogLimit; Refusal::ALL],
    total: [std::sync::atomic::AtomicU64; Refusal::ALL],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            logs: std::array::from_fn(|_| LogLimit::new(LOG_EVERY)),
            total: Default::default(),
        }
    }
}

impl Tally {
    /// Counts one refusal of `kind` (`detail`: the source or the account), logging it with the
    /// count since the last line when its kind was not logged within `LOG_EVERY`.
    pub fn refused(&self, kind: Refusal, detail: &dyn std::fmt::Display) {
        let at = kind as usize;
        self.total[at].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(left_out) = self.logs[at].due() else {
            return;
        };
        let count = left_out + 1;
        if kind.is_warning() {
            tracing::warn!("DC-09: {count} {} (latest: {detail})", kind.describe());
        } else {
            tracing::info!("DC-09: {count} {} (latest: {detail})", kind.describe());
        }
    }

    /// How many refusals of `kind` since the start.
    pub fn total(&self, kind: Refusal) -> u64 {
        self.total[kind as usize].load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The source-side gate the receivers share.
pub struct Admission {
    allow: Vec<IpNet>,
    per_source: Option<DefaultKeyedRateLimiter<IpAddr>>,
    in_flight: Arc<Semaphore>,
    pub tally: Arc<Tally>,
}

impl Admission {
    pub fn new(limits: &ReceiverLimits, tally: Arc<Tally>) -> Admission {
        Admission {
            allow: limits.allow.clone(),
            per_source: limits
                .udp_per_source
                .and_then(Rate::quota)
                .map(DefaultKeyedRateLimiter::keyed),
            in_flight: Arc::new(Semaphore::new(limits.udp_in_flight.max(1))),
            tally,
        }
    }

    /// Whether `source` is in the allow-list (everyone when it is empty); a refusal is tallied.
    pub fn allows(&self, source: IpAddr) -> bool {
        let source = source.to_canonical();
        let allowed = self.allow.is_empty() || self.allow.iter().any(|n| n.contains(&source));
        if !allowed {
            self.tally.refused(Refusal::NotAllowed, &source);
        }
        allowed
    }

    /// Whether a UDP datagram from `source` is handled: allowed, within the source's rate, and
    /// with room in flight; the permit is held while it is handled. Refusals are tallied.
    pub fn datagram(&self, source: IpAddr) -> Option<OwnedSemaphorePermit> {
        if !self.allows(source) {
            return None;
        }
        if let Some(limiter) = &self.per_source
            && limiter
                .check_key(&crate::listen::source_of(source))
                .is_err()
        {
            self.tally.refused(Refusal::SourceRate, &source);
            return None;
        }
        match self.in_flight.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                self.tally.refused(Refusal::Busy, &source);
                None
            }
        }
    }

    /// Forgets sources whose rate is back to full, so a spread of sources cannot grow the
    /// table without limit.
    pub fn forget_quiet(&self) {
        if let Some(limiter) = &self.per_source {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// A direct (unkeyed) limiter for `rate`, `None` for no limit.
pub(crate) fn direct(rate: Option<Rate>) -> Option<DefaultDirectRateLimiter> {
    rate.and_then(Rate::quota)
        .map(DefaultDirectRateLimiter::direct)
}

/// A keyed limiter for `rate`, `None` for no limit.
pub(crate) fn keyed<K: std::hash::Hash + Eq + Clone>(
    rate: Option<Rate>,
) -> Option<DefaultKeyedRateLimiter<K>> {
    rate.and_then(Rate::quota)
        .map(DefaultKeyedRateLimiter::keyed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(allow: &[&str], per_source: u32) -> ReceiverLimits {
        ReceiverLimits {
            allow: allow.iter().map(|n| n.parse().unwrap()).collect(),
            udp_per_source: Some(Rate {
                count: per_source,
                per: Duration::from_secs(3600),
            }),
            udp_in_flight: 2,
            ..ReceiverLimits::default()
        }
    }

    #[test]
    fn the_allow_list_admits_its_networks_only_and_empty_admits_everyone() {
        let tally = Arc::new(Tally::default());
        let gate = Admission::new(&limits(&["10.0.0.0/8", "2001:db8::/32"], 5), tally.clone());
        assert!(gate.allows("10.1.2.3".parse().unwrap()));
        assert!(gate.allows("::ffff:10.1.2.3".parse().unwrap()));
        assert!(gate.allows("2001:db8::7".parse().unwrap()));
        assert!(!gate.allows("192.168.1.1".parse().unwrap()));
        assert_eq!(tally.total(Refusal::NotAllowed), 1);
        let open = Admission::new(&limits(&[], 5), tally);
        assert!(open.allows("192.168.1.1".parse().unwrap()));
    }

    #[test]
    fn a_source_over_its_rate_is_refused_and_others_are_not() {
        let tally = Arc::new(Tally::default());
        let gate = Admission::new(&limits(&[], 3), tally.clone());
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(gate.datagram(a).is_some());
        }
        assert!(gate.datagram(a).is_none());
        assert!(gate.datagram(b).is_some());
        assert_eq!(tally.total(Refusal::SourceRate), 1);
        // One IPv6 /64 is one source.
        let (c, d): (IpAddr, IpAddr) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        let held: Vec<_> = (0..3).filter_map(|_| gate.datagram(c)).collect();
        drop(held);
        assert!(gate.datagram(d).is_none());
    }

    #[test]
    fn datagrams_beyond_the_in_flight_bound_are_refused_until_one_is_done() {
        let tally = Arc::new(Tally::default());
        let gate = Admission::new(&limits(&[], 100), tally.clone());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let first = gate.datagram(a).unwrap();
        let _second = gate.datagram(a).unwrap();
        assert!(gate.datagram(a).is_none());
        assert_eq!(tally.total(Refusal::Busy), 1);
        drop(first);
        assert!(gate.datagram(a).is_some());
    }
}
