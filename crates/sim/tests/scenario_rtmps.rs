//! RTMPS listener limits on virtual time: a socket that never starts its
//! TLS handshake is closed after `rtmps::TLS_HANDSHAKE_TIMEOUT`, a plain
//! RTMP client on the TLS port is closed at once, and the plain RTMP port
//! is served meanwhile. The real server, its TLS layer over the simulated
//! network (the runtime-neutral adapter), virtual time.

mod scenario_support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use scenario_support::{secs, Synthetic};
use server_core::rtmps::TLS_HANDSHAKE_TIMEOUT;
use server_core::{ListenerKind, Server};
use sim::client::{PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher};
use sim::runtime::SimRuntime;
use sim::Sim;

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// Waits until `conn` is closed by the server, after sending `hello`;
/// returns when (virtual time) and how many bytes came back.
async fn closed_after(
    sim: sim::SimHandle,
    conn: std::io::Result<sim::SimConn>,
    hello: Vec<u8>,
) -> (Duration, usize) {
    let mut conn = conn.expect("connects");
    if !hello.is_empty() {
        conn.write_all(&hello).await.expect("send");
    }
    let mut got = 0;
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return (sim.now(), got),
            Ok(n) => got += n,
        }
    }
}

#[test]
fn a_silent_socket_on_the_tls_port_is_closed_after_the_handshake_timeout() {
    let dir = std::env::temp_dir().join(format!("sim-rtmps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["10.0.0.1".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.key_pair.serialize_pem()).unwrap();
    let mut sim = Sim::from_env(83);
    let config = server_core::config::parse_str(
        "rtmps.conf",
        &format!(
            "listen 1935;\nrtmps {{ enabled on; listen 1443; key {}; cert {}; }}\nvhost __defaultVhost__ {{\n}}\n",
            dir.join("key.pem").display(),
            dir.join("cert.pem").display()
        ),
    )
    .expect("config");
    let server = Server::start(SimRuntime::new(sim.host(SERVER)), config).expect("server starts");
    let _ = std::fs::remove_dir_all(&dir);
    let tls: SocketAddr = server.addrs(ListenerKind::Rtmps)[0];
    let rtmp: SocketAddr = server.addrs(ListenerKind::Rtmp)[0];

    let handle = sim.handle();
    let silent_host = sim.host(Ipv4Addr::new(10, 0, 1, 1));
    let silent = {
        let h = handle.clone();
        let connect = silent_host.connect(tls);
        handle.spawn(async move { closed_after(h, connect.await, Vec::new()).await })
    };
    let plain_on_tls = {
        let h = handle.clone();
        let connect = sim.host(Ipv4Addr::new(10, 0, 1, 2)).connect(tls);
        let mut c0c1 = vec![3u8];
        c0c1.extend(std::iter::repeat_n(0u8, 1536));
        handle.spawn(async move { closed_after(h, connect.await, c0c1).await })
    };
    // The plain port works meanwhile.
    let _publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 3)),
        rtmp,
        PublisherOptions::new("live", "s").ending(PublishEnd::Hold),
        Synthetic::default().messages(secs(20)),
    );
    let player = SimPlayer::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 4)),
        rtmp,
        PlayerOptions::new("live", "s"),
    );
    sim.run_for(secs(1)).unwrap();
    let (at, got) = plain_on_tls
        .try_take()
        .expect("the plain client was closed at once");
    assert!(at < secs(1), "closed at {at:?}");
    assert!(
        got < 64,
        "{got} bytes back: an RTMP answer on the TLS port?"
    );
    assert!(silent.try_take().is_none(), "closed before its time");

    sim.run_for(TLS_HANDSHAKE_TIMEOUT).unwrap();
    let (at, got) = silent.try_take().expect("the silent socket was closed");
    assert!(
        at >= TLS_HANDSHAKE_TIMEOUT && at <= TLS_HANDSHAKE_TIMEOUT + secs(1),
        "closed at {at:?}"
    );
    assert_eq!(got, 0);
    let log = player.log();
    assert!(log.is_clean(), "{:?}", log.first_problem);
    assert!(
        log.frames >= 25 * 8,
        "the plain player got {} frames",
        log.frames
    );
}
