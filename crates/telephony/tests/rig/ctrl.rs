//! A client for baresip's ctrl_tcp module: netstring-framed JSON commands, responses and events
//! (TELEPHONY.md §5.3).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a command may wait for its response.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// One ctrl_tcp connection. A reader thread parses every message; responses are matched to
/// commands by token, and events queue until a `wait_event` takes them.
pub struct Ctrl {
    stream: TcpStream,
    messages: Receiver<Value>,
    pending: VecDeque<Value>,
    seen: Vec<Value>,
    next_token: u64,
}

impl Ctrl {
    /// Connects to 127.0.0.1:`port`, retrying for up to `timeout` while baresip starts.
    pub fn connect(port: u16, timeout: Duration) -> std::io::Result<Ctrl> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(stream) => break stream,
                Err(error) if Instant::now() >= deadline => return Err(error),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        let (sender, messages) = channel();
        let mut reader = BufReader::new(stream.try_clone()?);
        std::thread::spawn(move || {
            while let Some(message) = read_netstring(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Ok(Ctrl {
            stream,
            messages,
            pending: VecDeque::new(),
            seen: Vec::new(),
            next_token: 1,
        })
    }

    /// Sends `{"command", "params", "token"}` and returns baresip's response, e.g.
    /// `{"response":true,"ok":true,"data":"…","token":"t1"}`. Panics when baresip does not
    /// answer within 10 s or the connection broke.
    pub fn command(&mut self, command: &str, params: &str) -> Value {
        let token = format!("t{}", self.next_token);
        self.next_token += 1;
        let body = json!({"command": command, "params": params, "token": token}).to_string();
        let frame = format!("{}:{},", body.len(), body);
        self.stream
            .write_all(frame.as_bytes())
            .expect("rig: write to baresip ctrl_tcp");
        let deadline = Instant::now() + RESPONSE_TIMEOUT;
        loop {
            let Some(message) = self.receive(deadline) else {
                panic!("rig: baresip did not answer `{command} {params}` within 10 s");
            };
            if message.get("response").is_some() && message["token"] == token.as_str() {
                return message;
            }
        }
    }

    /// The first not yet taken event whose `type` is `kind` (e.g. "CALL_ESTABLISHED"),
    /// waiting up to `timeout` for it; `None` on timeout.
    pub fn wait_event(&mut self, kind: &str, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(index) = self.pending.iter().position(|event| event["type"] == kind) {
                return self.pending.remove(index);
            }
            self.receive(deadline)?;
        }
    }

    /// Every event received so far, taken or not, oldest first.
    pub fn events(&mut self) -> Vec<Value> {
        while self.receive(Instant::now()).is_some() {}
        self.seen.clone()
    }

    /// The next message before `deadline`; events are also queued and remembered.
    fn receive(&mut self, deadline: Instant) -> Option<Value> {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(wait) {
            Ok(message) => {
                if message.get("event").is_some() {
                    self.pending.push_back(message.clone());
                    self.seen.push(message.clone());
                }
                Some(message)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }
}

/// One `len:json,` netstring; `None` at end of stream or on a frame that is not one.
fn read_netstring(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = Vec::new();
    reader.read_until(b':', &mut length).ok()?;
    let length: usize = std::str::from_utf8(length.strip_suffix(b":")?)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let mut body = vec![0; length + 1];
    reader.read_exact(&mut body).ok()?;
    (body.pop() == Some(b',')).then_some(())?;
    serde_json::from_slice(&body).ok()
}
