//! `/api/v1/summaries`: process and system figures, best effort.
//!
//! Read from Linux `/proc` through the runtime's file system, so elsewhere (or
//! in the simulator, whose file system has no `/proc`) the figures are zero and
//! `ok` is false. CPU shares need two samples: they cover the time since the
//! previous call (the server keeps that one sample), and are 0 on the first.

use std::path::Path;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::context::ServerCtx;

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
    /// Share of the machine's CPU time this process used since the
    /// previous call, 0..1 (as `top`'s figure divided by 100 × CPUs).
    pub(crate) cpu_percent: f64,
    /// Seconds since the runtime started.
    pub(crate) srs_uptime: u64,
}

/// `data.system`.
#[derive(Debug, Default, Serialize)]
pub(crate) struct SystemInfo {
    /// Share of the machine's CPU time not idle since the previous call, 0..1.
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
    /// The server-wide RTMP reassembly budget (not in SRS).
    pub(crate) rtmp_reassembly: ReassemblyInfo,
}

/// `data.rtmp_reassembly`: what all RTMP connections' partial messages
/// hold, the budget (`rtmp_reassembly_budget`), and how many connections
/// were closed for it.
#[derive(Debug, Default, Serialize)]
pub(crate) struct ReassemblyInfo {
    pub(crate) held_bytes: u64,
    pub(crate) budget_bytes: u64,
    pub(crate) closed: u64,
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

/// CPU counters at one moment, in clock ticks: what two calls of the
/// summaries API compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CpuSample {
    /// This process: utime + stime (`/proc/self/stat` fields 14 and 15).
    process: u64,
    /// Every CPU, every state (`/proc/stat` line `cpu`).
    total: u64,
    /// Every CPU, idle + iowait.
    idle: u64,
}

impl CpuSample {
    fn read(self_stat: &str, stat: &str) -> Option<Self> {
        let (_, after) = self_stat.rsplit_once(')')?;
        // After `(comm)`: state is field 3, so utime (14) and stime (15) are
        // the 12th and 13th words.
        let mut fields = after.split_whitespace().skip(11);
        let utime: u64 = fields.next()?.parse().ok()?;
        let stime: u64 = fields.next()?.parse().ok()?;
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|w| w.parse().ok())
            .collect::<Option<_>>()?;
        let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
        Some(Self {
            process: utime.saturating_add(stime),
            total: ticks.iter().fold(0u64, |a, t| a.saturating_add(*t)),
            idle,
        })
    }

    /// (process share, busy share) of the CPU time between `earlier` and `self`.
    fn shares_since(&self, earlier: &CpuSample) -> (f64, f64) {
        let total = self.total.saturating_sub(earlier.total);
        let idle = self.idle.saturating_sub(earlier.idle);
        let process = self.process.saturating_sub(earlier.process);
        (
            ratio(process, total).min(1.0),
            ratio(total.saturating_sub(idle), total),
        )
    }
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
    summaries_since(ctx, &ctx.cpu_sample).await
}

/// [`summaries`] with CPU shares since the reading kept in `cpu_sample`
/// (each reader of CPU shares keeps its own).
pub(crate) async fn summaries_since(
    ctx: &ServerCtx,
    cpu_sample: &std::sync::Mutex<Option<CpuSample>>,
) -> Summaries {
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
    out.rtmp_reassembly = ReassemblyInfo {
        held_bytes: ctx.reassembly.held() as u64,
        budget_bytes: ctx.reassembly.max(ctx.config().rtmp_reassembly_budget) as u64,
        closed: ctx.reassembly.closed(),
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
    if let Some(now) = self_stat
        .as_deref()
        .zip(stat.as_deref())
        .and_then(|(s, t)| CpuSample::read(s, t))
    {
        let mut last = cpu_sample.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(earlier) = last.replace(now) {
            let (process, busy) = now.shares_since(&earlier);
            out.self_.cpu_percent = process;
            out.system.cpu_percent = busy;
        }
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
    fn cpu_shares_compare_two_samples() {
        let self_stat = |u: u64, s: u64| {
            format!("42 (rtmp server) S 1 42 42 0 -1 4194560 10 0 0 0 {u} {s} 0 0 20 0 3 0")
        };
        let stat = |user: u64, idle: u64| {
            format!("cpu  {user} 0 0 {idle} 0 0 0 0 0 0\ncpu0 1 0 0 1\nintr 1\n")
        };
        let a = CpuSample::read(&self_stat(10, 5), &stat(100, 900)).unwrap();
        assert_eq!(
            a,
            CpuSample {
                process: 15,
                total: 1000,
                idle: 900
            }
        );
        // 200 ticks pass, 50 busy, 20 of them this process.
        let b = CpuSample::read(&self_stat(25, 10), &stat(150, 1050)).unwrap();
        assert_eq!(b.shares_since(&a), (0.1, 0.25));
        assert_eq!(a.shares_since(&a), (0.0, 0.0));
        assert!(CpuSample::read("garbage", &stat(1, 1)).is_none());
    }

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
