//! The verbal password: stored only as an argon2 hash, compared after normalising what was
//! said (trimmed, case folded, inner whitespace collapsed). Nobody ever sees it again. A
//! center with a master key hashes with its pepper (`crate::pepper`), keyed, at a cost an
//! import of a million accounts can afford; one without hashes unkeyed at full cost.

use crate::pepper::Pepper;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, ParamsBuilder, Version};
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// The longest verbal password, in characters once normalised (`normalise`): a phrase a person
/// says on the phone. Enrolment refuses a longer one, so an attempt longer than this cannot
/// match, and the center refuses it without hashing it or using up one of the call's tries.
pub const MAX_CHARS: usize = 200;

/// How much work a hash costs. `Standard` is what a live center stores for one account at a
/// time (enrolment, a change); `Import` is for `accounts import` of many accounts at once, and
/// is cheaper only when keyed with the center's pepper ([`IMPORT_COST`]; unkeyed it is
/// `Standard`); `Fast` is for throwaway databases (scenario runs, simulations, tests) where
/// thousands of accounts are enrolled per second. The PHC string records the parameters, so
/// verification needs no hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCost {
    Standard,
    Import,
    Fast,
}

impl HashCost {
    /// The argon2id parameters at this cost, keyed or not.
    fn params(self, keyed: bool) -> ParamsBuilder {
        let (m, t) = match (self, keyed) {
            // OWASP's argon2id baseline: 19 MiB, 2 passes.
            (HashCost::Standard, _) | (HashCost::Import, false) => (19 * 1024, 2),
            (HashCost::Import, true) => IMPORT_COST,
            (HashCost::Fast, _) => (64, 1),
        };
        let mut params = ParamsBuilder::new();
        params.m_cost(m).t_cost(t).p_cost(1);
        params
    }

    /// The argon2id parameters of an unkeyed hash at this cost (user passwords' too:
    /// `Import` is `Standard` unkeyed).
    pub fn unkeyed(self) -> Params {
        self.params(false)
            .build()
            .expect("constant argon2 parameters are valid")
    }
}

/// The argon2id cost of a hash an import keys with the pepper, as `(m in KiB, t passes)`:
/// 4 MiB, one pass, about 1.2 ms of one core, so an import hashes over 1,000 spoken
/// passwords a second on two cores. What protects a low-entropy phrase in a stolen database
/// is the pepper, which the database holds only sealed; this cost only slows an attacker who
/// also has the master key (README, "Importing many accounts"). One account enrolled or
/// changed later is keyed at the `Standard` cost.
pub const IMPORT_COST: (u32, u32) = (4 * 1024, 1);

