//! Gives freed heap back to the system (issues 22 and 23 §4).
//!
//! glibc's malloc keeps what the process freed for reuse and returns only the
//! top of each arena, so after 200 publishers left the server sat at its peak
//! RSS (92 MB, 6 MB idle) with a few MB in use, until `malloc_trim(0)` was
//! called by hand. A thread of its own looks every [`CHECK_EVERY`] and trims
//! when the resident memory that is neither in use nor the process's
//! non-heap baseline (code, stacks, measured at start) exceeds a quarter of
//! what is in use, and at least [`MIN_SLACK`]: once after a crowd leaves,
//! not over and over under a steady load, whose free fragments stay below
//! that. Trimming walks the arenas and `madvise`s free pages away; it runs
//! here, never on an executor thread. Measured against jemalloc and mimalloc
//! (preloaded) in BENCHMARKS.md ("Allocator").

use std::time::Duration;

/// How often the thread looks.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
/// Free resident heap below this is never worth a trim.
pub const MIN_SLACK: usize = 2 << 20;
/// Blocks of this size and more get pages of their own (`mmap`), given back
/// the moment they are freed. glibc's default starts at 128 KiB and rises
/// to the largest block freed so far, so a key frame, a reassembled
/// message or an HLS piece of a stream long gone stayed in the heap, and
/// the small blocks allocated beside it pinned its pages: after 1500 short
/// publishes RSS stayed 11 % over idle with the trim, 7 % with this
/// (BENCHMARKS.md, "Memory after 1500 short publishes"). An operator's
/// `MALLOC_MMAP_THRESHOLD_` is left alone.
pub const MMAP_THRESHOLD: usize = 32 * 1024;

/// Starts the trimming thread (glibc on Linux; elsewhere nothing to do).
pub fn start() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: mallopt only sets a glibc tunable, under the
            // allocator's own lock.
            unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) };
        }
        let Some(baseline) = stats().map(|(resident, in_use)| resident.saturating_sub(in_use))
        else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("heap-trim".into())
            .stack_size(64 * 1024)
            .spawn(move || loop {
                std::thread::sleep(CHECK_EVERY);
                if let Some((resident, in_use)) = stats() {
                    let idle = resident.saturating_sub(in_use).saturating_sub(baseline);
                    if idle > MIN_SLACK.max(in_use / 4) {
                        // SAFETY: malloc_trim only releases free memory of
                        // glibc's own arenas; it takes their locks itself.
                        unsafe { libc::malloc_trim(0) };
                    }
                }
            });
    }
}

/// Resident bytes (proc(5) statm) and heap bytes in use (mallinfo2(3)).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn stats() -> Option<(usize, usize)> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page = rustix::param::page_size();
    // SAFETY: mallinfo2 only reads glibc's allocator statistics.
    let info = unsafe { libc::mallinfo2() };
    Some((pages * page, info.uordblks + info.hblkhd))
}
