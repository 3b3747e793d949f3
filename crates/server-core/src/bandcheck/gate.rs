//! Who may run a bandwidth check now.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::BandcheckConfig;
use crate::access::per_ip::client_of;
use crate::hub::{query_param, split_query};

/// Checks running at once, server-wide. Each sends up to `limit_kbps`: a
/// crowd of clients (or one with many addresses) must not turn the server
/// into a traffic source. SRS allowed one check per `interval` for the
/// whole server; here each client has its own interval and this caps the sum.
pub const MAX_RUNNING_CHECKS: usize = 8;
/// Clients remembered for their `interval`: past this, the expired ones
/// are forgotten, and while none has expired new clients wait.
pub const MAX_REMEMBERED_CLIENTS: usize = 4096;

/// Why a bandwidth check was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BandcheckRefusal {
    /// The tcUrl has no `key=`, or not the vhost's.
    #[error("bandcheck key missing or wrong")]
    WrongKey,
    /// This client ran a check less than `interval` ago (SRS answers
    /// "bandcheck rejected").
    #[error("bandcheck rejected: retry in {retry_after_secs} s")]
    TooSoon {
        /// Whole seconds until it may run again.
        retry_after_secs: u64,
    },
    /// [`MAX_RUNNING_CHECKS`] run already, or too many clients are remembered.
    #[error("bandcheck rejected: the server is busy with other checks")]
    Busy,
}

/// The server's record of checks: when each client last ran one, and how
/// many run now.
#[derive(Debug, Default)]
pub struct BandcheckGate {
    last_check: Mutex<HashMap<IpAddr, Duration>>,
    running: Arc<AtomicUsize>,
}

/// One running check; dropping it (when the connection ends, however it
/// ends) frees its place.
#[derive(Debug)]
#[must_use = "the check counts as running only while the ticket lives"]
pub struct BandcheckTicket {
    running: Arc<AtomicUsize>,
}

impl Drop for BandcheckTicket {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl BandcheckGate {
    /// Admits a check by `ip` with `tc_url` at `now` (runtime time), on a
    /// vhost configured with `config`, and records it.
    pub fn admit(
        &self,
        config: &BandcheckConfig,
        tc_url: &str,
        ip: IpAddr,
        now: Duration,
    ) -> Result<BandcheckTicket, BandcheckRefusal> {
        let (_, query) = split_query(tc_url);
        // The key as a whole parameter (`?key=K` or `,key=K`): SRS looks for
        // `key=K` anywhere in the tcUrl, so `key=Kx` or `monkey=K` passed too.
        if config.key.is_empty() || query_param(query, "key") != Some(config.key.as_str()) {
            return Err(BandcheckRefusal::WrongKey);
        }
        let client = client_of(ip);
        let mut last = self.last_check.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = last.get(&client) {
            let since = now.saturating_sub(*at);
            if since < config.interval {
                let left = config.interval - since;
                return Err(BandcheckRefusal::TooSoon {
                    retry_after_secs: left.as_secs() + u64::from(left.subsec_nanos() > 0),
                });
            }
        }
        if last.len() >= MAX_REMEMBERED_CLIENTS && !last.contains_key(&client) {
            // Forget those whose interval is over (the longest configurable
            // interval bounds how long anyone is kept).
            let horizon = Duration::from_secs_f64(super::MAX_INTERVAL_SECS);
            last.retain(|_, at| now.saturating_sub(*at) < config.interval.min(horizon));
            if last.len() >= MAX_REMEMBERED_CLIENTS {
                return Err(BandcheckRefusal::Busy);
            }
        }
        let running = self.running.fetch_add(1, Ordering::AcqRel);
        let ticket = BandcheckTicket {
            running: self.running.clone(),
        };
        if running >= MAX_RUNNING_CHECKS {
            return Err(BandcheckRefusal::Busy);
        }
        last.insert(client, now);
        Ok(ticket)
    }

    /// Checks running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BandcheckConfig {
        BandcheckConfig {
            enabled: true,
            key: "35c9b402".into(),
            ..BandcheckConfig::default()
        }
    }

