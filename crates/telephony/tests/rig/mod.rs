//! The real-peer SIP test rig: baresip, sipp and kamailio driven from Rust tests, each test in a
//! network namespace of its own (TELEPHONY.md §5). Test files include it with `mod rig;`.
// Every test file compiles the whole rig and uses only part of it.
#![allow(dead_code, unused_imports)]

mod audio;
mod baresip;
mod ctrl;
mod fixtures;
mod kamailio;
mod peer;
mod sipp;

use std::path::PathBuf;
use std::process::Command;

pub use audio::{find_tone, locate, read_wav, voiced_ms};
pub use baresip::{Baresip, BaresipConfig};
pub use fixtures::Fixtures;
pub use kamailio::kamailio;
pub use peer::Peer;
pub use sipp::{Uas, sipp_callback, sipp_uas};

/// Moves the current thread, and every thread and process it starts afterwards, into a new
/// network namespace with only loopback up and a default route on `lo`. Build the tokio runtime
/// after this call, so that its workers are inside too.
///
/// The default route is there for baresip 1.0.0, which skips loopback when it picks its local
/// address and finds none without a default route (TELEPHONY.md §5.1). Inside, fixed ports
/// cannot clash with other tests or with the machine, and nothing leaves it.
///
/// Panics with the reason when `unshare(CLONE_NEWNET)` fails (not root, or no network
/// namespaces in the kernel) or `ip` cannot set loopback up.
pub fn isolate() {
    if let Err(error) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET) {
        panic!(
            "rig::isolate: unshare(CLONE_NEWNET) failed: {error}; the rig needs root \
             (CAP_SYS_ADMIN) and a kernel with network namespaces"
        );
    }
    run_tool("ip", &["link", "set", "lo", "up"]);
    run_tool("ip", &["route", "add", "default", "dev", "lo"]);
}

/// Runs `test` on a thread of its own inside a fresh network namespace (`isolate`), on a
/// runtime of its own built after it; a panic in it is the caller's.
pub fn isolated<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F + Send + 'static) {
    std::thread::spawn(move || {
        isolate();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("rig: a tokio runtime")
            .block_on(test());
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// `crates/telephony/tests/peers`: the sipp scenarios and the kamailio template.
pub fn peers_dir() -> PathBuf {
    // Through the telephony crate, so other crates' tests can use the rig too.
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../telephony/tests/peers"
    ))
}

/// Runs a tool to completion; panics naming the tool, its arguments and its stderr when it is
/// missing or fails (the rig cannot go on without it).
pub(crate) fn run_tool(program: &str, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "rig: cannot run {program}: {error} (.ci/run installs baresip-core sip-tester \
             kamailio espeak-ng sox)"
            )
        });
    assert!(
        output.status.success(),
        "rig: `{program} {}` failed ({}): {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
