//! Proves the real-peer rig (tests/rig) against real peers, without any watchpost code: the
//! beep an answering machine plays is heard where it should be, one baresip hears another,
//! registration and routing through kamailio, a callback's caller ID, and that tests in their
//! own namespaces can use the same ports at once.

mod rig;

use std::time::Duration;

use rig::{Baresip, BaresipConfig, Fixtures, Uas};

const SECOND: Duration = Duration::from_secs(1);

fn closed(phone: &mut Baresip, within: Duration) -> serde_json::Value {
    phone
        .wait_event("CALL_CLOSED", within)
        .unwrap_or_else(|| panic!("no CALL_CLOSED within {within:?}"))
}

#[test]
#[ignore = "needs root, sipp, baresip, kamailio, espeak-ng, sox (.ci/run installs them)"]
fn baresip_hears_the_answering_machine_beep_where_it_is() {
    rig::isolate();
    let fixtures = Fixtures::new();
    let (machine, beep_end) = fixtures.machine(1000, 500);
    let _machine = rig::sipp_uas(
        Uas::Answer {
            audio: fixtures.ulaw(&machine),
        },
        5080,
    );
    let mut phone = Baresip::start(BaresipConfig::new("center", 5090, fixtures.person(), false));

    assert_eq!(phone.command("dial", "sip:vm@127.0.0.1:5080")["ok"], true);
    phone
        .wait_event("CALL_ESTABLISHED", 10 * SECOND)
        .expect("the machine answers");
    std::thread::sleep(Duration::from_millis(u64::from(beep_end) + 1500));
    phone.command("hangup", "");
    closed(&mut phone, 5 * SECOND);

    let heard = phone.heard();
    let (start, end) = rig::find_tone(&heard, 1000).expect("the beep in the recording");
    eprintln!("beep heard {start}..{end} ms; the file's beep ends at {beep_end} ms");
    assert!(
        end.abs_diff(beep_end) <= 100,
        "beep heard {start}..{end} ms, it ends at {beep_end} ms"
    );
    assert!(
        end - start >= 400,
        "beep heard {start}..{end} ms, it lasts 500 ms"
    );
}

#[test]
#[ignore = "needs root, sipp, baresip, kamailio, espeak-ng, sox (.ci/run installs them)"]
fn one_baresip_hears_what_another_says() {
    rig::isolate();
    let fixtures = Fixtures::new();
    let sentence =
        fixtures.say("This is the monitoring center. Your alarm went off at the warehouse.");
    // Its source ending ends the call: the answering phone hangs up after the sentence.
    let mut contact = Baresip::start(BaresipConfig::new(
        "contact",
        5090,
        fixtures.then_silence(&sentence, 1000),
        true,
    ));
    let mut caller = Baresip::start(BaresipConfig::new("caller", 5092, fixtures.person(), false));

    caller.command("dial", &contact.uri());
    contact
        .wait_event("CALL_ESTABLISHED", 10 * SECOND)
        .expect("auto-answer");
    closed(&mut caller, 30 * SECOND);

    let heard = caller.heard();
    let said = rig::read_wav(&sentence);
    let (at, correlation) = rig::locate(&heard, &said).expect("the sentence in the recording");
    eprintln!("sentence found at {at} ms, envelope correlation {correlation:.3}");
    assert!(correlation > 0.8, "correlation {correlation:.3} at {at} ms");
    let (voiced_heard, voiced_said) = (rig::voiced_ms(&heard), rig::voiced_ms(&said));
    eprintln!("speech heard {voiced_heard} ms of {voiced_said} ms said");
    assert!(
        voiced_heard + 200 >= voiced_said,
        "heard {voiced_heard} ms of speech of {voiced_said}"
    );
}

