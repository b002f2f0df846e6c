//! Account numbers: 3 to 16 hex characters, found after `#` in the header or at the start
//! of the data block (`#acct|...`) when the header has none.

/// Whether `bytes` is a well-formed account (either case accepted, kept as sent).
pub(crate) fn is_account(bytes: &[u8]) -> bool {
    (3..=16).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_hexdigit)
}

/// Splits `#acct|rest` into its account (if well formed) and the rest; data without a
/// leading `#` is all rest.
pub fn split_data_account(data: &str) -> (Option<&str>, &str) {
    let Some(tail) = data.strip_prefix('#') else {
        return (None, data);
    };
    let (account, rest) = tail.split_once('|').unwrap_or((tail, ""));
    let account = is_account(account.as_bytes()).then_some(account);
    (account, rest)
}
