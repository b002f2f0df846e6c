//! sipp as a called party (our scenarios in tests/peers/) or as a contact calling the center
//! back (TELEPHONY.md §5.4).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::fixtures::{is_ulaw, to_ulaw};
use super::peer::Peer;
use super::peers_dir;

/// What a sipp called party does with the INVITE.
pub enum Uas {
    /// 486 Busy Here (uas_busy.xml).
    Busy,
    /// 603 Decline (uas_decline.xml).
    Decline,
    /// 180, then 480 Temporarily Unavailable after 1 s (uas_unavailable.xml).
    Unavailable,
    /// 180, then waits up to 5 minutes for CANCEL: 200 to it, 487 to the INVITE
    /// (uas_noanswer.xml).
    NoAnswer,
    /// 180, 2 s later 200 with PCMU; plays `audio` (any WAV; converted to µ-law) after the ACK
    /// and waits for BYE (uas_answer.xml).
    Answer { audio: PathBuf },
    /// 183 with SDP and `early` played as early media for 4 s, then 200 with PCMU; plays
    /// `audio` after the ACK and waits for BYE (uas_early_media.xml).
    EarlyMedia { early: PathBuf, audio: PathBuf },
    /// 180, 200 at once; 3 s after the ACK sends the RFC 4733 digit 1 from
    /// /usr/share/sip-tester/dtmf_2833_1.pcap, then waits for BYE (uas_press_one.xml).
    PressOne,
    /// As `PressOne`, saying `audio` after the ACK first (a person's "Hello?"), so an
    /// answering-machine detector hears a person (uas_hello_press_one.xml).
    HelloPressOne { audio: PathBuf },
    /// Digest first: 401 with WWW-Authenticate (not 407: sipp 3.6.1's verifyauth only reads
    /// Authorization), then as `Answer` if the re-sent INVITE's credentials match `user` and
    /// `password`, else 403 and exit status 1 (uas_digest_answer.xml). For a 407 trunk put
    /// [`super::kamailio`] in front of an `Answer`.
    DigestAnswer {
        user: String,
        password: String,
        audio: PathBuf,
    },
}

/// sipp as the called party at 127.0.0.1:`port` for one call (`-m 1`): it exits after that
/// call, with status 0 if the call followed the scenario. Traces every message
/// (`-trace_msg`, part of [`Peer::log`]). Its media ports derive from `port`, so several
/// sipp peers can run in one namespace. Panics when sipp is missing.
pub fn sipp_uas(kind: Uas, port: u16) -> Peer {
    let dir = tempfile::Builder::new()
        .prefix("rig-sipp-")
        .tempdir()
        .expect("rig: temp dir");
    let mut extra: Vec<String> = Vec::new();
    let scenario = match kind {
        Uas::Busy => "uas_busy.xml",
        Uas::Decline => "uas_decline.xml",
        Uas::Unavailable => "uas_unavailable.xml",
        Uas::NoAnswer => "uas_noanswer.xml",
        Uas::PressOne => "uas_press_one.xml",
        Uas::HelloPressOne { audio } => {
            stage_audio(&audio, dir.path());
            "uas_hello_press_one.xml"
        }
        Uas::Answer { audio } => {
            stage_audio(&audio, dir.path());
            "uas_answer.xml"
        }
        Uas::EarlyMedia { early, audio } => {
            stage_audio(&audio, dir.path());
            stage_as(&early, &dir.path().join("early.wav"));
            "uas_early_media.xml"
        }
        Uas::DigestAnswer {
            user,
            password,
            audio,
        } => {
            stage_audio(&audio, dir.path());
            extra.extend([
                "-set".into(),
                "user".into(),
                user,
                "-set".into(),
                "pass".into(),
                password,
            ]);
            "uas_digest_answer.xml"
        }
    };
    let mut command = sipp(scenario, port);
    command.args(extra);
    Peer::spawn("sipp", command, dir)
}

/// sipp as a contact calling the center back: INVITE to `to` (a SIP URI with an explicit
/// host:port, e.g. `sip:center@127.0.0.1:5070`) from local `port`, with the caller ID `cid`
/// (E.164, e.g. `+15550100001`) in From and P-Asserted-Identity (RFC 3325 §9.1); after the
/// answer it plays `audio` (any WAV; converted to µ-law) and sends BYE after `talk`
/// (uac_callback.xml). Exits 0 when the call went through. Panics when `to` has no host:port
/// or sipp is missing.
pub fn sipp_callback(to: &str, cid: &str, audio: PathBuf, talk: Duration, port: u16) -> Peer {
    let remote = to
        .split_once('@')
        .map(|(_, rest)| rest.split([';', '>', '?']).next().unwrap_or(rest))
        .filter(|hostport| hostport.contains(':'))
        .unwrap_or_else(|| {
            panic!("rig: sipp_callback needs `to` as sip:user@host:port, got {to:?}")
        });
    let dir = tempfile::Builder::new()
        .prefix("rig-sipp-")
        .tempdir()
        .expect("rig: temp dir");
    stage_audio(&audio, dir.path());
    let mut command = sipp("uac_callback.xml", port);
    command
        .args(["-set", "to", to, "-set", "cid", cid, "-d"])
        .arg(talk.as_millis().to_string())
        .arg(remote);
    Peer::spawn("sipp", command, dir)
}

/// The common sipp command line: one call, no keyboard, UDP on 127.0.0.1:`port`, messages
/// traced. Media (`-mp`, which sipp 3.6.1 uses for `[media_port]` and for its RTP streams) at
/// 40000 + 4 × (port mod 1000), so distinct SIP ports get distinct media ports.
fn sipp(scenario: &str, port: u16) -> Command {
    let slot = u32::from(port % 1000);
    let mut command = Command::new("sipp");
    command
        .arg("-sf")
        .arg(peers_dir().join(scenario))
        .args([
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-m",
            "1",
            "-nostdin",
            "-trace_msg",
            "-trace_err",
        ])
        .args(["-p", &port.to_string()])
        .args(["-mp", &(40_000 + 4 * slot).to_string()]);
    command
}

/// Puts `audio` as µ-law at `dir/audio.wav`, where the scenarios' rtp_stream looks.
fn stage_audio(audio: &Path, dir: &Path) {
    stage_as(audio, &dir.join("audio.wav"));
}

/// `audio` as the µ-law WAV `target`.
fn stage_as(audio: &Path, target: &Path) {
    if is_ulaw(audio) {
        std::fs::copy(audio, target)
            .unwrap_or_else(|error| panic!("rig: copy {}: {error}", audio.display()));
    } else {
        to_ulaw(audio, target);
    }
}
