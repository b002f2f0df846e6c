//! The alarm engine on its own: focused protocol rules, and a random driver that feeds every
//! plan valid and invalid inputs to check that a rejected input changes nothing and that an
//! open alarm always has a pending call or a timer (PROTOCOLS.md invariant 7).

use proptest::prelude::*;
use watchpost_core::account::{Contact, Responder};
use watchpost_core::alarm::{CallResult, Decision, Purpose};
use watchpost_core::plan::Plan;
use watchpost_core::{Action, Agency, Alarm, AlarmKind, AlarmSpec, Disposition, Input, Mode};
use watchpost_core::{Rejected, Settings};

fn spec(kind: AlarmKind, mode: Mode, contacts: usize) -> AlarmSpec {
    AlarmSpec {
        account: "4F39".into(),
        address: "12 Elm St".into(),
        contacts: (0..contacts)
            .map(|i| Contact {
                name: format!("C{i}"),
                phone: format!("+1555555010{i}"),
                phone2: None,
            })
            .collect(),
        premises_phone: None,
        responder: Responder::Police,
        kind,
        mode,
        opened_at: 0,
        trigger: "test".into(),
        plan: Plan::builtin(kind, mode),
        plan_set: None,
        unmonitored: None,
        settings: Settings::default(),
    }
}

fn drain(alarm: &mut Alarm) -> Vec<Action> {
    std::iter::from_fn(|| alarm.poll_action()).collect()
}

fn current(alarm: &Alarm) -> u32 {
    alarm.current_call().expect("a call is in progress").id
}

#[test]
fn a_recording_is_listed_in_the_timeline_and_changes_nothing_else() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 2));
    drain(&mut a);
    a.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    a.handle(2_000, Input::NoAnswer { call: 0 }).unwrap();
    drain(&mut a);
    let before = a.clone();
    a.handle(
        3_000,
        Input::Recorded {
            call: 0,
            duration_ms: 72_400,
        },
    )
    .unwrap();
    assert!(drain(&mut a).is_empty(), "a recording asks for nothing");
    let last = a.timeline().last().unwrap();
    assert_eq!(
        (last.at, &*last.event, &*last.detail),
        (3_000, "recorded", "Call 1 recorded (1 min 12 s)")
    );
    assert_eq!(a.timeline().len(), before.timeline().len() + 1);
    assert_eq!(a.calls(), before.calls());
    assert_eq!(a.poll_timeout(), before.poll_timeout());
    assert_eq!(
        a.handle(
            4_000,
            Input::Recorded {
                call: 7,
                duration_ms: 1
            }
        ),
        Err(Rejected::UnknownCall(7))
    );
}

#[test]
fn a_detector_verdict_is_listed_in_the_timeline_and_changes_nothing_else() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 2));
    drain(&mut a);
    a.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    let before = a.clone();
    let detail = "the detector heard a machine: 2.1 s of voice".to_string();
    a.handle(3_000, Input::Detected { call: 0, detail })
        .unwrap();
    assert!(drain(&mut a).is_empty());
    assert_eq!(a.calls(), before.calls());
    let last = a.timeline().last().unwrap();
    assert_eq!(&*last.event, "detected");
    assert!(
        last.detail
            .ends_with(": the detector heard a machine: 2.1 s of voice")
    );
    let detail = String::new();
    assert_eq!(
        a.handle(4_000, Input::Detected { call: 9, detail }),
        Err(Rejected::UnknownCall(9))
    );
}

#[test]
fn burglary_disarm_before_dispatch_hangs_up_and_cancels() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 2));
    assert!(matches!(
        drain(&mut a)[..],
        [Action::PlaceCall { call: 0, .. }]
    ));
    a.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    a.handle(
        5_000,
        Input::Disarm {
            detail: "OP user 1".into(),
        },
    )
    .unwrap();
    assert_eq!(
        drain(&mut a),
        [
            Action::HangUp { call: 0 },
            Action::Close {
                disposition: Disposition::CanceledByDisarm
            }
        ]
    );
    assert_eq!(a.calls()[0].result, Some(CallResult::NoAnswer));
    assert!(a.dispatches().is_empty());
}

