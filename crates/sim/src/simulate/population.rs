//! The generated center: accounts (professional or in their practice week, residential or
//! commercial, one to three contacts), drawn from the seed so every level sees the same ones.

use super::config::Config;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use watchpost_core::account::{Contact, DAY_MS, Monitoring, Premises, Responder};
use watchpost_core::password::{HashCost, VerbalPassword};
use watchpost_core::{Account, Millis};

/// Virtual time zero: 2026-03-10T00:00:00Z.
pub const EPOCH: Millis = 1_773_100_800_000;

/// Contacts per account: one (30%), two (40%) or three (30%).
const CONTACTS: [f64; 3] = [0.3, 0.4, 0.3];

/// Separates the accounts' random stream from the arrivals'.
const STREAM: u64 = 0x6163_636f_756e_7473;

pub fn accounts(config: &Config) -> Vec<Account> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ STREAM);
    // One cheap hash shared by every account: a simulated agent never checks it (whether a
    // person knows the password is drawn instead), and argon2 per account would be slow.
    let password = VerbalPassword::hash("blue falcon", HashCost::Fast);
    (0..config.accounts)
        .map(|i| {
            let practice = rng.gen_bool(config.practice_share.clamp(0.0, 1.0));
            let commercial = rng.gen_bool(config.commercial_share.clamp(0.0, 1.0));
            let guard = rng.gen_bool(config.guard_share.clamp(0.0, 1.0));
            let u: f64 = rng.r#gen();
            let n = if u < CONTACTS[0] {
                1
            } else if u < CONTACTS[0] + CONTACTS[1] {
                2
            } else {
                3
            };
            let contacts = (0..n)
                .map(|c| Contact {
                    name: format!("Contact {} of {i}", c + 1),
                    phone: format!("+1555{:07}", (i as u64 * 3 + c as u64) % 10_000_000),
                    phone2: None,
                })
                .collect();
            Account {
                number: format!("S{i:X}"),
                premises: if commercial {
                    Premises::Commercial
                } else {
                    Premises::Residential
                },
                address: format!("{} Simulated Way, Springfield, IL 62701", i + 1),
                country: "US".into(),
                region: "IL".into(),
                monitoring: Monitoring::Professional,
                // Practice accounts enrolled two days before the run starts.
                enrolled_at: if practice {
                    EPOCH - 2 * DAY_MS
                } else {
                    EPOCH - 400 * DAY_MS
                },
                verbal_password: password.clone(),
                responder: if guard {
                    Responder::Guard
                } else {
                    Responder::Police
                },
                test_until: None,
                contacts,
                zones: Vec::new(),
                dc09_key: None,
                supervision_ms: None,
                details: Default::default(),
                dealer: None,
                premises_phone: None,
            }
        })
        .collect()
}
