#![no_main]
//! Feeds arbitrary bytes to a `ChunkDecoder` in fuzzer-chosen pieces, every
//! other piece pushed (`push`, `next_message`) and the rest read in place
//! (`decode_from`), and pulls messages until an error or until it needs more
//! bytes. It must never panic, loop forever or return a message larger than
//! the limits allow, and must count every byte once.
use libfuzzer_sys::fuzz_target;
use rtmp_proto::chunk::{ChunkDecoder, Limits};

fuzz_target!(|data: &[u8]| {
    // First byte: piece size and limits; the rest is the stream.
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(control & 0x7F) + 1;
    let limits = if control & 0x80 != 0 {
        Limits {
            max_chunk_size: 256,
            max_message_size: 4096,
            max_chunk_streams: 4,
            max_reassembly_bytes: 8192,
        }
    } else {
        Limits::default()
    };
    let mut decoder = ChunkDecoder::new(limits);
    for (i, part) in stream.chunks(piece).enumerate() {
        let mut input = part;
        let in_place = i % 2 == 1;
        if !in_place {
            decoder.push(part);
        }
        loop {
            let next = if in_place {
                decoder.decode_from(&mut input)
            } else {
                decoder.next_message()
            };
            match next {
                Ok(Some(msg)) => {
                    assert!(msg.payload.len() <= limits.max_message_size as usize);
                    assert!(decoder.chunk_size() <= limits.max_chunk_size);
                    assert!(decoder.reassembly_bytes() <= limits.max_reassembly_bytes);
                }
                Ok(None) => {
                    assert!(decoder.reassembly_bytes() <= limits.max_reassembly_bytes);
                    assert!(input.is_empty() || !in_place);
                    break;
                }
                Err(_) => return,
            }
        }
    }
    assert_eq!(decoder.bytes_received(), stream.len() as u64);
});
