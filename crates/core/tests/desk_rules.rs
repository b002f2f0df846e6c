//! The engine's part of the console an operator can trust (issue 12): only the handler acts,
//! a supervisor's takeover, closing with a resolution code, the duress rule across an account
//! (PROTOCOLS.md, Duress 3), and the tasks owed to agencies that keep a closed alarm queued.

use watchpost_core::account::{Contact, Responder};
use watchpost_core::alarm::{Decision, TaskKind};
use watchpost_core::plan::Plan;
use watchpost_core::{Action, Agency, Alarm, AlarmKind, AlarmSpec, Disposition, Input, Mode};
use watchpost_core::{Rejected, Settings};

fn open(kind: AlarmKind) -> Alarm {
    let mut alarm = Alarm::open_by(
        AlarmSpec {
            account: "4F39".into(),
            address: "12 Elm St".into(),
            contacts: ["Ann Lee", "Bob Lee"]
                .iter()
                .enumerate()
                .map(|(i, name)| Contact {
                    name: name.to_string(),
                    phone: format!("+1555555010{i}"),
                    phone2: None,
                })
                .collect(),
            responder: Responder::Police,
            kind,
            mode: Mode::Professional,
            opened_at: 0,
            trigger: "BA zone 3".into(),
            plan: Plan::builtin(kind, Mode::Professional),
            plan_set: None,
            unmonitored: None,
            settings: Settings::default(),
            premises_phone: None,
        },
        "sia",
    );
    drain(&mut alarm);
    alarm
}

fn drain(alarm: &mut Alarm) -> Vec<Action> {
    std::iter::from_fn(|| alarm.poll_action()).collect()
}

fn take(alarm: &mut Alarm, agent: &str) {
    let by = format!("agent:{agent}");
    let input = Input::Take {
        agent: agent.into(),
    };
    alarm.handle_by(1, &by, input).unwrap();
}

/// A burglary whose first contact answers and verifies.
fn verified_burglary() -> Alarm {
    let mut a = open(AlarmKind::Burglary);
    a.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    a.handle(2_000, Input::Answered { call: 0 }).unwrap();
    let checked = Input::PasswordChecked {
        call: 0,
        matched: true,
    };
    a.handle(3_000, checked).unwrap();
    a
}

/// A duress alarm: police at once, then follow-up.
fn duress() -> Alarm {
    open(AlarmKind::Duress)
}

fn close(resolution: Option<&str>, reason: Option<&str>) -> Input {
    Input::AgentClose {
        resolution: resolution.map(str::to_string),
        reason: reason.map(str::to_string),
    }
}

#[test]
fn only_the_handler_acts_and_a_takeover_is_logged() {
    let mut a = open(AlarmKind::Burglary);
    let placed = Input::CallPlaced { call: 0 };
    assert_eq!(a.may_act("ann", &placed), Err(Rejected::NotTaken));
    assert_eq!(a.may_act("ann", &Input::Note { text: "x".into() }), Ok(()));
    take(&mut a, "ann");
    assert_eq!(a.may_act("ann", &placed), Ok(()));
    assert_eq!(
        a.may_act("bob", &placed),
        Err(Rejected::TakenBy("ann".into()))
    );
    let take_bob = Input::Take {
        agent: "bob".into(),
    };
    assert_eq!(a.handle(5, take_bob), Err(Rejected::TakenBy("ann".into())));
    let over = Input::TakeOver {
        agent: "sue".into(),
    };
    a.handle_by(6, "agent:sue", over).unwrap();
    assert_eq!(a.handler(), Some("sue"));
    let last = a.timeline().last().unwrap();
    assert_eq!(
        (&*last.event, &*last.detail, &*last.by),
        ("taken_over", "sue took over from ann", "agent:sue")
    );
    assert_eq!(
        a.may_act("ann", &placed),
        Err(Rejected::TakenBy("sue".into()))
    );
}

#[test]
fn every_timeline_row_names_who_caused_it() {
    let mut a = open(AlarmKind::Burglary);
    a.handle_by(1_000, "telephony", Input::CallPlaced { call: 0 })
        .unwrap();
    let by: Vec<&str> = a.timeline().iter().map(|t| &*t.by).collect();
    assert_eq!(by.first(), Some(&"sia"), "the opening signal: the panel");
    assert_eq!(by.last(), Some(&"telephony"));
}

#[test]
fn closing_needs_a_resolution_and_a_reason_for_an_unconfirmed_dispatch() {
    let mut a = duress();
    assert!(a.dispatched());
    let before = a.clone();
    assert_eq!(
        a.handle(1_000, close(None, None)),
        Err(Rejected::NoResolution)
    );
    assert_eq!(
        a.handle(1_000, close(Some("  "), None)),
        Err(Rejected::NoResolution)
    );
    assert_eq!(
        a.handle(1_000, close(Some("false_user"), None)),
        Err(Rejected::Unconfirmed(Agency::Police))
    );
    assert_eq!(a, before, "a refused close changes nothing");
    a.handle(
        2_000,
        close(Some("false_user"), Some("line busy, will call back")),
    )
    .unwrap();
    assert_eq!(a.resolution(), Some("false_user"));
    assert_eq!(a.closed().map(|c| c.1), Some(Disposition::Dispatched));
    assert!(a.open_tasks().is_empty(), "the reason settles the request");
    assert!(!a.in_queue());
    assert!(a.timeline().iter().any(|t| &*t.event == "agent_close"
        && t.detail.contains("false_user")
        && t.detail.contains("line busy")));
}

