//! Plays an RTMP stream into an FLV file, for a number of seconds or until
//! the server closes the connection.
//!
//! `cargo run -p rtmp-client --example play_flv -- rtmp://127.0.0.1/live/stream out.flv 10`

use std::io::Write;
use std::time::{Duration, Instant};

use media_core::flv::{FlvWriter, TagType};
use rtmp_client::{Client, ClientError};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: play_flv rtmp://host[:port]/app/stream OUT.flv [SECONDS]");
        std::process::exit(2);
    };
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let mut client = Client::new(&url)?;
    client.play()?;
    let mut out = std::fs::File::create(&file)?;
    let mut flv = FlvWriter::new(true, true);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tags = 0u64;
    while Instant::now() < end {
        let packet = match client.read_packet() {
            Ok(p) => p,
            Err(ClientError::Closed) => break,
            Err(e) => return Err(e.into()),
        };
        if packet.tag_type == TagType::Script {
            if let Some(meta) = packet.metadata() {
                eprintln!("metadata: {meta:?}");
            }
        }
        flv.write_tag(packet.tag_type, packet.timestamp, &packet.payload)?;
        out.write_all(&flv.take())?;
        tags += 1;
    }
    client.close()?;
    eprintln!("recorded {tags} tags into {file}");
    Ok(())
}
