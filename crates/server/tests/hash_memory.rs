//! Memory that password hashing took goes back to the system after a burst (issue 13, item 2:
//! 600 sign-ins left 10.7 GiB allocated). Its own test binary: the allocator setting it checks
//! is process-wide.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

/// The process's resident memory, in MiB.
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}

/// Two rounds of four hashes at once, on new threads each time (as the blocking pool makes
/// them): without the setting, the second round's 19 MiB blocks come from per-thread arenas,
/// which glibc keeps after they are freed.
#[test]
fn a_burst_of_password_hashes_leaves_no_memory_behind() {
    watchpost_server::auth::return_freed_hash_memory();
    let before = rss_mib();
    for _round in 0..2 {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    watchpost_server::auth::hash_user_password("correct horse battery")
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
    let after = rss_mib();
    assert!(
        after < before + 30,
        "{before} MiB before the burst, {after} MiB after"
    );
}
