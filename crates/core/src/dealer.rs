//! Dealers: the installers a wholesale center monitors for, each owning accounts and having
//! its own users. A dealer is named by a short id, `[A-Z0-9-]{1,16}`; ids are folded to upper
//! case (`d1` is dealer `D1`), like account numbers.

/// The longest dealer id, in characters.
pub const MAX_ID_CHARS: usize = 16;

/// The longest dealer name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// `text` as a dealer id (upper case), or why it is not one.
pub fn canonical_id(text: &str) -> Result<String, String> {
    let id = text.trim().to_ascii_uppercase();
    if id.is_empty() {
        return Err("is empty; a dealer id is 1 to 16 of A-Z, 0-9 and -".into());
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(format!(
            "{text:?} is {} characters long; a dealer id is at most {MAX_ID_CHARS}",
            id.chars().count()
        ));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "{text:?} holds {bad:?}; a dealer id is made of A-Z, 0-9 and - only"
        ));
    }
    Ok(id)
}

/// A dealer's name: one line, 1 to `MAX_NAME_CHARS` characters.
pub fn check_name(name: &str) -> Result<(), String> {
    let n = name.trim().chars().count();
    if n == 0 {
        return Err("is empty".into());
    }
    if n > MAX_NAME_CHARS {
        return Err(format!("is {n} characters long; at most {MAX_NAME_CHARS}"));
    }
    if name.chars().any(char::is_control) {
        return Err("holds a control character (one line only)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_folded_and_checked() {
        assert_eq!(canonical_id("d-1").unwrap(), "D-1");
        assert_eq!(canonical_id("ACME-EAST-2").unwrap(), "ACME-EAST-2");
        assert!(canonical_id("").unwrap_err().contains("empty"));
        assert!(canonical_id("A_B").unwrap_err().contains("'_'"));
        assert!(canonical_id("D 1").unwrap_err().contains("' '"));
        assert!(canonical_id("ÄB").is_err());
        assert!(
            canonical_id(&"A".repeat(17))
                .unwrap_err()
                .contains("at most 16")
        );
        assert_eq!(canonical_id(&"A".repeat(16)).unwrap().len(), 16);
    }

    #[test]
    fn names_are_one_line() {
        assert!(check_name("Acme Alarms").is_ok());
        assert!(check_name(" ").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(201)).is_err());
    }
}
