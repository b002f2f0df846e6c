//! User passwords: argon2id PHC strings, checked off the async threads. Unlike verbal
//! passwords they are compared exactly as typed, and must be at least 8 characters long.

use super::AuthError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Version};
use watchpost_core::password::HashCost;

pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longer input is refused before it reaches argon2.
const MAX_PASSWORD_BYTES: usize = 1024;

/// The same parameters as the verbal passwords' unkeyed ones (`HashCost::unkeyed`): OWASP's
/// argon2id baseline for `Standard`.
fn hasher(cost: HashCost) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.unkeyed())
}

/// Hashes a user password at the cost a live center stores (`HashCost::Standard`).
pub fn hash_user_password(password: &str) -> String {
    hash_user_password_with(password, HashCost::Standard)
}

pub fn hash_user_password_with(password: &str, cost: HashCost) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    hasher(cost)
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Checks a password against a stored PHC string (whose parameters say the cost). A damaged
/// hash matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    password.len() <= MAX_PASSWORD_BYTES
        && PasswordHash::new(phc).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
}

/// Refuses a password a new user may not have.
pub fn check_new_password(password: &str) -> Result<(), AuthError> {
    let reason = if password.is_empty() {
        "the password is empty".to_string()
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        format!("the password must be at least {MIN_PASSWORD_CHARS} characters long")
    } else if password.len() > MAX_PASSWORD_BYTES {
        format!("the password must be at most {MAX_PASSWORD_BYTES} bytes long")
    } else {
        return Ok(());
    };
    Err(AuthError::Invalid {
        field: "password",
        reason,
    })
}