#[test]
fn burglary_disarm_after_dispatch_cancels_the_dispatch() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 1));
    drain(&mut a);
    a.handle(30_000, Input::NoAnswer { call: 0 }).unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::RequestDispatch {
            agency: Agency::Police,
            ..
        }]
    ));
    assert_eq!(a.poll_timeout(), Some(3_630_000));
    a.handle(
        60_000,
        Input::Disarm {
            detail: "OP".into(),
        },
    )
    .unwrap();
    assert_eq!(
        drain(&mut a),
        [
            Action::CancelDispatch {
                agency: Agency::Police
            },
            Action::Close {
                disposition: Disposition::DispatchCanceled
            }
        ]
    );
    assert_eq!(a.dispatches()[0].canceled_at, Some(60_000));
}

#[test]
fn guard_responder_answers_burglary_but_not_panic() {
    let mut s = spec(AlarmKind::Burglary, Mode::Professional, 1);
    s.responder = Responder::Guard;
    let mut a = Alarm::open(s.clone());
    drain(&mut a);
    a.handle(30_000, Input::Busy { call: 0 }).unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::RequestDispatch {
            agency: Agency::Guard,
            ..
        }]
    ));
    s.kind = AlarmKind::Panic;
    s.plan = Plan::builtin(AlarmKind::Panic, Mode::Professional);
    let mut p = Alarm::open(s);
    drain(&mut p);
    p.handle(30_000, Input::Busy { call: 0 }).unwrap();
    assert!(matches!(
        drain(&mut p)[..],
        [Action::RequestDispatch {
            agency: Agency::Police,
            ..
        }]
    ));
}

#[test]
fn two_password_tries_per_call_then_a_cancel_is_a_dispatch() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 2));
    drain(&mut a);
    a.handle(7_000, Input::Answered { call: 0 }).unwrap();
    for _ in 0..2 {
        a.handle(
            10_000,
            Input::PasswordChecked {
                call: 0,
                matched: false,
            },
        )
        .unwrap();
    }
    let before = a.clone();
    assert_eq!(
        a.handle(
            11_000,
            Input::PasswordChecked {
                call: 0,
                matched: true
            }
        ),
        Err(Rejected::TooManyAttempts(0))
    );
    assert_eq!(a, before, "a rejected input changes nothing");
    a.handle(
        12_000,
        Input::Decision {
            call: 0,
            decision: Decision::Cancel,
        },
    )
    .unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::RequestDispatch { .. }]
    ));
    assert_eq!(a.calls()[0].decision, Some(Decision::Dispatch));
    assert_eq!(a.calls()[0].verified, Some(false));
    assert_eq!(a.calls().len(), 1, "a reached person ends the calling");
}

#[test]
fn co_dispatches_before_any_call_and_nothing_cancels_it() {
    let mut a = Alarm::open(spec(AlarmKind::CarbonMonoxide, Mode::Professional, 2));
    let first = drain(&mut a);
    assert!(matches!(
        first[..],
        [
            Action::RequestDispatch {
                agency: Agency::Fire,
                ..
            },
            Action::PlaceCall {
                purpose: Purpose::Notify,
                ..
            }
        ]
    ));
    a.handle(
        2_000,
        Input::Disarm {
            detail: "OP".into(),
        },
    )
    .unwrap();
    a.handle(3_000, Input::AppCancel).unwrap();
    assert!(drain(&mut a).is_empty());
    a.handle(7_000, Input::Answered { call: 0 }).unwrap();
    a.handle(
        30_000,
        Input::Decision {
            call: 0,
            decision: Decision::Cancel,
        },
    )
    .unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::PlaceCall { call: 1, .. }]
    ));
    assert!(a.dispatches()[0].canceled_at.is_none());
}

