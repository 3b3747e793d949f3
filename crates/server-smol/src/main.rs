//! `rtmp-server`: the smol binary. Filled in by the server-core issue.
fn main() {
    eprintln!("rtmp-server-smol: not built yet; see README.md");
    std::process::exit(1);
}
