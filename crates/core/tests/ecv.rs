//! Enhanced call verification's numbers: a `verify` step that must place more calls than its
//! contacts' first numbers give dials their second numbers, then the premises phone, and only
//! then the same numbers again; plans without `min_calls` dial first numbers only.

use watchpost_core::account::{Contact, Responder};
use watchpost_core::alarm::{Line, PREMISES};
use watchpost_core::plan::{Contacts, Plan, Step};
use watchpost_core::{Action, Alarm, AlarmKind, AlarmSpec, Input, Mode, Settings};

fn spec(contacts: Vec<Contact>, premises_phone: Option<&str>, min_calls: Option<u32>) -> AlarmSpec {
    let mut plan = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
    if let Step::Verify {
        contacts: picked,
        min_calls: calls,
        ..
    } = &mut plan.steps[0]
    {
        *picked = Contacts {
            from: 1,
            to: Some(2),
        };
        *calls = min_calls;
    }
    AlarmSpec {
        account: "4F39".into(),
        address: "12 Elm St".into(),
        contacts,
        premises_phone: premises_phone.map(String::from),
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

fn ann(phone2: Option<&str>) -> Contact {
    Contact {
        phone2: phone2.map(String::from),
        ..Contact::new("Ann Lee", "+15555550101")
    }
}

/// Lets every call ring out unanswered; returns each `PlaceCall` as (contact, to, phone).
fn nobody_answers(alarm: &mut Alarm) -> Vec<(usize, String, String)> {
    let mut dialled = Vec::new();
    let mut now = 0;
    loop {
        let mut placed = None;
        while let Some(action) = alarm.poll_action() {
            if let Action::PlaceCall {
                call,
                contact,
                to,
                phone,
                ..
            } = action
            {
                dialled.push((contact, to, phone));
                placed = Some(call);
            }
        }
        let Some(call) = placed else { return dialled };
        now += 1_000;
        alarm.handle(now, Input::CallPlaced { call }).unwrap();
        now += 30_000;
        alarm.handle(now, Input::NoAnswer { call }).unwrap();
    }
}

fn row(contact: usize, to: &str, phone: &str) -> (usize, String, String) {
    (contact, to.into(), phone.into())
}

#[test]
fn one_contact_second_number_then_the_premises_phone() {
    let mut alarm = Alarm::open(spec(
        vec![ann(Some("+15555550111"))],
        Some("+15555550100"),
        Some(3),
    ));
    assert_eq!(
        nobody_answers(&mut alarm),
        [
            row(0, "Ann Lee", "+15555550101"),
            row(0, "Ann Lee", "+15555550111"),
            row(1, PREMISES, "+15555550100"),
        ]
    );
    let lines: Vec<Line> = alarm.calls().iter().map(|c| c.line).collect();
    assert_eq!(lines, [Line::Phone, Line::Phone2, Line::Premises]);
    for call in alarm.calls() {
        assert_eq!(alarm.phone_of(call), call.phone);
    }
    assert_eq!(
        alarm.dispatches().len(),
        1,
        "dispatched after the third call"
    );
    assert_eq!(alarm.dispatches()[0].requested_at, 93_000);
}

#[test]
fn the_premises_phone_stands_in_for_a_missing_second_number() {
    let mut alarm = Alarm::open(spec(vec![ann(None)], Some("+15555550100"), Some(2)));
    assert_eq!(
        nobody_answers(&mut alarm),
        [
            row(0, "Ann Lee", "+15555550101"),
            row(1, PREMISES, "+15555550100"),
        ]
    );
}

#[test]
fn only_when_every_number_was_tried_does_the_list_start_again() {
    let mut alarm = Alarm::open(spec(vec![ann(None)], None, Some(2)));
    assert_eq!(
        nobody_answers(&mut alarm),
        [
            row(0, "Ann Lee", "+15555550101"),
            row(0, "Ann Lee", "+15555550101"),
        ]
    );
    let mut alarm = Alarm::open(spec(
        vec![ann(Some("+15555550111"))],
        Some("+15555550100"),
        Some(4),
    ));
    let phones: Vec<String> = nobody_answers(&mut alarm)
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(
        phones,
        [
            "+15555550101",
            "+15555550111",
            "+15555550100",
            "+15555550101"
        ]
    );
}

#[test]
fn second_numbers_come_after_every_first_number() {
    let bob = Contact {
        phone2: Some("+15555550112".into()),
        ..Contact::new("Bob Lee", "+15555550102")
    };
    let mut alarm = Alarm::open(spec(
        vec![ann(Some("+15555550111")), bob],
        Some("+15555550100"),
        Some(3),
    ));
    let phones: Vec<String> = nobody_answers(&mut alarm)
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(phones, ["+15555550101", "+15555550102", "+15555550111"]);
}

#[test]
fn without_min_calls_nothing_changes_second_numbers_and_premises_are_not_dialled() {
    let mut alarm = Alarm::open(spec(
        vec![ann(Some("+15555550111"))],
        Some("+15555550100"),
        None,
    ));
    assert_eq!(
        nobody_answers(&mut alarm),
        [row(0, "Ann Lee", "+15555550101")]
    );
    assert_eq!(alarm.calls()[0].line, Line::Phone);
}

#[test]
fn a_step_that_picks_no_contact_does_not_call_the_premises() {
    let mut alarm = Alarm::open(spec(vec![], Some("+15555550100"), Some(2)));
    assert_eq!(nobody_answers(&mut alarm), []);
    assert_eq!(alarm.dispatches().len(), 1, "unreached: dispatched");
}

#[test]
fn a_person_at_the_premises_must_give_the_password_to_cancel() {
    let mut alarm = Alarm::open(spec(vec![ann(None)], Some("+15555550100"), Some(2)));
    let mut now = 0;
    for (call, answers) in [(0, false), (1, true)] {
        while alarm.poll_action().is_some() {}
        now += 1_000;
        alarm.handle(now, Input::CallPlaced { call }).unwrap();
        now += 6_000;
        let outcome = if answers {
            Input::Answered { call }
        } else {
            Input::NoAnswer { call }
        };
        alarm.handle(now, outcome).unwrap();
    }
    now += 10_000;
    alarm
        .handle(
            now,
            Input::PasswordChecked {
                call: 1,
                matched: false,
            },
        )
        .unwrap();
    alarm
        .handle(
            now,
            Input::Decision {
                call: 1,
                decision: watchpost_core::alarm::Decision::Cancel,
            },
        )
        .unwrap();
    assert_eq!(alarm.closed(), None, "in follow-up after the dispatch");
    assert_eq!(
        alarm.dispatches().len(),
        1,
        "an unverified cancel is a dispatch"
    );
    assert_eq!(alarm.calls()[1].to, PREMISES);
}
