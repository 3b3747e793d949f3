//! `rtmp-load`: see `rtmp-load --help` and the `bench` crate docs.

use std::process::ExitCode;

use bench::options::{self, Command, USAGE};

fn main() -> ExitCode {
    let command = match options::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rtmp-load: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let opts = match command {
        Command::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Run(opts) => opts,
    };
    let json = opts.json;
    let report = match bench::run::run(opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rtmp-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
    // Failure when no client ever got going: a script should notice.
    if report.totals.started > 0 && report.first_frame_ms.is_none() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
