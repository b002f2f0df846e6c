//! Memory that argon2 frees goes back to the system. Each hash takes a 19 MiB block; glibc
//! raises its mmap threshold to the size of the largest block freed (up to 32 MiB), after
//! which such blocks come from per-thread arenas and stay in the process after a burst
//! (issue 13, item 2: 10.7 GiB after 600 sign-ins). A fixed threshold keeps every block of
//! 1 MiB or more mmapped, so freeing it unmaps it at once.

/// Fixes glibc's mmap threshold at 1 MiB (once; later calls do nothing). Elsewhere than
/// glibc, nothing to do.
pub fn return_freed_hash_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only sets an allocator parameter; it is thread-safe in glibc.
            let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
            if set != 1 {
                tracing::warn!("could not set the allocator's mmap threshold");
            }
        });
    }
}
