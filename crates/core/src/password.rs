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
}
