//! Plays an RTMP stream into an FLV file, for a number of seconds, until
//! the server closes the connection, or until the stream stays quiet for
//! 3 s after it had played (its publisher stopped). Uses the callback form,
//! [`Client::play_loop`]; [`Client::packets`] is the iterator form.
//!
//! `cargo run -p rtmp-client --example play_flv -- rtmp://127.0.0.1/live/stream out.flv 10`

use std::io::Write;
use std::ops::ControlFlow;
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
    let mut timeouts = client.timeouts();
    timeouts.read = Duration::from_secs(3);
    client.set_timeouts(timeouts);
    let mut out = std::fs::File::create(&file)?;
    let mut flv = FlvWriter::new(true, true);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tags = 0u64;
    let mut failed = None;
    let played = client.play_loop(|packet| {
        if packet.tag_type == TagType::Script {
            if let Some(meta) = packet.metadata() {
                eprintln!("metadata: {meta:?}");
            }
        }
        let written = flv
            .write_tag(packet.tag_type, packet.timestamp, &packet.payload)
            .map_err(|e| e.to_string())
            .and_then(|()| out.write_all(&flv.take()).map_err(|e| e.to_string()));
        if let Err(e) = written {
            failed = Some(e);
            return ControlFlow::Break(());
        }
        tags += 1;
        if Instant::now() >= end {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    match played {
        Ok(()) => {}
        Err(ClientError::Timeout(_)) if tags > 0 => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(e) = failed {
        return Err(e.into());
    }
    client.close()?;
    eprintln!("recorded {tags} tags into {file}");
    Ok(())
}
