//! SRS's bandwidth check through the real server on virtual time: a
//! client (rtmp-proto's ClientSession and BandcheckClient over a simulated
//! connection) against a vhost with `bandcheck { }`. On a fast link both
//! phases run at `limit_kbps`; on a link slower than the limit every figure
//! is the link's, the server's included, whatever the link's buffer holds.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use rtmp_proto::bandcheck::{BandcheckClient, BandcheckReport};
use rtmp_proto::session::{ClientConfig, ClientEvent, ClientSession};
use scenario_support::{start, SERVER};
use server_core::Server;
use sim::{Host, LinkConfig, Sim};

const KEY: &str = "k3y";
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 5, 1);

/// Runs one check from `host`; the report, or why it failed.
async fn bandcheck(host: Host, server: SocketAddr, key: &str) -> Result<BandcheckReport, String> {
    let sim = host.sim().clone();
    let now_ms = || u64::try_from(sim.now().as_millis()).unwrap_or(u64::MAX);
    let mut conn = host.connect(server).await.map_err(|e| e.to_string())?;
    let mut session = ClientSession::new(ClientConfig::default(), 0, [7; 32]);
    session.connect("app", &format!("rtmp://{server}/app?key={key}"), vec![]);
    let mut check: Option<BandcheckClient> = None;
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    loop {
        let now = now_ms();
        let mut done = false;
        if let Some(c) = check.as_mut() {
            c.handle_timeout(now).map_err(|e| e.to_string())?;
            if let Some(packet) = c.poll_transmit(now) {
                session.send_command(0, &packet);
            }
            done = c.is_done();
        }
        session.poll_transmit(&mut out);
        for piece in out.drain(..) {
            conn.write_all(&piece).await.map_err(|e| e.to_string())?;
        }
        if done {
            return check
                .and_then(|c| c.report())
                .ok_or_else(|| "no report".to_owned());
        }
        let wait = check
            .as_ref()
            .and_then(BandcheckClient::poll_timeout)
            .map_or(10_000, |at| at.saturating_sub(now_ms()));
        if wait == 0 {
            continue;
        }
        let read = sim
            .timeout(Duration::from_millis(wait), conn.read(&mut buf))
            .await;
        let n = match read {
            None => continue,
            Some(Ok(0)) => return Err("closed by the server".to_owned()),
            Some(Ok(n)) => n,
            Some(Err(e)) => return Err(e.to_string()),
        };
        let now = now_ms();
        session
            .handle_input(now, buf.get(..n).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        while let Some(event) = session.poll_event() {
            match event {
                ClientEvent::Connected { .. } => check = Some(BandcheckClient::new(now)),
                ClientEvent::ConnectFailed { status } => {
                    return Err(format!("{}: {}", status.code, status.description))
                }
                ClientEvent::Command { command, .. } => {
                    if let Some(c) = check.as_mut() {
                        c.handle_command(now, &command).map_err(|e| e.to_string())?;
                    }
                }
                _ => {}
            }
        }
    }
}

fn within(got: u64, expected: u64, percent: u64) -> bool {
    got.abs_diff(expected) * 100 <= expected * percent
}

/// The server (keep it for the test's length) and its RTMP address.
fn server_with_limit(sim: &Sim, limit_kbps: u64) -> (Arc<Server>, SocketAddr) {
    start(
        sim,
        Some(&format!(
            "bandcheck {{ enabled on; key {KEY}; interval 0; limit_kbps {limit_kbps}; }}"
        )),
    )
}

#[test]
fn both_phases_run_at_the_limit_on_a_fast_link() {
    let mut sim = Sim::from_env(61);
    let (_server, rtmp) = server_with_limit(&sim, 3000);
    let report = sim
        .block_on(bandcheck(sim.host(CLIENT), rtmp, KEY))
        .expect("sim")
        .expect("check");
    for (what, kbps) in [
        ("server play", report.play_kbps),
        ("server publish", report.publish_kbps),
        ("received", report.received.kbps),
        ("sent", report.sent.kbps),
    ] {
        assert!(within(kbps, 3000, 5), "{what} {kbps}: {report:?}");
    }
    assert_eq!(report.limit_kbps, 3000);
    assert!((3000..3100).contains(&report.play_time_ms), "{report:?}");
}

#[test]
fn a_slow_link_is_what_is_measured() {
    let mut sim = Sim::from_env(62);
    // 125,000 bytes a second is 1000 kbps, a quarter of the limit, behind
    // the default 256 KiB of buffer each way.
    sim.handle().set_link(
        SERVER,
        CLIENT,
        LinkConfig::default()
            .with_latency(Duration::from_millis(10))
            .with_bandwidth(125_000),
    );
    let (_server, rtmp) = server_with_limit(&sim, 4000);
    let report = sim
        .block_on(bandcheck(sim.host(CLIENT), rtmp, KEY))
        .expect("sim")
        .expect("check");
    eprintln!("{report:?}");
    for (what, kbps) in [
        ("server play", report.play_kbps),
        ("server publish", report.publish_kbps),
        ("received", report.received.kbps),
    ] {
        assert!(within(kbps, 1000, 15), "{what} {kbps}: {report:?}");
    }
    // The play phase's backlog was counted when it arrived.
    assert!(report.play_time_ms > 3000, "{report:?}");
}

#[test]
fn a_wrong_key_is_refused_at_connect() {
    let mut sim = Sim::from_env(63);
    let (_server, rtmp) = server_with_limit(&sim, 1000);
    let error = sim
        .block_on(bandcheck(sim.host(CLIENT), rtmp, "nope"))
        .expect("sim")
        .expect_err("refused");
    assert!(error.contains("NetConnection.Connect.Rejected"), "{error}");
    assert!(error.contains("key"), "{error}");
}
