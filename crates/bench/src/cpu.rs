//! The CPU time and peak memory of a process, from Linux `/proc`
//! (proc(5)): the load tool reports its own, so a reader can tell whether
//! the client, not the server, was the bottleneck.

use std::path::Path;

/// `AT_CLKTCK` in the auxiliary vector (getauxval(3)): the unit of the
/// `utime`/`stime` fields of `/proc/PID/stat`.
const AT_CLKTCK: u64 = 17;

/// Clock ticks per second when the auxiliary vector cannot be read: Linux
/// fixes `USER_HZ` at 100 on every architecture it exports it on.
pub const DEFAULT_CLOCK_TICKS: u64 = 100;

/// User and system CPU time of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTimes {
    /// Seconds in user mode.
    pub user_s: f64,
    /// Seconds in the kernel on the process's behalf.
    pub system_s: f64,
}

impl CpuTimes {
    /// User plus system.
    pub fn total_s(&self) -> f64 {
        self.user_s + self.system_s
    }

    /// The CPU time spent since `earlier`.
    pub fn since(&self, earlier: &CpuTimes) -> CpuTimes {
        CpuTimes {
            user_s: (self.user_s - earlier.user_s).max(0.0),
            system_s: (self.system_s - earlier.system_s).max(0.0),
        }
    }
}

/// This process's CPU times; zero if `/proc` is unavailable.
pub fn self_cpu() -> CpuTimes {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| parse_stat(&s, clock_ticks()))
        .unwrap_or_default()
}

/// This process's peak resident set size (`VmHWM`), in KiB.
pub fn self_peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_kb(&status, "VmHWM:")
}

/// Clock ticks per second, from `/proc/self/auxv`.
pub fn clock_ticks() -> u64 {
    std::fs::read(Path::new("/proc/self/auxv"))
        .ok()
        .and_then(|auxv| parse_auxv(&auxv, AT_CLKTCK))
        .filter(|&t| t > 0)
        .unwrap_or(DEFAULT_CLOCK_TICKS)
}

/// Looks `key` up in a native-endian 64-bit auxiliary vector (pairs of
/// key, value, ended by key 0).
fn parse_auxv(auxv: &[u8], key: u64) -> Option<u64> {
    for pair in auxv.chunks_exact(16) {
        let (k, v) = pair.split_at(8);
        let k = u64::from_ne_bytes(k.try_into().ok()?);
        let v = u64::from_ne_bytes(v.try_into().ok()?);
        if k == 0 {
            return None;
        }
        if k == key {
            return Some(v);
        }
    }
    None
}

/// `utime` and `stime` (fields 14 and 15 of `/proc/PID/stat`). The command
/// name (field 2) may hold spaces and parentheses, so fields are counted
/// from after its last `)`, where field 3 starts.
pub fn parse_stat(stat: &str, ticks_per_s: u64) -> Option<CpuTimes> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_ascii_whitespace();
    // Field 3 is the first after ')'; utime is field 14: skip 11.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let hz = ticks_per_s.max(1) as f64;
    Some(CpuTimes {
        user_s: utime as f64 / hz,
        system_s: stime as f64 / hz,
    })
}

/// The KiB value of a `Key:   123 kB` line of `/proc/PID/status`.
pub fn parse_status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|v| v.split_ascii_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_after_a_tricky_command_name() {
        let stat =
            "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 5 1000 10";
        let t = parse_stat(stat, 100).unwrap();
        assert_eq!(t.user_s, 2.5);
        assert_eq!(t.system_s, 0.75);
        assert_eq!(t.total_s(), 3.25);
        assert!(parse_stat("garbage", 100).is_none());
    }

    #[test]
    fn status_kb() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_status_kb(status, "VmHWM:"), Some(1234));
        assert_eq!(parse_status_kb(status, "VmSwap:"), None);
    }

    #[test]
    fn auxv_lookup() {
        let mut auxv = Vec::new();
        for (k, v) in [(6u64, 4096u64), (17, 250), (0, 0)] {
            auxv.extend_from_slice(&k.to_ne_bytes());
            auxv.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(parse_auxv(&auxv, 17), Some(250));
        assert_eq!(parse_auxv(&auxv, 33), None);
    }

    #[test]
    fn own_process_is_readable() {
        // Burn a little CPU so the counter can move.
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(self_peak_rss_kb().unwrap_or(0) > 0);
        assert!(self_cpu().total_s() >= 0.0);
        assert!(clock_ticks() > 0);
    }
}
