//! Free text an agent types into the record — a note, an agency's incident number, whom they
//! told to stand down, the reason to close, to call an unknown account's signal noise or to put
//! an account on test, a verbal password attempt: trimmed, required where the rule needs it,
//! and bounded. Without a bound one paste (the API takes bodies of up to 2 MB) would go into an
//! alarm's log for good, into every screen and live event that shows it, and a password
//! attempt of megabytes would be hashed with Argon2.

use super::ApiError;

/// The longest note, in characters: a few paragraphs, what an agent types during a call.
pub const NOTE_CHARS: usize = 2_000;
/// The longest one-line field (incident number, whom told, a reason), in characters.
pub const LINE_CHARS: usize = 200;
/// The longest verbal password attempt, in characters once normalised: the longest password
/// enrolment accepts (`watchpost_core::password::MAX_CHARS`); a longer one cannot match.
pub const PASSWORD_CHARS: usize = watchpost_core::password::MAX_CHARS;

/// `text` trimmed, if not empty and at most `max` characters; otherwise a 422 naming `field`
/// (`empty` says what is missing when it is empty).
pub fn required(field: &str, text: &str, max: usize, empty: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::field(field, empty));
    }
    bounded(field, text, max).map(str::to_string)
}

/// `text` trimmed, `None` if absent or empty; a 422 naming `field` if over `max` characters.
pub fn optional(field: &str, text: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => bounded(field, text, max).map(|t| Some(t.to_string())),
        None => Ok(None),
    }
}

/// `text` if at most `max` characters; otherwise a 422 naming `field`.
pub fn bounded<'a>(field: &str, text: &'a str, max: usize) -> Result<&'a str, ApiError> {
    let chars = text.chars().count();
    if chars > max {
        return Err(ApiError::field(
            field,
            format!("is {chars} characters long; at most {max}"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_requires_and_bounds_by_characters() {
        assert_eq!(required("text", "  hi ", 2, "empty").unwrap(), "hi");
        assert_eq!(
            required("text", "  ", 2, "empty").unwrap_err().message,
            "empty"
        );
        let long = required("reason", "abc", 2, "empty").unwrap_err();
        assert_eq!(long.field.as_deref(), Some("reason"));
        // Characters, not bytes: "éé" is two.
        assert!(bounded("told", "éé", 2).is_ok());
        assert_eq!(optional("reason", Some("  "), 2).unwrap(), None);
        assert!(optional("reason", Some("abc"), 2).is_err());
    }
}
