//! Behaviour of the simulator itself: clock, executor, links, files, determinism.

use std::future::Future;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use sim::{Budget, LinkConfig, Sim, SimConn, SimError};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A connected (client, server) pair over `cfg`.
fn pair(sim: &mut Sim, cfg: LinkConfig) -> (SimConn, SimConn) {
    sim.set_default_link(cfg);
    let listener = sim
        .host(SERVER)
        .bind(SocketAddr::from((SERVER, 1935)))
        .unwrap();
    let connect = sim.host(CLIENT).connect(SocketAddr::from((SERVER, 1935)));
    let client = sim.spawn(connect);
    let (server, peer) = sim.block_on(listener.accept()).unwrap().unwrap();
    let client = sim.block_on(client).unwrap().unwrap();
    assert_eq!(peer, client.local_addr());
    assert_eq!(server.peer_addr(), client.local_addr());
    assert_eq!(client.id(), server.id());
    (client, server)
}

/// Reads everything, recording (virtual time, bytes) per read.
async fn read_all(
    sim: sim::SimHandle,
    mut conn: SimConn,
    log: Arc<Mutex<Vec<(Duration, usize)>>>,
) -> (Vec<u8>, SimConn) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = conn.read(&mut buf).await.unwrap();
        if n == 0 {
            return (out, conn);
        }
        log.lock().unwrap().push((sim.now(), n));
        out.extend_from_slice(&buf[..n]);
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn timers_fire_in_virtual_order() {
    let mut sim = Sim::new(1);
    let log = Arc::new(Mutex::new(Vec::new()));
    for (id, delay) in [(0u32, 300u64), (1, 100), (2, 200), (3, 100), (4, 0)] {
        let h = sim.handle();
        let log = log.clone();
        sim.spawn(async move {
            h.sleep(ms(delay)).await;
            log.lock().unwrap().push((id, h.now()));
        });
    }
    sim.run_until_idle().unwrap();
    let got = log.lock().unwrap().clone();
    assert_eq!(
        got,
        vec![
            (4, ms(0)),
            (1, ms(100)),
            (3, ms(100)),
            (2, ms(200)),
            (0, ms(300))
        ]
    );
    assert_eq!(sim.now(), ms(300));
}

#[test]
fn run_until_stops_at_the_deadline() {
    let mut sim = Sim::new(1);
    let h = sim.handle();
    let task = sim.spawn(async move {
        h.sleep(ms(500)).await;
        7
    });
    sim.run_until(ms(499)).unwrap();
    assert!(!task.is_finished());
    assert_eq!(sim.now(), ms(499));
    sim.run_for(ms(1)).unwrap();
    assert_eq!(task.try_take(), Some(7));
}