#[test]
#[ignore = "needs root, sipp, baresip, kamailio, espeak-ng, sox (.ci/run installs them)"]
fn baresip_registers_with_kamailio_and_is_reached_by_its_name() {
    rig::isolate();
    let fixtures = Fixtures::new();
    let trunk = rig::kamailio(5060, &[("alice", "alicepw"), ("bob", "bobpw")], None);
    let registrar = "sip:127.0.0.1:5060".to_string();
    let mut alice = BaresipConfig::new("alice", 5090, fixtures.person(), true);
    alice.register = Some((registrar.clone(), "alice".into(), "alicepw".into()));
    let mut alice = Baresip::start(alice);
    let mut bob = BaresipConfig::new("bob", 5092, fixtures.person(), false);
    bob.register = Some((registrar, "bob".into(), "bobpw".into()));
    let mut bob = Baresip::start(bob);

    bob.command("dial", "sip:alice@127.0.0.1:5060");
    let established = alice
        .wait_event("CALL_ESTABLISHED", 10 * SECOND)
        .expect("alice answers");
    assert_eq!(established["peeruri"], "sip:bob@127.0.0.1:5060");
    bob.wait_event("CALL_ESTABLISHED", 5 * SECOND)
        .expect("bob is connected");
    bob.command("hangup", "");
    closed(&mut alice, 5 * SECOND);

    // 407 first, then the INVITE with credentials (kamailio logs each one it routes).
    let invites = trunk
        .log()
        .matches("INVITE sip:alice@127.0.0.1:5060 from sip:bob@")
        .count();
    assert_eq!(invites, 2, "{}", trunk.log());
}

#[test]
#[ignore = "needs root, sipp, baresip, kamailio, espeak-ng, sox (.ci/run installs them)"]
fn a_callback_from_sipp_shows_its_caller_id() {
    rig::isolate();
    let fixtures = Fixtures::new();
    let mut center = Baresip::start(BaresipConfig::new("center", 5070, fixtures.person(), true));
    let speech = fixtures.say("Hello, you called me about an alarm?");
    let mut caller = rig::sipp_callback(
        "sip:center@127.0.0.1:5070",
        "+15550100001",
        speech,
        3 * SECOND,
        5080,
    );

    let incoming = center
        .wait_event("CALL_ESTABLISHED", 10 * SECOND)
        .expect("answered");
    assert!(
        incoming["peeruri"]
            .as_str()
            .unwrap_or("")
            .starts_with("sip:+15550100001@"),
        "{incoming}"
    );
    let status = caller
        .wait_exit(15 * SECOND)
        .expect("sipp hangs up and exits");
    assert!(status.success(), "sipp: {status}\n{}", caller.log());
    assert!(
        center
            .log()
            .contains("from sip:+15550100001@127.0.0.1:5080"),
        "{}",
        center.log()
    );
}

/// Each thread is a test in miniature: own namespace, same ports, a different answer.
fn busy_or_decline(kind: Uas, code: &'static str) -> impl FnOnce() {
    move || {
        rig::isolate();
        let fixtures = Fixtures::new();
        let mut line = rig::sipp_uas(kind, 5080);
        let mut phone =
            Baresip::start(BaresipConfig::new("center", 5090, fixtures.person(), false));
        phone.command("dial", "sip:contact@127.0.0.1:5080");
        let event = closed(&mut phone, 10 * SECOND);
        assert!(
            event["param"].as_str().unwrap_or("").contains(code),
            "{event}"
        );
        assert!(
            line.wait_exit(5 * SECOND).is_some_and(|s| s.success()),
            "{}",
            line.log()
        );
    }
}

#[test]
#[ignore = "needs root, sipp, baresip, kamailio, espeak-ng, sox (.ci/run installs them)"]
fn two_isolated_tests_use_the_same_ports_at_once() {
    let busy = std::thread::spawn(busy_or_decline(Uas::Busy, "486"));
    let decline = std::thread::spawn(busy_or_decline(Uas::Decline, "603"));
    let (busy, decline) = (busy.join(), decline.join());
    assert!(
        busy.is_ok() && decline.is_ok(),
        "a thread failed (its panic is printed above)"
    );
}

