//! The center's outbound calls against real peers (baresip, sipp, kamailio), each test in a
//! private network namespace of its own: a person, an answering machine with beeps of several
//! pitches, busy, no answer, a trunk that asks for digest authentication, "press 1".

mod rig;

use rig::{Baresip, BaresipConfig, Fixtures, Uas};
use std::time::Duration;
use watchpost_core::Input;
use watchpost_core::alarm::Purpose;
use watchpost_media::amd::Answer;
use watchpost_media::beep::StartReason;
use watchpost_server::adapters::{OutboundCall, Telephony};
use watchpost_telephony::test_call::{self, Summary};
use watchpost_telephony::{Credentials, Event, SipConfig, SipTelephony};

const PEERS: &str = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng \
                     and sox (.ci/run installs them)";
const MESSAGE: &str = "This is the Acme monitoring center with an urgent message about a \
                       burglary alarm at 12 Main Street. Please call us back as soon as \
                       possible at 5 5 5, 0 1 9 9. Again, our number is 5 5 5, 0 1 9 9.";

fn center(trunk: &str) -> SipConfig {
    let mut config = SipConfig::new(
        "127.0.0.1:5070".parse().unwrap(),
        trunk.parse().unwrap(),
        "+15555550199".into(),
    );
    config.rtp_ports = 30000..=30999;
    config
}

fn phone(fixtures: &Fixtures, source: std::path::PathBuf) -> Baresip {
    let _ = fixtures;
    Baresip::start(BaresipConfig {
        sip_port: 5080,
        ctrl_port: 4480,
        rtp_ports: (22000, 22100),
        source,
        auto_answer: true,
        user: "+15555550101".into(),
        register: None,
    })
}

/// Our message, as the center's voice renders it, for finding it in what a peer heard.
async fn message_audio() -> Vec<i16> {
    let speaker = watchpost_telephony::tts::Speaker::start(Default::default())
        .await
        .unwrap();
    speaker.say(MESSAGE).await.unwrap().to_vec()
}

