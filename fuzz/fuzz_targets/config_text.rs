//! The SRS-style config language: arbitrary text through the lexer, parser and
//! directive checks must give a config or a located error, never a panic.
//! `include` is skipped: it reads other files, which is not this target's
//! business (the include limits have their own tests).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if text.contains("include") {
        return;
    }
    if let Err(e) = server_core::config::parse_str("fuzz.conf", &text) {
        let message = e.to_string();
        assert!(message.starts_with("fuzz.conf"), "{message}");
    }
});