#[test]
#[ignore = "needs root, sipp, baresip, kamailio, espeak-ng, sox (.ci/run installs them)"]
fn sipp_presses_one_and_cancels_are_answered() {
    rig::isolate();
    let fixtures = Fixtures::new();
    let mut press = rig::sipp_uas(Uas::PressOne, 5080);
    let mut ringing = rig::sipp_uas(Uas::NoAnswer, 5082);
    let mut phone = Baresip::start(BaresipConfig::new("center", 5090, fixtures.person(), false));

    phone.command("dial", "sip:contact@127.0.0.1:5080");
    phone
        .wait_event("CALL_ESTABLISHED", 10 * SECOND)
        .expect("answered");
    assert!(
        phone.wait_log("received event: '1'", 8 * SECOND),
        "no DTMF 1\n{}",
        phone.log()
    );
    phone.command("hangup", "");
    closed(&mut phone, 5 * SECOND);
    assert!(
        press.wait_exit(5 * SECOND).is_some_and(|s| s.success()),
        "{}",
        press.log()
    );

    phone.command("dial", "sip:contact@127.0.0.1:5082");
    phone.wait_event("CALL_RINGING", 5 * SECOND).expect("180");
    phone.command("hangup", "");
    closed(&mut phone, 5 * SECOND);
    assert!(
        ringing.wait_exit(5 * SECOND).is_some_and(|s| s.success()),
        "{}",
        ringing.log()
    );
}

// The analysis on synthetic audio: no peers needed.

fn sine(hz: f64, ms: usize, amplitude: f64) -> Vec<i16> {
    (0..ms * 8)
        .map(|i| (amplitude * (2.0 * std::f64::consts::PI * hz * i as f64 / 8000.0).sin()) as i16)
        .collect()
}

#[test]
fn finds_a_beep_after_silence_within_ten_ms() {
    let mut samples = vec![0i16; 8 * 1234];
    samples.extend(sine(1000.0, 500, 16000.0));
    samples.extend(vec![0i16; 8 * 300]);
    let (start, end) = rig::find_tone(&samples, 1000).expect("the beep");
    assert!(
        start.abs_diff(1234) <= 10 && end.abs_diff(1734) <= 10,
        "{start}..{end}"
    );
    assert_eq!(rig::find_tone(&samples, 1400), None);
    assert_eq!(
        rig::find_tone(&sine(1000.0, 60, 16000.0), 1000),
        None,
        "shorter than 80 ms"
    );
}

#[test]
fn locates_a_shifted_copy_and_rejects_noise() {
    let needle: Vec<i16> = (0..40)
        .flat_map(|i| {
            sine(
                300.0 + 20.0 * f64::from(i % 7),
                50 + (i % 3) as usize * 30,
                if i % 2 == 0 { 8000.0 } else { 500.0 },
            )
        })
        .collect();
    let mut haystack = vec![0i16; 8 * 2500];
    haystack.extend(&needle);
    haystack.extend(vec![0i16; 8 * 1000]);
    let (at, r) = rig::locate(&haystack, &needle).expect("found");
    assert_eq!(at, 2500);
    assert!(r > 0.99, "{r}");
    assert_eq!(rig::voiced_ms(&haystack), rig::voiced_ms(&needle));
    assert!(
        rig::locate(&needle[..800], &needle).is_none(),
        "haystack too short"
    );
}

#[test]
#[ignore = "needs root, sipp, baresip, kamailio, espeak-ng, sox (.ci/run installs them)"]
fn kamailio_challenges_and_relays_onward_to_a_trunk_peer() {
    rig::isolate();
    let fixtures = Fixtures::new();
    let trunk = rig::kamailio(5060, &[("center", "centerpw")], Some("127.0.0.1:5080"));
    let mut contact = rig::sipp_uas(
        Uas::Answer {
            audio: fixtures.person(),
        },
        5080,
    );
    let mut center = BaresipConfig::new("center", 5090, fixtures.person(), false);
    center.register = Some((
        "sip:127.0.0.1:5060".into(),
        "center".into(),
        "centerpw".into(),
    ));
    let mut center = Baresip::start(center);

    center.command("dial", "sip:+15550100002@127.0.0.1:5060");
    center
        .wait_event("CALL_ESTABLISHED", 10 * SECOND)
        .expect("the contact answers");
    center.command("hangup", "");
    closed(&mut center, 5 * SECOND);
    assert!(
        contact.wait_exit(5 * SECOND).is_some_and(|s| s.success()),
        "{}",
        contact.log()
    );
    assert!(
        contact.log().contains("INVITE sip:+15550100002@"),
        "{}",
        contact.log()
    );
    let invites = trunk
        .log()
        .matches("INVITE sip:+15550100002@127.0.0.1:5060 from")
        .count();
    assert_eq!(invites, 2, "407 first, then relayed:\n{}", trunk.log());
}
