//! `rtmp-server`: the tokio binary. Filled in by the server-core issue.
fn main() {
    eprintln!("rtmp-server: not built yet; see README.md");
    std::process::exit(1);
}