#[test]
fn a_confirmed_dispatch_closes_with_a_resolution_alone() {
    let mut a = duress();
    let confirmed = Input::DispatchConfirmed {
        agency: Agency::Police,
        reference: "INC-7".into(),
    };
    a.handle(500, confirmed).unwrap();
    a.handle(1_000, close(Some("actual_other"), None)).unwrap();
    assert!(!a.is_open());
}

#[test]
fn a_stand_down_is_a_task_that_keeps_the_closed_alarm_queued() {
    let mut a = open(AlarmKind::Burglary);
    a.handle(1_000, Input::NoAnswer { call: 0 }).unwrap();
    a.handle(2_000, Input::NoAnswer { call: 1 }).unwrap();
    assert_eq!(a.open_tasks().len(), 1, "the request is a task");
    assert_eq!(a.open_tasks()[0].kind, TaskKind::Request);
    let disarm = Input::Disarm {
        detail: "OP user 1".into(),
    };
    a.handle(3_000, disarm).unwrap();
    assert_eq!(a.closed().map(|c| c.1), Some(Disposition::DispatchCanceled));
    let tasks = a.open_tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (tasks[0].kind, tasks[0].agency, tasks[0].since),
        (TaskKind::StandDown, Agency::Police, 3_000)
    );
    assert!(a.in_queue(), "closed, but the agency has not been told");
    // A closed alarm takes nothing but what settles its tasks.
    let note = Input::Note { text: "x".into() };
    assert_eq!(a.handle(4_000, note), Err(Rejected::Closed));
    let nobody = Input::StandDownConfirmed {
        agency: Agency::Police,
        told: " ".into(),
    };
    assert_eq!(
        a.handle(4_000, nobody),
        Err(Rejected::NoStandDown(Agency::Police))
    );
    let told = Input::StandDownConfirmed {
        agency: Agency::Police,
        told: "Sgt. Ray, dispatch desk".into(),
    };
    a.handle(5_000, told.clone()).unwrap();
    assert!(!a.in_queue());
    assert_eq!(a.handle(6_000, told), Err(Rejected::NoTasks));
}

#[test]
fn under_duress_a_disarm_is_refused_and_the_plan_goes_on_to_dispatch() {
    let mut a = open(AlarmKind::Burglary);
    a.handle_by(500, "center", Input::DuressOpen { alarm: 12 })
        .unwrap();
    let disarm = Input::Disarm {
        detail: "OP user 1".into(),
    };
    a.handle_by(1_000, "sia", disarm).unwrap();
    a.handle_by(1_500, "app", Input::AppCancel).unwrap();
    assert!(a.is_open(), "nothing from the premises cancels");
    let refused: Vec<_> = a
        .timeline()
        .iter()
        .filter(|t| &*t.event == "cancel_refused")
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(refused[0].detail.contains("duress alarm 12"));
    a.handle(2_000, Input::NoAnswer { call: 0 }).unwrap();
    a.handle(3_000, Input::NoAnswer { call: 1 }).unwrap();
    assert!(a.dispatched(), "nobody reached: police, as the plan says");
}

#[test]
fn a_duress_arriving_during_verification_turns_a_verified_cancel_into_dispatch() {
    let mut a = verified_burglary();
    a.handle(4_000, Input::DuressOpen { alarm: 12 }).unwrap();
    let cancel = Input::Decision {
        call: 0,
        decision: Decision::Cancel,
    };
    a.handle(5_000, cancel).unwrap();
    assert_eq!(a.calls()[0].decision, Some(Decision::Dispatch));
    assert!(a.dispatched());
    assert!(
        a.timeline()
            .iter()
            .any(|t| t.detail.contains("refused because duress alarm 12"))
    );
}

#[test]
fn once_the_duress_closes_the_premises_can_cancel_again() {
    let mut a = verified_burglary();
    a.handle(4_000, Input::DuressOpen { alarm: 12 }).unwrap();
    a.handle(4_500, Input::DuressClosed { alarm: 12 }).unwrap();
    assert!(a.duress_open().is_empty());
    let cancel = Input::Decision {
        call: 0,
        decision: Decision::Cancel,
    };
    a.handle(5_000, cancel).unwrap();
    assert_eq!(a.calls()[0].decision, Some(Decision::Cancel));
}

#[test]
fn a_call_without_an_attempt_says_not_checked() {
    let mut a = open(AlarmKind::Burglary);
    a.handle(1_000, Input::Answered { call: 0 }).unwrap();
    assert_eq!(a.calls()[0].password(), "not_checked");
    let dispatch = Input::Decision {
        call: 0,
        decision: Decision::Dispatch,
    };
    a.handle(2_000, dispatch).unwrap();
    assert_eq!(a.calls()[0].password(), "not_checked");
    let b = verified_burglary();
    assert_eq!(b.calls()[0].password(), "match");
}
