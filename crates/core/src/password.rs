//! The verbal password: stored only as an argon2 hash, compared after normalising what was
//! said (trimmed, case folded, inner whitespace collapsed). Nobody ever sees it again.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest verbal password, in characters once normalised (`normalise`): a phrase a person
/// says on the phone. Enrolment refuses a longer one, so an attempt longer than this cannot
/// match, and the center refuses it without hashing it or using up one of the call's tries.
pub const MAX_CHARS: usize = 200;

/// How much work a hash costs. `Standard` is what a live center stores; `Fast` is for
/// throwaway databases (scenario runs, simulations, tests) where thousands of accounts are
/// enrolled per second. The PHC string records the parameters, so verification needs no hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCost {
    Standard,
    Fast,
}

impl HashCost {
    fn params(self) -> Params {
        match self {
            // OWASP's argon2id baseline: 19 MiB, 2 passes.
            HashCost::Standard => Params::new(19 * 1024, 2, 1, None),
            HashCost::Fast => Params::new(64, 1, 1, None),
        }
        .expect("constant argon2 parameters are valid")
    }
}

/// The weakest argon2id settings a migrated hash may have, as `(m in KiB, t passes)`: a
/// hash must reach both numbers of one pair. OWASP's Password Storage Cheat Sheet lists them
/// as equally strong; `HashCost::Standard` is the second.
pub const MIGRATION_MINIMUMS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

/// The most a migrated hash may cost to check, as `(m in KiB, m × t, p lanes)`: RFC 9106's
/// second recommendation (m=64 MiB, t=3) at most. Every verbal password said on a call is
/// hashed with the stored parameters, within `login.hash_workers` at once, so one imported row
/// with a huge `m` could otherwise take a center's memory.
pub const MIGRATION_MAXIMUMS: (u32, u32, u32) = (64 * 1024, 3 * 64 * 1024, 8);

/// An argon2 PHC string. Debug and Display never print it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VerbalPassword(String);

impl VerbalPassword {
    pub fn hash(spoken: &str, cost: HashCost) -> Self {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params());
        let hash = hasher
            .hash_password(normalise(spoken).as_bytes(), &salt)
            .expect("argon2 hashing with valid parameters cannot fail");
        VerbalPassword(hash.to_string())
    }

    /// Wraps a stored PHC string, refusing anything that is not one.
    pub fn from_phc(phc: String) -> Result<Self, String> {
        PasswordHash::new(&phc).map_err(|e| format!("not an argon2 hash: {e}"))?;
        Ok(VerbalPassword(phc))
    }

    /// Takes a hash brought from another system (a migration), refusing what the center
    /// would not store itself: only argon2id, version 19, a salt of 8 bytes or more, an
    /// output of 16 bytes or more, and parameters at least as strong as one of OWASP's
    /// recommended argon2id settings ([`MIGRATION_MINIMUMS`]) and no costlier than a live
    /// call can afford to check ([`MIGRATION_MAXIMUMS`]). The hash must be of the
    /// normalised phrase ([`normalise`]), or it will never match. The reason names no
    /// field: the caller knows which one it read.
    pub fn from_migration(phc: &str) -> Result<Self, String> {
        let hash = PasswordHash::new(phc).map_err(|e| {
            format!("not a PHC string like \"$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH\" ({e})")
        })?;
        match hash.algorithm.as_str() {
            "argon2id" => {}
            other => {
                return Err(format!(
                    "the hash is {other}; only argon2id hashes are accepted"
                ));
            }
        }
        if hash.version != Some(0x13) {
            return Err("the hash must give argon2 version 19 (v=19)".to_string());
        }
        let mut cost = (0, 0, 0);
        for (name, value) in hash.params.iter() {
            let value = value
                .decimal()
                .map_err(|_| format!("parameter {name} is not a whole number"))?;
            match name.as_str() {
                "m" => cost.0 = value,
                "t" => cost.1 = value,
                "p" => cost.2 = value,
                other => return Err(format!("parameter {other} is not supported (only m, t, p)")),
            }
        }
        let (m, t, p) = cost;
        if !MIGRATION_MINIMUMS
            .iter()
            .any(|&(min_m, min_t)| m >= min_m && t >= min_t)
        {
            return Err(format!(
                "m={m},t={t} is weaker than the center accepts: at least m=19456,t=2 or \
                 another of OWASP's argon2id settings (m=47104,t=1; m=12288,t=3; m=9216,t=4; \
                 m=7168,t=5)"
            ));
        }
        let (max_m, max_work, max_p) = MIGRATION_MAXIMUMS;
        if m > max_m
            || u64::from(m) * u64::from(t) > u64::from(max_work)
            || !(1..=max_p).contains(&p)
        {
            return Err(format!(
                "m={m},t={t},p={p} costs more than a check on a live call may: at most \
                 m={max_m} (64 MiB), m×t={max_work} (m=65536,t=3) and p={max_p}"
            ));
        }
        let mut salt = [0u8; 64];
        let salt_len = hash
            .salt
            .and_then(|s| s.decode_b64(&mut salt).ok().map(<[u8]>::len))
            .unwrap_or(0);
        if salt_len < 8 {
            return Err(format!(
                "the salt is {salt_len} bytes; at least 8 are needed"
            ));
        }
        let output = hash.hash.map_or(0, |h| h.len());
        if output < 16 {
            return Err(format!(
                "the hash is {output} bytes; at least 16 are needed"
            ));
        }
        Ok(VerbalPassword(phc.to_string()))
    }

    pub fn phc(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, spoken: &str) -> bool {
        match PasswordHash::new(&self.0) {
            Ok(hash) => Argon2::default()
                .verify_password(normalise(spoken).as_bytes(), &hash)
                .is_ok(),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for VerbalPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerbalPassword(<hidden>)")
    }
}

