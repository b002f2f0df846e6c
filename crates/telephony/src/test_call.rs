//! One call outside any alarm, for installers (`watchpost call test`) and for the tests with
//! real peers: place it through the configured trunk, leave the message on a machine or say
//! it to a person, and sum up what happened on the line.

use crate::call::{self, Command, Dial};
use crate::{Event, Shared, SipConfig, StartError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use watchpost_core::Input;
use watchpost_core::alarm::Purpose;
use watchpost_media::amd::Verdict;
use watchpost_media::beep::MessageStart;

/// What a test call found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// 180/183 responses seen, in order.
    pub provisional: Vec<(u16, String)>,
    /// RTP came before the answer (a 183's ringback or announcement); it was not classified.
    pub early_media: bool,
    /// The INVITE's final response.
    pub final_response: Option<(u16, String)>,
    /// What the engine would have been told: `answered`, `voicemail`, `busy`, `no_answer`.
    pub outcome: Option<&'static str>,
    pub detected: Option<Verdict>,
    pub message_started: Option<MessageStart>,
    /// The message played to its last frame.
    pub played_to_end: bool,
    pub digits: Vec<char>,
    pub failures: Vec<String>,
    /// From the INVITE to the call's end.
    pub duration: Duration,
}

/// Calls `to` (E.164) and says `text` (twice over on a machine it is the message left after
/// the beep). Returns once the call ended. Errors: the user agent or the voice cannot start.
pub async fn run(config: SipConfig, to: &str, text: &str) -> Result<Summary, StartError> {
    let (shared, mut events) = Shared::start(config, None, None).await?;
    let (commands, rx) = mpsc::unbounded_channel();
    let dial = Dial {
        alarm: None,
        call: 0,
        to: to.to_string(),
        purpose: Purpose::Automated,
        message: Some(text.to_string()),
        offers_agent: false,
        attached: None,
    };
    let started = Instant::now();
    let running = tokio::spawn(call::run(shared.clone(), dial, rx));
    let mut summary = Summary::default();
    while let Some((_, _, event)) = events.recv().await {
        match event {
            Event::Provisional { code, reason } => summary.provisional.push((code, reason)),
            Event::EarlyMedia => summary.early_media = true,
            Event::Final { code, reason } => summary.final_response = Some((code, reason)),
            Event::Detected(verdict) => summary.detected = Some(verdict),
            Event::MessageStarted(start) => summary.message_started = Some(start),
            Event::Played => summary.played_to_end = true,
            Event::Digit(digit) => summary.digits.push(digit),
            Event::Failed(reason) => summary.failures.push(reason),
            Event::Input(input) => {
                let outcome = match input {
                    Input::Answered { .. } => "answered",
                    Input::Voicemail { .. } => {
                        // What the engine does: leave the message.
                        let _ = commands.send(Command::Voicemail(text.to_string()));
                        "voicemail"
                    }
                    Input::Busy { .. } => "busy",
                    Input::NoAnswer { .. } => "no_answer",
                    _ => continue,
                };
                summary.outcome.get_or_insert(outcome);
            }
            Event::Ended => break,
            Event::Invited | Event::RingTimeout => {}
        }
    }
    let _ = running.await;
    summary.duration = started.elapsed();
    Ok(summary)
}
