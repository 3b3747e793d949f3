//! What decoded messages keep alive. A message is often kept long after it is
//! decoded (a GOP cache holds seconds of them), so its payload must not pin
//! more memory than its own bytes: the heap is measured by a counting
//! allocator. One test per file, so nothing else allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use bytes::Bytes;
use rtmp_proto::chunk::{ChunkDecoder, Limits};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A video message of `len` bytes on csid 6, in 4096-byte chunks.
fn video_chunks(timestamp: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0x06];
    out.extend_from_slice(&timestamp.to_be_bytes()[1..]);
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    out.push(9);
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, piece) in vec![0x17u8; len].chunks(4096).enumerate() {
        if i > 0 {
            out.push(0xC6);
        }
        out.extend_from_slice(piece);
    }
    out
}

/// A fmt 0 chunk on csid 4 carrying a whole audio message of `len` bytes.
fn audio_chunk(timestamp: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0x04];
    out.extend_from_slice(&timestamp.to_be_bytes()[1..]);
    out.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
    out.push(8);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend((0..len).map(|i| i as u8));
    out
}

#[test]
fn kept_messages_pin_no_more_than_their_bytes() {
    let mut decoder = ChunkDecoder::new(Limits::default());
    // Set Chunk Size 4096, as ffmpeg and OBS send: audio frames fit in one chunk.
    decoder.push(&[2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0]);
    while decoder.next_message().expect("set chunk size").is_some() {}
    // The runtime's reads: sometimes one message, sometimes a burst of many
    // (a big read after a stall), as a publisher's socket delivers them.
    let mut kept: Vec<Bytes> = Vec::new();
    let before = LIVE.load(Ordering::Relaxed);
    let mut ts = 0;
    for round in 0..400 {
        let burst = if round % 50 == 0 { 100 } else { 1 };
        let mut input = Vec::new();
        for _ in 0..burst {
            input.extend(video_chunks(ts, 20_000));
            input.extend(audio_chunk(ts, 300));
            ts += 23;
        }
        decoder.push(&input);
        drop(input);
        while let Some(msg) = decoder.next_message().expect("valid chunks") {
            kept.push(msg.payload);
        }
    }
    let payload: usize = kept.iter().map(Bytes::len).sum();
    let live = (LIVE.load(Ordering::Relaxed) - before) as usize;
    // The Vec of handles and the decoder's own buffer come on top.
    let overhead = kept.capacity() * std::mem::size_of::<Bytes>() + 64 * 1024;
    assert!(
        live <= payload + payload / 4 + overhead,
        "{} messages of {payload} bytes in all keep {live} bytes of heap alive",
        kept.len()
    );
    // What the decoder itself holds once drained: not the 2 MB a burst grew
    // its input buffer to.
    drop(kept);
    let held = (LIVE.load(Ordering::Relaxed) - before) as usize;
    assert!(held <= 64 * 1024, "a drained decoder holds {held} bytes");
}