/// Trim, fold case, collapse inner whitespace: "  Blue   FALCON " says "blue falcon".
pub fn normalise(spoken: &str) -> String {
    spoken
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_ignores_case_and_spacing() {
        let p = VerbalPassword::hash("Blue Falcon", HashCost::Fast);
        assert!(p.matches("blue falcon"));
        assert!(p.matches("  BLUE   falcon\t"));
        assert!(!p.matches("blue falco"));
        assert!(!p.matches("bluefalcon"));
        assert!(!p.matches(""));
    }

    #[test]
    fn never_shown() {
        let p = VerbalPassword::hash("blue falcon", HashCost::Fast);
        assert!(!format!("{p:?}").contains("blue"));
        assert!(p.phc().starts_with("$argon2id$"));
        assert!(!p.phc().contains("falcon"));
    }

    #[test]
    fn standard_cost_verifies_too() {
        let p = VerbalPassword::hash("blue falcon", HashCost::Standard);
        assert!(p.phc().contains("m=19456"));
        assert!(p.matches("Blue Falcon"));
    }

    #[test]
    fn stored_hashes_are_checked() {
        assert!(VerbalPassword::from_phc("plain text".into()).is_err());
        let p = VerbalPassword::hash("x", HashCost::Fast);
        assert!(VerbalPassword::from_phc(p.phc().to_string()).is_ok());
    }

    /// A PHC string with these parameters, a 16-byte salt and a 32-byte output.
    fn phc(algorithm: &str, params: &str) -> String {
        format!(
            "${algorithm}$v=19${params}$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY"
        )
    }

    #[test]
    fn migrated_hashes_verify_and_weak_ones_are_refused() {
        let standard = VerbalPassword::hash("blue falcon", HashCost::Standard);
        let migrated = VerbalPassword::from_migration(standard.phc()).unwrap();
        assert!(migrated.matches("Blue  Falcon"));
        for params in [
            "m=47104,t=1,p=1",
            "m=7168,t=5,p=1",
            "m=65536,t=3,p=4",
            "m=19456,t=9,p=8",
        ] {
            assert!(
                VerbalPassword::from_migration(&phc("argon2id", params)).is_ok(),
                "{params}"
            );
        }
        let refused = |text: &str| VerbalPassword::from_migration(text).unwrap_err();
        let fast = VerbalPassword::hash("blue falcon", HashCost::Fast);
        assert!(
            refused(fast.phc()).starts_with("m=64,t=1 is weaker"),
            "{}",
            refused(fast.phc())
        );
        assert!(refused(&phc("argon2id", "m=19456,t=1,p=1")).starts_with("m=19456,t=1 is weaker"));
        assert!(refused(&phc("argon2id", "m=7168,t=4,p=1")).contains("is weaker"));
        assert_eq!(
            refused(&phc("argon2i", "m=19456,t=2,p=1")),
            "the hash is argon2i; only argon2id hashes are accepted"
        );
        assert!(refused(&phc("argon2id", "m=4194304,t=1,p=1")).contains("live call"));
        assert!(refused(&phc("argon2id", "m=65536,t=4,p=1")).contains("live call"));
        assert!(refused(&phc("argon2id", "m=19456,t=2,p=16")).contains("live call"));
        assert!(refused("blue falcon").starts_with("not a PHC string"));
        assert!(VerbalPassword::from_migration("$2b$12$abcdefghijklmnopqrstuv").is_err());
        let old_version = phc("argon2id", "m=19456,t=2,p=1").replace("v=19", "v=16");
        assert!(refused(&old_version).contains("version 19"));
        let short_salt =
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY";
        assert_eq!(
            refused(short_salt),
            "the salt is 4 bytes; at least 8 are needed"
        );
        let short_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmZ2hpamts";
        assert_eq!(
            refused(short_hash),
            "the hash is 12 bytes; at least 16 are needed"
        );
    }
}
