//! Account numbers: the one canonical form every entry point turns a number into (enrolment,
//! account files, the API, API keys, the DC-09 receivers, the store), so that a number names
//! one account however a panel or a person spells it.

use thiserror::Error;

/// The longest account number: DC-09 allows 16 characters after `#`.
pub const MAX_LEN: usize = 16;

/// Why a text is not an account number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AccountNumberError {
    #[error("is empty (an account number is 1 to 16 letters and digits)")]
    Empty,
    #[error("has {len} characters (an account number is 1 to 16 letters and digits)")]
    TooLong { len: usize },
    #[error(
        "has {found:?} at position {position} (an account number is 1 to 16 letters and digits)"
    )]
    Character { found: char, position: usize },
    /// An account built in code rather than read from a file or request, with a lower-case
    /// letter: a programming error, caught at enrolment.
    #[error("is not in canonical form (upper case)")]
    NotCanonical,
}

/// The canonical form of an account number: 1 to [`MAX_LEN`] ASCII letters and digits, upper
/// case. DC-09 numbers are hexadecimal, where case means nothing (`5a5b` is `5A5B`); some
/// panels also send letters beyond `F`, which are taken the same way. Leading zeros are kept:
/// a panel sends its number as it was programmed, and `0123` and `123` are two numbers
/// (README, "Account numbers").
pub fn canonical(text: &str) -> Result<String, AccountNumberError> {
    if text.is_empty() {
        return Err(AccountNumberError::Empty);
    }
    if let Some((position, found)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Err(AccountNumberError::Character {
            found,
            position: position + 1,
        });
    }
    if text.len() > MAX_LEN {
        return Err(AccountNumberError::TooLong { len: text.len() });
    }
    Ok(text.to_ascii_uppercase())
}

/// The number without its leading zeros: two canonical numbers that give the same are
/// "leading-zero twins" (`0123` and `123`), which enrolment keeps apart by refusing the second
/// (README, "Account numbers").
pub fn without_leading_zeros(canonical: &str) -> &str {
    canonical.trim_start_matches('0')
}

/// Every other number with the same digits once leading zeros are removed (`123`, `0123`,
/// `00123`... up to [`MAX_LEN`] characters), for an indexed lookup of twins.
pub fn leading_zero_twins(canonical: &str) -> Vec<String> {
    let bare = without_leading_zeros(canonical);
    (0..=MAX_LEN.saturating_sub(bare.len()))
        .map(|zeros| format!("{}{bare}", "0".repeat(zeros)))
        .filter(|twin| twin != canonical && !twin.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn case_is_folded_to_upper_and_leading_zeros_are_kept() {
        assert_eq!(canonical("5a5b").unwrap(), "5A5B");
        assert_eq!(canonical("5A5B").unwrap(), "5A5B");
        assert_eq!(canonical("0123").unwrap(), "0123");
        assert_eq!(canonical("g1z9").unwrap(), "G1Z9");
        assert_eq!(canonical("7").unwrap(), "7");
        assert_eq!(canonical(&"f".repeat(16)).unwrap(), "F".repeat(16));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(canonical(""), Err(AccountNumberError::Empty));
        assert_eq!(
            canonical(&"1".repeat(17)),
            Err(AccountNumberError::TooLong { len: 17 })
        );
        let err = canonical("12 4").unwrap_err();
        assert_eq!(
            err,
            AccountNumberError::Character {
                found: ' ',
                position: 3
            }
        );
        assert!(err.to_string().starts_with("has ' ' at position 3"));
        assert!(matches!(
            canonical("12é4"),
            Err(AccountNumberError::Character { found: 'é', .. })
        ));
        assert!(canonical("#123").is_err());
    }

    #[test]
    fn twins_differ_only_by_leading_zeros() {
        assert_eq!(without_leading_zeros("000123"), "123");
        assert_eq!(without_leading_zeros("123"), "123");
        assert_eq!(without_leading_zeros("1230"), "1230");
        assert_eq!(without_leading_zeros("000"), "");
        assert_eq!(leading_zero_twins("0123")[..3], ["123", "00123", "000123"]);
        assert_eq!(leading_zero_twins("0123").len(), 13);
        assert!(leading_zero_twins(&"1".repeat(16)).is_empty());
        assert_eq!(leading_zero_twins("0").len(), 15, "0 is the twin of 00...");
    }

    proptest! {
        #[test]
        fn canonical_is_idempotent_and_case_blind(text in "[0-9A-Za-z]{1,16}") {
            let once = canonical(&text).unwrap();
            prop_assert_eq!(canonical(&once).unwrap(), once.clone());
            prop_assert_eq!(canonical(&text.to_ascii_lowercase()).unwrap(), once.clone());
            prop_assert_eq!(once.len(), text.len());
        }

        #[test]
        fn anything_else_is_refused_never_changed(text in "\\PC{0,20}") {
            match canonical(&text) {
                Ok(number) => prop_assert!(number.eq_ignore_ascii_case(&text)),
                Err(_) => prop_assert!(
                    text.is_empty() || text.len() > MAX_LEN
                        || !text.bytes().all(|b| b.is_ascii_alphanumeric())
                ),
            }
        }
    }
}