fn assert_heard_whole_message(
    heard: &[i16],
    message: &[i16],
    not_before_ms: u32,
    summary: &Summary,
) {
    let (at, correlation) = rig::locate(heard, message)
        .unwrap_or_else(|| panic!("our message is not in what the peer heard: {summary:?}"));
    assert!(
        correlation > 0.7,
        "the message heard differs from ours (correlation {correlation:.2}): {summary:?}"
    );
    assert!(
        at >= not_before_ms,
        "the message started at {at} ms, before {not_before_ms} ms: {summary:?}"
    );
    let from = (at as usize * 8).min(heard.len());
    let tail = &heard[from..];
    let spoken = rig::voiced_ms(message);
    let heard_ms = rig::voiced_ms(&tail[..tail.len().min(message.len() + 8000)]);
    assert!(
        heard_ms + 300 >= spoken,
        "only {heard_ms} ms of our {spoken} ms of speech were heard: {summary:?}"
    );
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn a_machine_gets_the_whole_message_after_its_beep() {
    let _ = PEERS;
    for (hz, beep_ms) in [(1000, 500), (440, 300), (2000, 800)] {
        rig::isolated(move || async move {
            let fixtures = Fixtures::new();
            let (greeting, beep_end) = fixtures.machine(hz, beep_ms);
            let mut machine = phone(&fixtures, greeting);
            let summary = test_call::run(center("sip:127.0.0.1:5080"), "+15555550101", MESSAGE)
                .await
                .unwrap();
            assert_eq!(summary.outcome, Some("voicemail"), "{summary:?}");
            let verdict = summary.detected.clone().unwrap();
            assert_eq!(verdict.answer, Answer::Machine, "{summary:?}");
            let start = summary.message_started.unwrap();
            let StartReason::Beep(beep) = &start.reason else {
                panic!("no beep found at {hz} Hz: {summary:?}");
            };
            assert!(beep.hz.abs_diff(hz) <= 50, "{hz} Hz beep heard as {beep:?}");
            // The machine's greeting starts at its answer, as the center's clock does.
            assert!(
                beep.end_ms.abs_diff(beep_end) <= 100,
                "the beep ended at {beep_end} ms, found at {} ms",
                beep.end_ms
            );
            assert!(start.at_ms >= beep_end, "{summary:?}");
            assert!(summary.played_to_end, "{summary:?}");
            machine.wait_event("CALL_CLOSED", Duration::from_secs(10));
            // What it heard is recorded from the first packet it decoded, a little after the
            // answer: all of our message is in it, after the silence we sent while it spoke.
            let heard = machine.heard();
            let speech_before =
                rig::voiced_ms(&heard[..(beep_end as usize * 8 - 4000).min(heard.len())]);
            assert_eq!(speech_before, 0, "the machine heard us before its beep");
            assert_heard_whole_message(&heard, &message_audio().await, 0, &summary);
        });
    }
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn a_person_hears_the_message_at_once() {
    rig::isolated(|| async {
        let fixtures = Fixtures::new();
        let mut person = phone(&fixtures, fixtures.person());
        let summary = test_call::run(center("sip:127.0.0.1:5080"), "+15555550101", MESSAGE)
            .await
            .unwrap();
        assert_eq!(summary.outcome, Some("answered"), "{summary:?}");
        let verdict = summary.detected.clone().unwrap();
        assert_eq!(verdict.answer, Answer::Person, "{summary:?}");
        assert!(verdict.at_ms < 3000, "a person waited {} ms", verdict.at_ms);
        assert!(summary.message_started.is_none(), "{summary:?}");
        assert!(summary.played_to_end, "{summary:?}");
        person.wait_event("CALL_CLOSED", Duration::from_secs(10));
        assert_heard_whole_message(&person.heard(), &message_audio().await, 0, &summary);
    });
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn busy_and_declined_are_busy_unavailable_is_no_answer() {
    for (uas, code, outcome) in [
        (Uas::Busy, 486, "busy"),
        (Uas::Decline, 603, "busy"),
        (Uas::Unavailable, 480, "no_answer"),
    ] {
        rig::isolated(move || async move {
            let _peer = rig::sipp_uas(uas, 5080);
            let summary = test_call::run(center("sip:127.0.0.1:5080"), "+15555550101", MESSAGE)
                .await
                .unwrap();
            assert_eq!(
                summary.final_response.as_ref().map(|f| f.0),
                Some(code),
                "{summary:?}"
            );
            assert_eq!(summary.outcome, Some(outcome), "{summary:?}");
            assert!(!summary.played_to_end);
        });
    }
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn a_call_nobody_answers_is_cancelled_at_the_ring_timeout() {
    rig::isolated(|| async {
        let peer = rig::sipp_uas(Uas::NoAnswer, 5080);
        let mut config = center("sip:127.0.0.1:5080");
        config.ring_timeout = Duration::from_secs(5);
        let summary = test_call::run(config, "+15555550101", MESSAGE)
            .await
            .unwrap();
        assert_eq!(summary.outcome, Some("no_answer"), "{summary:?}");
        assert_eq!(
            summary.final_response.as_ref().map(|f| f.0),
            Some(487),
            "{summary:?}"
        );
        assert!(
            summary.provisional.iter().any(|(c, _)| *c == 180),
            "{summary:?}"
        );
        assert!(
            (Duration::from_secs(5)..Duration::from_secs(9)).contains(&summary.duration),
            "{summary:?}"
        );
        assert!(
            peer.log().contains("CANCEL"),
            "sipp saw no CANCEL: {}",
            peer.log()
        );
    });
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn a_trunk_that_asks_for_digest_gets_it() {
    rig::isolated(|| async {
        let fixtures = Fixtures::new();
        let _trunk = rig::kamailio(5060, &[("center", "trunk-pw")], Some("127.0.0.1:5080"));
        let _person = phone(&fixtures, fixtures.person());
        let mut config = center("sip:127.0.0.1:5060");
        let summary = test_call::run(config.clone(), "+15555550101", MESSAGE)
            .await
            .unwrap();
        assert_eq!(
            summary.final_response.as_ref().map(|f| f.0),
            Some(407),
            "{summary:?}"
        );
        // A second user agent, as a second `watchpost call test` would be.
        config.listen = "127.0.0.1:5072".parse().unwrap();
        config.credentials = Some(Credentials {
            username: "center".into(),
            password: "trunk-pw".into(),
        });
        let summary = test_call::run(config, "+15555550101", MESSAGE)
            .await
            .unwrap();
        assert_eq!(summary.outcome, Some("answered"), "{summary:?}");
        assert!(summary.played_to_end, "{summary:?}");
    });
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn pressing_1_on_a_practice_call_asks_for_an_agent() {
    rig::isolated(|| async {
        let fixtures = Fixtures::new();
        let _peer = rig::sipp_uas(
            Uas::HelloPressOne {
                audio: fixtures.person(),
            },
            5080,
        );
        let (sip, mut events) = SipTelephony::start(center("sip:127.0.0.1:5080"), None, None)
            .await
            .unwrap();
        sip.place(OutboundCall {
            alarm: 7,
            call: 0,
            to: "Jane".into(),
            phone: "+15555550101".into(),
            purpose: Purpose::Automated,
            message: Some(format!("{MESSAGE} Press 1 to speak with an agent.")),
            offers_agent: true,
        });
        let mut inputs = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while let Ok(Some((alarm, _, event))) =
            tokio::time::timeout_at(deadline, events.recv()).await
        {
            assert_eq!(alarm, Some(7));
            if let Event::Input(input) = event {
                let joined = matches!(input, Input::AgentJoined { .. });
                inputs.push(input);
                if joined {
                    break;
                }
            }
        }
        assert!(
            matches!(
                inputs.as_slice(),
                [
                    Input::CallPlaced { call: 0 },
                    Input::Answered { call: 0 },
                    Input::AgentJoined { call: 0 }
                ]
            ),
            "{inputs:?}"
        );
    });
}

/// A water alarm of account 4F39 with one contact, its first call placed and as far as
/// `inputs` took it.
fn water_alarm(inputs: &[Input]) -> watchpost_core::Alarm {
    use watchpost_core::account::{Contact, Responder};
    use watchpost_core::{AlarmKind, AlarmSpec, Mode, Settings, plan::Plan};
    let mut alarm = watchpost_core::Alarm::open(AlarmSpec {
        account: "4F39".into(),
        address: "12 Elm St".into(),
        contacts: vec![Contact {
            name: "Ann".into(),
            phone: "+15555550101".into(),
            phone2: None,
        }],
        responder: Responder::Police,
        kind: AlarmKind::Water,
        mode: Mode::Professional,
        opened_at: 0,
        trigger: "test".into(),
        plan: Plan::builtin(AlarmKind::Water, Mode::Professional),
        plan_set: None,
        unmonitored: None,
        settings: Settings::default(),
        premises_phone: None,
    });
    for (i, input) in inputs.iter().enumerate() {
        alarm.handle(i as i64 * 1000, input.clone()).unwrap();
    }
    alarm
}

#[test]
#[ignore = "needs root for a network namespace, and espeak-ng (.ci/run installs them)"]
fn a_call_lost_with_the_node_that_made_it_lets_the_plan_move_on() {
    rig::isolated(|| async {
        let (sip, mut events) = SipTelephony::start(center("sip:127.0.0.1:5080"), None, None)
            .await
            .unwrap();
        let mut next = async || loop {
            let (alarm, call, event) = tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .expect("an input within 5 s")
                .unwrap();
            if let Event::Input(input) = event {
                return (alarm, call, input);
            }
        };
        // Still ringing when the node died: the automated call counts as unanswered.
        sip.resume(7, &water_alarm(&[Input::CallPlaced { call: 0 }]));
        assert_eq!(next().await, (Some(7), 0, Input::NoAnswer { call: 0 }));
        // Answered (its message was playing): the call has ended.
        let answered = water_alarm(&[Input::CallPlaced { call: 0 }, Input::Answered { call: 0 }]);
        sip.resume(8, &answered);
        assert_eq!(next().await, (Some(8), 0, Input::CallEnded { call: 0 }));
        // An alarm with no call in progress: nothing to do.
        sip.resume(
            9,
            &water_alarm(&[Input::CallPlaced { call: 0 }, Input::NoAnswer { call: 0 }]),
        );
        assert!(
            tokio::time::timeout(Duration::from_secs(1), events.recv())
                .await
                .is_err()
        );
    });
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, kamailio and espeak-ng (.ci/run installs them)"]
fn a_registered_center_is_reached_through_its_trunk() {
    rig::isolated(|| async {
        let fixtures = Fixtures::new();
        let trunk = rig::kamailio(5060, &[("center", "trunk-pw"), ("bob", "bob-pw")], None);
        let mut config = center("sip:127.0.0.1:5060");
        config.register = true;
        config.credentials = Some(Credentials {
            username: "center".into(),
            password: "trunk-pw".into(),
        });
        let (_sip, _events) = SipTelephony::start(config, None, None).await.unwrap();
        assert!(
            trunk.wait_log(
                "REGISTER sip:127.0.0.1:5060 from sip:center@",
                Duration::from_secs(5)
            ),
            "the center never registered: {}",
            trunk.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        // A caller on the trunk reaches the center by its registration; with no agents'
        // phones to ring it answers 480.
        let mut caller = rig::BaresipConfig::new("bob", 5090, fixtures.person(), false);
        caller.register = Some(("sip:127.0.0.1:5060".into(), "bob".into(), "bob-pw".into()));
        let mut bob = Baresip::start(caller);
        bob.command("dial", "sip:center@127.0.0.1:5060");
        assert!(
            bob.wait_log("480 Temporarily Unavailable", Duration::from_secs(10)),
            "the call did not reach the center: {}\n{}",
            bob.log(),
            trunk.log()
        );
    });
}

#[test]
#[ignore = "needs root for a network namespace, and sipp, espeak-ng and sox (.ci/run installs them)"]
fn early_media_is_heard_but_never_taken_for_the_answer() {
    rig::isolated(|| async {
        let fixtures = Fixtures::new();
        // 4 s of a network announcement before the answer, then a person's "Hello?". Taken
        // for the answer's first words, the announcement would be a machine's greeting.
        let announcement = fixtures.say(
            "The wireless customer you are calling is not available at the moment, please hold \
             while we try to connect your call.",
        );
        let mut peer = rig::sipp_uas(
            Uas::EarlyMedia {
                early: announcement,
                audio: fixtures.person(),
            },
            5080,
        );
        let summary = test_call::run(center("sip:127.0.0.1:5080"), "+15555550101", MESSAGE)
            .await
            .unwrap();
        assert!(summary.early_media, "{summary:?}\n{}", peer.log());
        assert_eq!(summary.provisional[0].0, 183, "{summary:?}");
        assert_eq!(summary.outcome, Some("answered"), "{summary:?}");
        let verdict = summary.detected.clone().unwrap();
        assert_eq!(verdict.answer, Answer::Person, "{summary:?}");
        assert!(peer.wait_exit(Duration::from_secs(20)).is_some());
    });
}