/// Why a keyed hash cannot be checked.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PepperError {
    #[error(
        "the verbal password is hashed with pepper {found}, and no pepper is loaded: the \
         center needs its master key to open the pepper stored sealed (README, \"Secrets\")"
    )]
    Missing { found: String },
    #[error(
        "the verbal password is hashed with pepper {found}, but this center's pepper is \
         {ours}: the account comes from another center's database"
    )]
    Other { found: String, ours: String },
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
    /// The unkeyed hash of `spoken` (normalised) at `cost`, with a fresh 16-byte salt.
    pub fn hash(spoken: &str, cost: HashCost) -> Self {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.unkeyed());
        let hash = hasher
            .hash_password(normalise(spoken).as_bytes(), &salt)
            .expect("argon2 hashing with valid parameters cannot fail");
        VerbalPassword(hash.to_string())
    }

    /// The hash of `spoken` (normalised) keyed with `pepper` at `cost` (`Import`:
    /// [`IMPORT_COST`]): a PHC string `$argon2id$v=19$m=…,t=…,p=1,keyid=<pepper id>$<salt>$<hash>`.
    pub fn hash_keyed(spoken: &str, pepper: &Pepper, cost: HashCost) -> Self {
        let params = cost
            .params(true)
            .keyid(pepper.key_id())
            .build()
            .expect("constant argon2 parameters are valid");
        let hasher =
            Argon2::new_with_secret(pepper.secret(), Algorithm::Argon2id, Version::V0x13, params)
                .expect("a 32-byte secret is within argon2's limit");
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hash = hasher
            .hash_password(normalise(spoken).as_bytes(), &salt)
            .expect("argon2 hashing with valid parameters cannot fail");
        VerbalPassword(hash.to_string())
    }

    /// How a center stores a verbal password: keyed with its pepper when it has one (at
    /// `cost`); otherwise unkeyed (`Import` then costs `Standard`). `Fast` is never keyed: it
    /// is for throwaway databases, which have no pepper worth keeping.
    pub fn hash_with(spoken: &str, cost: HashCost, pepper: Option<&Pepper>) -> Self {
        match (cost, pepper) {
            (HashCost::Standard | HashCost::Import, Some(pepper)) => {
                VerbalPassword::hash_keyed(spoken, pepper, cost)
            }
            _ => VerbalPassword::hash(spoken, cost),
        }
    }

    /// The id of the pepper the hash is keyed with (`keyid=`), or `None` for an unkeyed hash.
    pub fn keyid(&self) -> Option<String> {
        let hash = PasswordHash::new(&self.0).ok()?;
        hash.params.get_str("keyid").map(str::to_string)
    }

    /// Whether `pepper` is what the hash needs to be checked: nothing for an unkeyed hash,
    /// the pepper it names for a keyed one. Cheap (no hashing), so a caller can refuse before
    /// it counts a try. A damaged hash passes (it matches nothing anyway).
    pub fn check_pepper(&self, pepper: Option<&Pepper>) -> Result<(), PepperError> {
        let Ok(hash) = PasswordHash::new(&self.0) else {
            return Ok(());
        };
        match (hash.params.get_str("keyid"), pepper) {
            (None, _) => Ok(()),
            (Some(found), None) => Err(PepperError::Missing {
                found: found.to_string(),
            }),
            (Some(found), Some(pepper)) if found != pepper.id() => Err(PepperError::Other {
                found: found.to_string(),
                ours: pepper.id().to_string(),
            }),
            (Some(_), Some(_)) => Ok(()),
        }
    }

    /// Whether `spoken` is the phrase. A keyed hash needs the pepper it names; an unkeyed
    /// one is checked without it (the pepper, given or not, is then unused). A damaged hash
    /// matches nothing. Errors: [`PepperError`] when the hash names a pepper and `pepper` is
    /// `None` or another one.
    pub fn verify(&self, spoken: &str, pepper: Option<&Pepper>) -> Result<bool, PepperError> {
        self.check_pepper(pepper)?;
        let Ok(hash) = PasswordHash::new(&self.0) else {
            return Ok(false);
        };
        let said = normalise(spoken);
        let matched = match (hash.params.get_str("keyid"), pepper) {
            (Some(_), Some(pepper)) => Argon2::new_with_secret(
                pepper.secret(),
                Algorithm::Argon2id,
                Version::V0x13,
                Params::default(),
            )
            .expect("a 32-byte secret is within argon2's limit")
            .verify_password(said.as_bytes(), &hash),
            _ => Argon2::default().verify_password(said.as_bytes(), &hash),
        };
        Ok(matched.is_ok())
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
            let slot = match name.as_str() {
                "m" => &mut cost.0,
                "t" => &mut cost.1,
                "p" => &mut cost.2,
                // Keyed with a pepper this center does not have: it could never be checked.
                "keyid" => {
                    return Err(
                        "the hash is keyed with another system's secret (keyid); only \
                         unkeyed hashes can be brought"
                            .to_string(),
                    );
                }
                other => return Err(format!("parameter {other} is not supported (only m, t, p)")),
            };
            *slot = value
                .decimal()
                .map_err(|_| format!("parameter {name} is not a whole number"))?;
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

    /// Whether the hash is keyed with `pepper` below the `Standard` cost (an import's
    /// [`IMPORT_COST`]): what [`VerbalPassword::upgrade`] replaces. False for an unkeyed hash
    /// (it already costs what the center stores, or belongs to a throwaway database), one
    /// keyed with another pepper, one at full cost, and without a pepper. Cheap (no hashing).
    pub fn below_full_cost(&self, pepper: Option<&Pepper>) -> bool {
        let Ok(hash) = PasswordHash::new(&self.0) else {
            return false;
        };
        if pepper.is_none() || hash.params.get_str("keyid") != pepper.map(Pepper::id) {
            return false;
        }
        let cost = |name| hash.params.get_decimal(name).unwrap_or(0);
        let standard = HashCost::Standard.unkeyed();
        cost("m") < standard.m_cost() || cost("t") < standard.t_cost()
    }

    /// What to store instead of this hash once `spoken` has matched it: the `Standard` keyed
    /// hash of `spoken` when the hash is [below full cost](VerbalPassword::below_full_cost),
    /// so that imported accounts reach full cost as their passwords are used; otherwise
    /// `None`. Costs one `Standard` hash (about 20 ms of one core) when it answers `Some`.
    pub fn upgrade(&self, spoken: &str, pepper: Option<&Pepper>) -> Option<VerbalPassword> {
        let pepper = pepper.filter(|_| self.below_full_cost(pepper))?;
        Some(VerbalPassword::hash_keyed(
            spoken,
            pepper,
            HashCost::Standard,
        ))
    }

    /// Whether `spoken` is the phrase of an unkeyed hash, as a center without a pepper
    /// checks it (scenario runs, simulations). A keyed hash never matches here: use
    /// [`VerbalPassword::verify`] with the pepper.
    pub fn matches(&self, spoken: &str) -> bool {
        self.verify(spoken, None).unwrap_or(false)
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
    fn one_account_is_keyed_at_full_cost_and_an_import_at_the_import_cost() {
        let pepper = Pepper::from_bytes([5; 32]);
        let one = VerbalPassword::hash_with("blue falcon", HashCost::Standard, Some(&pepper));
        assert!(
            one.phc().contains("m=19456,t=2,p=1,keyid="),
            "{}",
            one.phc()
        );
        assert_eq!(one.verify("Blue Falcon", Some(&pepper)), Ok(true));
        let imported = VerbalPassword::hash_with("blue falcon", HashCost::Import, Some(&pepper));
        assert!(
            imported.phc().contains("m=4096,t=1,p=1,keyid="),
            "{}",
            imported.phc()
        );
        let unkeyed = VerbalPassword::hash_with("blue falcon", HashCost::Import, None);
        assert!(
            unkeyed.phc().contains("m=19456,t=2,p=1$"),
            "{}",
            unkeyed.phc()
        );
        assert!(unkeyed.matches("Blue Falcon"));
    }

    #[test]
    fn a_keyed_hash_verifies_only_with_its_pepper() {
        let pepper = Pepper::from_bytes([5; 32]);
        let p = VerbalPassword::hash_keyed("Blue Falcon", &pepper, HashCost::Import);
        assert!(
            p.phc().starts_with(&format!(
                "$argon2id$v=19$m=4096,t=1,p=1,keyid={}$",
                pepper.id()
            )),
            "{}",
            p.phc()
        );
        assert_eq!(p.keyid().as_deref(), Some(pepper.id()));
        assert_eq!(p.verify("  blue   FALCON ", Some(&pepper)), Ok(true));
        assert_eq!(p.verify("blue falco", Some(&pepper)), Ok(false));
        let other = Pepper::from_bytes([6; 32]);
        assert_eq!(
            p.verify("blue falcon", Some(&other)),
            Err(PepperError::Other {
                found: pepper.id().into(),
                ours: other.id().into()
            })
        );
        assert_eq!(
            p.verify("blue falcon", None),
            Err(PepperError::Missing {
                found: pepper.id().into()
            })
        );
        assert!(!p.matches("blue falcon"), "a keyed hash needs its pepper");
        // The same id on another secret (a forged keyid) does not verify.
        let forged = p.phc().replace(pepper.id(), other.id());
        let forged = VerbalPassword::from_phc(forged).unwrap();
        assert_eq!(forged.verify("blue falcon", Some(&other)), Ok(false));
        assert!(VerbalPassword::from_phc(p.phc().to_string()).is_ok());
    }

    #[test]
    fn unkeyed_hashes_verify_with_or_without_a_pepper() {
        let pepper = Pepper::from_bytes([5; 32]);
        let old = VerbalPassword::hash("blue falcon", HashCost::Standard);
        assert_eq!(old.keyid(), None);
        assert_eq!(old.verify("Blue Falcon", Some(&pepper)), Ok(true));
        assert_eq!(old.verify("Blue Falcon", None), Ok(true));
        assert_eq!(old.verify("red falcon", Some(&pepper)), Ok(false));
        let damaged = VerbalPassword("$argon2id$nonsense".into());
        assert_eq!(damaged.verify("x", Some(&pepper)), Ok(false));
    }

    #[test]
    fn the_center_scheme_keys_only_standard_hashes() {
        let pepper = Pepper::from_bytes([5; 32]);
        let keyed = VerbalPassword::hash_with("x", HashCost::Standard, Some(&pepper));
        assert_eq!(keyed.keyid().as_deref(), Some(pepper.id()));
        let fast = VerbalPassword::hash_with("x", HashCost::Fast, Some(&pepper));
        assert!(fast.phc().contains("m=64,t=1,p=1$"), "{}", fast.phc());
        let plain = VerbalPassword::hash_with("x", HashCost::Standard, None);
        assert!(plain.phc().contains("m=19456,t=2,p=1$"), "{}", plain.phc());
    }

    #[test]
    fn a_matched_hash_below_full_keyed_cost_is_upgraded() {
        let pepper = Pepper::from_bytes([9; 32]);
        let full = |p: &VerbalPassword| {
            let hash = PasswordHash::new(p.phc()).unwrap();
            (
                hash.params.get_decimal("m"),
                hash.params.get_decimal("t"),
                p.keyid(),
            )
        };
        let standard = (Some(19 * 1024), Some(2), Some(pepper.id().to_string()));
        let imported = VerbalPassword::hash_keyed("Blue Falcon", &pepper, HashCost::Import);
        let upgraded = imported
            .upgrade("blue falcon", Some(&pepper))
            .expect("an import's cheaper hash is upgraded");
        assert_eq!(full(&upgraded), standard);
        assert_eq!(upgraded.verify("BLUE falcon", Some(&pepper)), Ok(true));
        assert_eq!(
            upgraded.upgrade("blue falcon", Some(&pepper)),
            None,
            "full cost stays"
        );
        let unkeyed = VerbalPassword::hash("blue falcon", HashCost::Fast);
        assert_eq!(
            unkeyed.upgrade("blue falcon", Some(&pepper)),
            None,
            "unkeyed stays"
        );
        assert_eq!(
            imported.upgrade("blue falcon", None),
            None,
            "nothing better without a pepper"
        );
        let other = Pepper::from_bytes([1; 32]);
        assert_eq!(
            imported.upgrade("blue falcon", Some(&other)),
            None,
            "not ours to replace"
        );
    }

    #[test]
    fn a_migration_brings_no_keyed_hash() {
        let keyed = VerbalPassword::hash_keyed("x", &Pepper::from_bytes([5; 32]), HashCost::Import);
        let keyed = keyed
            .phc()
            .replace("m=4096", "m=19456")
            .replace("t=1", "t=2");
        let refused = VerbalPassword::from_migration(&keyed).unwrap_err();
        assert!(refused.starts_with("the hash is keyed"), "{refused}");
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
