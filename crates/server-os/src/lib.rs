//! The few operating-system calls both server binaries make that need
//! `unsafe`, which `server-core` forbids: giving freed heap back
//! ([`heap_trim`]), killing ffmpeg children when the server dies
//! ([`death_signal`]), and taking over listening sockets handed down by a
//! binary upgrade ([`inherited_listener`]). One copy for the tokio and the
//! smol builds, each call with its SAFETY argument.

pub mod death_signal;
pub mod heap_trim;

/// The listening socket whose fd number a binary upgrade (SIGUSR2) passed
/// down, as a std listener; given to `server_core::upgrade::adopt_inherited`.
///
/// # Safety
/// `fd` must be an open listening socket this process owns and takes
/// exactly once: `adopt_inherited` checks the variable naming the fds was
/// written by this process's parent for it, and is called before anything
/// else opens files.
pub unsafe fn inherited_listener(fd: std::os::fd::RawFd) -> std::net::TcpListener {
    // SAFETY: the caller's contract above.
    unsafe { <std::net::TcpListener as std::os::fd::FromRawFd>::from_raw_fd(fd) }
}
