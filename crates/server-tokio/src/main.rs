//! `rtmp-server`: the production binary, `server-core` on tokio.
//!
//! All behaviour lives in `server-core`; this file only builds the runtime.

use std::process::ExitCode;

use server_tokio::TokioRuntime;

fn main() -> ExitCode {
    server_core::cli::main(|config, signals| {
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
