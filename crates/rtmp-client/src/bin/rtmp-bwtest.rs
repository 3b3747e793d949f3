//! `rtmp-bwtest URL`: SRS's bandwidth check against a server, printing
//! the measured kbps as SRS's `srs_bandwidth_check` tool did: text on
//! stdout, one JSON object on stderr (`code`, `duration`, `play_kbps`,
//! `publish_kbps`...), exit status 0 on success.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rtmp_client::bandcheck::{self, BandcheckReport};
use rtmp_client::{ClientOptions, Timeouts};

const USAGE: &str = "\
RTMP bandwidth check/test with a server (SRS's bandcheck).
Usage: rtmp-bwtest [--timeout SECONDS] <rtmp_url>
   rtmp_url   rtmp://server[:port]/app?key=KEY[,vhost=VHOST]
              (the vhost has bandcheck { enabled on; key KEY; })
   --timeout  longest wait to connect and for the connect answer (default 10)
For example:
   rtmp-bwtest rtmp://127.0.0.1:1935/app?key=35c9b402c12a7246868752e2878f7e0e,vhost=bandcheck.srs.com
Text goes to stdout, a JSON summary to stderr.";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut timeout = Duration::from_secs(10);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--timeout" => match args.next().and_then(|s| s.parse::<f64>().ok()) {
                Some(s) if s > 0.0 && s < 3600.0 => timeout = Duration::from_secs_f64(s),
                _ => {
                    eprintln!("--timeout needs seconds (0 to 3600)\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => {
                eprintln!("unexpected argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(url) = url else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let options = ClientOptions {
        timeouts: Timeouts {
            connect: timeout,
            read: timeout,
            ..Timeouts::default()
        },
        ..ClientOptions::default()
    };
    println!("bandwidth check/test url: {url}");
    let started = Instant::now();
    let result = bandcheck::run(&url, &options);
    let elapsed = started.elapsed().as_millis();
    match result {
        Ok(r) => {
            println!("bandwidth check/test success");
            println!(
                "duration: {elapsed}ms({}+{}), play: {}kbps, publish: {}kbps",
                r.play_time_ms, r.publish_time_ms, r.play_kbps, r.publish_kbps
            );
            println!(
                "limit: {}kbps; measured here: received {}kbps, sent {}kbps",
                r.limit_kbps, r.received.kbps, r.sent.kbps
            );
            eprintln!("{}", json(0, elapsed, &r));
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("bandwidth check/test failed: {e}");
            eprintln!("{}", json(-1, elapsed, &BandcheckReport::default()));
            ExitCode::FAILURE
        }
    }
}

/// SRS's summary fields, then ours (numbers only, so no escaping).
fn json(code: i32, duration_ms: u128, r: &BandcheckReport) -> String {
    format!(
        "{{\"code\":{code}, \"duration\":{duration_ms}, \"play_duration\":{}, \
         \"publish_duration\":{}, \"play_kbps\":{}, \"publish_kbps\":{}, \
         \"play_bytes\":{}, \"publish_bytes\":{}, \"limit_kbps\":{}, \
         \"received_kbps\":{}, \"sent_kbps\":{}}}",
        r.play_time_ms,
        r.publish_time_ms,
        r.play_kbps,
        r.publish_kbps,
        r.play_bytes,
        r.publish_bytes,
        r.limit_kbps,
        r.received.kbps,
        r.sent.kbps
    )
}
