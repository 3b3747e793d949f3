//! ffmpeg run by the server: ingest (a source ffmpeg reads, published into
//! this server) and transcode (a published stream re-encoded and published
//! again), as SRS's `ingest` and `transcode` blocks do.
//!
//! - [`supervisor`]: one process manager for both: restart with backoff,
//!   dead-loop parking, stop with SIGTERM then SIGKILL, the table the API
//!   (`/api/v1/processes`) and `/metrics` list;
//! - [`args`]: SRS's ffmpeg command line; [`engine`]'s `EngineConfig` is an
//!   `engine { }` block;
//! - [`ingest`]: started with the server, kept in line with the config by
//!   reloads;
//! - [`transcode`]: an output of the stream lifecycle, started by a
//!   publish and stopped by its unpublish.
//!
//! Processes run through [`crate::runtime::Runtime::spawn_process`]; see
//! [`crate::process`] for how none outlives the server.

pub mod args;
pub mod engine;
pub mod ingest;
pub mod supervisor;
pub mod transcode;

use std::path::Path;

pub use engine::EngineConfig;
pub use ingest::{IngestConfig, IngestInput, IngestManager};
pub use supervisor::{ProcessKind, ProcessState, ProcessStatus, ProcessTable};
pub use transcode::{Transcode, TranscodeConfig};

use crate::process::ProcessLog;

/// SRS's `ff_log_dir` value that discards ffmpeg's output.
pub const NULL_LOG: &str = "/dev/null";

/// Where a process's output goes: `ff_log_dir/ffmpeg-PARTS-joined-by-dashes.log`
/// (SRS's names), or nowhere for `ff_log_dir /dev/null`. Each part is
/// reduced to characters safe in a file name, so a stream name never
/// leaves the directory.
pub(crate) fn log_target(dir: &Path, parts: &[&str]) -> ProcessLog {
    if dir == Path::new(NULL_LOG) {
        return ProcessLog::Discard;
    }
    let name: Vec<String> = parts
        .iter()
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
                .trim_start_matches('.')
                .to_owned()
        })
        .collect();
    ProcessLog::File(dir.join(format!("ffmpeg-{}.log", name.join("-"))))
}

/// SRS's time variables in an `output` (`srs_path_build_timestamp`): `[2006]`
/// year, `[01]` month, `[02]` day, `[15]` hour, `[04]` minute, `[05]` second,
/// `[999]` millisecond (UTC, as in `dvr_path`) and `[timestamp]` (Unix ms).
pub fn build_timestamp(text: &str, unix_ms: u64) -> String {
    if !text.contains('[') {
        return text.to_owned();
    }
    let d = media_core::hls::Civil::from_unix_ms(unix_ms);
    text.replace("[2006]", &format!("{:04}", d.year))
        .replace("[01]", &format!("{:02}", d.month))
        .replace("[02]", &format!("{:02}", d.day))
        .replace("[15]", &format!("{:02}", d.hour))
        .replace("[04]", &format!("{:02}", d.minute))
        .replace("[05]", &format!("{:02}", d.second))
        .replace("[999]", &format!("{:03}", d.milli))
        .replace("[timestamp]", &unix_ms.to_string())
}

/// The loopback address and port ffmpeg reaches this server's RTMP on (the
/// first RTMP listener: SRS uses the first `listen`).
pub(crate) fn local_rtmp(ctx: &crate::context::ServerCtx) -> Option<std::net::SocketAddr> {
    let (_, addr) = ctx
        .reload
        .listeners()
        .into_iter()
        .find(|(k, _)| *k == crate::settings::ListenerKind::Rtmp)?;
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    Some(std::net::SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_variables() {
        assert_eq!(
            build_timestamp(
                "rtmp://h/live/s_[2006][01][02]-[15][04][05].[999]_[timestamp]",
                1_700_000_000_123
            ),
            "rtmp://h/live/s_20231114-221320.123_1700000000123"
        );
    }

    #[test]
    fn log_files_stay_in_their_directory() {
        assert_eq!(
            log_target(
                Path::new("./objs"),
                &["encoder", "v", "live", "../x/y", "hd"]
            ),
            ProcessLog::File("./objs/ffmpeg-encoder-v-live-_x_y-hd.log".into())
        );
        assert_eq!(
            log_target(Path::new("/dev/null"), &["ingest"]),
            ProcessLog::Discard
        );
    }
}
