//! The bandwidth check's two state machines (rtmp_proto::bandcheck) driven
//! by arbitrary steps: packets of any kind with any figures (NaN, negative,
//! huge), in any order, to either side, with time jumping ahead. Nothing may
//! panic, a side never emits unboundedly at one instant, and reported rates
//! are what their bytes and durations give.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtmp_proto::bandcheck::packet::packet;
use rtmp_proto::bandcheck::{kbps, BandcheckClient, BandcheckServer, PacketKind, ServerParams};

/// Figures a packet may carry.
const FIGURES: [&str; 6] = [
    "limit_kbps",
    "duration_ms",
    "play_kbps",
    "publish_kbps",
    "play_bytes",
    "interval_ms",
];
/// Most packets one side may emit at one instant.
const MAX_BURST: usize = 10_000;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let mut next = || bytes.next();
    let Some(first) = next() else { return };
    let mut params = ServerParams::new(u32::from(first) * 100 + 1);
    params.flash = first & 1 == 1;
    let mut server = BandcheckServer::new(params, 0);
    let mut client = BandcheckClient::new(0);
    let mut client_ok = true;
    let mut now = 0u64;
    while let Some(op) = next() {
        match op % 4 {
            0 => now += u64::from(next().unwrap_or(0)) * 16,
            1 => {
                let kind =
                    PacketKind::ALL[usize::from(next().unwrap_or(0)) % PacketKind::ALL.len()];
                let name = FIGURES[usize::from(next().unwrap_or(0)) % FIGURES.len()];
                let mut raw = [0u8; 8];
                for b in &mut raw {
                    *b = next().unwrap_or(0);
                }
                let p = packet(kind, &[(name, f64::from_be_bytes(raw))]);
                server.handle_command(now, &p);
                if client_ok {
                    client_ok = client.handle_command(now, &p).is_ok();
                }
            }
            2 => {
                let _ = server.handle_timeout(now);
                let mut n = 0;
                while let Some(p) = server.poll_transmit(now) {
                    n += 1;
                    assert!(n < MAX_BURST, "server burst at {now}");
                    if client_ok {
                        client_ok = client.handle_command(now, &p).is_ok();
                    }
                }
            }
            _ => {
                if client_ok {
                    client_ok = client.handle_timeout(now).is_ok();
                }
                let mut n = 0;
                while let Some(p) = client.poll_transmit(now) {
                    n += 1;
                    assert!(n < MAX_BURST, "client burst at {now}");
                    server.handle_command(now, &p);
                }
            }
        }
        if let Some(r) = server.report() {
            assert_eq!(r.play.kbps, kbps(r.play.bytes, r.play.duration_ms));
            assert_eq!(r.publish.kbps, kbps(r.publish.bytes, r.publish.duration_ms));
            assert!(r.end_ms >= r.start_ms);
        }
    }
});
