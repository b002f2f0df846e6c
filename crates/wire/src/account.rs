//! Account numbers on the wire: after `#` in the header, or at the start of the data block
//! (`#acct|...`). Frames keep them as sent, to echo them in replies; what the center receives
//! is the canonical number (watchpost-core's `account_number::canonical`).

pub(crate) use watchpost_core::account_number::canonical;

/// Splits `#acct|rest` into the account as sent (not yet checked) and the rest; data without
/// a leading `#` is all rest.
pub fn split_data_account(data: &str) -> (Option<&str>, &str) {
    let Some(tail) = data.strip_prefix('#') else {
        return (None, data);
    };
    let (account, rest) = tail.split_once('|').unwrap_or((tail, ""));
    (Some(account), rest)
}
