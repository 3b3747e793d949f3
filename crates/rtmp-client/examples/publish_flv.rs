//! Publishes an FLV file to an RTMP URL at the file's own pace.
//!
//! `cargo run -p rtmp-client --example publish_flv -- in.flv rtmp://127.0.0.1/live/stream`

use std::time::{Duration, Instant};

use media_core::flv::FlvReader;
use rtmp_client::{Client, Packet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(url)) = (args.next(), args.next()) else {
        eprintln!("usage: publish_flv FILE.flv rtmp://host[:port]/app/stream");
        std::process::exit(2);
    };
    let data = std::fs::read(&file)?;
    let mut client = Client::new(&url)?;
    client.publish()?;
    let start = Instant::now();
    let mut tags = 0u64;
    for tag in FlvReader::new(data)? {
        let tag = tag?;
        // Send each tag when its timestamp comes due, as a live encoder would.
        let due = Duration::from_millis(u64::from(tag.timestamp));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        client.write_packet(&Packet::new(tag.tag_type, tag.timestamp, tag.body))?;
        tags += 1;
    }
    client.close()?;
    eprintln!("published {tags} tags to {}", client.url().redacted());
    Ok(())
}
