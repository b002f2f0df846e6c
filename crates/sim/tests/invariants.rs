//! PROTOCOLS.md's invariants, checked on generated scenarios played through the real center
//! and store: random alarm kinds and signal formats, modes, contact behaviours, and disarms,
//! app cancels, callbacks and repeated signals at random times. Every alarm is also rebuilt
//! from its stored log by the runner, which checks invariant 8 on each case.

use proptest::prelude::*;
use watchpost_core::alarm::{CallResult, Decision, Purpose};
use watchpost_core::{Action, AlarmKind, Disposition, Input, Mode};
use watchpost_sim::scenario::{RunAlarm, parse, run};
use watchpost_store::LogBody;

#[derive(Debug, Clone)]
struct PersonCase {
    answers: &'static str,
    /// Some(true): says the right password; Some(false): a wrong one; None: doesn't know it.
    password: Option<bool>,
    says: &'static str,
    wants_agent: bool,
}

#[derive(Debug, Clone)]
enum Extra {
    Disarm,
    AppCancel,
    Callback(usize),
    Repeat,
}

#[derive(Debug, Clone)]
struct Case {
    trigger: &'static str,
    enrolled: &'static str,
    monitoring: &'static str,
    guard: bool,
    people: Vec<PersonCase>,
    extras: Vec<(u32, Extra)>,
}

const TRIGGERS: [&str; 19] = [
    "sia = \"BA003\"",
    "sia = \"FA001\"",
    "sia = \"GA004\"",
    "sia = \"PA001\"",
    "sia = \"HA001\"",
    "sia = \"MA001\"",
    "sia = \"WA009\"",
    "sia = \"ZA009\"",
    "cid = \"1130 01 003\"",
    "cid = \"1110 01 002\"",
    "cid = \"1162 01 004\"",
    "cid = \"1120 01 001\"",
    "cid = \"1121 01 001\"",
    "cid = \"1100 01 001\"",
    "cid = \"1154 01 009\"",
    "cid = \"1159 01 009\"",
    "app = \"sos\"\nagency = \"police\"",
    "app = \"sos\"\nagency = \"fire\"",
    "app = \"sos\"\nagency = \"medical\"",
];

fn person() -> impl Strategy<Value = PersonCase> {
    (
        prop::sample::select(vec!["human", "human", "voicemail", "no_answer", "busy"]),
        prop::option::of(any::<bool>()),
        prop::sample::select(vec!["cancel", "dispatch"]),
        any::<bool>(),
    )
        .prop_map(|(answers, password, says, wants_agent)| PersonCase {
            answers,
            password,
            says,
            wants_agent,
        })
}

fn case() -> impl Strategy<Value = Case> {
    let mode = prop::sample::select(vec![
        ("2026-02-01T00:00:00Z", "professional"),
        ("2026-02-01T00:00:00Z", "professional"),
        ("2026-03-08T00:00:00Z", "professional"),
        ("2026-02-01T00:00:00Z", "self"),
    ]);
    let extra = prop_oneof![
        Just(Extra::Disarm),
        Just(Extra::AppCancel),
        (0usize..3).prop_map(Extra::Callback),
        Just(Extra::Repeat),
    ];
    (
        prop::sample::select(TRIGGERS.to_vec()),
        mode,
        any::<bool>(),
        prop::collection::vec(person(), 1..=3),
        prop::collection::vec((0u32..240, extra), 0..=3),
    )
        .prop_map(
            |(trigger, (enrolled, monitoring), guard, people, extras)| Case {
                trigger,
                enrolled,
                monitoring,
                guard,
                people,
                extras,
            },
        )
}

