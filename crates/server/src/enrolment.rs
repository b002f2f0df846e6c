//! The enrolment rule that needs the accounts already enrolled: no number beside another that
//! differs from it only by leading zeros (README, "Account numbers"). Shared by the HTTP API
//! and `watchpost accounts import`.

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