#[test]
fn ten_minute_sleep_is_instant_in_real_time() {
    let mut sim = Sim::new(1);
    let started = Instant::now();
    let h = sim.handle();
    sim.block_on(h.sleep(Duration::from_secs(600))).unwrap();
    assert_eq!(sim.now(), Duration::from_secs(600));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn timeout_gives_up_in_virtual_time() {
    let mut sim = Sim::new(1);
    let h = sim.handle();
    let r = sim
        .block_on(async move { h.timeout(ms(50), std::future::pending::<()>()).await })
        .unwrap();
    assert_eq!(r, None);
    assert_eq!(sim.now(), ms(50));
}

#[test]
fn deadlock_and_livelock_fail_loudly() {
    let mut sim = Sim::new(9);
    let err = sim.block_on(std::future::pending::<()>()).unwrap_err();
    assert!(matches!(err, SimError::Deadlock { seed: 9, .. }));
    assert!(err.to_string().contains("SIM_SEED=9"));

    /// Wakes itself forever without ever letting time move.
    struct Spin;
    impl Future for Spin {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    let mut sim = Sim::new(10);
    sim.set_budget(Budget {
        max_polls_per_instant: 10_000,
        ..Budget::default()
    });
    sim.spawn(Spin);
    let err = sim.run_for(ms(1)).unwrap_err();
    assert!(matches!(err, SimError::Livelock { seed: 10, .. }), "{err}");
}

#[test]
fn periodic_timer_hits_the_time_limit() {
    let mut sim = Sim::new(3);
    sim.set_budget(Budget {
        max_virtual_time: Duration::from_secs(60),
        ..Budget::default()
    });
    let h = sim.handle();
    sim.spawn(async move {
        loop {
            h.sleep(Duration::from_secs(1)).await;
        }
    });
    let err = sim.run_until_idle().unwrap_err();
    assert!(matches!(err, SimError::TimeLimit { .. }), "{err}");
    assert_eq!(sim.now(), Duration::from_secs(60));
}

#[test]
fn bytes_arrive_in_order_with_latency_and_bandwidth() {
    let mut sim = Sim::new(5);
    let cfg = LinkConfig::default()
        .with_latency(ms(20))
        .with_bandwidth(100_000)
        .with_buffer(1 << 20);
    let (mut client, server) = pair(&mut sim, cfg);
    let start = sim.now();
    // Connecting took one round trip.
    assert_eq!(start, ms(40));
    let data = pattern(50_000);
    let log = Arc::new(Mutex::new(Vec::new()));
    let reader = sim.spawn(read_all(sim.handle(), server, log.clone()));
    let to_send = data.clone();
    sim.block_on(async move {
        client.write_all(&to_send).await.unwrap();
        client.close().await.unwrap();
        client
    })
    .unwrap();
    // The whole write was accepted at once (it fits the buffer).
    assert_eq!(sim.now(), start);
    let (got, _server) = sim.block_on(reader).unwrap();
    assert_eq!(got, data);
    let log = log.lock().unwrap().clone();
    // 50 kB at 100 kB/s is 500 ms on the wire, plus 20 ms of propagation.
    let (last_at, _) = *log.last().unwrap();
    assert_eq!(last_at, start + ms(520));
    let (first_at, first_len) = log[0];
    assert!(first_len <= 1460);
    let first_tx = Duration::from_nanos(first_len as u64 * 10_000);
    assert_eq!(first_at, start + first_tx + ms(20));
    // Every read happens exactly when its segment has fully arrived:
    // cumulative bytes / bandwidth + latency.
    let mut total = 0u64;
    for (at, n) in &log {
        total += *n as u64;
        assert_eq!(*at, start + Duration::from_nanos(total * 10_000) + ms(20));
    }
}

#[test]
fn segmentation_depends_on_seed_but_content_does_not() {
    let run = |seed| {
        let mut sim = Sim::new(seed);
        let (mut client, server) = pair(&mut sim, LinkConfig::default().with_segments(1, 700));
        let log = Arc::new(Mutex::new(Vec::new()));
        let reader = sim.spawn(read_all(sim.handle(), server, log.clone()));
        sim.spawn(async move {
            for chunk in pattern(40_000).chunks(4096) {
                client.write_all(chunk).await.unwrap();
            }
            client.close().await.unwrap();
        });
        sim.run_until_idle().unwrap();
        let (got, _) = reader.try_take().unwrap();
        let sizes: Vec<usize> = log.lock().unwrap().iter().map(|(_, n)| *n).collect();
        (got, sizes, sim.transcript_hash(), sim.content_hash())
    };
    let (a, sizes_a, hash_a, content_a) = run(1);
    let (b, sizes_b, hash_b, content_b) = run(2);
    let (_, sizes_a2, hash_a2, _) = run(1);
    assert_eq!(a, pattern(40_000));
    assert_eq!(a, b);
    assert_ne!(sizes_a, sizes_b);
    assert_ne!(hash_a, hash_b);
    assert_eq!(content_a, content_b);
    assert_eq!(sizes_a, sizes_a2);
    assert_eq!(hash_a, hash_a2);
}

#[test]
fn jitter_never_reorders() {
    let mut sim = Sim::new(77);
    let cfg = LinkConfig::default()
        .with_latency(ms(5))
        .with_jitter(ms(30))
        .with_segments(1, 64);
    let (mut client, server) = pair(&mut sim, cfg);
    let log = Arc::new(Mutex::new(Vec::new()));
    let reader = sim.spawn(read_all(sim.handle(), server, log));
    sim.spawn(async move {
        client.write_all(&pattern(20_000)).await.unwrap();
        client.close().await.unwrap();
    });
    sim.run_until_idle().unwrap();
    assert_eq!(reader.try_take().unwrap().0, pattern(20_000));
}

#[test]
fn stalled_reader_back_pressures_the_writer() {
    let mut sim = Sim::new(11);
    let (mut client, mut server) = pair(&mut sim, LinkConfig::default().with_buffer(10_000));
    let h = sim.handle();
    // The server never reads: the client can get exactly the buffer size in.
    let (accepted, mut client) = sim
        .block_on(async move {
            let mut sent = 0;
            let chunk = [7u8; 3000];
            while let Some(r) = h
                .timeout(Duration::from_secs(5), client.write(&chunk))
                .await
            {
                sent += r.unwrap();
            }
            (sent, client)
        })
        .unwrap();
    assert_eq!(accepted, 10_000);
    assert_eq!(client.unread_by_peer(), 10_000);
    // Reading drains the buffer and lets the writer continue.
    let mut buf = vec![0u8; 4000];
    let n = sim.block_on(server.read(&mut buf)).unwrap().unwrap();
    assert!(n > 0);
    let more = sim
        .block_on(client.write(&[1u8; 100_000]))
        .unwrap()
        .unwrap();
    assert_eq!(more, n);
}

#[test]
fn half_close_gives_eof_after_the_data() {
    let mut sim = Sim::new(12);
    let (mut client, mut server) = pair(&mut sim, LinkConfig::default().with_latency(ms(10)));
    sim.block_on(async {
        client.write_all(b"hello").await.unwrap();
        client.close().await.unwrap();
    })
    .unwrap();
    let closed_at = sim.now();
    let got = sim
        .block_on(async {
            let mut v = Vec::new();
            server.read_to_end(&mut v).await.unwrap();
            v
        })
        .unwrap();
    assert_eq!(got, b"hello");
    assert_eq!(sim.now(), closed_at + ms(10));
    // The other direction still works (half-close).
    sim.block_on(server.write_all(b"bye")).unwrap().unwrap();
    let mut buf = [0u8; 3];
    sim.block_on(client.read_exact(&mut buf)).unwrap().unwrap();
    assert_eq!(&buf, b"bye");
    // Writing after close is an error.
    let err = sim.block_on(client.write(b"x")).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokenPipe);
}

#[test]
fn reset_errors_both_ends() {
    let mut sim = Sim::new(13);
    let (mut client, mut server) = pair(&mut sim, LinkConfig::default().with_latency(ms(10)));
    let h = sim.handle();
    let reader = sim.spawn(async move {
        let mut buf = [0u8; 16];
        let r = server.read(&mut buf).await;
        (r.map_err(|e| e.kind()), h.now(), server)
    });
    sim.run_for(ms(5)).unwrap();
    let reset_at = sim.now();
    client.reset();
    let mut buf = [0u8; 4];
    let err = sim.block_on(client.read(&mut buf)).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    let (r, at, mut server) = sim.block_on(reader).unwrap();
    assert_eq!(r, Err(ErrorKind::ConnectionReset));
    assert_eq!(at, reset_at + ms(10));
    let err = sim.block_on(server.write(b"x")).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
}

#[test]
fn dropping_with_unread_input_resets_and_without_closes() {
    let mut sim = Sim::new(14);
    let (client, mut server) = pair(&mut sim, LinkConfig::default());
    drop(client);
    let mut v = Vec::new();
    let n = sim.block_on(server.read_to_end(&mut v)).unwrap().unwrap();
    assert_eq!(n, 0);
    // The peer is gone: writes fail once the RST is back.
    let h = sim.handle();
    let err = sim
        .block_on(async move {
            loop {
                if let Err(e) = server.write(b"late").await {
                    return e;
                }
                h.sleep(ms(1)).await;
            }
        })
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);

    let (client, mut server) = pair(&mut sim, LinkConfig::default());
    sim.block_on(server.write_all(b"unread")).unwrap().unwrap();
    sim.run_for(ms(5)).unwrap();
    drop(client);
    let mut buf = [0u8; 8];
    let err = sim.block_on(server.read(&mut buf)).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
}

