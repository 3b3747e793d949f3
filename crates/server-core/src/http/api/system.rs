//! `/api/v1/summaries`: process and system figures, best effort.
//!
//! Read from Linux `/proc` through the runtime's file system, so elsewhere (or
//! in the simulator, whose file system has no `/proc`) the figures are zero and
//! `ok` is false. CPU percentages need two samples over time and the API keeps
//! no state between calls, so they are reported as 0.

use std::path::Path;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::server::ServerCtx;

/// The most bytes read from one `/proc` file.
pub const PROC_READ_LIMIT: u64 = 1024 * 1024;

/// `data.self`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct SelfInfo {
    pub(crate) version: String,
    pub(crate) pid: u32,
    pub(crate) ppid: u32,
    pub(crate) argv: String,
    pub(crate) cwd: String,
    /// Resident set size.
    pub(crate) mem_kbyte: u64,
    /// Share of physical memory, 0..1.
    pub(crate) mem_percent: f64,
    pub(crate) cpu_percent: f64,
    /// Seconds since the runtime started.
    pub(crate) srs_uptime: u64,
}

/// `data.system`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct SystemInfo {
    pub(crate) cpu_percent: f64,
    pub(crate) mem_ram_kbyte: u64,
    /// Share of physical memory in use, 0..1.
    pub(crate) mem_ram_percent: f64,
    pub(crate) mem_swap_kbyte: u64,
    pub(crate) mem_swap_percent: f64,
    pub(crate) cpus: u32,
    pub(crate) cpus_online: u32,
    pub(crate) uptime: f64,
    /// SRS's spelling.
    pub(crate) ilde_time: f64,
    pub(crate) load_1m: f64,
    pub(crate) load_5m: f64,
    pub(crate) load_15m: f64,
    pub(crate) srs_recv_bytes: u64,
    pub(crate) srs_send_bytes: u64,
    pub(crate) conn_srs: usize,
}

/// `data`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Summaries {
    pub(crate) ok: bool,
    pub(crate) now_ms: u64,
    #[serde(rename = "self")]
    pub(crate) self_: SelfInfo,
    pub(crate) system: SystemInfo,
}

/// The value after `key:` on the line starting with it (`/proc/meminfo`, `/proc/self/status`).
fn kv_number(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The parent pid from `/proc/self/stat` (`pid (comm) state ppid ...`; comm may hold spaces).
fn ppid(stat: &str) -> Option<u32> {
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Processors listed in `/proc/stat` (`cpu0`, `cpu1`, ...).
fn cpu_count(stat: &str) -> u32 {
    let n = stat
        .lines()
        .filter(|l| {
            l.strip_prefix("cpu")
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The first `n` whitespace-separated numbers of `text`.
fn floats<const N: usize>(text: &str) -> Option<[f64; N]> {
    let mut out = [0.0; N];
    let mut words = text.split_whitespace();
    for slot in &mut out {
        *slot = words.next()?.parse().ok()?;
    }
    Some(out)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Collects the summaries.
pub(crate) async fn summaries(ctx: &ServerCtx) -> Summaries {
    let fs = ctx.rt.fs();
    let read = |p: &'static str| {
        let fut = fs.read(Path::new(p), PROC_READ_LIMIT);
        async move {
            fut.await
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        }
    };
    let status = read("/proc/self/status").await;
    let self_stat = read("/proc/self/stat").await;
    let meminfo = read("/proc/meminfo").await;
    let stat = read("/proc/stat").await;
    let uptime = read("/proc/uptime").await;
    let loadavg = read("/proc/loadavg").await;
    let ok = [&status, &self_stat, &meminfo, &stat, &uptime, &loadavg]
        .iter()
        .all(|f| f.is_some());

    let mut out = Summaries {
        ok,
        now_ms: ctx.rt.unix_time_ms(),
        ..Summaries::default()
    };
    let s = &mut out.self_;
    s.version = crate::VERSION.to_owned();
    s.pid = std::process::id();
    s.ppid = self_stat.as_deref().and_then(ppid).unwrap_or(0);
    s.argv = std::env::args().collect::<Vec<_>>().join(" ");
    s.cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    s.mem_kbyte = status
        .as_deref()
        .and_then(|t| kv_number(t, "VmRSS"))
        .unwrap_or(0);
    s.srs_uptime = ctx.rt.now().as_secs();

    let sys = &mut out.system;
    if let Some(m) = meminfo.as_deref() {
        let total = kv_number(m, "MemTotal").unwrap_or(0);
        let available = kv_number(m, "MemAvailable").unwrap_or(total);
        let swap_total = kv_number(m, "SwapTotal").unwrap_or(0);
        let swap_free = kv_number(m, "SwapFree").unwrap_or(swap_total);
        sys.mem_ram_kbyte = total;
        sys.mem_ram_percent = ratio(total.saturating_sub(available), total);
        sys.mem_swap_kbyte = swap_total;
        sys.mem_swap_percent = ratio(swap_total.saturating_sub(swap_free), swap_total);
        out.self_.mem_percent = ratio(out.self_.mem_kbyte, total);
    }
    let sys = &mut out.system;
    sys.cpus = stat.as_deref().map_or(0, cpu_count);
    sys.cpus_online = sys.cpus;
    if let Some([up, idle]) = uptime.as_deref().and_then(floats::<2>) {
        sys.uptime = up;
        sys.ilde_time = idle;
    }
    if let Some([l1, l5, l15]) = loadavg.as_deref().and_then(floats::<3>) {
        sys.load_1m = l1;
        sys.load_5m = l5;
        sys.load_15m = l15;
    }
    let clients = ctx.hub.clients();
    sys.conn_srs = clients.len();
    for c in &clients {
        sys.srs_recv_bytes = sys
            .srs_recv_bytes
            .saturating_add(c.bytes_in.load(Ordering::Relaxed));
        sys.srs_send_bytes = sys
            .srs_send_bytes
            .saturating_add(c.bytes_out.load(Ordering::Relaxed));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let meminfo = "MemTotal:       16000000 kB\nMemFree:  1 kB\nMemAvailable:   4000000 kB\nSwapTotal: 0 kB\n";
        assert_eq!(kv_number(meminfo, "MemTotal"), Some(16_000_000));
        assert_eq!(kv_number(meminfo, "MemAvailable"), Some(4_000_000));
        assert_eq!(kv_number(meminfo, "Mem"), None);
        assert_eq!(kv_number(meminfo, "Cached"), None);
        assert_eq!(ppid("4242 (my (odd) name) S 17 4242 0"), Some(17));
        assert_eq!(ppid("garbage"), None);
        assert_eq!(
            cpu_count("cpu  1 2 3\ncpu0 1 2\ncpu1 3 4\nintr 5\nctxt 9\n"),
            2
        );
        assert_eq!(
            floats::<3>("0.52 0.58 0.59 1/1001 4242\n"),
            Some([0.52, 0.58, 0.59])
        );
        assert_eq!(floats::<2>("12.5"), None);
        assert_eq!(ratio(1, 0), 0.0);
    }
}
