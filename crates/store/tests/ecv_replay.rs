//! An alarm stopped mid-ECV (a second number and the premises phone in its spec, a guard's
//! confirmation among its inputs) replays from its log, as written to the store and read back
//! after a restart, to the same state.

use watchpost_core::account::{Contact, Responder};
use watchpost_core::alarm::Confirmer;
use watchpost_core::plan::{AgencyRule, Plan, Step};
use watchpost_core::{Action, Alarm, AlarmKind, AlarmSpec, Input, Millis, Mode, Settings};
use watchpost_store::{LogBody, LogEntry, replay};

fn spec() -> AlarmSpec {
    let mut plan = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
    if let Step::Verify {
        min_calls, then, ..
    } = &mut plan.steps[0]
    {
        *min_calls = Some(3);
        then.unreached = vec![Step::Dispatch {
            agency: Some(AgencyRule::Guard),
        }];
    }
    plan.on_confirmation = vec![Step::Dispatch {
        agency: Some(AgencyRule::Police),
    }];
    AlarmSpec {
        account: "4F39".into(),
        address: "12 Elm St".into(),
        contacts: vec![Contact {
            phone2: Some("+15555550111".into()),
            ..Contact::new("Ann Lee", "+15555550101")
        }],
        premises_phone: Some("+15555550100".into()),
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

/// The log as the center writes it: the opening, then each input and the actions it led to.
struct Logged {
    alarm: Alarm,
    entries: Vec<LogEntry>,
}

impl Logged {
    fn open() -> Logged {
        let spec = spec();
        let mut logged = Logged {
            alarm: Alarm::open_by(spec.clone(), "panel"),
            entries: vec![],
        };
        logged.push(
            0,
            "panel",
            LogBody::Opened {
                spec: Box::new(spec),
            },
        );
        logged.actions(0);
        logged
    }

    fn push(&mut self, at: Millis, actor: &str, body: LogBody) {
        let seq = self.entries.len() as u32;
        self.entries.push(LogEntry {
            seq,
            at,
            actor: actor.into(),
            body,
        });
    }

    fn actions(&mut self, at: Millis) -> Vec<Action> {
        let actions: Vec<Action> = std::iter::from_fn(|| self.alarm.poll_action()).collect();
        for action in &actions {
            self.push(
                at,
                "engine",
                LogBody::Action {
                    action: action.clone(),
                },
            );
        }
        actions
    }

    fn input(&mut self, at: Millis, actor: &str, input: Input) -> Vec<Action> {
        self.alarm.handle_by(at, actor, input.clone()).unwrap();
        self.push(at, actor, LogBody::Input { input });
        self.actions(at)
    }

    /// The actions logged so far.
    fn logged_actions(&self) -> Vec<Action> {
        self.entries
            .iter()
            .filter_map(|e| match &e.body {
                LogBody::Action { action } => Some(action.clone()),
                _ => None,
            })
            .collect()
    }

    /// The log as stored (JSON) and read back, replayed.
    fn restarted(&self) -> Alarm {
        let text = serde_json::to_string(&self.entries).unwrap();
        let read: Vec<LogEntry> = serde_json::from_str(&text).unwrap();
        replay(&read).unwrap()
    }
}

fn dialled(actions: &[Action]) -> Option<(u32, String)> {
    actions.iter().find_map(|a| match a {
        Action::PlaceCall { call, phone, .. } => Some((*call, phone.clone())),
        _ => None,
    })
}

#[test]
fn an_alarm_stopped_mid_ecv_replays_to_the_same_state() {
    let mut log = Logged::open();
    let mut phones = vec![];
    let mut now = 0;
    let mut next = dialled(&log.logged_actions());
    // The first number, then the second, rings out; the premises phone is ringing when the
    // center stops.
    for _ in 0..2 {
        let (call, phone) = next.expect("a call is placed");
        phones.push(phone);
        now += 1_000;
        log.input(now, "telephony", Input::CallPlaced { call });
        now += 30_000;
        next = dialled(&log.input(now, "telephony", Input::NoAnswer { call }));
    }
    let (call, phone) = next.expect("the premises phone is dialled");
    phones.push(phone);
    log.input(now + 1_000, "telephony", Input::CallPlaced { call });
    assert_eq!(phones, ["+15555550101", "+15555550111", "+15555550100"]);
    assert_eq!(log.restarted(), log.alarm, "mid-call");

    let confirmed = Input::Confirmed {
        by: Confirmer::Video,
        text: "a person inside".into(),
    };
    log.input(now + 5_000, "agent:ann", confirmed);
    let after = log.restarted();
    assert_eq!(after, log.alarm, "after the confirmation");
    assert!(after.dispatched());
}
