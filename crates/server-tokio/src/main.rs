//! `rtmp-server`: the production binary, `server-core` on tokio.
//!
//! All behaviour lives in `server-core`; this file only builds the runtime.

use std::process::ExitCode;

use server_tokio::TokioRuntime;

fn main() -> ExitCode {
    // A binary upgrade (SIGUSR2) hands the listening sockets over as
    // inherited fds, named in an environment variable that
    // `server_core::upgrade` checks was written by our parent for us.
    // SAFETY: each fd number it passes was left open by that parent for
    // this process alone and is taken exactly once, before anything else
    // opens files; the listener made of it becomes its only owner.
    let _ =
        server_core::upgrade::adopt_inherited(|fd| unsafe { server_os::inherited_listener(fd) });
    server_core::cli::main(|config, signals| {
        server_os::heap_trim::start();
        // `workers 1` runs everything on this thread: no cross-thread wakeups.
        let mut builder = match config.workers {
            Some(1) => tokio::runtime::Builder::new_current_thread(),
            Some(n) => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(n as usize);
                b
            }
            None => tokio::runtime::Builder::new_multi_thread(),
        };
        let rt = builder.enable_all().build()?;
        rt.block_on(async {
            let runtime = TokioRuntime::new();
            server_core::cli::run_server(runtime, config, signals).await
        })
    })
}
