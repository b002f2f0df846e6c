//! A confirmation from outside the contact list (`Input::Confirmed`): the plan's
//! `on_confirmation` steps replace what remained of it; a plan without them only records it.

use watchpost_core::account::{Contact, Responder};
use watchpost_core::alarm::Confirmer;
use watchpost_core::plan::{AgencyRule, Plan, Step};
use watchpost_core::{Action, Agency, Alarm, AlarmKind, AlarmSpec, Input, Mode, Settings};

fn spec(plan: Plan) -> AlarmSpec {
    AlarmSpec {
        account: "4F39".into(),
        address: "12 Elm St".into(),
        contacts: vec![
            Contact::new("Ann Lee", "+15555550101"),
            Contact::new("Bob Lee", "+15555550102"),
        ],
        premises_phone: None,
        responder: Responder::Police,
        kind: AlarmKind::Burglary,
        mode: Mode::Professional,
        opened_at: 0,
        trigger: "BA zone 3".into(),
        plan: Some(plan),
        plan_set: None,
        unmonitored: None,
        settings: Settings::default(),
    }
}

/// Verified response: a guard when nobody is reached, the police on a confirmation.
fn verified_response() -> Plan {
    let mut plan = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
    if let Step::Verify { then, .. } = &mut plan.steps[0] {
        then.unreached = vec![Step::Dispatch {
            agency: Some(AgencyRule::Guard),
        }];
    }
    plan.on_confirmation = vec![Step::Dispatch {
        agency: Some(AgencyRule::Police),
    }];
    plan
}

fn guard(text: &str) -> Input {
    Input::Confirmed {
        by: Confirmer::Guard,
        text: text.into(),
    }
}

fn drain(alarm: &mut Alarm) -> Vec<Action> {
    std::iter::from_fn(|| alarm.poll_action()).collect()
}

#[test]
fn a_guards_confirmation_after_the_guard_dispatch_requests_the_police() {
    let mut alarm = Alarm::open(spec(verified_response()));
    let mut now = 0;
    for call in [0, 1] {
        drain(&mut alarm);
        now += 30_000;
        alarm.handle(now, Input::CallPlaced { call }).unwrap();
        alarm.handle(now, Input::NoAnswer { call }).unwrap();
    }
    let agencies = |a: &Alarm| a.dispatches().iter().map(|d| d.agency).collect::<Vec<_>>();
    assert_eq!(agencies(&alarm), [Agency::Guard]);
    drain(&mut alarm);
    alarm
        .handle(600_000, guard("back door forced, nobody inside"))
        .unwrap();
    assert_eq!(agencies(&alarm), [Agency::Guard, Agency::Police]);
    assert!(drain(&mut alarm).contains(&Action::RequestDispatch {
        agency: Agency::Police,
        kind: AlarmKind::Burglary,
        address: "12 Elm St".into(),
    }));
    let row = alarm
        .timeline()
        .iter()
        .find(|t| &*t.event == "confirmed")
        .unwrap();
    assert_eq!(&*row.detail, "by guard: back door forced, nobody inside");
    assert!(alarm.is_open(), "in follow-up");
}

#[test]
fn a_confirmation_during_a_call_hangs_up_and_runs_the_confirmation_steps() {
    let mut alarm = Alarm::open(spec(verified_response()));
    drain(&mut alarm);
    alarm.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    let input = Input::Confirmed {
        by: Confirmer::Video,
        text: String::new(),
    };
    alarm.handle(5_000, input).unwrap();
    let actions = drain(&mut alarm);
    assert_eq!(actions[0], Action::HangUp { call: 0 });
    assert!(matches!(
        actions[1],
        Action::RequestDispatch {
            agency: Agency::Police,
            ..
        }
    ));
    assert_eq!(alarm.calls().len(), 1, "Bob is not called");
    assert_eq!(alarm.current_call(), None);
}

#[test]
fn without_confirmation_steps_a_confirmation_is_recorded_and_changes_nothing() {
    let plan = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
    let mut alarm = Alarm::open(spec(plan));
    drain(&mut alarm);
    alarm.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    let before = alarm.clone();
    alarm.handle(5_000, guard("all quiet")).unwrap();
    assert!(drain(&mut alarm).is_empty());
    assert_eq!(alarm.calls(), before.calls());
    assert_eq!(alarm.dispatches(), before.dispatches());
    let events: Vec<&str> = alarm
        .timeline()
        .iter()
        .skip(before.timeline().len())
        .map(|t| &*t.event)
        .collect();
    assert_eq!(events, ["confirmed", "no_effect"]);
}

#[test]
fn a_closed_alarm_takes_no_confirmation() {
    let mut alarm = Alarm::open(spec(verified_response()));
    drain(&mut alarm);
    alarm.handle(1_000, Input::AppCancel).unwrap();
    assert!(!alarm.is_open());
    assert_eq!(
        alarm.handle(2_000, guard("")),
        Err(watchpost_core::Rejected::Closed)
    );
}
