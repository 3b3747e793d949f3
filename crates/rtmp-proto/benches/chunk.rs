//! Chunk stream throughput and fan-out cost.
//!
//! Run: `cargo bench -p rtmp-proto --bench chunk -- --warm-up-time 1 --measurement-time 3`
//!
//! - `decode/video_64k_cs4096`: decoding 64 KiB video messages sent at chunk
//!   size 4096, pushed in 64 KiB reads (throughput in wire bytes).
//! - `encode/...`: one connection's encoder, as zero-copy pieces and as one
//!   contiguous buffer (throughput in payload bytes).
//! - `fanout_1000/...`: one 64 KiB message to 1,000 players, shared
//!   (`encode_shared` once, then one clone per player) versus naive (each
//!   player's encoder copies it with `encode_to_vec`). Before measuring, the
//!   bench prints how many payload bytes each way copies (pointer ranges) and
//!   allocates (a counting allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rtmp_proto::chunk::{encode_shared, ChunkDecoder, ChunkEncoder, EncodedMessage, Limits};
use rtmp_proto::control::ControlMessage;
use rtmp_proto::{MessageType, RawMessage};

/// Counts bytes allocated (not freed): what a piece of code had to copy into
/// fresh memory.
struct CountingAllocator;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size.saturating_sub(layout.size()), Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const PAYLOAD: usize = 64 * 1024;
const CHUNK_SIZE: u32 = 4096;
const MESSAGES: usize = 32;
const PLAYERS: usize = 1000;
const READ: usize = 64 * 1024;

fn video(i: usize) -> RawMessage {
    RawMessage {
        csid: 6,
        timestamp: i as u64 * 40,
        type_id: MessageType::Video,
        stream_id: 1,
        payload: (0..PAYLOAD)
            .map(|b| (b * 31 + i) as u8)
            .collect::<Vec<u8>>()
            .into(),
    }
}

/// A stream of `MESSAGES` video messages at chunk size 4096.
fn wire() -> Vec<u8> {
    let mut enc = ChunkEncoder::new();
    let mut wire = enc.encode_to_vec(&ControlMessage::SetChunkSize(CHUNK_SIZE).to_message());
    for i in 0..MESSAGES {
        wire.extend(enc.encode_to_vec(&video(i)));
    }
    wire
}

fn decode(c: &mut Criterion) {
    let wire = wire();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(wire.len() as u64));
    group.bench_function("video_64k_cs4096", |b| {
        b.iter(|| {
            let mut dec = ChunkDecoder::new(Limits::default());
            let mut n = 0;
            for read in wire.chunks(READ) {
                dec.push(read);
                while let Some(msg) = dec.next_message().unwrap() {
                    n += msg.payload.len();
                    black_box(msg);
                }
            }
            assert_eq!(n, MESSAGES * PAYLOAD + 4);
        })
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let msgs: Vec<RawMessage> = (0..MESSAGES).map(video).collect();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes((MESSAGES * PAYLOAD) as u64));
    group.bench_function("pieces_64k_cs4096", |b| {
        let mut out = Vec::with_capacity(64);
        b.iter(|| {
            let mut enc = ChunkEncoder::new();
            enc.set_chunk_size(CHUNK_SIZE);
            for msg in &msgs {
                out.clear();
                enc.encode(msg, &mut out);
                black_box(&out);
            }
        })
    });
    group.bench_function("to_vec_64k_cs4096", |b| {
        b.iter(|| {
            let mut enc = ChunkEncoder::new();
            enc.set_chunk_size(CHUNK_SIZE);
            for msg in &msgs {
                black_box(enc.encode_to_vec(msg));
            }
        })
    });
    group.finish();
}

/// The shared fan-out: one encoding, one clone per player queue.
fn fan_out_shared(msg: &RawMessage, queues: &mut [Vec<EncodedMessage>]) {
    let encoded = encode_shared(CHUNK_SIZE, msg);
    for queue in queues.iter_mut() {
        queue.push(encoded.clone());
    }
}

/// The naive fan-out: every player's encoder copies the message.
fn fan_out_naive(msg: &RawMessage, encoders: &mut [ChunkEncoder], queues: &mut [Vec<Vec<u8>>]) {
    for (enc, queue) in encoders.iter_mut().zip(queues.iter_mut()) {
        queue.push(enc.encode_to_vec(msg));
    }
}

fn players() -> Vec<ChunkEncoder> {
    (0..PLAYERS)
        .map(|_| {
            let mut enc = ChunkEncoder::new();
            enc.set_chunk_size(CHUNK_SIZE);
            enc
        })
        .collect()
}

/// Prints how many payload bytes each fan-out copies, before measuring.
fn report_copies(msg: &RawMessage) {
    let mut queues: Vec<Vec<EncodedMessage>> =
        (0..PLAYERS).map(|_| Vec::with_capacity(1)).collect();
    let before = ALLOCATED.load(Ordering::Relaxed);
    fan_out_shared(msg, &mut queues);
    let shared_alloc = ALLOCATED.load(Ordering::Relaxed) - before;
    let payload = msg.payload.as_ptr_range();
    let mut aliased = 0usize;
    let mut copied = 0usize;
    for queue in &queues {
        let pieces: &[Bytes] = queue[0].pieces();
        for piece in pieces.iter().skip(1).step_by(2) {
            if payload.contains(&piece.as_ptr()) {
                aliased += piece.len();
            } else {
                copied += piece.len();
            }
        }
    }
    assert_eq!(aliased, PLAYERS * PAYLOAD);

    let mut encoders = players();
    let mut naive_queues: Vec<Vec<Vec<u8>>> = (0..PLAYERS).map(|_| Vec::with_capacity(1)).collect();
    let before = ALLOCATED.load(Ordering::Relaxed);
    fan_out_naive(msg, &mut encoders, &mut naive_queues);
    let naive_alloc = ALLOCATED.load(Ordering::Relaxed) - before;
    println!(
        "fanout_1000: shared: payload bytes copied {copied} (aliased {aliased}), bytes allocated {shared_alloc}; \
         naive encode_to_vec: bytes allocated {naive_alloc} ({:.1} x payload per player)",
        naive_alloc as f64 / (PLAYERS * PAYLOAD) as f64
    );
}

fn fan_out(c: &mut Criterion) {
    let msg = video(1);
    report_copies(&msg);
    let mut group = c.benchmark_group("fanout_1000");
    group.bench_function("shared", |b| {
        let mut queues: Vec<Vec<EncodedMessage>> =
            (0..PLAYERS).map(|_| Vec::with_capacity(1)).collect();
        b.iter(|| {
            fan_out_shared(&msg, &mut queues);
            queues.iter_mut().for_each(Vec::clear);
        })
    });
    group.bench_function("naive_encode_to_vec", |b| {
        let mut encoders = players();
        let mut queues: Vec<Vec<Vec<u8>>> = (0..PLAYERS).map(|_| Vec::with_capacity(1)).collect();
        b.iter(|| {
            fan_out_naive(&msg, &mut encoders, &mut queues);
            queues.iter_mut().for_each(Vec::clear);
        })
    });
    group.finish();
}

criterion_group!(benches, decode, encode, fan_out);
criterion_main!(benches);
