//! `conformance replay FILE [--seed N] [--flow K] [--config FILE] [--hls-out DIR]`: replays a
//! capture into the simulated server and prints the report.

use std::path::PathBuf;
use std::process::ExitCode;

use conformance::{replay, Capture, ReplayOptions};

const USAGE: &str =
    "usage: conformance replay FILE [--seed N] [--flow K] [--config FILE] [--hls-out DIR]

Replays the RTMP client connections of FILE (pcap, pcapng, or a raw client
byte stream) into rtmp-server's code on the deterministic simulator and prints
what the server answered. --flow K replays only the K-th connection (1-based);
--config runs the server with an SRS-style config file instead of the default;
--hls-out writes the HLS files the server produced under DIR.";

struct Args {
    file: PathBuf,
    seed: u64,
    flow: Option<usize>,
    config: Option<PathBuf>,
    hls_out: Option<PathBuf>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    match args.next().as_deref() {
        Some("replay") => {}
        Some("-h" | "--help") | None => return Err(String::new()),
        Some(other) => return Err(format!("unknown command {other:?}")),
    }
    let mut file = None;
    let mut seed = sim::seed_from_env(1);
    let mut flow = None;
    let mut config = None;
    let mut hls_out = None;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--seed" => {
                let v = value("--seed")?;
                seed = sim::seed::parse_seed(&v).ok_or_else(|| format!("bad seed {v:?}"))?;
            }
            "--flow" => {
                let v = value("--flow")?;
                let k: usize = v.parse().map_err(|_| format!("bad flow {v:?}"))?;
                flow = Some(k.checked_sub(1).ok_or("flows count from 1")?);
            }
            "--config" => config = Some(PathBuf::from(value("--config")?)),
            "--hls-out" => hls_out = Some(PathBuf::from(value("--hls-out")?)),
            "-h" | "--help" => return Err(String::new()),
            f if file.is_none() && !f.starts_with("--") => file = Some(PathBuf::from(f)),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Args {
        file: file.ok_or("missing FILE")?,
        seed,
        flow,
        config,
        hls_out,
    })
}

fn run(args: Args) -> Result<String, String> {
    let mut capture = Capture::load(&args.file).map_err(|e| e.to_string())?;
    if let Some(k) = args.flow {
        let count = capture.flows.len();
        capture = capture
            .only_flow(k)
            .ok_or_else(|| format!("flow {} out of range (the capture has {count})", k + 1))?;
    }
    let config = match &args.config {
        Some(path) => Some(server_core::config::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let options = ReplayOptions {
        seed: args.seed,
        config,
        ..ReplayOptions::default()
    };
    let report = replay(&capture, &options).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.hls_out {
        for (path, data) in &report.hls.files {
            let target = dir.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&target, data).map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    Ok(format!(
        "{}\ntranscript hash {} (seed {})\n",
        report.render(),
        report.transcript_hash,
        report.seed
    ))
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)).and_then(run) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}
