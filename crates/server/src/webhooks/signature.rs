//! The webhook signature: HMAC-SHA256 with the endpoint's secret over `"{timestamp}.{body}"`,
//! sent as `Watchpost-Signature: v1=<hex>` beside `Watchpost-Timestamp` (unix seconds) and
//! `Watchpost-Id`. A receiver recomputes it over the raw body and refuses a timestamp more
//! than 5 minutes from its own clock (docs/webhooks.md, "Verifying a delivery").

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// The header carrying the event's id (the same on every retry).
pub const ID_HEADER: &str = "Watchpost-Id";
/// The header carrying the unix time (seconds) the attempt was signed at.
pub const TIMESTAMP_HEADER: &str = "Watchpost-Timestamp";
/// The header carrying `v1=<hex of the HMAC>`.
pub const SIGNATURE_HEADER: &str = "Watchpost-Signature";
/// How far a timestamp may be from the receiver's clock, in seconds.
pub const TOLERANCE_SECS: i64 = 300;

/// `v1=` and the lowercase hex of HMAC-SHA256(`secret`, `"{timestamp}.{body}"`).
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a delivery does not verify.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Unverified {
    #[error("{TIMESTAMP_HEADER}: {0} s from now, more than {TOLERANCE_SECS} s (a replay?)")]
    Stale(i64),
    #[error("{SIGNATURE_HEADER}: no v1= signature")]
    NoSignature,
    #[error("{SIGNATURE_HEADER}: does not match the body and timestamp")]
    Mismatch,
}

/// Checks a delivery as a receiver does: the timestamp within `TOLERANCE_SECS` of `now`
/// (unix seconds), and one of the header's comma-separated `v1=` values equal to the HMAC
/// (compared in constant time).
pub fn verify(
    secret: &str,
    timestamp: i64,
    body: &str,
    header: &str,
    now: i64,
) -> Result<(), Unverified> {
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(Unverified::Stale(now - timestamp));
    }
    let mut found = false;
    for given in header.split(',').map(str::trim) {
        let Some(hex_mac) = given.strip_prefix("v1=") else {
            continue;
        };
        found = true;
        let Ok(bytes) = hex::decode(hex_mac) else {
            continue;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        if mac.verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    Err(if found {
        Unverified::Mismatch
    } else {
        Unverified::NoSignature
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of docs/webhooks.md: the same secret, timestamp, body and signature.
    #[test]
    fn the_documented_example_signs_as_documented() {
        let secret = "whsec_5f0c6a1e2b7d4c3a9e8f7061524334251607f8e9dacb0a1b2c3d4e5f60718293";
        let timestamp = 1_780_000_000;
        let body = r#"{"id":"evt_17_0","type":"alarm.opened","created_at":"2026-05-28T20:26:40.000Z","account":"4F39","alarm":17,"kind":"burglary","mode":"professional","plan":null,"priority":2,"trigger":"BA zone 3"}"#;
        let docs = include_str!("../../../../docs/webhooks.md");
        let signature = sign(secret, timestamp, body);
        for shown in [secret, body, &signature, &timestamp.to_string()] {
            assert!(
                docs.contains(shown),
                "docs/webhooks.md does not show {shown}"
            );
        }
        assert_eq!(
            verify(secret, timestamp, body, &signature, timestamp + 299),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_an_old_timestamp_or_another_secret_does_not_verify() {
        let signed = sign("s1", 1000, "{}");
        assert_eq!(verify("s1", 1000, "{}", &signed, 1000), Ok(()));
        assert_eq!(
            verify("s1", 1000, "{ }", &signed, 1000),
            Err(Unverified::Mismatch)
        );
        assert_eq!(
            verify("s2", 1000, "{}", &signed, 1000),
            Err(Unverified::Mismatch)
        );
        assert_eq!(
            verify("s1", 1000, "{}", &signed, 1301),
            Err(Unverified::Stale(301))
        );
        assert_eq!(
            verify("s1", 1000, "{}", "v0=ab", 1000),
            Err(Unverified::NoSignature)
        );
        let rotated = format!("v1=00, {signed}");
        assert_eq!(verify("s1", 1000, "{}", &rotated, 1000), Ok(()));
    }
}