#[test]
fn duress_is_silent_and_dispatched_at_once() {
    let mut a = Alarm::open(spec(AlarmKind::Duress, Mode::Professional, 3));
    assert!(a.is_silent());
    assert!(matches!(
        drain(&mut a)[..],
        [Action::RequestDispatch {
            agency: Agency::Police,
            ..
        }]
    ));
    assert!(a.calls().is_empty());
    let mut practice = Alarm::open(spec(AlarmKind::Duress, Mode::Practice, 3));
    assert_eq!(
        drain(&mut practice),
        [Action::Close {
            disposition: Disposition::PracticeLogged
        }]
    );
}

#[test]
fn medical_unreached_dispatches_then_tells_contacts_one_and_two() {
    let mut a = Alarm::open(spec(AlarmKind::Medical, Mode::Professional, 3));
    drain(&mut a);
    a.handle(31_000, Input::NoAnswer { call: 0 }).unwrap();
    let actions = drain(&mut a);
    assert!(matches!(
        actions[..],
        [
            Action::RequestDispatch {
                agency: Agency::Medical,
                ..
            },
            Action::PlaceCall {
                contact: 0,
                purpose: Purpose::Notify,
                ..
            }
        ]
    ));
    a.handle(61_000, Input::NoAnswer { call: 1 }).unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::PlaceCall {
            contact: 1,
            purpose: Purpose::Notify,
            ..
        }]
    ));
    a.handle(91_000, Input::NoAnswer { call: 2 }).unwrap();
    assert!(drain(&mut a).is_empty(), "contact 3 is not called");
    assert_eq!(a.poll_timeout(), Some(31_000 + 3_600_000));
}

#[test]
fn practice_dispatch_needs_the_agent() {
    let mut a = Alarm::open(spec(AlarmKind::Fire, Mode::Practice, 2));
    assert!(matches!(
        drain(&mut a)[..],
        [Action::PlaceCall {
            purpose: Purpose::Automated,
            offers_agent: true,
            ..
        }]
    ));
    a.handle(7_000, Input::Answered { call: 0 }).unwrap();
    assert_eq!(
        a.handle(
            8_000,
            Input::Decision {
                call: 0,
                decision: Decision::Dispatch
            }
        ),
        Err(Rejected::NoConversation(0)),
        "no decision before an agent joins"
    );
    a.handle(22_000, Input::AgentJoined { call: 0 }).unwrap();
    a.handle(
        47_000,
        Input::Decision {
            call: 0,
            decision: Decision::Dispatch,
        },
    )
    .unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::RequestDispatch {
            agency: Agency::Fire,
            ..
        }]
    ));
}

#[test]
fn water_is_automated_and_stops_at_the_first_person() {
    let mut a = Alarm::open(spec(AlarmKind::Water, Mode::Professional, 3));
    assert!(matches!(
        drain(&mut a)[..],
        [Action::PlaceCall {
            purpose: Purpose::Automated,
            offers_agent: false,
            ..
        }]
    ));
    a.handle(21_000, Input::Voicemail { call: 0 }).unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::LeaveVoicemail { call: 0, .. }]
    ));
    assert_eq!(current(&a), 0, "the message is still being left");
    a.handle(36_000, Input::CallEnded { call: 0 }).unwrap();
    assert!(matches!(
        drain(&mut a)[..],
        [Action::PlaceCall { call: 1, .. }]
    ));
    a.handle(42_000, Input::Answered { call: 1 }).unwrap();
    a.handle(57_000, Input::CallEnded { call: 1 }).unwrap();
    assert_eq!(
        drain(&mut a),
        [Action::Close {
            disposition: Disposition::Notified
        }]
    );
}

