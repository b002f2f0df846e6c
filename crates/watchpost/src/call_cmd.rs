//! `watchpost call test`: one call through the configured SIP trunk, for an installer to see
//! the trunk, the answering-machine detector and the voicemail drop work before a real alarm
//! needs them. README, "Telephony".

use crate::config::telephony::Choice;
use crate::config::values::PhoneNumber;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use watchpost_media::amd::Answer;
use watchpost_media::beep::StartReason;
use watchpost_telephony::test_call::{self, Summary};

#[derive(Subcommand)]
pub enum CallCommand {
    /// Place one call through the trunk of `--config` and report what happened: the SIP
    /// outcome, the detector's verdict and timings, whether the message played to the end.
    /// Exits 0 when the call was answered and the message played to its end.
    Test(TestArgs),
}

#[derive(Args)]
pub struct TestArgs {
    /// The center configuration file; its [telephony] table must have adapter = "sip".
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The number to call, in E.164.
    #[arg(long)]
    to: PhoneNumber,
    /// What to say (default: a test message naming the center).
    #[arg(long)]
    say: Option<String>,
    /// One JSON object instead of lines.
    #[arg(long)]
    json: bool,
}

pub async fn run(command: CallCommand) -> anyhow::Result<ExitCode> {
    let CallCommand::Test(args) = command;
    let file = crate::config::load(&args.config).map_err(anyhow::Error::msg)?;
    let name = file.center.name.clone().map(|n| n.0);
    let caller_id = file
        .center
        .callback_number
        .clone()
        .ok_or_else(|| anyhow::anyhow!("center.callback_number: required, it is the caller ID"))?
        .0;
    let config = match file
        .telephony
        .choose(&caller_id, false, |v| std::env::var(v).ok())
        .map_err(anyhow::Error::msg)?
    {
        Choice::Sip(config) => *config,
        _ => anyhow::bail!("telephony.adapter: `call test` needs adapter = \"sip\""),
    };
    let text = args.say.unwrap_or_else(|| {
        format!(
            "This is a test call from {}. No action is needed. Our number is {caller_id}.",
            name.as_deref().unwrap_or("the monitoring center")
        )
    });
    let summary = test_call::run(config, &args.to.0, &text).await?;
    if args.json {
        crate::out!("{}", json(&summary));
    } else {
        for line in lines(&summary) {
            crate::out!("{line}");
        }
    }
    Ok(if summary.played_to_end {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn lines(s: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    for (code, reason) in &s.provisional {
        lines.push(format!("sip: {code} {reason}"));
    }
    if s.early_media {
        lines.push("sip: early media before the answer (heard, not classified)".into());
    }
    match &s.final_response {
        Some((code, reason)) => lines.push(format!(
            "sip: {code} {reason} ({})",
            s.outcome.unwrap_or("failed")
        )),
        None => lines.push("sip: no final response".into()),
    }
    if let Some(v) = &s.detected {
        lines.push(format!(
            "detector: {} ({}) after {} ms; greeting {} ms, {} words",
            answer(v.answer),
            v.cause,
            v.at_ms,
            v.greeting_ms,
            v.words
        ));
    }
    if let Some(start) = &s.message_started {
        lines.push(match &start.reason {
            StartReason::Beep(b) => format!(
                "beep: {} Hz from {} ms to {} ms; message at {} ms",
                b.hz, b.start_ms, b.end_ms, start.at_ms
            ),
            StartReason::Silence => {
                format!("beep: none; message after silence at {} ms", start.at_ms)
            }
            StartReason::GaveUp => format!("beep: none; gave up waiting at {} ms", start.at_ms),
        });
    }
    for digit in &s.digits {
        lines.push(format!("digit: {digit}"));
    }
    lines.push(format!(
        "message: {}",
        if s.played_to_end {
            "played to the end"
        } else {
            "not played to the end"
        }
    ));
    for failure in &s.failures {
        lines.push(format!("failed: {failure}"));
    }
    lines
}

fn answer(a: Answer) -> &'static str {
    match a {
        Answer::Person => "person",
        Answer::Machine => "machine",
        Answer::NotSure => "not sure",
    }
}

fn json(s: &Summary) -> serde_json::Value {
    let beep = s.message_started.as_ref().map(|start| {
        let (reason, beep) = match &start.reason {
            StartReason::Beep(b) => (
                "beep",
                serde_json::json!({"hz": b.hz, "start_ms": b.start_ms, "end_ms": b.end_ms}),
            ),
            StartReason::Silence => ("silence", serde_json::Value::Null),
            StartReason::GaveUp => ("gave_up", serde_json::Value::Null),
        };
        serde_json::json!({"reason": reason, "at_ms": start.at_ms, "beep": beep})
    });
    serde_json::json!({
        "provisional": s.provisional.iter().map(|(c, r)| serde_json::json!({"code": c, "reason": r})).collect::<Vec<_>>(),
        "early_media": s.early_media,
        "final": s.final_response.as_ref().map(|(c, r)| serde_json::json!({"code": c, "reason": r})),
        "outcome": s.outcome,
        "detector": s.detected.as_ref().map(|v| serde_json::json!({
            "answer": answer(v.answer), "cause": v.cause, "at_ms": v.at_ms,
            "greeting_ms": v.greeting_ms, "words": v.words,
        })),
        "message_start": beep,
        "played_to_end": s.played_to_end,
        "digits": s.digits.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        "failures": s.failures,
        "duration_ms": s.duration.as_millis() as u64,
    })
}
