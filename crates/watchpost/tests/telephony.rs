//! A professional burglary worked over real phones: `watchpost serve` with SIP telephony
//! calls through a trunk that asks for digest (kamailio), contact 1 is an answering machine
//! (the agent is let go at once, the center leaves the message after the beep), contact 2 is a
//! person bridged to the agent's phone, and the agent cancels with the verbal password. Runs in
//! a private network namespace of its own with baresip phones.

#[path = "../../telephony/tests/rig/mod.rs"]
mod rig;

mod common;

use common::{BIN, Server, account_toml, cli, free_addr};
use reqwest::Client;
use rig::{Baresip, BaresipConfig, Fixtures};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);
const AGENT_SAYS: &str = "Monitoring center, this is Amy. May I have your password please?";

#[test]
#[ignore = "needs root for a network namespace, and baresip, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn a_burglary_reaches_a_machine_then_a_person_bridged_to_the_agent() {
    rig::isolated(burglary);
}

fn registered(user: &str, port: u16, source: std::path::PathBuf, password: &str) -> Baresip {
    let mut config = BaresipConfig::new(user, port, source, true);
    config.register = Some(("sip:127.0.0.1:5060".into(), user.into(), password.into()));
    Baresip::start(config)
}

/// A burglary (BA zone 3) from account 4F39, through the API with its key.
async fn burglary_signal(client: &Client, base: &str, key: &str) {
    let sent = client
        .post(format!("{base}/api/signals"))
        .bearer_auth(key)
        .json(&json!({"sia": "BA003"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 202);
}

/// The API as amy, signed in.
struct Api {
    client: Client,
    base: String,
    token: String,
}

impl Api {
    async fn sign_in(client: &Client, base: &str) -> Api {
        let login: Value = client
            .post(format!("{base}/api/login"))
            .json(&json!({"name": "amy", "password": "correct horse battery"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            client: client.clone(),
            base: base.to_string(),
            token: login["token"].as_str().unwrap().to_string(),
        }
    }

    async fn get(&self, path: String) -> Value {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Panics unless the answer is a success.
    async fn post(&self, path: String, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }
}

/// The two channels of a recording (stereo 8 kHz µ-law WAV, 58-byte header).
fn stereo_mulaw(wav: &[u8]) -> (Vec<i16>, Vec<i16>) {
    assert_eq!(&wav[..4], b"RIFF");
    let data = wav
        .windows(4)
        .position(|w| w == b"data")
        .expect("a data chunk")
        + 8;
    let mut pcm = Vec::new();
    watchpost_media::g711::Law::Mu.decode(&wav[data..], &mut pcm);
    let left = pcm.iter().step_by(2).copied().collect();
    let right = pcm.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

/// A center with SIP telephony through the kamailio trunk on :5060, account 4F39 with
/// `contacts`, agent amy (phone sip:amy@127.0.0.1:5090), an API key for 4F39. Returns the
/// running server and the key.
fn center(dir: &std::path::Path, contacts: &[(&str, &str)], practice: bool) -> (Server, String) {
    let (server, mut keys) = center_with(dir, &[("4F39", contacts)], practice);
    (server, keys.remove(0))
}

/// `center` with these accounts, each with its contacts; returns an API key for each.
fn center_with(
    dir: &std::path::Path,
    enrolled: &[(&str, &[(&str, &str)])],
    practice: bool,
) -> (Server, Vec<String>) {
    let mut accounts = String::new();
    for (number, contacts) in enrolled {
        let mut account = account_toml(number, "");
        if practice {
            // Enrolled yesterday: in its 7-day practice period, calls are automated.
            let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
            account = account.replace(
                "enrolled = \"2025-01-01T00:00:00Z\"",
                &format!("enrolled = \"{}\"", yesterday.format("%Y-%m-%dT%H:%M:%SZ")),
            );
        }
        let first = "\n[[accounts.contacts]]\nname = \"Ann Lee\"\nphone = \"+15555550101\"\n";
        let listed: String = contacts
            .iter()
            .map(|(name, phone)| {
                format!("\n[[accounts.contacts]]\nname = \"{name}\"\nphone = \"{phone}\"\n")
            })
            .collect();
        accounts += &account.replace(first, &listed);
    }
    let db = dir.join("center.db");
    let db_arg = db.to_str().unwrap();
    let file = dir.join("accounts.toml");
    std::fs::write(&file, accounts).unwrap();
    cli(
        &["accounts", "import", file.to_str().unwrap(), "--db", db_arg],
        "",
    );
    cli(
        &["users", "add", "amy", "--role", "agent", "--db", db_arg],
        "correct horse battery\n",
    );
    cli(
        &[
            "users",
            "phone",
            "amy",
            "sip:amy@127.0.0.1:5090",
            "--db",
            db_arg,
        ],
        "",
    );
    let keys = enrolled
        .iter()
        .map(|(number, _)| {
            cli(&["keys", "add", "--account", number, "--db", db_arg], "")
                .trim()
                .to_string()
        })
        .collect();
    let config = dir.join("center.toml");
    std::fs::write(
        &config,
        format!(
            "[center]\nname = \"{}\"\ncallback_number = \"{}\"\n\n[telephony]\nadapter = \"sip\"\n\
             listen = \"127.0.0.1:5070\"\ntrunk = \"sip:127.0.0.1:5060\"\nusername = \"center\"\n\
             password_env = \"TEST_TRUNK_PASSWORD\"\nrtp_ports = \"30000-30999\"\n",
            common::CENTER_NAME,
            common::CALLBACK_NUMBER
        ),
    )
    .unwrap();
    let (dc09, http) = (free_addr(), free_addr());
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--db", db_arg, "--config"])
        .arg(&config)
        .args(["--dc09", &dc09.to_string(), "--http", &http.to_string()])
        .env("TEST_TRUNK_PASSWORD", "trunk-pw")
        // The accounts were imported with it: their verbal passwords are keyed with the
        // center's pepper, which opens only with the master key.
        .env("WATCHPOST_MASTER_KEY", common::MASTER_KEY)
        .env("RUST_LOG", "watchpost_telephony=info");
    let server = Server::spawn(dir, command, dc09, http, "center", 20 * SECOND);
    let deadline = Instant::now() + 10 * SECOND;
    while !server
        .stdout_text()
        .contains("SIP telephony on udp://127.0.0.1:5070")
    {
        assert!(
            Instant::now() < deadline,
            "no SIP telephony\n{}",
            server.logs()
        );
        std::thread::sleep(SECOND / 20);
    }
    (server, keys)
}

async fn burglary() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Fixtures::new();
    let _trunk = rig::kamailio(
        5060,
        &[
            ("center", "trunk-pw"),
            ("+15555550101", "machine-pw"),
            ("+15555550102", "person-pw"),
        ],
        None,
    );
    let (greeting, beep_end) = fixtures.machine(1000, 500);
    let mut machine = registered("+15555550101", 5080, greeting, "machine-pw");
    // Long enough to outlast the machine's call (baresip hangs up at the end of its audio).
    let hello = fixtures.then_silence(&fixtures.person(), 60_000);
    let mut person = registered("+15555550102", 5082, hello, "person-pw");
    // The agent listens first (a machine's greeting must not hear her), then says the same
    // sentence again and again, so the person hears it whole.
    let sentence = fixtures.then_silence(&fixtures.say(AGENT_SAYS), 1000);
    let agent_audio = dir.path().join("agent.wav");
    let mut sox = Command::new("sox");
    sox.arg(fixtures.silence(4000));
    for _ in 0..8 {
        sox.arg(&sentence);
    }
    assert!(sox.arg(&agent_audio).status().unwrap().success());
    let mut amy = Baresip::start(BaresipConfig::new("amy", 5090, agent_audio, true));

    let (server, key) = center(
        dir.path(),
        &[("Ann Lee", "+15555550101"), ("Bo Lee", "+15555550102")],
        false,
    );
    let http = server.http;
    let base = format!("http://{http}");
    let client = Client::new();
    burglary_signal(&client, &base, &key).await;
    let api = Api::sign_in(&client, &base).await;
    let get = |path: String| api.get(path);
    let post = |path: String, body: Value| api.post(path, body);
    let queue = get("/api/alarms".into()).await;
    let id = queue["alarms"][0]["id"]
        .as_i64()
        .expect("the burglary is queued");
    // Nobody has the alarm: its first call waits for an agent, as the queue shows.
    tokio::time::sleep(2 * SECOND).await;
    let called = |events: Vec<Value>| {
        events
            .iter()
            .any(|e| e["type"].as_str().is_some_and(|t| t.starts_with("CALL_")))
    };
    assert!(
        !called(machine.events()),
        "a contact was called before an agent took the alarm"
    );
    let waiting = get(format!("/api/alarms/{id}")).await;
    assert!(
        waiting["next_step"]
            .as_str()
            .is_some_and(|s| s.starts_with("The center calls Ann Lee")),
        "agents must not be told to dial: {waiting}"
    );
    post(format!("/api/alarms/{id}/take"), json!({})).await;

    // Contact 1 is a machine: the agent is let go while the center waits for the beep.
    let amy_released = {
        amy.wait_event("CALL_ESTABLISHED", 10 * SECOND)
            .unwrap_or_else(|| panic!("amy's phone was not called\n{}", server.logs()));
        amy.wait_event("CALL_CLOSED", 20 * SECOND)
            .unwrap_or_else(|| panic!("amy was never released\n{}", server.logs()));
        Instant::now()
    };
    machine
        .wait_event("CALL_CLOSED", 40 * SECOND)
        .unwrap_or_else(|| panic!("the machine's call never ended\n{}", server.logs()));
    let machine_ended = Instant::now();
    assert!(
        machine_ended > amy_released + 3 * SECOND,
        "amy was released only {:?} before the message ended",
        machine_ended - amy_released
    );
    let heard = machine.heard();
    let before_beep = &heard[..(beep_end as usize * 8 - 4000).min(heard.len())];
    assert_eq!(
        rig::voiced_ms(before_beep),
        0,
        "the machine heard us over its greeting"
    );
    let message_ms = rig::voiced_ms(&heard[(beep_end as usize * 8).min(heard.len())..]);
    assert!(
        message_ms > 5000,
        "only {message_ms} ms of message were left"
    );

    // Contact 2 is a person, bridged to amy.
    amy.wait_event("CALL_ESTABLISHED", 20 * SECOND)
        .unwrap_or_else(|| {
            panic!(
                "amy's phone was not called for contact 2\n{}",
                server.logs()
            )
        });
    let deadline = Instant::now() + 30 * SECOND;
    let alarm = loop {
        let alarm = get(format!("/api/alarms/{id}")).await;
        if alarm["calls"][1]["result"] == "answered" {
            break alarm;
        }
        assert!(
            Instant::now() < deadline,
            "contact 2 never answered: {alarm}\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 5).await;
    };
    assert_eq!(alarm["calls"][0]["result"], "voicemail", "{alarm}");
    assert_eq!(alarm["calls"][0]["voicemail_left"], true, "{alarm}");
    // Let amy talk for a while, then check the password and cancel.
    tokio::time::sleep(8 * SECOND).await;
    let now = get(format!("/api/alarms/{id}")).await;
    assert!(
        now["calls"][1]["ended_at_s"].is_null(),
        "the call with amy ended by itself: {now}\n{}",
        server.logs()
    );
    let checked = post(
        format!("/api/alarms/{id}/calls/1/password"),
        json!({"password": "blue falcon"}),
    )
    .await;
    assert_eq!(checked["matched"], true);
    post(
        format!("/api/alarms/{id}/calls/1/decision"),
        json!({"decision": "cancel"}),
    )
    .await;
    amy.command("hangup", "");
    person
        .wait_event("CALL_CLOSED", 10 * SECOND)
        .unwrap_or_else(|| {
            panic!(
                "the person's call did not end with amy's\n{}",
                server.logs()
            )
        });
    let alarm = get(format!("/api/alarms/{id}")).await;
    assert!(alarm["closed_at"].is_string(), "{alarm}");
    assert!(
        alarm["disposition"]
            .as_str()
            .is_some_and(|d| d.starts_with("canceled")),
        "{alarm}"
    );

    // Both calls were recorded, both sides: the machine's greeting on the left, our message on
    // the right.
    let deadline = Instant::now() + 10 * SECOND;
    let listed = loop {
        let listed = get(format!("/api/alarms/{id}/recordings")).await;
        if listed["recordings"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
        {
            break listed;
        }
        assert!(
            Instant::now() < deadline,
            "recordings: {listed}\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 5).await;
    };
    assert!(
        listed["recordings"][0]["duration_ms"].as_u64().unwrap() > 15_000,
        "{listed}"
    );
    let wav = client
        .get(format!("{base}/api/alarms/{id}/recordings/0"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (contact_side, center_side) = stereo_mulaw(&wav);
    assert!(
        rig::voiced_ms(&contact_side) > 3000,
        "the greeting is not in the recording"
    );
    assert!(
        rig::voiced_ms(&center_side) > 5000,
        "the message is not in the recording"
    );
    let timeline = get(format!("/api/alarms/{id}")).await["timeline"].clone();
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["event"] == "recorded"),
        "{timeline}"
    );

    // What crossed the bridge: the person heard amy's sentence, amy heard the person.
    let said = rig::read_wav(&fixtures.say(AGENT_SAYS));
    let (_, correlation) =
        rig::locate(&person.heard(), &said).unwrap_or_else(|| panic!("the person never heard amy"));
    assert!(
        correlation > 0.6,
        "the person heard amy badly ({correlation:.2})"
    );
    assert!(
        rig::voiced_ms(&amy.heard()) > 200,
        "amy never heard the person"
    );
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn a_contact_calling_back_reaches_the_agent_who_has_the_alarm() {
    rig::isolated(callback);
}

async fn callback() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Fixtures::new();
    // Ann's own phone is not reachable: the center's call to her is not answered.
    let _trunk = rig::kamailio(5060, &[("center", "trunk-pw")], None);
    let agent_audio = fixtures.then_silence(&fixtures.person(), 60_000);
    let mut amy = Baresip::start(BaresipConfig::new("amy", 5090, agent_audio, true));
    let (server, key) = center(dir.path(), &[("Ann Lee", "+15555550101")], false);
    let base = format!("http://{}", server.http);
    let client = Client::new();
    burglary_signal(&client, &base, &key).await;
    let api = Api::sign_in(&client, &base).await;
    let alarm = |id: i64| api.get(format!("/api/alarms/{id}"));
    api.post("/api/alarms/1/take".into(), json!({})).await;
    // The call to Ann goes unanswered; the plan moves on without a call in progress.
    first_call_unanswered(&api, &server, &mut amy).await;

    // Ann calls back, with her number asserted by the trunk's side.
    let says = fixtures.then_silence(
        &fixtures.say("Hi, this is Ann, I got a call from you."),
        1000,
    );
    let mut ann = rig::sipp_callback(
        "sip:+15555550142@127.0.0.1:5070",
        "+15555550101",
        says,
        8 * SECOND,
        5084,
    );
    amy.wait_event("CALL_ESTABLISHED", 15 * SECOND)
        .unwrap_or_else(|| {
            panic!(
                "amy's phone did not ring for the call back\n{}",
                server.logs()
            )
        });
    assert!(
        ann.wait_exit(30 * SECOND).is_some_and(|s| s.success()),
        "the call back failed: {}\n{}",
        ann.log(),
        server.logs()
    );
    amy.wait_event("CALL_CLOSED", 10 * SECOND)
        .unwrap_or_else(|| panic!("amy's call did not end with Ann's\n{}", server.logs()));
    let now = alarm(1).await;
    assert_eq!(now["callbacks"][0]["from"], "Ann Lee", "{now}");
    assert!(
        now["callbacks"][0]["ended_at_s"].is_number(),
        "{now}\n{}",
        server.logs()
    );
    assert!(
        rig::voiced_ms(&amy.heard()) > 1000,
        "amy did not hear Ann ({} ms voiced of {} samples)\n{}\n{}",
        ann.log(),
        rig::voiced_ms(&amy.heard()),
        amy.heard().len(),
        server.logs()
    );
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn a_call_back_matching_two_alarms_waits_until_the_agent_attaches_it() {
    rig::isolated(lines);
}

async fn lines() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Fixtures::new();
    // Nobody's own phone is reachable: the center's calls to them are not answered.
    let _trunk = rig::kamailio(5060, &[("center", "trunk-pw")], None);
    let agent_audio = fixtures.then_silence(&fixtures.person(), 60_000);
    let mut amy = Baresip::start(BaresipConfig::new("amy", 5090, agent_audio, true));
    // Ann is a contact of two accounts; Cal of a third, with no alarm.
    let ann: &[(&str, &str)] = &[("Ann Lee", "+15555550101")];
    let cal: &[(&str, &str)] = &[("Cal Roe", "+15555550177")];
    let (server, keys) = center_with(
        dir.path(),
        &[("4F39", ann), ("5A11", ann), ("7B22", cal)],
        false,
    );
    let base = format!("http://{}", server.http);
    let client = Client::new();
    let api = Api::sign_in(&client, &base).await;
    let alarm = |id: i64| api.get(format!("/api/alarms/{id}"));
    let until = |what: &str, mut ok: Box<dyn FnMut() -> bool + '_>| {
        let deadline = Instant::now() + 40 * SECOND;
        while !ok() {
            assert!(Instant::now() < deadline, "{what}\n{}", server.logs());
            std::thread::sleep(SECOND / 5);
        }
    };
    // Alarm 1 on 4F39, taken by amy: the call to Ann goes unanswered. Alarm 2 on 5A11: nobody
    // took it, so its agent call waits.
    burglary_signal(&client, &base, &keys[0]).await;
    let db = dir.path().join("center.db");
    until("no alarm 1", Box::new(|| common::alarms(&db).len() == 1));
    api.post("/api/alarms/1/take".into(), json!({})).await;
    burglary_signal(&client, &base, &keys[1]).await;
    first_call_unanswered(&api, &server, &mut amy).await;
    assert_eq!(alarm(2).await["account"], "5A11");

    // Ann calls back: her number is on both alarms. The call waits for an agent to say which;
    // amy, who has one of them, is rung meanwhile.
    let says = fixtures.then_silence(
        &fixtures.say("Hi, this is Ann, I got a call from you."),
        1000,
    );
    let mut ann_calls = rig::sipp_callback(
        "sip:+15555550142@127.0.0.1:5070",
        "+15555550101",
        says,
        12 * SECOND,
        5084,
    );
    amy.wait_event("CALL_ESTABLISHED", 15 * SECOND)
        .unwrap_or_else(|| {
            panic!(
                "amy's phone did not ring for the call back\n{}",
                server.logs()
            )
        });
    let deadline = Instant::now() + 10 * SECOND;
    let line = loop {
        let waiting = api.get("/api/lines".into()).await;
        if waiting["lines"][0]["agent"] == "amy" {
            break waiting["lines"][0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no line on amy's phone: {waiting}\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 5).await;
    };
    assert_eq!(line["caller"], "+15555550101", "{line}");
    let candidates: Vec<(i64, &str)> = line["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["alarm"].as_i64().unwrap(), c["account"].as_str().unwrap()))
        .collect();
    assert_eq!(candidates, [(1, "4F39"), (2, "5A11")], "{line}");
    assert!(alarm(1).await["callbacks"].as_array().unwrap().is_empty());
    let attached = api
        .post(
            format!("/api/lines/{}/attach", line["id"]),
            json!({"alarm": 1, "contact": 0}),
        )
        .await;
    let call = attached["call"].as_i64().unwrap();
    assert_eq!(api.get("/api/lines".into()).await["lines"], json!([]));
    assert!(
        ann_calls
            .wait_exit(30 * SECOND)
            .is_some_and(|s| s.success()),
        "the call back failed: {}\n{}",
        ann_calls.log(),
        server.logs()
    );
    amy.wait_event("CALL_CLOSED", 10 * SECOND)
        .unwrap_or_else(|| panic!("amy's call did not end with Ann's\n{}", server.logs()));
    // Her hang-up ended alarm 1's callback, whose recording is the whole call.
    let deadline = Instant::now() + 10 * SECOND;
    loop {
        let now = alarm(1).await;
        let recordings = api.get("/api/alarms/1/recordings".into()).await;
        if now["callbacks"][0]["ended_at_s"].is_number()
            && recordings["recordings"][0]["call"] == call
        {
            assert_eq!(now["callbacks"][0]["from"], "Ann Lee", "{now}");
            let ms = recordings["recordings"][0]["duration_ms"].as_i64().unwrap();
            assert!(ms > 8_000, "a recording of {ms} ms of a 12 s call");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "alarm 1 has no ended callback with its recording: {now} {recordings}\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 5).await;
    }
    assert!(alarm(2).await["callbacks"].as_array().unwrap().is_empty());

    // Cal calls: his number is on no open alarm, and amy is busy with hers. The call waits
    // with his number; an account search finds his account only because he is enrolled.
    let mut cal_calls = rig::sipp_callback(
        "sip:+15555550142@127.0.0.1:5070",
        "+15555550177",
        fixtures.then_silence(&fixtures.say("Hello, this is Cal."), 1000),
        6 * SECOND,
        5086,
    );
    let deadline = Instant::now() + 10 * SECOND;
    let line = loop {
        let waiting = api.get("/api/lines".into()).await;
        if waiting["lines"][0].is_object() {
            break waiting["lines"][0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "Cal's call is not waiting\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 5).await;
    };
    assert_eq!(line["caller"], "+15555550177", "{line}");
    assert_eq!(line["candidates"], json!([]), "{line}");
    assert!(line["agent"].is_null(), "{line}");
    let found = api.get("/api/accounts?phone=%2B15555550177".into()).await;
    assert_eq!(found["accounts"][0]["number"], "7B22", "{found}");
    assert_eq!(found["accounts"][0]["open_alarms"], json!([]), "{found}");
    let nobody = api.get("/api/accounts?phone=%2B15555550199".into()).await;
    assert_eq!(nobody["accounts"], json!([]), "{nobody}");
    assert!(
        cal_calls
            .wait_exit(30 * SECOND)
            .is_some_and(|s| s.success()),
        "Cal's call failed: {}\n{}",
        cal_calls.log(),
        server.logs()
    );
    let deadline = Instant::now() + 5 * SECOND;
    while api.get("/api/lines".into()).await["lines"] != json!([]) {
        assert!(
            Instant::now() < deadline,
            "Cal's call still waits after he hung up"
        );
        tokio::time::sleep(SECOND / 5).await;
    }
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, sipp, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn pressing_1_on_a_practice_call_connects_a_free_agent() {
    rig::isolated(press_one);
}

async fn press_one() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Fixtures::new();
    // Ann answers, says hello, listens to the message and presses 1.
    let _trunk = rig::kamailio(5060, &[("center", "trunk-pw")], Some("127.0.0.1:5080"));
    let _ann = rig::sipp_uas(
        rig::Uas::HelloPressOne {
            audio: fixtures.person(),
        },
        5080,
    );
    let agent_audio = fixtures.then_silence(&fixtures.person(), 60_000);
    let mut amy = Baresip::start(BaresipConfig::new("amy", 5090, agent_audio, true));
    let (server, key) = center(dir.path(), &[("Ann Lee", "+15555550101")], true);
    let base = format!("http://{}", server.http);
    let client = Client::new();
    burglary_signal(&client, &base, &key).await;
    // Nobody took the alarm: the automated call needs no agent until Ann presses 1; then
    // amy, free, is rung and bridged.
    amy.wait_event("CALL_ESTABLISHED", 30 * SECOND)
        .unwrap_or_else(|| panic!("no agent was rung after Ann pressed 1\n{}", server.logs()));
    let alarms = common::alarms(dir.path().join("center.db"));
    let events: Vec<&str> = alarms[0]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["event"].as_str())
        .collect();
    assert!(
        events.contains(&"agent_joined"),
        "{events:?}\n{}",
        server.logs()
    );
    assert_eq!(alarms[0]["mode"], "practice");
}

#[test]
#[ignore = "needs root for a network namespace, and baresip, kamailio, espeak-ng and sox (.ci/run installs them)"]
fn an_agent_overturns_a_machine_verdict_and_is_connected_to_the_person() {
    rig::isolated(overturn);
}

async fn overturn() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Fixtures::new();
    let _trunk = rig::kamailio(
        5060,
        &[
            ("center", "trunk-pw"),
            ("+15555550101", "ann-pw"),
            ("+15555550102", "bo-pw"),
        ],
        None,
    );
    // Ann answers with a long "hello?…": the detector takes it for a greeting.
    let rambling = fixtures.say(
        "Hello? Hello? Yes, this is Ann Lee speaking, I am at home right now. Who is calling \
         please? Hello? Is anyone there? I can hear something on the line, hello? Hello? \
         Yes, this is Ann, who is this, please say something.",
    );
    let mut ann = registered(
        "+15555550101",
        5080,
        fixtures.then_silence(&rambling, 60_000),
        "ann-pw",
    );
    // Bo never answers: his phone rings until the center gives up on him.
    let mut bo_config = BaresipConfig::new(
        "+15555550102",
        5082,
        fixtures.then_silence(&fixtures.person(), 60_000),
        false,
    );
    bo_config.register = Some((
        "sip:127.0.0.1:5060".into(),
        "+15555550102".into(),
        "bo-pw".into(),
    ));
    let mut bo = Baresip::start(bo_config);
    let agent_audio = dir.path().join("agent.wav");
    let sentence = fixtures.then_silence(&fixtures.say(AGENT_SAYS), 1000);
    let mut sox = Command::new("sox");
    for _ in 0..10 {
        sox.arg(&sentence);
    }
    assert!(sox.arg(&agent_audio).status().unwrap().success());
    let mut amy = Baresip::start(BaresipConfig::new("amy", 5090, agent_audio, true));

    let (server, key) = center(
        dir.path(),
        &[("Ann Lee", "+15555550101"), ("Bo Lee", "+15555550102")],
        false,
    );
    let base = format!("http://{}", server.http);
    let client = Client::new();
    burglary_signal(&client, &base, &key).await;
    let api = Api::sign_in(&client, &base).await;
    api.post("/api/alarms/1/take".into(), json!({})).await;

    // The detector says machine: amy is let go and the plan moves on to Bo.
    let deadline = Instant::now() + 30 * SECOND;
    loop {
        let now = api.get("/api/alarms/1".into()).await;
        if now["calls"][0]["result"] == "voicemail" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Ann's call was never taken for a machine: {now}\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 10).await;
    }
    // Amy heard "hello?": she overturns it at once.
    api.post(
        "/api/alarms/1/calls/0/outcome".into(),
        json!({"outcome": "answered"}),
    )
    .await;
    let now = api.get("/api/alarms/1".into()).await;
    assert_eq!(now["calls"][0]["result"], "answered", "{now}");
    assert!(now["calls"][1]["ended_at_s"].is_number(), "{now}");
    assert_eq!(now["current_call"], 0, "{now}");

    // Amy's phone rings again, now for Ann, who is still on the line; they talk a while.
    let deadline = Instant::now() + 20 * SECOND;
    while server
        .logs()
        .matches("agent's phone answered")
        .nth(2)
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "amy's phone was not rung for Ann\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 5).await;
    }
    tokio::time::sleep(6 * SECOND).await;
    assert!(
        !called_and_answered(bo.events()),
        "Bo's phone was answered although nobody picked it up"
    );
    let checked = api
        .post(
            "/api/alarms/1/calls/0/password".into(),
            json!({"password": "blue falcon"}),
        )
        .await;
    assert_eq!(checked["matched"], true);
    api.post(
        "/api/alarms/1/calls/0/decision".into(),
        json!({"decision": "cancel"}),
    )
    .await;
    let closed = api.get("/api/alarms/1".into()).await;
    assert_eq!(closed["disposition"], "canceled_by_contact", "{closed}");
    let timeline = closed["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|row| row["event"] == "answered"
                && row["detail"] == "Ann Lee: a person, not a machine"),
        "{closed}"
    );
    // Why the center let amy go is in the timeline, for her and for the supervisor.
    assert!(
        timeline.iter().any(|row| row["event"] == "detected"
            && row["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("Ann Lee: the detector heard a machine"))),
        "{closed}"
    );
    // Ann heard amy's question over the bridge; the voicemail message never reached her.
    let said = rig::read_wav(&fixtures.say(AGENT_SAYS));
    amy.command("hangup", "");
    ann.wait_event("CALL_CLOSED", 10 * SECOND)
        .unwrap_or_else(|| panic!("Ann's call did not end with amy's\n{}", server.logs()));
    let (_, correlation) =
        rig::locate(&ann.heard(), &said).unwrap_or_else(|| panic!("Ann never heard amy"));
    assert!(correlation > 0.6, "Ann heard amy badly ({correlation:.2})");
    amy.wait_event("CALL_CLOSED", 10 * SECOND);
    assert!(
        rig::voiced_ms(&amy.heard()) > 2000,
        "amy did not hear Ann ({} ms)",
        rig::voiced_ms(&amy.heard())
    );
}

/// Whether a baresip phone answered a call (its events include an established call).
fn called_and_answered(events: Vec<Value>) -> bool {
    events.iter().any(|e| e["type"] == "CALL_ESTABLISHED")
}

/// Waits until alarm 1's first call (to a contact whose phone nobody answers) has ended with
/// no call in progress after it, and amy's phone, rung for it, has hung up.
async fn first_call_unanswered(api: &Api, server: &Server, amy: &mut Baresip) {
    let deadline = Instant::now() + 40 * SECOND;
    loop {
        let now = api.get("/api/alarms/1".into()).await;
        if now["calls"][0]["result"].is_string() && now["current_call"].is_null() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the call to Ann never ended: {now}\n{}",
            server.logs()
        );
        tokio::time::sleep(SECOND / 5).await;
    }
    amy.wait_event("CALL_CLOSED", 10 * SECOND)
        .unwrap_or_else(|| panic!("amy's first call never ended\n{}", server.logs()));
}