#[test]
fn an_answer_taken_for_a_person_can_be_corrected_to_voicemail_until_anything_was_said() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 2));
    drain(&mut a);
    a.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    a.handle(5_000, Input::Answered { call: 0 }).unwrap();
    // The agent hears a greeting: it was a machine after all.
    a.handle(7_000, Input::Voicemail { call: 0 }).unwrap();
    let actions = drain(&mut a);
    assert!(
        matches!(
            actions[..],
            [
                Action::LeaveVoicemail { call: 0, .. },
                Action::PlaceCall {
                    call: 1,
                    contact: 1,
                    ..
                }
            ]
        ),
        "{actions:?}"
    );
    assert_eq!(a.calls()[0].result, Some(CallResult::Voicemail));
    assert_eq!(a.calls()[0].answered_at, None);

    // Once the password was asked for, the call was a conversation: no correction.
    a.handle(8_000, Input::CallPlaced { call: 1 }).unwrap();
    a.handle(9_000, Input::Answered { call: 1 }).unwrap();
    a.handle(
        10_000,
        Input::PasswordChecked {
            call: 1,
            matched: false,
        },
    )
    .unwrap();
    assert_eq!(
        a.handle(11_000, Input::Voicemail { call: 1 }),
        Err(Rejected::AlreadyAnswered(1))
    );
}

#[test]
fn an_agent_overturns_a_machine_verdict_and_the_person_is_a_reached_contact() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 3));
    drain(&mut a);
    a.handle(1_000, Input::CallPlaced { call: 0 }).unwrap();
    a.handle(4_000, Input::Voicemail { call: 0 }).unwrap();
    assert!(a.can_overturn(0));
    drain(&mut a);
    a.handle(4_500, Input::CallPlaced { call: 1 }).unwrap();
    // The agent heard "hello?": a person, not a machine.
    a.handle(6_000, Input::Answered { call: 0 }).unwrap();
    assert_eq!(
        drain(&mut a),
        [Action::HangUp { call: 1 }, Action::ConnectAgent { call: 0 }]
    );
    assert!(!a.can_overturn(0), "once is enough");
    let calls = a.calls();
    assert_eq!(calls[0].result, Some(CallResult::Answered));
    assert_eq!(calls[0].answered_at, Some(6_000));
    assert!(!calls[0].voicemail_left);
    assert_eq!(calls[1].result, Some(CallResult::NoAnswer));
    assert_eq!(calls[1].ended_at, Some(6_000));
    assert_eq!(current(&a), 0);

    // The person verifies and cancels, exactly as on any answered call.
    a.handle(
        9_000,
        Input::PasswordChecked {
            call: 0,
            matched: true,
        },
    )
    .unwrap();
    a.handle(
        10_000,
        Input::Decision {
            call: 0,
            decision: Decision::Cancel,
        },
    )
    .unwrap();
    assert_eq!(
        drain(&mut a),
        [Action::Close {
            disposition: Disposition::CanceledByContact
        }]
    );
}

#[test]
fn an_overturned_call_that_ends_unverified_moves_on_as_any_reached_contact_would() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 3));
    drain(&mut a);
    a.handle(4_000, Input::Voicemail { call: 0 }).unwrap();
    drain(&mut a);
    // Overturned before the next call was even placed: that call never rang.
    a.handle(5_000, Input::Answered { call: 0 }).unwrap();
    assert_eq!(a.calls()[1].result, None);
    drain(&mut a);
    // It was a machine after all: back to the plan, with the same next contact.
    a.handle(7_000, Input::Voicemail { call: 0 }).unwrap();
    let actions = drain(&mut a);
    assert!(
        matches!(
            actions[..],
            [
                Action::LeaveVoicemail { call: 0, .. },
                Action::PlaceCall {
                    call: 2,
                    contact: 1,
                    ..
                }
            ]
        ),
        "{actions:?}"
    );
    // A person who hangs up unverified on a deciding call asks for help.
    a.handle(8_000, Input::Answered { call: 0 }).unwrap();
    drain(&mut a);
    a.handle(9_000, Input::CallEnded { call: 0 }).unwrap();
    assert!(
        drain(&mut a)
            .iter()
            .any(|x| matches!(x, Action::RequestDispatch { .. }))
    );
}

