//! Sign-in rate limits before any password work: per source address and for the whole
//! center, as token buckets (`governor`). A refused sign-in is answered with 429 and
//! `Retry-After`; it is not counted against the name it tried (issue 13, items 2 and 3).

use super::AuthError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Sign-ins allowed per minute. `Default`: 30 from one address, 600 in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// From one source address (IPv6 addresses count by their /64). Also the burst.
    pub per_address_per_minute: u32,
    /// For names that are not users, from everywhere together. Also the burst.
    pub overall_per_minute: u32,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            per_address_per_minute: 30,
            overall_per_minute: 600,
        }
    }
}

/// Above this many remembered addresses, those whose bucket is full again are forgotten.
const ADDRESSES_KEPT: usize = 10_000;

pub struct Limits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    overall: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"))
}

impl Limits {
    pub fn new(config: RateConfig) -> Limits {
        Limits {
            per_address: RateLimiter::keyed(per_minute(config.per_address_per_minute)),
            overall: RateLimiter::direct(per_minute(config.overall_per_minute)),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one sign-in from `ip`'s bucket, or says how long to wait (`TooManyAttempts`,
    /// whole seconds, at least 1).
    pub fn check(&self, ip: IpAddr) -> Result<(), AuthError> {
        if self.per_address.len() > ADDRESSES_KEPT {
            self.per_address.retain_recent();
        }
        let refused = |wait: std::time::Duration| AuthError::TooManyAttempts {
            retry_after_s: wait.as_secs() + 1,
        };
        self.per_address
            .check_key(&crate::listen::source_of(ip))
            .map_err(|no| refused(no.wait_time_from(self.clock.now())))
    }

    /// Takes one sign-in for a name that is no user from the center's bucket, or says how long
    /// to wait. Only such names spend it: a flood of made-up names from many addresses then
    /// never turns away the center's own users. Past it, such a name is not hashed (and still
    /// answered 401, after as long as a check takes: `login.rs`).
    pub fn check_unknown_name(&self) -> Result<(), AuthError> {
        self.overall
            .check()
            .map_err(|no| AuthError::TooManyAttempts {
                retry_after_s: no.wait_time_from(self.clock.now()).as_secs() + 1,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_bucket_and_all_share_one() {
        let limits = Limits::new(RateConfig {
            per_address_per_minute: 2,
            overall_per_minute: 5,
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        limits.check(a).unwrap();
        limits.check(a).unwrap();
        let e = limits.check(a).unwrap_err();
        assert!(
            matches!(e, AuthError::TooManyAttempts { retry_after_s } if (1..=31).contains(&retry_after_s)),
            "{e}"
        );
        limits.check(b).unwrap();
        limits.check(b).unwrap();
        // Names that are no user share one bucket, whatever their address.
        for _ in 0..5 {
            limits.check_unknown_name().unwrap();
        }
        assert!(limits.check_unknown_name().is_err());
        limits.check("10.0.0.3".parse().unwrap()).unwrap();
    }

    #[test]
    fn an_ipv6_client_counts_by_its_slash_64() {
        let limits = Limits::new(RateConfig {
            per_address_per_minute: 1,
            overall_per_minute: 100,
        });
        limits.check("2001:db8::1".parse().unwrap()).unwrap();
        assert!(limits.check("2001:db8::ffff:2".parse().unwrap()).is_err());
        limits.check("2001:db8:0:1::1".parse().unwrap()).unwrap();
    }
}
