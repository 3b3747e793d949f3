//! `rtmp-server-smol`: the same server as `rtmp-server`, on smol, for small boards.
//!
//! All behaviour lives in `server-core`; this file only builds the runtime: one
//! executor thread driving every connection.

mod runtime;

use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    server_core::cli::main(|config| {
        let executor = Arc::new(async_executor::Executor::new());
        let runtime = runtime::SmolRuntime::new(executor.clone());
        async_io::block_on(executor.run(server_core::cli::run_server(runtime, config)))
    })
}
