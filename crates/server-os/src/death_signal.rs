//! The child half of "no ffmpeg outlives the server": a `pre_exec` hook
//! asking the kernel to `SIGKILL` the child when its parent goes
//! (`PR_SET_PDEATHSIG`, prctl(2), Linux only; elsewhere children are still
//! stopped with their process group on every orderly stop).
//!
//! The signal fires when the *thread* that forked the child ends. Children
//! are spawned from the runtime's worker threads, which live as long as the
//! server, never from its blocking pool (whose idle threads exit).

/// Adds the death-signal hook to `cmd` (Linux), and refuses to start a
/// child whose parent already died between fork and the hook.
pub fn arm(cmd: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = rustix::process::getpid();
        // SAFETY: the closure runs in the forked child before exec. It only
        // makes system calls (async-signal-safe), allocates nothing and
        // touches no lock: what pre_exec requires.
        unsafe {
            cmd.pre_exec(move || {
                rustix::process::set_parent_process_death_signal(Some(
                    rustix::process::Signal::KILL,
                ))?;
                if rustix::process::getppid() != Some(parent) {
                    return Err(rustix::io::Errno::SRCH.into());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}
