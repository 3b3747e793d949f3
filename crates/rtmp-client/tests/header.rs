//! The committed C header is what cbindgen makes of `src/ffi.rs` today, so
//! a change to the C ABI cannot land without its header. Regenerate with
//! `UPDATE_HEADER=1 cargo test -p rtmp-client --test header`.

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses src/ffi.rs");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let path = dir.join("include/rtmp_client.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &fresh).expect("write header");
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/rtmp_client.h is stale: run UPDATE_HEADER=1 cargo test -p rtmp-client --test header"
    );
}
