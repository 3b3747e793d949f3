//! `RTMP_SERVER_INHERIT`, the variable a binary upgrade (SIGUSR2) names its
//! inherited sockets in: nothing may panic, an accepted value names at most
//! the sockets it lists, never a standard or repeated fd, and encoding what
//! was accepted reads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use server_core::upgrade::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(handed) = decode(text, 42) {
        assert!(handed.len() <= text.matches(';').count());
        for (i, h) in handed.iter().enumerate() {
            assert!(h.fd > 2);
            assert!(handed[..i].iter().all(|o| o.fd != h.fd));
        }
        assert_eq!(decode(&encode(42, &handed), 42).as_ref(), Ok(&handed));
    }
});
