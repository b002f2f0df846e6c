//! The enrolment rules that need what the store already holds: no number beside another that
//! differs from it only by leading zeros (README, "Account numbers"), and an account's dealer
//! must exist. Shared by the HTTP API and `watchpost accounts import`.

use watchpost_core::EnrolmentError;
use watchpost_core::account::check_leading_zero_twins;
use watchpost_core::account_number::leading_zero_twins;
use watchpost_store::{Store, StoreError};

/// Refuses the first of `numbers` (canonical, to be enrolled together) that has a leading-zero
/// twin enrolled or among `numbers`. One indexed lookup of every possible twin.
pub async fn refuse_leading_zero_twins<S: Store + ?Sized>(
    store: &S,
    numbers: &[&str],
) -> Result<Result<(), EnrolmentError>, StoreError> {
    let twins: Vec<String> = numbers.iter().flat_map(|n| leading_zero_twins(n)).collect();
    let enrolled = store.enrolled_among(&twins).await?;
    Ok(check_leading_zero_twins(
        numbers,
        enrolled.iter().map(String::as_str),
    ))
}

/// The first of `accounts` whose dealer the center does not have: its index and the reason,
/// for the field `dealer`.
pub async fn unknown_dealer<S: Store + ?Sized>(
    store: &S,
    accounts: &[&watchpost_core::Account],
) -> Result<Option<(usize, String)>, StoreError> {
    let mut known = std::collections::HashSet::new();
    for (i, account) in accounts.iter().enumerate() {
        let Some(dealer) = &account.dealer else {
            continue;
        };
        if known.contains(dealer) {
            continue;
        }
        if store.dealer(dealer).await?.is_none() {
            return Ok(Some((
                i,
                format!("no dealer {dealer:?}; add it with watchpost dealers add"),
            )));
        }
        known.insert(dealer.clone());
    }
    Ok(None)
}
