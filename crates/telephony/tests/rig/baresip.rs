//! baresip as a peer: a contact's phone, an answering machine or an agent's softphone, with
//! ctrl_tcp for commands and events and sndfile recordings (TELEPHONY.md §5.3).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::ctrl::Ctrl;
use super::peer::Peer;

/// How a [`Baresip`] is set up.
pub struct BaresipConfig {
    /// UDP and TCP SIP port on 127.0.0.1. baresip 1.0.0 also opens TLS on `sip_port + 1`, so
    /// two phones in one namespace need ports at least 2 apart (5090, 5092, …).
    pub sip_port: u16,
    /// ctrl_tcp port on 127.0.0.1.
    pub ctrl_port: u16,
    /// RTP port range, inclusive; keep ranges of phones in one namespace apart.
    pub rtp_ports: (u16, u16),
    /// An 8 kHz mono WAV played as the microphone. The call ends when it ends (baresip's aufile
    /// source stops the call at end of file), so pad it with silence for long calls.
    pub source: PathBuf,
    /// Answer incoming calls at once (`answermode=auto`), or wait for `command("accept", "")`.
    pub auto_answer: bool,
    /// The user part of the account's address.
    pub user: String,
    /// `Some((registrar_uri, auth_user, password))`: register (regint 600 s, digest) with the
    /// registrar, e.g. `("sip:127.0.0.1:5060", "alice", "secret")`; the address of record is then
    /// `sip:user@<registrar host:port>`. `None`: no registration, address `sip:user@127.0.0.1:sip_port`.
    pub register: Option<(String, String, String)>,
}

impl BaresipConfig {
    /// A phone at `sip_port` (at least 1024) with ctrl_tcp at `sip_port - 1000` and RTP ports
    /// `20000 + 20 × (sip_port mod 1000)` and the 19 after: distinct for distinct SIP ports.
    pub fn new(user: &str, sip_port: u16, source: PathBuf, auto_answer: bool) -> BaresipConfig {
        let rtp = 20_000 + 20 * (sip_port % 1000);
        BaresipConfig {
            sip_port,
            ctrl_port: sip_port - 1000,
            rtp_ports: (rtp, rtp + 19),
            source,
            auto_answer,
            user: user.to_string(),
            register: None,
        }
    }
}

/// A running baresip: one account, one call at a time, every call recorded in `<dir>/rec`.
pub struct Baresip {
    peer: Peer,
    ctrl: Ctrl,
    uri: String,
}

impl Baresip {
    /// Writes its config dir and starts it; returns once ctrl_tcp accepts commands and, when it
    /// registers, once the registrar answered 200 to its REGISTER. Panics (printing its log)
    /// when baresip is missing, does not start within 5 s or its registration fails.
    pub fn start(config: BaresipConfig) -> Baresip {
        let dir = tempfile::Builder::new()
            .prefix("rig-baresip-")
            .tempdir()
            .expect("rig: temp dir");
        let rec = dir.path().join("rec");
        std::fs::create_dir(&rec).expect("rig: recordings dir");
        std::fs::write(dir.path().join("config"), config_file(&config, &rec))
            .expect("rig: write config");
        std::fs::write(dir.path().join("accounts"), account_line(&config))
            .expect("rig: write accounts");
        let mut command = Command::new("baresip");
        command.arg("-f").arg(dir.path());
        let peer = Peer::spawn("baresip", command, dir);
        let ctrl = match Ctrl::connect(config.ctrl_port, Duration::from_secs(5)) {
            Ok(ctrl) => ctrl,
            Err(error) => panic!(
                "rig: baresip's ctrl_tcp on {} did not open: {error}",
                config.ctrl_port
            ),
        };
        if config.register.is_some() {
            assert!(
                peer.wait_log("binding]", Duration::from_secs(5)),
                "rig: baresip {} did not register within 5 s",
                config.user
            );
        }
        let uri = format!("sip:{}@127.0.0.1:{}", config.user, config.sip_port);
        Baresip { peer, ctrl, uri }
    }

    /// Its direct address, `sip:user@127.0.0.1:sip_port`.
    pub fn uri(&self) -> String {
        self.uri.clone()
    }

