//! The process's memory allocator: jemalloc, set to give memory back. A flood of signals
//! (every panel after a regional power cut) takes memory on every worker thread; glibc's
//! per-thread arenas keep most of it after the flood ends, where jemalloc's background thread
//! returns pages unused for a second to the system, so a center is back near its idle size
//! soon after a load (README, "Performance and scale").

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's `malloc_conf` (jemalloc(3), read once at its start): a background thread
/// purges, so memory goes back even while the process is idle; dirty pages are kept 1 s
/// (default 10 s) and not kept "muzzy" after, so what goes back shows in RSS at once.
#[repr(transparent)]
pub struct MallocConf(*const std::ffi::c_char);

// SAFETY: a pointer to a constant, immutable C string.
unsafe impl Sync for MallocConf {}

#[unsafe(export_name = "_rjem_malloc_conf")]
pub static MALLOC_CONF: MallocConf =
    MallocConf(c"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0".as_ptr());
