//! Phone numbers as the center compares them: E.164, from whatever a trunk presents or an
//! agent types. One helper, used by the telephony (callers' numbers) and the account search.

pub use phonenumber::country::Id as Region;

/// E.164 for a dialled, presented or typed number (`(555) 555-0101`, `+44 20 7946 0000`),
/// national numbers read as numbers of `region` with the `phonenumber` crate
/// (libphonenumber's metadata); `None` when it is not a phone number (`anonymous`, a name).
pub fn normalise(number: &str, region: Region) -> Option<String> {
    if !number
        .chars()
        .all(|c| c.is_ascii_digit() || "+-(). ".contains(c))
    {
        return None;
    }
    let parsed = phonenumber::parse(Some(region), number).ok()?;
    Some(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_numbers_become_e164() {
        assert_eq!(
            normalise("(555) 555-0101", Region::US).as_deref(),
            Some("+15555550101")
        );
        assert_eq!(
            normalise("+1 555 555 0101", Region::GB).as_deref(),
            Some("+15555550101")
        );
        assert_eq!(
            normalise("020 7946 0000", Region::GB).as_deref(),
            Some("+442079460000")
        );
        assert_eq!(normalise("anonymous", Region::US), None);
        assert_eq!(normalise("", Region::US), None);
    }
}
