//! VOD indexing (MP4 boxes and sample tables, FLV tags): arbitrary bytes as
//! an MP4 and as an FLV file, whole, and with the indexer's reads cut short
//! as a file that shrank would cut them. Nothing may panic; every frame the
//! index names lies inside the file; segments cover the frames in order;
//! muxing a segment's frames never panics.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use media_core::vod::{mux_segment, segments, FileIndexer, VodPacer};

fuzz_target!(|data: &[u8]| {
    for ext in ["mp4", "flv"] {
        let Ok(index) = FileIndexer::index_bytes(ext, data) else {
            continue;
        };
        for s in &index.samples {
            assert!(s.offset + u64::from(s.size) <= data.len() as u64);
        }
        let segs = segments(&index, 1000);
        let mut next = 0;
        for seg in &segs {
            assert_eq!(seg.first, next);
            assert!(seg.end >= seg.first);
            next = seg.end;
        }
        if let Some(seg) = segs.first() {
            let frames: Vec<_> = (seg.first..seg.end.min(seg.first + 64))
                .filter_map(|i| {
                    let s = index.samples[i];
                    let start = usize::try_from(s.offset).ok()?.min(data.len());
                    let end = start.saturating_add(s.size as usize).min(data.len());
                    index.message(i, Bytes::copy_from_slice(&data[start..end]))
                })
                .collect();
            let _ = mux_segment(&index.headers, &frames);
        }
        let mut pacer = VodPacer::new(100);
        pacer.seek(
            &index,
            u64::from(data.first().copied().unwrap_or(0)) * 100,
            0,
        );
        for now in 0..64 {
            let _ = pacer.step(&index, now * 50);
        }
    }
    // Reads that come back short (a file truncated while indexing).
    if let Some(mut indexer) = FileIndexer::for_extension("mp4", data.len() as u64 + 1000) {
        let mut reads = 0;
        while let Some(want) = indexer.want() {
            reads += 1;
            assert!(reads < 100_000, "the indexer ends");
            let start = usize::try_from(want.offset)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let end = start.saturating_add(want.len).min(data.len());
            if indexer.feed(&data[start..end]).is_err() {
                break;
            }
        }
    }
});
