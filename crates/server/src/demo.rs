//! The demo center: a few dozen realistic accounts, a `demo`/`demo` admin, and a steady
//! trickle of signals of every kind, so a newcomer sees a working center within seconds.
//! Signals go through the same intake as a panel's.

use crate::intake::Intake;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use tokio::sync::watch;
use watchpost_core::account::{
    Account, Contact, DAY_MS, DeviceType, Monitoring, Premises, Responder, Zone,
};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::router::{Event, parse_sia};
use watchpost_core::{Agency, Millis};
use watchpost_store::{Role, SignalRecord, Store, StoreError, User};

pub const USER: &str = "demo";
pub const PASSWORD: &str = "demo";
/// Every demo account's verbal password, for trying the password check by hand.
pub const VERBAL_PASSWORD: &str = "blue falcon";

const STREETS: [&str; 12] = [
    "Elm St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Pine St",
    "Birch Rd",
    "Walnut St",
    "Spruce Ct",
    "Willow Way",
    "Ash Blvd",
    "Lake Shore Dr",
    "Hillcrest Rd",
];
const PLACES: [(&str, &str, &str, &str); 8] = [
    ("Springfield", "IL", "US", "62701"),
    ("Madison", "WI", "US", "53703"),
    ("Columbus", "OH", "US", "43215"),
    ("Austin", "TX", "US", "78701"),
    ("Portland", "OR", "US", "97204"),
    ("Denver", "CO", "US", "80202"),
    ("Toronto", "ON", "CA", "M5V 2T6"),
    ("Halifax", "NS", "CA", "B3J 1S9"),
];
const FIRST: [&str; 16] = [
    "Ann", "Bob", "Carmen", "Dev", "Elena", "Frank", "Grace", "Hiro", "Imani", "Jonas", "Kate",
    "Luis", "Mei", "Noah", "Olga", "Priya",
];
const LAST: [&str; 10] = [
    "Lee", "Garcia", "Okafor", "Novak", "Singh", "Brown", "Tanaka", "Muller", "Haddad", "Kim",
];

/// The demo accounts: residential and commercial, professional (some in their practice
/// week) and self-monitored, one to three contacts, a guard responder here and there.
pub fn accounts(now: Millis, count: usize) -> Vec<Account> {
    let mut rng = StdRng::seed_from_u64(7);
    let password = VerbalPassword::hash(VERBAL_PASSWORD, HashCost::Fast);
    (0..count)
        .map(|i| {
            let (city, region, country, postal) = PLACES[i % PLACES.len()];
            let commercial = i % 7 == 3;
            let contacts = (0..rng.gen_range(1..=3))
                .map(|c| Contact {
                    name: format!(
                        "{} {}",
                        FIRST[(i * 3 + c) % FIRST.len()],
                        LAST[(i + c * 7) % LAST.len()]
                    ),
                    phone: format!("+1555555{:04}", i * 10 + c),
                    phone2: None,
                })
                .collect();
            let mut zones = vec![
                Zone {
                    zone: 1,
                    device: DeviceType::Contact,
                },
                Zone {
                    zone: 2,
                    device: DeviceType::Motion,
                },
                Zone {
                    zone: 9,
                    device: DeviceType::FloodFreeze,
                },
            ];
            if !commercial {
                zones.push(Zone {
                    zone: 4,
                    device: DeviceType::Smoke,
                });
                zones.push(Zone {
                    zone: 5,
                    device: DeviceType::Co,
                });
            }
            Account {
                number: format!("{:04X}", 0x4F00 + i),
                premises: if commercial {
                    Premises::Commercial
                } else {
                    Premises::Residential
                },
                address: format!(
                    "{} {}, {city}, {region} {postal}",
                    10 + i * 7,
                    STREETS[i % STREETS.len()]
                ),
                country: country.into(),
                region: region.into(),
                monitoring: if i % 11 == 10 {
                    Monitoring::SelfMonitored
                } else {
                    Monitoring::Professional
                },
                // Every fifth account is in its practice week.
                enrolled_at: if i % 5 == 4 {
                    now - 2 * DAY_MS
                } else {
                    now - 90 * DAY_MS
                },
                verbal_password: password.clone(),
                responder: if commercial && i % 2 == 1 {
                    Responder::Guard
                } else {
                    Responder::Police
                },
                test_until: None,
                contacts,
                zones,
                dc09_key: None,
                supervision_ms: None,
                details: Default::default(),
                dealer: None,
                premises_phone: None,
            }
        })
        .collect()
}

/// Enrols the demo accounts and the demo admin, unless the database has accounts already.
pub async fn prepare<S: Store + ?Sized>(store: &S, now: Millis) -> Result<usize, StoreError> {
    if store.count_accounts().await? > 0 {
        return Ok(0);
    }
    let accounts = accounts(now, 36);
    store.put_accounts(&accounts).await?;
    store
        .put_user(&User {
            name: USER.into(),
            role: Role::Admin,
            password_hash: crate::auth::hash_user_password(PASSWORD),
            failed_logins: 0,
            locked_until: None,
            waits_lifted_at: None,
            disabled: false,
            created_at: now,
            phone: None,
            dealer: None,
        })
        .await?;
    Ok(accounts.len())
}

/// One random happening at a demo account: mostly burglaries (some disarmed soon after),
/// then fire, water, medical, panic, CO, freeze, an app SOS, and rarely a duress.
fn happening(rng: &mut StdRng, accounts: &[Account]) -> Vec<(Duration, SignalRecord)> {
    let account = &accounts[rng.gen_range(0..accounts.len())];
    let residential = account.premises == Premises::Residential;
    let sia = |code: &str| parse_sia(code).expect("demo codes are valid");
    let (first, later): (Event, Option<(u64, Event)>) = match rng.gen_range(0..100) {
        0..35 => (sia("BA001"), None),
        35..50 => (sia("BA002"), Some((rng.gen_range(8..40), sia("OP001")))),
        50..58 if residential => (sia("FA004"), None),
        58..66 => (sia("WA009"), None),
        66..74 => (sia("MA001"), None),
        74..82 => (sia("PA001"), None),
        82..87 if residential => (sia("GA005"), None),
        87..92 => (sia("ZA009"), None),
        92..97 => (
            Event::AppSos {
                agency: Agency::Police,
            },
            Some((rng.gen_range(5..20), Event::AppCancel)),
        ),
        97..99 => (sia("HA001"), None),
        _ => (sia("BA001"), None),
    };
    let record = |event: Event| SignalRecord {
        account: account.number.clone(),
        received_at: 0,
        source: "demo".into(),
        raw: event.describe(),
        event,
    };
    let mut out = vec![(Duration::ZERO, record(first))];
    if let Some((after, event)) = later {
        out.push((Duration::from_secs(after), record(event)));
    }
    out
}

/// Sends a happening every few seconds until stopped.
pub async fn trickle(
    accounts: Vec<Account>,
    intake: Intake,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut rng = StdRng::from_entropy();
    loop {
        for (after, mut signal) in happening(&mut rng, &accounts) {
            let intake = intake.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                signal.received_at = crate::now_ms();
                intake.submit(vec![signal], None).await
            });
        }
        let jitter = Duration::from_millis(rng.gen_range(0..=every.as_millis() as u64));
        tokio::select! {
            _ = tokio::time::sleep(every / 2 + jitter) => {}
            _ = stop.changed() => return,
        }
    }
}
