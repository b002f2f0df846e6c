//! `[login]`: how sign-ins are bounded — how many password checks run at once and how many
//! may wait (the rest are told to retry: 503), and how many sign-ins a minute one address and
//! the whole center may make (beyond: 429). README, "Configuration".

use serde::Deserialize;
use watchpost_server::auth::{GateConfig, LoginConfig, RateConfig};

/// The table as written; every key optional (defaults in `GateConfig` and `RateConfig`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginTable {
    /// Password checks (argon2, 19 MiB each) that run at once; default: the number of cores
    /// less one (at least 1).
    pub hash_workers: Option<u32>,
    /// Checks that may wait for a worker; default: 8 per worker.
    pub hash_queue: Option<u32>,
    /// Sign-ins a minute from one address (an IPv6 /64); default 30.
    pub per_address_per_minute: Option<u32>,
    /// Sign-ins a minute from everywhere together; default 600.
    pub overall_per_minute: Option<u32>,
}

/// One count, checked: 1 to `max`. The error names `login.<key>`.
fn count(
    key: &str,
    value: Option<u32>,
    default: usize,
    min: u32,
    max: u32,
) -> Result<usize, String> {
    match value {
        None => Ok(default),
        Some(n) if (min..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(format!("login.{key}: {n} is outside {min} to {max}")),
    }
}

impl LoginTable {
    /// The limits, each checked; an error names `login.<key>` and the reason.
    pub fn config(&self) -> Result<LoginConfig, String> {
        let d = LoginConfig::default();
        let workers = count("hash_workers", self.hash_workers, d.gate.workers, 1, 64)?;
        let queue = count("hash_queue", self.hash_queue, 8 * workers, 0, 10_000)?;
        let per_address = count(
            "per_address_per_minute",
            self.per_address_per_minute,
            d.rates.per_address_per_minute as usize,
            1,
            100_000,
        )?;
        let overall = count(
            "overall_per_minute",
            self.overall_per_minute,
            d.rates.overall_per_minute as usize,
            1,
            1_000_000,
        )?;
        Ok(LoginConfig {
            gate: GateConfig {
                workers,
                queue,
                ..d.gate
            },
            rates: RateConfig {
                per_address_per_minute: per_address as u32,
                overall_per_minute: overall as u32,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> LoginTable {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_keys() {
        let d = LoginConfig::default();
        assert_eq!(table("").config().unwrap(), d);
        let c = table("hash_workers = 3\nper_address_per_minute = 10\noverall_per_minute = 90")
            .config()
            .unwrap();
        assert_eq!((c.gate.workers, c.gate.queue), (3, 24));
        assert_eq!(
            (c.rates.per_address_per_minute, c.rates.overall_per_minute),
            (10, 90)
        );
        assert_eq!(table("hash_queue = 0").config().unwrap().gate.queue, 0);
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = table("hash_workers = 0").config().unwrap_err();
        assert_eq!(e, "login.hash_workers: 0 is outside 1 to 64");
        let e = table("per_address_per_minute = 0").config().unwrap_err();
        assert!(e.starts_with("login.per_address_per_minute: "), "{e}");
    }
}