fn render(case: &Case) -> String {
    let mut t = format!(
        "name = \"generated\"\nstart = \"2026-03-10T02:14:00Z\"\n[account]\nnumber = \"4F39\"\n\
         premises = \"residential\"\naddress = \"12 Elm St, Springfield\"\ncountry = \"US\"\n\
         region = \"IL\"\nmonitoring = \"{}\"\nenrolled = \"{}\"\nverbal_password = \"blue falcon\"\n\
         responder = \"{}\"\n",
        case.monitoring,
        case.enrolled,
        if case.guard { "guard" } else { "police" }
    );
    for i in 0..case.people.len() {
        t += &format!("[[account.contacts]]\nname = \"P{i}\"\nphone = \"+1555555010{i}\"\n");
    }
    t += &format!("[[signals]]\nat = 0\n{}\n", case.trigger);
    for (at, extra) in &case.extras {
        let line = match extra {
            Extra::Disarm => "sia = \"OP001\"".to_string(),
            Extra::AppCancel => "app = \"cancel\"".to_string(),
            Extra::Callback(i) => format!("callback = \"P{}\"", i % case.people.len()),
            Extra::Repeat => case.trigger.to_string(),
        };
        t += &format!("[[signals]]\nat = {at}\n{line}\n");
    }
    for (i, p) in case.people.iter().enumerate() {
        t += &format!(
            "[people.\"P{i}\"]\nanswers = \"{}\"\nsays = \"{}\"\nwants_agent = {}\n",
            p.answers, p.says, p.wants_agent
        );
        match p.password {
            Some(true) => t += "password = \"Blue  Falcon\"\n",
            Some(false) => t += "password = \"red falcon\"\n",
            None => {}
        }
    }
    t
}

/// Log positions of the inputs and actions of one alarm, for "came before" questions.
struct Log<'a> {
    run: &'a RunAlarm,
}

impl Log<'_> {
    fn actions(&self) -> impl Iterator<Item = (usize, &Action)> {
        self.run
            .log
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.body {
                LogBody::Action { action } => Some((i, action)),
                _ => None,
            })
    }

    fn inputs(&self) -> impl Iterator<Item = (usize, &Input)> {
        self.run
            .log
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.body {
                LogBody::Input { input } => Some((i, input)),
                _ => None,
            })
    }

    fn first_dispatch(&self) -> Option<usize> {
        self.actions()
            .find(|(_, a)| matches!(a, Action::RequestDispatch { .. }))
            .map(|(i, _)| i)
    }

    fn first_call(&self) -> Option<usize> {
        self.actions()
            .find(|(_, a)| matches!(a, Action::PlaceCall { .. }))
            .map(|(i, _)| i)
    }
}

