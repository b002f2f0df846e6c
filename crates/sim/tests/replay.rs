//! Invariant 8: an alarm rebuilt from its stored inputs has the same actions and disposition,
//! and a log that was tampered with is caught.

use watchpost_core::Action;
use watchpost_sim::scenario::{parse, run};
use watchpost_store::{LogBody, replay};

const BURGLARY: &str = r#"
name = "replay"
start = "2026-03-10T02:14:00Z"
[account]
number = "4F39"
premises = "residential"
address = "12 Elm St"
country = "US"
region = "IL"
monitoring = "professional"
enrolled = "2026-02-01T00:00:00Z"
verbal_password = "blue falcon"
[[account.contacts]]
name = "Ann"
phone = "+15555550101"
[[account.contacts]]
name = "Bob"
phone = "+15555550102"
[[signals]]
at = 0
sia = "BA003"
[[signals]]
at = 100
sia = "BA004"
[[signals]]
at = 200
sia = "OP001"
[people.Ann]
answers = "voicemail"
[people.Bob]
answers = "busy"
"#;

#[tokio::test]
async fn alarms_rebuild_from_their_logs_and_tampering_is_caught() {
    let scenario = parse(BURGLARY).unwrap();
    let outcome = run(&scenario, &Default::default()).await.unwrap();
    let [rebuilt] = &outcome.alarms[..] else {
        panic!("one alarm")
    };
    // The runner already rebuilt it from the store; doing it again gives the same alarm.
    assert_eq!(replay(&rebuilt.log).unwrap(), rebuilt.alarm);
    let closed = rebuilt.alarm.closed().unwrap();
    assert_eq!(closed.1.as_str(), "dispatch_canceled");

    // A different logged action is caught.
    let mut tampered = rebuilt.log.clone();
    let at = tampered
        .iter()
        .position(|e| {
            matches!(
                e.body,
                LogBody::Action {
                    action: Action::RequestDispatch { .. }
                }
            )
        })
        .unwrap();
    tampered[at].body = LogBody::Action {
        action: Action::CancelDispatch {
            agency: watchpost_core::Agency::Police,
        },
    };
    assert!(replay(&tampered).is_err());

    // A dropped action is caught too.
    let mut dropped = rebuilt.log.clone();
    dropped.remove(at);
    assert!(replay(&dropped).is_err());
}