    /// Sends a ctrl_tcp command (baresip 1.0.0 names: `dial` with a URI, `accept`, `hangup`,
    /// `reginfo`, …) and returns the response, `{"response":true,"ok":…,"data":…,"token":…}`.
    /// Panics when baresip does not answer within 10 s.
    pub fn command(&mut self, command: &str, params: &str) -> Value {
        self.ctrl.command(command, params)
    }

    /// The next event of type `kind` not yet taken (seen in baresip 1.0.0: CALL_INCOMING,
    /// CALL_RINGING, CALL_PROGRESS, CALL_ESTABLISHED, CALL_RTPESTAB, CALL_DTMF_START,
    /// CALL_CLOSED, REGISTER_OK), e.g. `{"event":true,"type":"CALL_CLOSED","peeruri":"sip:…",
    /// "param":"…"}`; `None` after `timeout`.
    pub fn wait_event(&mut self, kind: &str, timeout: Duration) -> Option<Value> {
        self.ctrl.wait_event(kind, timeout)
    }

    /// Every ctrl_tcp event so far, oldest first.
    pub fn events(&mut self) -> Vec<Value> {
        self.ctrl.events()
    }

    /// What it heard on its last call (the newest `rec/dump-*-dec.wav`, written from the first
    /// RTP packet on) as 8 kHz samples. Call it after CALL_CLOSED: the WAV header is completed
    /// when the call ends. Panics when there is no recording.
    pub fn heard(&self) -> Vec<i16> {
        let path = self.last_recording("-dec.wav");
        super::read_wav(&path)
    }

    /// What it sent on its last call (`rec/dump-*-enc.wav`), 8 kHz.
    pub fn said(&self) -> Vec<i16> {
        super::read_wav(&self.last_recording("-enc.wav"))
    }

    /// Its output (the SIP and media story: "Call established", "received event: '1'", …).
    pub fn log(&self) -> String {
        self.peer.log()
    }

    /// Waits up to `timeout` until its log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        self.peer.wait_log(needle, timeout)
    }

    /// The process, e.g. for its temp dir.
    pub fn peer(&mut self) -> &mut Peer {
        &mut self.peer
    }

    fn last_recording(&self, suffix: &str) -> PathBuf {
        let rec = self.peer.dir().join("rec");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&rec)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .collect()
            })
            .unwrap_or_default();
        // The names carry the call's start time (dump-YYYY-MM-DD-hh-mm-ss-dec.wav): sorting
        // by name is sorting by time.
        files.retain(|path| path.to_string_lossy().ends_with(suffix));
        files.sort();
        files
            .pop()
            .unwrap_or_else(|| panic!("rig: baresip {} recorded no call yet", self.uri))
    }
}

fn config_file(config: &BaresipConfig, rec: &std::path::Path) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "module_path /usr/lib/baresip/modules");
    let _ = writeln!(text, "sip_listen 127.0.0.1:{}", config.sip_port);
    let _ = writeln!(text, "audio_source aufile,{}", config.source.display());
    let _ = writeln!(text, "audio_player aufile,/dev/null");
    for module in ["g711.so", "aufile.so", "sndfile.so"] {
        let _ = writeln!(text, "module {module}");
    }
    let _ = writeln!(text, "module_tmp uuid.so\nmodule_tmp account.so");
    let _ = writeln!(text, "module_app menu.so\nmodule_app ctrl_tcp.so");
    let _ = writeln!(text, "ctrl_tcp_listen 127.0.0.1:{}", config.ctrl_port);
    let _ = writeln!(text, "snd_path {}", rec.display());
    let _ = writeln!(
        text,
        "rtp_ports {}-{}",
        config.rtp_ports.0, config.rtp_ports.1
    );
    text
}

fn account_line(config: &BaresipConfig) -> String {
    let answermode = if config.auto_answer { "auto" } else { "manual" };
    match &config.register {
        None => format!(
            "<sip:{}@127.0.0.1:{}>;regint=0;answermode={answermode}\n",
            config.user, config.sip_port
        ),
        Some((registrar, auth_user, password)) => {
            let hostport = registrar.trim_start_matches("sip:");
            format!(
                "<sip:{}@{hostport}>;auth_user={auth_user};auth_pass={password};regint=600;answermode={answermode}\n",
                config.user
            )
        }
    }
}
