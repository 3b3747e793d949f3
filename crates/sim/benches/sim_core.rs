//! Cost of the simulator's own machinery: timers, and bytes through links.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::{AsyncReadExt, AsyncWriteExt};
use sim::{LinkConfig, Sim};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// `tasks` tasks each sleeping `rounds` times.
fn timers(tasks: u32, rounds: u32) {
    let mut sim = Sim::new(1);
    for i in 0..tasks {
        let h = sim.handle();
        sim.spawn(async move {
            for _ in 0..rounds {
                h.sleep(Duration::from_micros(u64::from(100 + i))).await;
            }
        });
    }
    sim.run_until_idle().unwrap();
}

/// `conns` connections each carrying `bytes` one way in 4 KiB writes.
fn stream(conns: u8, bytes: usize, cfg: LinkConfig) -> u64 {
    let mut sim = Sim::new(1);
    sim.set_default_link(cfg);
    let listener = sim
        .host(SERVER)
        .bind(SocketAddr::from((SERVER, 1)))
        .unwrap();
    let h = sim.handle();
    sim.spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            h.spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = conn.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    for i in 0..conns {
        let host = sim.host(Ipv4Addr::new(10, 0, 1, i));
        sim.spawn(async move {
            let mut c = host.connect(SocketAddr::from((SERVER, 1))).await.unwrap();
            let chunk = vec![7u8; 4096];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(chunk.len());
                c.write_all(&chunk[..n]).await.unwrap();
                left -= n;
            }
            c.close().await.unwrap();
        });
    }
    sim.run_until_idle().unwrap();
    sim.stats().bytes_delivered
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.throughput(Throughput::Elements(100 * 100));
    g.bench_function("timers_100x100", |b| b.iter(|| timers(100, 100)));
    let bytes = 4 << 20;
    g.throughput(Throughput::Bytes(10 * bytes as u64));
    g.bench_function("stream_10x4MiB_segmented", |b| {
        b.iter(|| stream(10, bytes, LinkConfig::default()))
    });
    g.bench_function("stream_10x4MiB_coalesced_100Mbps", |b| {
        b.iter(|| {
            stream(
                10,
                bytes,
                LinkConfig::default()
                    .with_coalesce(true)
                    .with_bandwidth(12_500_000),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
