//! `rtmp-server-smol`: the same server as `rtmp-server`, on smol, for small boards.
//!
//! All behaviour lives in `server-core`; this file only builds the runtime: one
//! executor thread driving every connection, or `workers N` threads sharing
//! the executor.

mod runtime;

use std::process::ExitCode;
use std::sync::Arc;

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
        let executor = Arc::new(async_executor::Executor::new());
        let runtime = runtime::SmolRuntime::new(executor.clone());
        let extra = config.workers.unwrap_or(1).saturating_sub(1);
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let helpers: Vec<_> = (0..extra)
            .map(|i| {
                let executor = executor.clone();
                let stopped = stopped.clone();
                std::thread::Builder::new()
                    .name(format!("worker-{}", i + 1))
                    .spawn(move || async_io::block_on(executor.run(stopped.recv())))
            })
            .collect::<std::io::Result<_>>()?;
        let result = async_io::block_on(
            executor.run(server_core::cli::run_server(runtime, config, signals)),
        );
        drop(stop);
        for h in helpers {
            let _ = h.join();
        }
        result
    })
}
