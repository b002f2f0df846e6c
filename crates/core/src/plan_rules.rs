//! The guard rails no plan can break (issue 14, item 3; docs/plans.md, "Guard rails"): checked
//! whenever a plan is loaded, built-in plans included. Each refusal names the step (its path,
//! `steps[0].unreached[1]`) and the rule.

use crate::kind::{AlarmKind, Mode};
use crate::plan::{Branches, Contacts, MAX_MIN_CALLS, MAX_WAIT_S, PLACEHOLDERS, Plan, Step};
use std::fmt;

/// The longest follow-up a plan may ask for: a day.
pub const MAX_FOLLOW_UP_S: u32 = 24 * 3600;
/// The longest message template, in characters.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// A broken rule: where in the plan (`steps[0].dispatch[1]`, `cancel_after_dispatch`,
/// `messages.voicemail`, or `plan` for the whole) and what the rule is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub at: String,
    pub rule: String,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.rule)
    }
}

/// A step with its path and what holds it: whether an agent's decision led to it.
struct Visit<'a> {
    at: String,
    step: &'a Step,
    decided: bool,
}

/// Every step of the plan, depth first, with its path.
fn visit(plan: &Plan) -> Vec<Visit<'_>> {
    fn walk<'a>(steps: &'a [Step], at: &str, decided: bool, out: &mut Vec<Visit<'a>>) {
        for (i, step) in steps.iter().enumerate() {
            let here = format!("{at}[{i}]");
            out.push(Visit {
                at: here.clone(),
                step,
                decided,
            });
            let branches = |b: &'a Branches, at: String, out: &mut Vec<Visit<'a>>| {
                walk(&b.cancel, &format!("{at}.cancel"), true, out);
                walk(&b.dispatch, &format!("{at}.dispatch"), true, out);
                walk(&b.unreached, &format!("{at}.unreached"), decided, out);
            };
            match step {
                Step::Verify { then, .. } => branches(then, here, out),
                Step::Automated {
                    agent: Some(then), ..
                } => branches(then, format!("{here}.agent"), out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&plan.steps, "steps", false, &mut out);
    // A confirmation is recorded by an agent (the guard's report, a video or audio check):
    // what it runs is an agent's decision.
    walk(&plan.on_confirmation, "on_confirmation", true, &mut out);
    out
}

fn calls(step: &Step) -> bool {
    matches!(
        step,
        Step::Verify { .. } | Step::Notify { .. } | Step::Automated { .. }
    )
}

/// Checks `plan` as the plan of `kind` alarms in `mode`; the first rule it breaks.
pub fn check(kind: AlarmKind, mode: Mode, plan: &Plan) -> Result<(), Broken> {
    let broken = |at: &str, rule: &str| {
        Err(Broken {
            at: at.to_string(),
            rule: rule.to_string(),
        })
    };
    let steps = visit(plan);
    for v in &steps {
        match v.step {
            Step::Verify {
                min_calls: Some(n), ..
            } if !(1..=MAX_MIN_CALLS).contains(n) => {
                return broken(
                    &format!("{}.min_calls", v.at),
                    &format!("must be 1 to {MAX_MIN_CALLS} (every plan ends), not {n}"),
                );
            }
            Step::Verify { contacts, .. }
            | Step::Notify { contacts }
            | Step::Automated { contacts, .. } => check_contacts(&v.at, *contacts)?,
            Step::Wait { seconds } if !(1..=MAX_WAIT_S).contains(seconds) => {
                return broken(
                    &v.at,
                    &format!(
                        "a wait must be 1 to {MAX_WAIT_S} seconds (every plan ends), not {seconds}"
                    ),
                );
            }
            _ => {}
        }
        if kind == AlarmKind::Duress && calls(v.step) {
            return broken(
                &v.at,
                "a duress alarm never calls or notifies anyone: the person under duress may be \
                 overheard (PROTOCOLS.md, Duress)",
            );
        }
        let dispatch = matches!(v.step, Step::Dispatch { .. });
        if dispatch && matches!(kind, AlarmKind::Water | AlarmKind::Freeze) {
            return broken(
                &v.at,
                "water and freeze alarms never request emergency services",
            );
        }
        if dispatch && mode == Mode::Practice && !v.decided {
            return broken(
                &v.at,
                "in the practice period help is requested only by an agent's decision: a \
                 dispatch may stand only in the `dispatch` or `cancel` branch of a verify step \
                 or of an automated step's `agent`",
            );
        }
    }
    if kind == AlarmKind::Duress && !plan.on_confirmation.is_empty() {
        return broken(
            "on_confirmation",
            "a duress alarm takes no confirmation steps: help is requested at once and nothing \
             about it may reach the premises (leave it empty)",
        );
    }
    if kind == AlarmKind::Duress && !plan.silent {
        return broken(
            "silent",
            "a duress alarm is silent (silent = true): nobody at the premises is called",
        );
    }
    if kind == AlarmKind::CarbonMonoxide && !plan.cancel_after_dispatch.is_empty() {
        return broken(
            "cancel_after_dispatch",
            "a carbon-monoxide dispatch is never canceled: the gas cannot be seen, so nothing \
             from the premises may stop the responders (leave it empty)",
        );
    }
    let trouble = matches!(kind, AlarmKind::CommFailure | AlarmKind::RunawayAccount);
    if plan.hold_until_restored && !trouble {
        return broken(
            "hold_until_restored",
            "only comm_failure and runaway_account wait for their condition to clear; an \
             alarm's plan must end on its own (every plan ends)",
        );
    }
    if let Some(s) = plan.follow_up_s.filter(|s| *s > MAX_FOLLOW_UP_S) {
        return broken(
            "follow_up_s",
            &format!("the follow-up may last at most {MAX_FOLLOW_UP_S} s (a day), not {s}"),
        );
    }
    for (at, text) in [
        ("messages.voicemail", &plan.messages.voicemail),
        ("messages.automated", &plan.messages.automated),
    ] {
        if let Some(text) = text {
            check_message(at, text)?;
        }
    }
    // What runs only on a confirmation is no response of its own: most alarms get none.
    let unconfirmed = || steps.iter().filter(|v| v.at.starts_with("steps"));
    let dispatches = unconfirmed().any(|v| matches!(v.step, Step::Dispatch { .. }));
    let reaches = !plan.silent && unconfirmed().any(|v| calls(v.step));
    if !dispatches && !reaches && !trouble && !plan.no_response_intended {
        return broken(
            "plan",
            &format!(
                "a {kind} alarm under this plan would never request help and never reach \
                 anyone; if that is meant, say so with no_response_intended = true"
            ),
        );
    }
    Ok(())
}

fn check_contacts(at: &str, contacts: Contacts) -> Result<(), Broken> {
    let rule = if contacts.from == 0 {
        "contacts.from counts from 1 (the first contact)".to_string()
    } else if let Some(to) = contacts.to.filter(|to| *to < contacts.from) {
        format!(
            "contacts.to ({to}) is before contacts.from ({})",
            contacts.from
        )
    } else {
        return Ok(());
    };
    Err(Broken {
        at: format!("{at}.contacts"),
        rule,
    })
}

/// A template: not empty, not too long, and only the known `{placeholders}`.
fn check_message(at: &str, text: &str) -> Result<(), Broken> {
    let broken = |rule: String| {
        Err(Broken {
            at: at.to_string(),
            rule,
        })
    };
    if text.trim().is_empty() {
        return broken("is empty".into());
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return broken(format!("is longer than {MAX_MESSAGE_CHARS} characters"));
    }
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            return broken("has a '{' that is never closed".into());
        };
        let name = &rest[open + 1..open + close];
        if !PLACEHOLDERS.contains(&name) {
            return broken(format!(
                "{{{name}}} is not a placeholder: use {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ));
        }
        rest = &rest[open + close + 1..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::AfterDispatch;

    fn all_kinds() -> impl Iterator<Item = AlarmKind> {
        AlarmKind::ALL
            .into_iter()
            .chain([AlarmKind::CommFailure, AlarmKind::RunawayAccount])
    }

    #[test]
    fn every_built_in_plan_keeps_the_rules() {
        for kind in all_kinds() {
            for mode in [Mode::Professional, Mode::Practice] {
                let plan = Plan::builtin(kind, mode).unwrap();
                assert_eq!(check(kind, mode, &plan), Ok(()), "{kind} {mode:?}");
            }
        }
    }

    fn refused(kind: AlarmKind, mode: Mode, plan: &Plan) -> Broken {
        check(kind, mode, plan).expect_err("refused")
    }

    #[test]
    fn a_duress_plan_that_calls_is_refused() {
        let mut plan = Plan::builtin(AlarmKind::Duress, Mode::Professional).unwrap();
        plan.steps.push(Step::Notify {
            contacts: Contacts::ALL,
        });
        let e = refused(AlarmKind::Duress, Mode::Professional, &plan);
        assert_eq!(e.at, "steps[1]");
        assert!(e.rule.contains("never calls or notifies"), "{e}");
        let mut loud = Plan::builtin(AlarmKind::Duress, Mode::Professional).unwrap();
        loud.silent = false;
        assert_eq!(
            refused(AlarmKind::Duress, Mode::Professional, &loud).at,
            "silent"
        );
    }

    #[test]
    fn confirmation_steps_keep_the_rules() {
        let police = Step::Dispatch {
            agency: Some(crate::plan::AgencyRule::Police),
        };
        let mut duress = Plan::builtin(AlarmKind::Duress, Mode::Professional).unwrap();
        duress.on_confirmation = vec![police.clone()];
        let e = refused(AlarmKind::Duress, Mode::Professional, &duress);
        assert_eq!(e.at, "on_confirmation");
        let mut water = Plan::builtin(AlarmKind::Water, Mode::Professional).unwrap();
        water.on_confirmation = vec![police.clone()];
        let e = refused(AlarmKind::Water, Mode::Professional, &water);
        assert_eq!(e.at, "on_confirmation[0]");
        assert!(e.rule.contains("never request emergency services"), "{e}");
        let mut practice = Plan::builtin(AlarmKind::Burglary, Mode::Practice).unwrap();
        practice.on_confirmation = vec![police.clone()];
        assert_eq!(
            check(AlarmKind::Burglary, Mode::Practice, &practice),
            Ok(()),
            "an agent records a confirmation: its dispatch is an agent's decision"
        );
        let mut waits = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
        waits.on_confirmation = vec![Step::Wait { seconds: 0 }, police.clone()];
        assert_eq!(
            refused(AlarmKind::Burglary, Mode::Professional, &waits).at,
            "on_confirmation[0]"
        );
        let mut only_confirmed = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
        only_confirmed.steps.clear();
        only_confirmed.on_confirmation = vec![police];
        assert_eq!(
            refused(AlarmKind::Burglary, Mode::Professional, &only_confirmed).at,
            "plan",
            "a dispatch only on confirmation is no response of its own"
        );
    }

    #[test]
    fn a_co_dispatch_that_can_be_canceled_is_refused() {
        let mut plan = Plan::builtin(AlarmKind::CarbonMonoxide, Mode::Professional).unwrap();
        plan.cancel_after_dispatch = vec![crate::plan::CancelSource::Disarm];
        plan.after_dispatch = AfterDispatch::Cancel;
        let e = refused(AlarmKind::CarbonMonoxide, Mode::Professional, &plan);
        assert_eq!(e.at, "cancel_after_dispatch");
    }

    #[test]
    fn practice_dispatches_only_on_an_agents_decision() {
        // The professional burglary plan dispatches when nobody is reached.
        let plan = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
        let e = refused(AlarmKind::Burglary, Mode::Practice, &plan);
        assert_eq!(e.at, "steps[0].unreached[0]");
        let mut plan = Plan::builtin(AlarmKind::Fire, Mode::Practice).unwrap();
        plan.steps.insert(0, Step::DISPATCH);
        assert_eq!(
            refused(AlarmKind::Fire, Mode::Practice, &plan).at,
            "steps[0]"
        );
    }

    #[test]
    fn water_never_dispatches_and_every_plan_ends() {
        let mut plan = Plan::builtin(AlarmKind::Water, Mode::Professional).unwrap();
        plan.steps.push(Step::DISPATCH);
        assert_eq!(
            refused(AlarmKind::Freeze, Mode::Professional, &plan).at,
            "steps[1]"
        );
        let mut plan = Plan::builtin(AlarmKind::Fire, Mode::Professional).unwrap();
        plan.steps.insert(0, Step::Wait { seconds: 3600 });
        assert!(
            refused(AlarmKind::Fire, Mode::Professional, &plan)
                .rule
                .contains("every plan ends")
        );
        let mut plan = Plan::builtin(AlarmKind::Fire, Mode::Professional).unwrap();
        plan.hold_until_restored = true;
        assert_eq!(
            refused(AlarmKind::Fire, Mode::Professional, &plan).at,
            "hold_until_restored"
        );
    }

    #[test]
    fn a_plan_that_does_nothing_must_say_it_means_to() {
        let mut plan = Plan::builtin(AlarmKind::Panic, Mode::Professional).unwrap();
        plan.steps.clear();
        let e = refused(AlarmKind::Panic, Mode::Professional, &plan);
        assert_eq!(e.at, "plan");
        plan.no_response_intended = true;
        assert_eq!(check(AlarmKind::Panic, Mode::Professional, &plan), Ok(()));
    }

    #[test]
    fn messages_use_only_known_placeholders() {
        let mut plan = Plan::builtin(AlarmKind::Water, Mode::Professional).unwrap();
        plan.messages.automated = Some("Water at {premises}; call {center_phone}.".into());
        assert_eq!(check(AlarmKind::Water, Mode::Professional, &plan), Ok(()));
        plan.messages.voicemail = Some("Hello {name}".into());
        let e = refused(AlarmKind::Water, Mode::Professional, &plan);
        assert_eq!(e.at, "messages.voicemail");
        assert!(e.rule.contains("{name} is not a placeholder"), "{e}");
        plan.messages.voicemail = Some("Call {center_phone".into());
        assert!(
            refused(AlarmKind::Water, Mode::Professional, &plan)
                .rule
                .contains("never closed")
        );
    }

    #[test]
    fn a_verify_step_insists_on_at_most_ten_calls() {
        let mut plan = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
        if let Step::Verify { min_calls, .. } = &mut plan.steps[0] {
            *min_calls = Some(11);
        }
        let e = refused(AlarmKind::Burglary, Mode::Professional, &plan);
        assert_eq!(e.at, "steps[0].min_calls");
    }

    #[test]
    fn contacts_count_from_one_and_in_order() {
        let mut plan = Plan::builtin(AlarmKind::Burglary, Mode::Professional).unwrap();
        plan.steps[0] = Step::Notify {
            contacts: Contacts {
                from: 3,
                to: Some(2),
            },
        };
        plan.steps.push(Step::DISPATCH);
        let e = refused(AlarmKind::Burglary, Mode::Professional, &plan);
        assert_eq!(e.at, "steps[0].contacts");
    }
}