    const URL: &str = "rtmp://127.0.0.1/app?key=35c9b402,vhost=bandcheck.srs.com";

    #[test]
    fn the_key_must_be_the_whole_parameter() {
        let gate = BandcheckGate::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut t = Duration::ZERO;
        for bad in [
            "rtmp://h/app",
            "rtmp://h/app?key=35c9b40",
            "rtmp://h/app?key=35c9b402x",
            "rtmp://h/app?monkey=35c9b402",
            "rtmp://h/app/key=35c9b402",
        ] {
            t += Duration::from_secs(60);
            assert_eq!(
                gate.admit(&config(), bad, ip, t).unwrap_err(),
                BandcheckRefusal::WrongKey,
                "{bad}"
            );
        }
        // `&` or SRS's `,` between parameters.
        drop(gate.admit(&config(), URL, ip, t).expect("comma"));
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        drop(
            gate.admit(&config(), "rtmp://h/app?vhost=v&key=35c9b402", other, t)
                .expect("ampersand"),
        );
        // No key configured: nobody passes.
        let open = BandcheckConfig {
            key: String::new(),
            ..config()
        };
        assert_eq!(
            gate.admit(&open, "rtmp://h/app?key=", ip, t + Duration::from_secs(99))
                .unwrap_err(),
            BandcheckRefusal::WrongKey
        );
    }

    #[test]
    fn one_client_waits_its_interval_others_do_not() {
        let gate = BandcheckGate::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        let t0 = Duration::from_secs(100);
        drop(gate.admit(&config(), URL, a, t0).expect("first"));
        assert_eq!(
            gate.admit(&config(), URL, a, t0 + Duration::from_millis(20_500))
                .unwrap_err(),
            BandcheckRefusal::TooSoon {
                retry_after_secs: 10
            }
        );
        drop(gate.admit(&config(), URL, b, t0).expect("another client"));
        drop(
            gate.admit(&config(), URL, a, t0 + Duration::from_secs(30))
                .expect("after"),
        );
        let never = BandcheckConfig {
            interval: Duration::ZERO,
            ..config()
        };
        drop(
            gate.admit(&never, URL, a, t0 + Duration::from_secs(30))
                .expect("no interval"),
        );
    }

    #[test]
    fn running_checks_are_capped_and_freed() {
        let gate = BandcheckGate::default();
        let t = Duration::from_secs(1);
        let tickets: Vec<_> = (0..MAX_RUNNING_CHECKS)
            .map(|i| {
                let ip = IpAddr::from([10, 0, 1, i as u8]);
                gate.admit(&config(), URL, ip, t).expect("room")
            })
            .collect();
        assert_eq!(gate.running(), MAX_RUNNING_CHECKS);
        let late: IpAddr = "10.0.2.1".parse().unwrap();
        assert_eq!(
            gate.admit(&config(), URL, late, t).unwrap_err(),
            BandcheckRefusal::Busy
        );
        assert_eq!(gate.running(), MAX_RUNNING_CHECKS);
        drop(tickets);
        assert_eq!(gate.running(), 0);
        // A refused client was not recorded: it may run at once.
        drop(gate.admit(&config(), URL, late, t).expect("room again"));
    }

    #[test]
    fn remembered_clients_are_bounded() {
        let gate = BandcheckGate::default();
        let t = Duration::from_secs(1);
        for i in 0..MAX_REMEMBERED_CLIENTS {
            let ip = IpAddr::from([11, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
            drop(gate.admit(&config(), URL, ip, t).expect("room"));
        }
        let next: IpAddr = "12.0.0.1".parse().unwrap();
        assert_eq!(
            gate.admit(&config(), URL, next, t).unwrap_err(),
            BandcheckRefusal::Busy
        );
        // Once their interval is over they are forgotten.
        drop(
            gate.admit(&config(), URL, next, t + Duration::from_secs(31))
                .expect("room"),
        );
        assert_eq!(gate.last_check.lock().unwrap().len(), 1);
    }
}
