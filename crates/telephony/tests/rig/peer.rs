//! A peer process owned by a test: its own temp dir and log, killed and reaped on drop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tempfile::TempDir;

/// How much of a failing test's peer log is printed.
const TAIL_LINES: usize = 60;

/// A child process (baresip, sipp, kamailio) killed with its whole process group and reaped on
/// drop. Its stdout and stderr go to `<dir>/<name>.out`; when the thread is panicking, the drop
/// prints the tail of [`Peer::log`] so that a failing test shows what the peer saw.
pub struct Peer {
    name: String,
    child: Child,
    exited: Option<ExitStatus>,
    output: PathBuf,
    dir: TempDir,
}

impl Peer {
    /// Starts `command` in `dir` (its working directory, kept until the drop), in a process
    /// group of its own so that kamailio's workers die with it. Panics when it cannot start.
    pub(crate) fn spawn(name: &str, mut command: Command, dir: TempDir) -> Peer {
        use std::os::unix::process::CommandExt;
        let output = dir.path().join(format!("{name}.out"));
        let file = File::create(&output).expect("rig: create the peer's log file");
        let stderr = file.try_clone().expect("rig: clone the peer's log file");
        command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .process_group(0);
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "rig: cannot start {name} ({command:?}): {error} (.ci/run installs \
                 baresip-core sip-tester kamailio)"
            )
        });
        Peer {
            name: name.to_string(),
            child,
            exited: None,
            output,
            dir,
        }
    }

    /// The peer's own temp dir (its working directory, config and traces).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the peer printed, then each other `*.log` file in its dir (sipp's
    /// `-trace_msg` and `-trace_err` files), each under a `== name ==` line.
    pub fn log(&self) -> String {
        let mut log = std::fs::read_to_string(&self.output).unwrap_or_default();
        let mut extra: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .collect()
            })
            .unwrap_or_default();
        extra.retain(|path| path.extension().is_some_and(|ext| ext == "log"));
        extra.sort();
        for path in extra {
            let text = std::fs::read(&path).unwrap_or_default();
            log.push_str(&format!("\n== {} ==\n", path.display()));
            log.push_str(&String::from_utf8_lossy(&text));
        }
        log
    }

    /// Waits up to `timeout` until [`Peer::log`] contains `needle`; false on timeout.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits up to `timeout` for the peer to exit by itself; its status, or `None` if it is
    /// still running. sipp exits 0 when its call followed the scenario, non-zero otherwise.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited {
                return Some(status);
            }
            match self.child.try_wait() {
                Ok(Some(status)) => self.exited = Some(status),
                Ok(None) if Instant::now() >= deadline => return None,
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(error) => panic!("rig: waiting for {}: {error}", self.name),
            }
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.wait_exit(Duration::ZERO).is_none()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- {} in {} (last {TAIL_LINES} lines) ----",
                self.name,
                self.dir().display()
            );
            eprintln!("{}", tail(&self.log(), TAIL_LINES));
        }
        if !self.running() {
            return;
        }
        // SIGTERM first: kamailio's main process then stops its workers and baresip closes its
        // recordings; SIGKILL to the whole group if that takes too long.
        let group = Pid::from_raw(self.child.id() as i32);
        let _ = killpg(group, Signal::SIGTERM);
        if self.wait_exit(Duration::from_secs(2)).is_none() {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

/// The last `lines` lines of a log, without baresip's per-100 ms status lines.
fn tail(log: &str, lines: usize) -> String {
    let kept: Vec<&str> = log
        .split(['\n', '\r'])
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with("[0:"))
        .collect();
    kept[kept.len().saturating_sub(lines)..].join("\n")
}