#[test]
fn connecting_to_nobody_is_refused_and_ports_are_assigned() {
    let mut sim = Sim::new(15);
    let host = sim.host(SERVER);
    let connect = sim.host(CLIENT).connect(SocketAddr::from((SERVER, 80)));
    let err = sim.block_on(connect).unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    let a = host.bind(SocketAddr::from(([0, 0, 0, 0], 0))).unwrap();
    let b = host.bind(SocketAddr::from(([0, 0, 0, 0], 0))).unwrap();
    assert_eq!(a.local_addr().ip(), SERVER);
    assert_ne!(a.local_addr().port(), 0);
    assert_ne!(a.local_addr(), b.local_addr());
    let err = host.bind(a.local_addr()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    // Unbinding on drop frees the address, and refuses new connections.
    let addr = a.local_addr();
    drop(a);
    let err = sim
        .block_on(sim.host(CLIENT).connect(addr))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    host.bind(addr).unwrap();
}

#[test]
fn loopback_reaches_the_same_host() {
    let mut sim = Sim::new(16);
    let host = sim.host(SERVER);
    let listener = host.bind(SocketAddr::from(([127, 0, 0, 1], 8080))).unwrap();
    assert_eq!(listener.local_addr(), SocketAddr::from((SERVER, 8080)));
    let conn = sim.spawn(host.connect(SocketAddr::from(([127, 0, 0, 1], 8080))));
    let (_s, peer) = sim.block_on(listener.accept()).unwrap().unwrap();
    assert_eq!(peer.ip(), SERVER);
    assert!(sim.block_on(conn).unwrap().is_ok());
}

#[test]
fn per_listener_link_overrides_host_pair() {
    let mut sim = Sim::new(17);
    sim.set_link(SERVER, CLIENT, LinkConfig::default().with_latency(ms(50)));
    let slow = sim
        .host(SERVER)
        .bind(SocketAddr::from((SERVER, 1)))
        .unwrap();
    let fast = sim
        .host(SERVER)
        .bind(SocketAddr::from((SERVER, 2)))
        .unwrap();
    sim.set_listener_link(fast.local_addr(), LinkConfig::default().with_latency(ms(2)));
    let t0 = sim.now();
    let c = sim
        .block_on(sim.host(CLIENT).connect(slow.local_addr()))
        .unwrap()
        .unwrap();
    assert_eq!(sim.now() - t0, ms(100));
    assert_eq!(c.link().latency, ms(50));
    let t1 = sim.now();
    sim.block_on(sim.host(CLIENT).connect(fast.local_addr()))
        .unwrap()
        .unwrap();
    assert_eq!(sim.now() - t1, ms(4));
}

/// A small echo scenario with several clients, for determinism checks.
fn echo_scenario(sim: &mut Sim) {
    sim.set_default_link(
        LinkConfig::default()
            .with_latency(ms(3))
            .with_jitter(ms(2))
            .with_segments(1, 200)
            .with_short_writes(true),
    );
    let listener = sim
        .host(SERVER)
        .bind(SocketAddr::from((SERVER, 7)))
        .unwrap();
    let h = sim.handle();
    sim.spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            h.spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = futures_util::io::copy(&mut r, &mut w).await;
                let _ = w.close().await;
            });
        }
    });
    for i in 0..5u8 {
        let host = sim.host(Ipv4Addr::new(10, 0, 1, i));
        let h = sim.handle();
        sim.spawn(async move {
            h.sleep(ms(u64::from(i))).await;
            let mut c = host.connect(SocketAddr::from((SERVER, 7))).await.unwrap();
            let msg = pattern(3000 + usize::from(i) * 100);
            c.write_all(&msg).await.unwrap();
            c.close().await.unwrap();
            let mut back = Vec::new();
            c.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, msg);
        });
    }
    sim.fs()
        .write_file(std::path::Path::new("out/x"), &[Bytes::from_static(b"x")])
        .unwrap();
    sim.run_for(Duration::from_secs(2)).unwrap();
}