#[test]
fn a_machine_verdict_cannot_be_overturned_once_the_plan_moved_past_it() {
    // The last contact: the step is over and the plan went on to dispatch.
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 1));
    drain(&mut a);
    a.handle(4_000, Input::Voicemail { call: 0 }).unwrap();
    assert!(!a.can_overturn(0));
    assert_eq!(
        a.handle(5_000, Input::Answered { call: 0 }),
        Err(Rejected::CallEnded(0))
    );

    // The next contact answered already.
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 3));
    drain(&mut a);
    a.handle(4_000, Input::Voicemail { call: 0 }).unwrap();
    a.handle(9_000, Input::Answered { call: 1 }).unwrap();
    assert!(!a.can_overturn(0));

    // Automated calls are the detector's alone.
    let mut a = Alarm::open(spec(AlarmKind::Water, Mode::Professional, 3));
    drain(&mut a);
    a.handle(4_000, Input::Voicemail { call: 0 }).unwrap();
    a.handle(20_000, Input::CallEnded { call: 0 }).unwrap();
    assert!(!a.can_overturn(0));
}

#[test]
fn voicemail_message_says_where_what_and_how_to_call_back() {
    let mut a = Alarm::open(spec(AlarmKind::Burglary, Mode::Professional, 2));
    drain(&mut a);
    a.handle(24_000, Input::Voicemail { call: 0 }).unwrap();
    let actions = drain(&mut a);
    let Action::LeaveVoicemail { message, .. } = &actions[0] else {
        panic!("{actions:?}")
    };
    assert!(message.contains("12 Elm St"));
    assert!(message.contains("burglary"));
    assert!(message.contains("call us back"));
    assert!(message.contains(&Settings::default().center_phone));
    assert!(
        matches!(actions[1], Action::PlaceCall { call: 1, .. }),
        "moves on at once"
    );
}

/// One step of the random driver: an input aimed at the current call, an old call, or the
/// alarm as a whole.
#[derive(Debug, Clone)]
enum Poke {
    Placed,
    Answered,
    Voicemail,
    NoAnswer,
    Busy,
    AgentJoined,
    Password(bool),
    Decide(bool),
    Ended,
    Disarm,
    AppCancel,
    Callback(usize),
    Timer,
    AgentClose,
    StaleCall(u32),
    Duress(bool),
    Confirm,
    StandDown,
}

fn poke() -> impl Strategy<Value = Poke> {
    prop_oneof![
        Just(Poke::Placed),
        Just(Poke::Answered),
        Just(Poke::Voicemail),
        Just(Poke::NoAnswer),
        Just(Poke::Busy),
        Just(Poke::AgentJoined),
        any::<bool>().prop_map(Poke::Password),
        any::<bool>().prop_map(Poke::Decide),
        Just(Poke::Ended),
        Just(Poke::Disarm),
        Just(Poke::AppCancel),
        (0usize..4).prop_map(Poke::Callback),
        Just(Poke::Timer),
        Just(Poke::AgentClose),
        (0u32..6).prop_map(Poke::StaleCall),
        any::<bool>().prop_map(Poke::Duress),
        Just(Poke::Confirm),
        Just(Poke::StandDown),
    ]
}