fn check(run: &RunAlarm) -> Result<(), String> {
    let alarm = &run.alarm;
    let spec = alarm.spec();
    let log = Log { run };
    let calls = alarm.calls();
    let outbound: Vec<_> = calls
        .iter()
        .filter(|c| c.purpose != Purpose::Callback)
        .collect();
    let dispatches = alarm.dispatches();

    // 7. Exactly one disposition; none waits forever (the run ended, so every alarm closed).
    let (_, disposition) = alarm.closed().ok_or("the alarm never closed")?;
    let closes = log
        .actions()
        .filter(|(_, a)| matches!(a, Action::Close { .. }))
        .count();
    prop_assert_eq_str(closes, 1, "close actions")?;

    if spec.mode == Mode::SelfMonitored {
        ensure(
            disposition == Disposition::NotMonitored,
            "self mode is not monitored",
        )?;
        ensure(calls.is_empty() && dispatches.is_empty(), "self mode acts")?;
        return Ok(());
    }

    // 3. Practice: a dispatch only after an agent's decision on an agent-handled call.
    if spec.mode == Mode::Practice
        && let Some(pos) = log.first_dispatch()
    {
        let agent_decided = log.inputs().any(|(i, input)| {
            i < pos
                && matches!(input, Input::Decision { call, .. }
                    if calls[*call as usize].agent_joined
                        || calls[*call as usize].purpose == Purpose::Callback)
        });
        ensure(
            agent_decided,
            "practice alarm dispatched without an agent's decision",
        )?;
    }

    match (spec.kind, spec.mode) {
        // 1. Duress: never a call, dispatched at once.
        (AlarmKind::Duress, mode) => {
            ensure(calls.is_empty(), "a duress alarm placed or took a call")?;
            if mode == Mode::Professional {
                ensure(
                    dispatches.len() == 1 && dispatches[0].requested_at == spec.opened_at,
                    "duress not dispatched at once",
                )?;
                ensure(
                    dispatches[0].canceled_at.is_none(),
                    "duress dispatch canceled",
                )?;
                ensure(
                    disposition == Disposition::Dispatched,
                    "duress not dispatched",
                )?;
            } else {
                ensure(
                    disposition == Disposition::PracticeLogged,
                    "practice duress",
                )?;
            }
        }
        // 2. CO: dispatched before the first call, never canceled.
        (AlarmKind::CarbonMonoxide, Mode::Professional) => {
            let d = log.first_dispatch().ok_or("CO never dispatched")?;
            ensure(
                log.first_call().is_none_or(|c| d < c),
                "CO called before dispatch",
            )?;
            ensure(
                dispatches.iter().all(|d| d.canceled_at.is_none()),
                "CO dispatch canceled",
            )?;
            ensure(disposition == Disposition::Dispatched, "CO not dispatched")?;
            ensure(
                outbound.len() == spec.contacts.len(),
                "CO did not call every contact",
            )?;
        }
        // 4. Burglary.
        (AlarmKind::Burglary, Mode::Professional) => {
            if let Some(pos) = log.first_dispatch() {
                let before = |i: usize| i < pos;
                let canceled_first = log.inputs().any(|(i, input)| {
                    before(i)
                        && match input {
                            Input::Disarm { .. } | Input::AppCancel => true,
                            Input::Decision { call, decision } => {
                                *decision == Decision::Cancel
                                    && calls[*call as usize].verified == Some(true)
                            }
                            _ => false,
                        }
                });
                ensure(
                    !canceled_first,
                    "burglary dispatched after a cancel or disarm",
                )?;
                let someone_decided = log.inputs().any(|(i, input)| {
                    before(i)
                        && matches!(input, Input::Decision { .. } | Input::CallEnded { .. })
                        && calls.iter().any(|c| c.result == Some(CallResult::Answered))
                });
                if !someone_decided {
                    let tried: std::collections::BTreeSet<usize> =
                        outbound.iter().map(|c| c.contact).collect();
                    ensure(
                        tried.len() == spec.contacts.len(),
                        "burglary dispatched unconfirmed before every contact was tried",
                    )?;
                }
            }
        }
        // 5. Panic: canceled only by the first call.
        (AlarmKind::Panic, Mode::Professional) => {
            ensure(
                matches!(
                    disposition,
                    Disposition::CanceledByContact | Disposition::Dispatched
                ),
                "panic ended other than by its first call",
            )?;
            if disposition == Disposition::CanceledByContact {
                let first = outbound.first().ok_or("panic canceled without a call")?;
                ensure(
                    first.decision == Some(Decision::Cancel) && first.verified == Some(true),
                    "panic canceled other than by a verified first call",
                )?;
                ensure(dispatches.is_empty(), "canceled panic was dispatched")?;
            }
        }
        _ => {}
    }

    // 6. Water and freeze: never dispatch, never an agent.
    if matches!(spec.kind, AlarmKind::Water | AlarmKind::Freeze) {
        ensure(dispatches.is_empty(), "water/freeze dispatched")?;
        ensure(
            outbound
                .iter()
                .all(|c| c.purpose == Purpose::Automated && !c.agent_joined),
            "water/freeze involved an agent",
        )?;
        ensure(
            matches!(disposition, Disposition::Notified | Disposition::Unreached),
            "water/freeze disposition",
        )?;
    }
    Ok(())
}

fn ensure(ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what.to_string()) }
}

fn prop_assert_eq_str(got: usize, want: usize, what: &str) -> Result<(), String> {
    ensure(got == want, &format!("{what}: {got} instead of {want}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_generated_alarm_holds_the_invariants(case in case()) {
        let text = render(&case);
        let scenario = parse(&text).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = runtime
            .block_on(run(&scenario, &Default::default()))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert!(!outcome.alarms.is_empty(), "no alarm opened\n{}", text);
        for alarm in &outcome.alarms {
            if let Err(broken) = check(alarm) {
                let report = serde_json::to_string_pretty(&watchpost_sim::scenario::alarm_report(
                    scenario.start,
                    &alarm.alarm,
                ))
                .unwrap();
                return Err(TestCaseError::fail(format!("{broken}\n{text}\n{report}")));
            }
        }
    }
}
