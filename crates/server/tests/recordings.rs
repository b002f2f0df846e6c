//! Call recordings on a real server: saved through `Recordings::save`, listed in the alarm's
//! timeline with a player, served only to a signed-in user (whole or by range, 404 for a call
//! without one), and swept after the retention period unless their alarm is still open.

mod common;

use common::{Center, account};
use prometheus_client::metrics::counter::Counter;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use watchpost_core::router::{Event, open_spec};
use watchpost_core::{AlarmKind, Disposition, Settings, SignalClass};
use watchpost_media::recorder::Recorder;
use watchpost_server::RecordingError;
use watchpost_server::retention::{Retention, RetentionConfig};
use watchpost_store::{Batch, LogBody, LogEntry, Role, StoreError};

const DAY_MS: i64 = 86_400_000;

/// Two seconds of a call: a tone from the contact, silence from the center.
fn wav() -> Vec<u8> {
    let mut recorder = Recorder::new();
    let tone: Vec<i16> = (0..160)
        .map(|i| ((i as f64 * 0.3).sin() * 8_000.0) as i16)
        .collect();
    for frame in 0..100 {
        recorder.contact(frame * 20, &tone);
    }
    recorder.finish()
}

/// Opens a burglary through the signals API and places its first call; returns the alarm.
async fn open_alarm(center: &Center, client: &Client, token: &str) -> i64 {
    let base = &center.base;
    let key = center.api_key("4F39").await;
    let sent = client
        .post(format!("{base}/api/signals"))
        .bearer_auth(key)
        .json(&json!({"sia": "BA003"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let id = loop {
        let queue: Value = client
            .get(format!("{base}/api/alarms"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(id) = queue["alarms"][0]["id"].as_i64() {
            break id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    for path in ["take", "calls/0/outcome"] {
        let done = client
            .post(format!("{base}/api/alarms/{id}/{path}"))
            .bearer_auth(token)
            .json(&json!({"outcome": "placed"}))
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::OK, "{path}");
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_listed_played_by_range_and_only_to_a_signed_in_user() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let client = Client::new();
    let base = center.base.clone();
    let token = common::sign_in(&client, &base, "amy").await;
    let id = open_alarm(&center, &client, &token).await;
    let wav = wav();
    let recordings = &center.server.recordings;

    let refused = recordings.save(id, 0, 0, 2_000, b"not audio").await;
    assert!(
        matches!(refused, Err(RecordingError::NotWav { .. })),
        "{refused:?}"
    );
    let unknown_call = recordings.save(id, 9, 0, 2_000, &wav).await;
    assert!(
        matches!(unknown_call, Err(RecordingError::Timeline { call: 9, .. })),
        "{unknown_call:?}"
    );
    recordings
        .save(id, 0, common::now(), 72_000, &wav)
        .await
        .unwrap();
    let file = center.dir.path().join(format!("recordings/{id}/0.wav"));
    assert_eq!(std::fs::read(&file).unwrap(), wav);

    // Without a session: 401, like every alarm route.
    for path in [
        format!("/api/alarms/{id}/recordings"),
        format!("/api/alarms/{id}/recordings/0"),
    ] {
        let anonymous = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        let forged = client
            .get(format!("{base}{path}"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    let listed = client
        .get(format!("{base}/api/alarms/{id}/recordings"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Value = listed.json().await.unwrap();
    let listed = listed["recordings"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "call 9's recording is kept: {listed:?}");
    assert_eq!(listed[0]["call"], 0);
    assert_eq!(listed[0]["duration_ms"], 72_000);
    assert_eq!(listed[0]["bytes"], wav.len());
    assert_eq!(listed[0]["href"], format!("/api/alarms/{id}/recordings/0"));

    let whole = client
        .get(format!("{base}/api/alarms/{id}/recordings/0"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "audio/wav");
    assert_eq!(whole.bytes().await.unwrap(), wav);

    // The console's player sends the session cookie and asks for ranges.
    let part = client
        .get(format!("{base}/api/alarms/{id}/recordings/0"))
        .header("cookie", format!("wp_session={token}"))
        .header("range", "bytes=4-11")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 4-11/{}", wav.len())
    );
    assert_eq!(part.bytes().await.unwrap(), wav[4..12]);

    for path in [
        format!("/api/alarms/{id}/recordings/5"),
        "/api/alarms/999999/recordings".to_string(),
        "/api/alarms/999999/recordings/0".to_string(),
    ] {
        let missing = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let openapi: Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/alarms/{id}/recordings",
        "/api/alarms/{id}/recordings/{call}",
    ] {
        assert!(openapi["paths"][path]["get"].is_object(), "{path}");
    }

    // Listed in the timeline, with a player in the console.
    let alarm: Value = client
        .get(format!("{base}/api/alarms/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded: Vec<&Value> = alarm["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "recorded")
        .collect();
    assert_eq!(recorded.len(), 1, "{alarm}");
    assert_eq!(recorded[0]["detail"], "Call 1 recorded (1 min 12 s)");
    let panel = client
        .get(format!("{base}/console/alarms/{id}/panel"))
        .header("cookie", format!("wp_session={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(panel.contains("Call 1 recorded (1 min 12 s)"), "{panel}");
    assert!(
        panel.contains(&format!(
            r#"<audio class="recording" controls preload="none" src="/api/alarms/{id}/recordings/0""#
        )),
        "{panel}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_deletes_old_recordings_of_closed_alarms_only() {
    let center = Center::start(&[account()], &[("amy", Role::Agent)], true).await;
    let client = Client::new();
    let token = common::sign_in(&client, &center.base, "amy").await;
    let open = open_alarm(&center, &client, &token).await;
    // A closed alarm written straight to the store, under an id the center will not use.
    let closed = 1_000_000;
    let event = Event::Panel {
        class: SignalClass::Alarm(AlarmKind::Burglary),
        code: "BA".into(),
        zone: Some(3),
    };
    let spec = open_spec(
        &account(),
        AlarmKind::Burglary,
        &event,
        0,
        &Settings::default(),
    );
    center
        .store
        .write(&Batch {
            opened: vec![(closed, spec.clone())],
            entries: vec![(
                closed,
                LogEntry {
                    seq: 0,
                    at: 0,
                    actor: "panel".into(),
                    body: LogBody::Opened {
                        spec: Box::new(spec),
                    },
                },
            )],
            closed: vec![(closed, 1_000, Disposition::OnTest)],
            ..Batch::default()
        })
        .await
        .unwrap();

    let recordings = &center.server.recordings;
    let now = common::now();
    let old = now - 401 * DAY_MS;
    // A closed alarm takes no timeline entry: the recording is still kept.
    recordings
        .save(closed, 0, old, 1_000, &wav())
        .await
        .unwrap();
    recordings
        .save(closed, 1, now - 399 * DAY_MS, 1_000, &wav())
        .await
        .unwrap();
    recordings.save(open, 0, old, 1_000, &wav()).await.unwrap();
    let file = |alarm: i64, call: u32| {
        center
            .dir
            .path()
            .join(format!("recordings/{alarm}/{call}.wav"))
    };
    assert!(file(closed, 0).exists());

    let count = Counter::<u64>::default();
    let sweep = |alarms_before| recordings.sweep(now, alarms_before, 500, Duration::ZERO, &count);
    assert_eq!(sweep(i64::MIN).await.unwrap(), 1);
    assert!(
        !file(closed, 0).exists(),
        "older than 400 days, alarm closed"
    );
    assert!(file(closed, 1).exists(), "younger than 400 days");
    assert!(file(open, 0).exists(), "the alarm is still open");
    let kept: Vec<u32> = center
        .store
        .recordings(closed)
        .await
        .unwrap()
        .iter()
        .map(|r| r.call)
        .collect();
    assert_eq!(kept, [1]);
    assert_eq!(center.store.recordings(open).await.unwrap().len(), 1);
    assert_eq!(sweep(i64::MIN).await.unwrap(), 0, "nothing more to do");
    assert_eq!(count.get(), 1);

    // The whole retention sweep: the closed alarm expired long ago, so its younger recording
    // goes first, then the alarm with its log; the open alarm and its recording stay.
    let retention = Retention::new(
        center.store.clone(),
        recordings.clone(),
        RetentionConfig::default(),
    );
    let swept = retention.sweep(now).await.unwrap();
    assert_eq!((swept.recordings, swept.alarms), (1, 1), "{swept:?}");
    assert!(!file(closed, 1).exists());
    assert!(matches!(
        center.store.log(closed).await,
        Err(StoreError::NoSuchAlarm(_))
    ));
    assert!(file(open, 0).exists(), "the alarm is still open");
    assert!(!center.store.log(open).await.unwrap().is_empty());
    assert_eq!(retention.counts().alarms.get(), 1);
}
