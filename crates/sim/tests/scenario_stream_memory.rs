//! What one published stream holds on the heap with HLS on, and what is left
//! of it once the publisher is gone (issue 22's accounting, issue 23 §4).
//!
//! Ten publishers of a ~420 kbit/s synthetic stream (2 s GOP) run for 30 s of
//! virtual time on the real server code with HLS on (2 s fragments, 10 s
//! window). Heap in use is counted by this test binary's global allocator, so
//! the figures are the whole process's: server, simulated network, simulated
//! disk (whose files are subtracted) and the publishers' own media.
//!
//! It checks that a stream holds about its cached GOP, not the 30 s of media
//! the HLS consumer's lag bound allows (what the shared log used to keep), and
//! that after the publishers leave what stays for a republish (the HLS
//! segmenter's playlist window, the idle source) is counted in kilobytes.
//!
//! One test in this file: nothing else may allocate while it measures.

mod scenario_support;

use std::net::Ipv4Addr;

use bytes::Bytes;
use rtmp_proto::message::RawMessage;
use scenario_support::{heap, secs, start, Synthetic};
use sim::client::{PublishEnd, PublisherOptions, SimPublisher};
use sim::Sim;

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

const STREAMS: usize = 10;
/// Video frame bytes: 2,000 B at 25 fps and 20 audio frames of ~64 B a
/// second, about 410 kbit/s of payload.
const VIDEO_BYTES: usize = 2_000;

/// What one run measured, per stream.
#[derive(Debug)]
struct Figures {
    /// Heap held by a live stream (server and its publisher's client side).
    live: isize,
    /// Of which the stream's shared log (cached GOP and unread media).
    log: isize,
    /// Heap still held once the publisher left (kept for a republish).
    kept: isize,
    /// Heap still held after the republish grace: the sink has ended and
    /// only the parked segmenter (its playlist window) is left.
    parked: isize,
}

fn measure(hls: bool) -> Figures {
    let mut sim = Sim::from_env(2222);
    sim.handle().set_transcript(false);
    let vhost = if hls {
        "hls { enabled on; hls_fragment 2; hls_window 10; }"
    } else {
        "hls { enabled off; }"
    };
    let (server, rtmp) = start(&sim, Some(vhost));
    let fs = sim.fs();
    let hub = server.ctx().hub.clone();
    let heap = || heap::in_use() - fs.total_bytes() as isize;
    let media = Synthetic {
        video_bytes: VIDEO_BYTES,
        ..Synthetic::default()
    };
    let length = secs(30);
    sim.run_for(secs(1)).unwrap();
    let idle = heap();
    // Everything the publishers will send, each stream's payloads in one
    // allocation that lives until its publisher is dropped, so what the
    // publishers hold stays constant while the server is measured.
    let plans: Vec<_> = (0..STREAMS)
        .map(|_| one_allocation(media.messages(length)))
        .collect();
    let plans_bytes = heap() - idle;

    let t0 = sim.now();
    let handle = sim.handle();
    let publishers: Vec<_> = plans
        .into_iter()
        .enumerate()
        .map(|(i, messages)| {
            SimPublisher::spawn(
                &handle.host(Ipv4Addr::new(10, 1, 0, i as u8 + 1)),
                rtmp,
                PublisherOptions::new("live", &format!("s{i}")).ending(PublishEnd::Close),
                messages,
            )
        })
        .collect();
    // 25 s in: every stream has been sliced for a while.
    sim.run_until(t0 + secs(25)).unwrap();
    let live = (heap() - plans_bytes - idle) / STREAMS as isize;
    let log =
        hub.sources().iter().map(|s| s.log_bytes()).sum::<usize>() as isize / STREAMS as isize;

    sim.run_until(t0 + length + secs(5)).unwrap();
    for p in &publishers {
        assert!(p.is_finished(), "a publisher is still running");
    }
    drop(publishers);
    sim.run_for(secs(5)).unwrap();
    let kept = (heap() - idle) / STREAMS as isize;
    // Past the republish grace and a housekeeping tick (idle sources reaped).
    sim.run_for(secs(30)).unwrap();
    let parked = (heap() - idle) / STREAMS as isize;
    let figures = Figures {
        live,
        log,
        kept,
        parked,
    };
    eprintln!(
        "HLS {}: {figures:?} B a stream ({} streams, {} clients in the hub after)",
        if hls { "on" } else { "off" },
        hub.sources().len(),
        hub.clients().len()
    );
    figures
}

#[test]
fn a_published_stream_holds_its_gop_and_gives_memory_back_when_it_ends() {
    let gop_bytes = 2 * 25 * VIDEO_BYTES as isize;
    let off = measure(false);
    let on = measure(true);
    eprintln!(
        "HLS's own share: {} B a stream live; GOP {gop_bytes} B; 30 s of media {} B",
        on.live - off.live,
        15 * gop_bytes
    );
    for f in [&off, &on] {
        // The log holds the cached GOP as it turns over (one to two GOPs),
        // never the 30 s the HLS consumer may lag by.
        assert!(f.log <= 2 * gop_bytes + 8 * 1024, "the log holds {f:?}");
    }
    // HLS adds the bytes of its open segment not yet written (handed out
    // and written in pieces of APPEND_MIN_BYTES, 16 KiB) and the muxer's
    // state, not media it has already written (it held 138 KB a stream
    // with 64 KiB pieces; 23 KB now).
    let piece = media_core::hls::APPEND_MIN_BYTES as isize;
    assert!(
        on.live - off.live < 3 * piece,
        "HLS holds {} B a stream",
        on.live - off.live
    );
    // Gone with HLS off: the source and its connection (what stays is the
    // simulated network's hosts and tables sized for ten clients).
    assert!(off.kept < 12 * 1024, "a stopped stream keeps {off:?}");
    // Kept for a republish with HLS on: the sink waiting out its grace
    // period with the segmenter's playlist window, the idle source. About a
    // kilobyte, never the media.
    assert!(
        on.kept - off.kept < 8 * 1024,
        "HLS keeps {} B a stopped stream",
        on.kept - off.kept
    );
    // Once the sink ended: the parked playlist window only.
    assert!(
        on.parked - off.parked < 3 * 1024,
        "HLS keeps {} B a stream after its sink ended",
        on.parked - off.parked
    );
}

/// `messages` with their payloads moved into one shared buffer.
fn one_allocation(mut messages: Vec<RawMessage>) -> Vec<RawMessage> {
    let total = messages.iter().map(|m| m.payload.len()).sum();
    let mut all = Vec::with_capacity(total);
    for m in &messages {
        all.extend_from_slice(&m.payload);
    }
    let all = Bytes::from(all);
    let mut at = 0;
    for m in &mut messages {
        let len = m.payload.len();
        m.payload = all.slice(at..at + len);
        at += len;
    }
    messages
}
