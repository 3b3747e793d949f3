//! `rtmp-server`: the production binary, `server-core` on tokio.
//!
//! All behaviour lives in `server-core`; this file only builds the runtime.

mod runtime;

use std::process::ExitCode;

fn main() -> ExitCode {
    server_core::cli::main(|config| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let runtime = runtime::TokioRuntime::new();
            server_core::cli::run_server(runtime, config).await
        })
    })
}