fn input_for(alarm: &Alarm, poke: &Poke) -> Input {
    let open_callback = alarm
        .calls()
        .iter()
        .rev()
        .find(|c| c.purpose == Purpose::Callback && c.is_open())
        .map(|c| c.id);
    let call = alarm
        .current_call()
        .map(|c| c.id)
        .or(open_callback)
        .unwrap_or(0);
    let decision = |cancel| {
        if cancel {
            Decision::Cancel
        } else {
            Decision::Dispatch
        }
    };
    match poke {
        Poke::Placed => Input::CallPlaced { call },
        Poke::Answered => Input::Answered { call },
        Poke::Voicemail => Input::Voicemail { call },
        Poke::NoAnswer => Input::NoAnswer { call },
        Poke::Busy => Input::Busy { call },
        Poke::AgentJoined => Input::AgentJoined { call },
        Poke::Password(matched) => Input::PasswordChecked {
            call: open_callback.unwrap_or(call),
            matched: *matched,
        },
        Poke::Decide(cancel) => Input::Decision {
            call: open_callback.unwrap_or(call),
            decision: decision(*cancel),
        },
        Poke::Ended => Input::CallEnded { call },
        Poke::Disarm => Input::Disarm {
            detail: "OP".into(),
        },
        Poke::AppCancel => Input::AppCancel,
        Poke::Callback(contact) => Input::Callback { contact: *contact },
        Poke::Timer => Input::Timer,
        Poke::AgentClose => Input::AgentClose {
            resolution: Some("test".into()),
            reason: Some("the agency gave no number".into()),
        },
        Poke::StaleCall(call) => Input::Answered { call: *call },
        Poke::Duress(true) => Input::DuressOpen { alarm: 99 },
        Poke::Duress(false) => Input::DuressClosed { alarm: 99 },
        Poke::Confirm => Input::DispatchConfirmed {
            agency: alarm
                .dispatches()
                .first()
                .map_or(Agency::Police, |d| d.agency),
            reference: "INC-1".into(),
        },
        Poke::StandDown => Input::StandDownConfirmed {
            agency: alarm
                .dispatches()
                .first()
                .map_or(Agency::Police, |d| d.agency),
            told: "Sgt. Ray".into(),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn rejected_inputs_change_nothing_and_open_alarms_always_wait_on_something(
        kind in prop::sample::select(AlarmKind::ALL.to_vec()),
        mode in prop::sample::select(vec![Mode::Professional, Mode::Practice]),
        contacts in 1usize..4,
        pokes in prop::collection::vec(poke(), 0..60),
    ) {
        let mut alarm = Alarm::open(spec(kind, mode, contacts));
        let mut closes = drain(&mut alarm)
            .iter()
            .filter(|a| matches!(a, Action::Close { .. }))
            .count();
        let mut now = 0;
        for poke in &pokes {
            now += 1_000;
            if matches!(poke, Poke::Timer) {
                now = now.max(alarm.poll_timeout().unwrap_or(now));
            }
            let input = input_for(&alarm, poke);
            let before = alarm.clone();
            match alarm.handle(now, input.clone()) {
                Err(_) => prop_assert_eq!(&alarm, &before, "rejected {:?} changed the alarm", input),
                Ok(()) => {
                    closes += drain(&mut alarm)
                        .iter()
                        .filter(|a| matches!(a, Action::Close { .. }))
                        .count();
                    // PROTOCOLS.md, Duress 3: nothing cancels while a duress is open.
                    let premises_cancel = matches!(
                        input,
                        Input::Disarm { .. } | Input::AppCancel | Input::Decision { .. }
                    );
                    if premises_cancel && !before.duress_open().is_empty() && before.is_open() {
                        let canceled = matches!(
                            alarm.closed(),
                            Some((_, Disposition::CanceledByDisarm
                                | Disposition::CanceledByApp
                                | Disposition::CanceledByContact
                                | Disposition::DispatchCanceled
                                | Disposition::DispatchCancelRequested))
                        );
                        prop_assert!(!canceled, "{:?} canceled under duress", input);
                    }
                }
            }
            if alarm.is_open() {
                prop_assert!(
                    alarm.current_call().is_some() || alarm.poll_timeout().is_some(),
                    "open alarm waits on nothing after {:?}", input
                );
            }
            prop_assert!(closes <= 1, "closed twice");
        }
        prop_assert_eq!(closes, usize::from(!alarm.is_open()));
    }
}