#[test]
fn same_seed_same_transcript_different_seed_same_content() {
    let a = Sim::assert_deterministic(100, echo_scenario);
    let b = Sim::assert_deterministic(101, echo_scenario);
    assert_ne!(a, b);
    let content = |seed| {
        let mut sim = Sim::new(seed);
        echo_scenario(&mut sim);
        assert_eq!(sim.stats().connections, 5);
        sim.content_hash()
    };
    assert_eq!(content(100), content(101));
}

#[test]
fn file_writes_enter_the_transcript() {
    let mut a = Sim::new(1);
    let mut b = Sim::new(1);
    a.run_for(ms(1)).unwrap();
    b.run_for(ms(1)).unwrap();
    assert_eq!(a.transcript_hash(), b.transcript_hash());
    a.fs()
        .write_file(
            std::path::Path::new("html/live.m3u8"),
            &[Bytes::from_static(b"#EXTM3U")],
        )
        .unwrap();
    assert_ne!(a.transcript_hash(), b.transcript_hash());
    assert_eq!(a.fs().read("html/live.m3u8").unwrap(), &b"#EXTM3U"[..]);
}

#[test]
fn spawned_task_can_be_aborted() {
    let mut sim = Sim::new(1);
    let h = sim.handle();
    let t = sim.spawn(async move {
        h.sleep(Duration::from_secs(10)).await;
    });
    sim.run_for(ms(1)).unwrap();
    assert!(t.is_alive());
    t.abort();
    assert!(!t.is_alive());
    sim.run_until_idle().unwrap();
    // The aborted sleep's timer went with it: the clock did not jump to 10 s.
    assert_eq!(sim.now(), ms(1));
}
