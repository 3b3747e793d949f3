#![no_main]
use libfuzzer_sys::fuzz_target;

// STUB: the owning work item replaces this body with a call into the parser.
fuzz_target!(|data: &[u8]| {
    let _ = data;
});
