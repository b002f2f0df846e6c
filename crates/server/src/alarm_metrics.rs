//! Alarm-level timings and counts for the metrics, derived by the runtime from the inputs it
//! applies and the actions it hands out after each commit (the engine itself keeps no clock
//! and counts nothing): queue wait until taken, signal to first call and to dispatch request,
//! calls by outcome, dispatch requests. Nothing is counted for a round that was not stored.

use crate::metrics::{CallOutcome, Metrics};
use std::collections::HashSet;
use std::sync::Arc;
use watchpost_center::{Center, Effect};
use watchpost_core::{Action, Input, Millis};
use watchpost_store::AlarmId;

/// What an input applied in this round will count once the round is stored.
#[derive(Debug, Clone, Copy)]
pub enum Noted {
    /// An agent took an alarm nobody handled, this many seconds after it opened.
    Taken(f64),
    Call(CallOutcome),
}

pub struct AlarmTimings {
    metrics: Arc<Metrics>,
    /// Open alarms whose first call (dispatch request) was counted; a node that takes an
    /// alarm over counts its next one again.
    called: HashSet<AlarmId>,
    dispatched: HashSet<AlarmId>,
    noted: Vec<Noted>,
}

fn seconds_since(opened_at: Millis, now: Millis) -> f64 {
    (now - opened_at).max(0) as f64 / 1000.0
}

impl AlarmTimings {
    pub fn new(metrics: Arc<Metrics>) -> AlarmTimings {
        AlarmTimings {
            metrics,
            called: HashSet::new(),
            dispatched: HashSet::new(),
            noted: Vec::new(),
        }
    }

    /// What `input` to `alarm` will count, judged before it is applied (a take counts only
    /// when nobody handled the alarm).
    pub fn judge(center: &Center, alarm: AlarmId, input: &Input, now: Millis) -> Option<Noted> {
        match input {
            Input::Take { .. } | Input::TakeOver { .. } => {
                let open = center.alarm(alarm)?;
                open.handler()
                    .is_none()
                    .then(|| Noted::Taken(seconds_since(open.spec().opened_at, now)))
            }
            Input::Answered { .. } => Some(Noted::Call(CallOutcome::Answered)),
            Input::Voicemail { .. } => Some(Noted::Call(CallOutcome::Voicemail)),
            Input::NoAnswer { .. } => Some(Noted::Call(CallOutcome::NoAnswer)),
            Input::Busy { .. } => Some(Noted::Call(CallOutcome::Busy)),
            _ => None,
        }
    }

    /// `judge`'s verdict on an input that was applied.
    pub fn note(&mut self, noted: Option<Noted>) {
        self.noted.extend(noted);
    }

    /// The round was not stored: what it noted never happened.
    pub fn forget(&mut self) {
        self.noted.clear();
    }

    /// The round was stored with these actions: counts them and what it noted.
    pub fn committed(&mut self, center: &Center, done: &[Effect], now: Millis) {
        for noted in self.noted.drain(..) {
            match noted {
                Noted::Taken(seconds) => self.metrics.queue_wait.observe(seconds),
                Noted::Call(outcome) => self.metrics.call(outcome),
            }
        }
        for effect in done {
            let opened_at = center.alarm(effect.alarm).map(|a| a.spec().opened_at);
            match &effect.action {
                Action::PlaceCall { .. } if self.called.insert(effect.alarm) => {
                    if let Some(at) = opened_at {
                        self.metrics.first_call.observe(seconds_since(at, now));
                    }
                }
                Action::RequestDispatch { .. } => {
                    self.metrics.dispatches.inc();
                    if self.dispatched.insert(effect.alarm)
                        && let Some(at) = opened_at
                    {
                        self.metrics
                            .dispatch_request
                            .observe(seconds_since(at, now));
                    }
                }
                Action::Close { .. } => {
                    self.called.remove(&effect.alarm);
                    self.dispatched.remove(&effect.alarm);
                }
                _ => {}
            }
        }
    }
}
