//! Helpers for the process-level tests: enrolling accounts, running `watchpost serve` as a
//! child process that is always killed when the test ends, and reading alarms back.
#![allow(dead_code)]

pub mod panel;

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_watchpost");

/// The master key every command and server of these tests runs with (DC-09 keys are sealed
/// with it; README, "Secrets").
pub const MASTER_KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

/// Who the test centers are to the people they call.
pub const CENTER_NAME: &str = "Test Monitoring";
pub const CALLBACK_NUMBER: &str = "+15555550142";

/// A free loopback port for both TCP and UDP (the receiver binds both on one address).
pub fn free_addr() -> SocketAddr {
    for _ in 0..50 {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind a TCP port");
        let addr = tcp.local_addr().expect("local address");
        if UdpSocket::bind(addr).is_ok() {
            return addr;
        }
    }
    panic!("no port free for both TCP and UDP");
}

/// One `[[accounts]]` table as `accounts import` reads it. `extra` is added verbatim (keys,
/// supervision).
pub fn account_toml(number: &str, extra: &str) -> String {
    format!(
        r#"[[accounts]]
number = "{number}"
premises = "residential"
address = "12 Elm St, Springfield, IL 62701"
country = "US"
region = "IL"
monitoring = "professional"
enrolled = "2025-01-01T00:00:00Z"
verbal_password = "blue falcon"
{extra}

[[accounts.contacts]]
name = "Ann Lee"
phone = "+15555550101"

"#
    )
}

/// Runs `watchpost ARGS` with `stdin` as its input; panics unless it succeeds. Returns its
/// output.
pub fn cli(args: &[&str], stdin: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new(BIN)
        .env("WATCHPOST_MASTER_KEY", MASTER_KEY)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run watchpost");
    child
        .stdin
        .take()
        .expect("its stdin")
        .write_all(stdin.as_bytes())
        .expect("write its stdin");
    let out = child.wait_with_output().expect("wait for watchpost");
    assert!(
        out.status.success(),
        "watchpost {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Enrols the accounts (TOML text) into `db` (a SQLite file or a `postgres://` URL).
pub fn enrol(dir: &Path, db: impl AsRef<OsStr>, toml: &str) {
    let file = dir.join("accounts.toml");
    std::fs::write(&file, toml).expect("write the accounts file");
    let out = Command::new(BIN)
        .env("WATCHPOST_MASTER_KEY", MASTER_KEY)
        .args(["accounts", "import"])
        .arg(&file)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run watchpost accounts import");
    assert!(
        out.status.success(),
        "accounts import failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How `serve` is started, beyond its database and addresses.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// More `serve` arguments: `--node`, `--lease`...
    pub args: &'a [&'a str],
    /// More environment for the process, e.g. `RUST_LOG`.
    pub env: &'a [(&'a str, &'a str)],
    /// How long it may take to say its DC-09 receiver is on.
    pub ready_within: Duration,
}

impl Options<'_> {
    pub fn ready_within(ready_within: Duration) -> Options<'static> {
        Options {
            args: &[],
            env: &[],
            ready_within,
        }
    }
}

/// A running `watchpost serve`; SIGKILLed on drop unless it was stopped, so no server outlives
/// its test, even one that fails.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    /// The HTTP API, on a port of its own.
    pub http: SocketAddr,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Server {
    /// Starts `serve` on `addr` and waits (at most `ready_within`) for its "DC-09 receiver on"
    /// line. `name` tells this run's log files apart.
    pub fn start(
        dir: &Path,
        db: impl AsRef<OsStr>,
        addr: SocketAddr,
        name: &str,
        ready_within: Duration,
    ) -> Server {
        Server::start_with_http(dir, db, addr, free_addr(), name, ready_within)
    }

    /// Like `start`, with the HTTP API on `http`.
    pub fn start_with_http(
        dir: &Path,
        db: impl AsRef<OsStr>,
        addr: SocketAddr,
        http: SocketAddr,
        name: &str,
        ready_within: Duration,
    ) -> Server {
        let options = Options::ready_within(ready_within);
        Server::start_with_options(dir, db, addr, http, name, options)
    }

    /// Like `start_with_http`, with more arguments and environment.
    pub fn start_with_options(
        dir: &Path,
        db: impl AsRef<OsStr>,
        addr: SocketAddr,
        http: SocketAddr,
        name: &str,
        options: Options,
    ) -> Server {
        let mut command = Command::new(BIN);
        command
            .env("WATCHPOST_MASTER_KEY", MASTER_KEY)
            .arg("serve")
            .arg("--db")
            .arg(db)
            .arg("--dc09")
            .arg(addr.to_string())
            .arg("--http")
            .arg(http.to_string())
            .args([
                "--center-name",
                CENTER_NAME,
                "--callback-number",
                CALLBACK_NUMBER,
            ])
            .args(options.args)
            .envs(options.env.iter().copied());
        Server::spawn(dir, command, addr, http, name, options.ready_within)
    }

    /// Runs `command` (a `watchpost serve` with all its arguments) and waits (at most
    /// `ready_within`) for its "DC-09 receiver on" line for `addr`.
    pub fn spawn(
        dir: &Path,
        mut command: Command,
        addr: SocketAddr,
        http: SocketAddr,
        name: &str,
        ready_within: Duration,
    ) -> Server {
        let stdout = dir.join(format!("{name}.stdout"));
        let stderr = dir.join(format!("{name}.stderr"));
        let child = command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("spawn watchpost serve");
        let mut server = Server {
            child: Some(child),
            addr,
            http,
            stdout,
            stderr,
        };
        let ready = format!("DC-09 receiver on tcp://{addr} and udp://{addr}");
        let deadline = Instant::now() + ready_within;
        loop {
            if server.stdout_text().contains(&ready) {
                return server;
            }
            if let Some(status) = server.child_mut().try_wait().expect("try_wait") {
                panic!(
                    "serve exited with {status} before it was ready\n{}",
                    server.logs()
                );
            }
            if Instant::now() > deadline {
                panic!("serve not ready within {ready_within:?}\n{}", server.logs());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("the server is running")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Both output files, for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "--- serve stdout ---\n{}", self.stdout_text());
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let _ = writeln!(text, "--- serve stderr ---\n{stderr}");
        text
    }

    /// SIGKILL, as a crash or power loss would stop it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to `within` for a clean exit.
    pub fn terminate(&mut self, within: Duration) -> ExitStatus {
        let pid = self.pid().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child_mut().try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            if Instant::now() > deadline {
                let logs = self.logs();
                self.kill();
                panic!("serve did not stop within {within:?} of SIGTERM\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `watchpost alarms --json --state all`, one value per alarm.
pub fn alarms(db: impl AsRef<OsStr>) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .env("WATCHPOST_MASTER_KEY", MASTER_KEY)
        .args(["alarms", "--json", "--state", "all", "--db"])
        .arg(db)
        .output()
        .expect("run watchpost alarms");
    assert!(
        out.status.success(),
        "watchpost alarms failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}
