//! The simulated clients against a minimal relay built on `rtmp-proto`'s
//! `ServerSession`, over the simulated network: tests the clients on their own,
//! whatever state `server-core` is in.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::{AsyncReadExt, AsyncWriteExt};
use rtmp_proto::message::{MessageType, RawMessage};
use rtmp_proto::session::{ServerConfig, ServerEvent, ServerSession};
use sim::client::{
    classify, MediaTags, PlayerOptions, PublishEnd, PublisherOptions, SimPlayer, SimPublisher,
};
use sim::{LinkConfig, Sim, SimConn, SimHandle};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// Everything published so far, and where the latest key frame is.
#[derive(Default)]
struct Relay {
    config: Vec<RawMessage>,
    frames: Vec<RawMessage>,
    last_keyframe: Option<usize>,
}

async fn serve(sim: SimHandle, mut conn: SimConn, relay: Arc<Mutex<Relay>>) {
    let mut seed = [0u8; 32];
    sim.fill_random(&mut seed);
    let mut s = ServerSession::new(ServerConfig::default(), 0, seed);
    let mut buf = vec![0u8; 65536];
    let mut out = Vec::new();
    let mut playing: Option<(u32, usize)> = None;
    loop {
        let step = {
            let read = pin!(conn.read(&mut buf));
            match select(read, pin!(sim.sleep(Duration::from_millis(5)))).await {
                Either::Left((r, _)) => Some(r),
                Either::Right(_) => None,
            }
        };
        let input = match step {
            Some(Ok(0)) | Some(Err(_)) => return,
            Some(Ok(n)) => &buf[..n],
            None => &[],
        };
        if s.handle_input(sim.now().as_millis() as u64, input).is_err() {
            return;
        }
        while let Some(event) = s.poll_event() {
            match event {
                ServerEvent::Connect { .. } => s.accept_connect().unwrap(),
                ServerEvent::Publish { stream_id, .. } => s.accept_publish(stream_id).unwrap(),
                ServerEvent::Play { stream_id, .. } => {
                    s.accept_play(stream_id).unwrap();
                    let r = relay.lock().unwrap();
                    for m in &r.config {
                        s.send_media(stream_id, m);
                    }
                    playing = Some((stream_id, r.last_keyframe.unwrap_or(r.frames.len())));
                }
                ServerEvent::Media { message, .. } => {
                    let mut r = relay.lock().unwrap();
                    let (key, seq) = classify(message.type_id, &message.payload);
                    if seq || message.type_id == MessageType::DataAmf0 {
                        r.config.push(message);
                    } else {
                        if key {
                            r.last_keyframe = Some(r.frames.len());
                        }
                        r.frames.push(message);
                    }
                }
                _ => {}
            }
        }
        if let Some((stream_id, next)) = &mut playing {
            let r = relay.lock().unwrap();
            for m in r.frames.iter().skip(*next) {
                s.send_media(*stream_id, m);
            }
            *next = r.frames.len();
        }
        s.poll_transmit(&mut out);
        for piece in out.drain(..) {
            if conn.write_all(&piece).await.is_err() {
                return;
            }
        }
    }
}

fn start_relay(sim: &Sim) -> SocketAddr {
    let listener = sim
        .host(SERVER)
        .bind(SocketAddr::from((SERVER, 1935)))
        .unwrap();
    let addr = listener.local_addr();
    let h = sim.handle();
    let relay = Arc::new(Mutex::new(Relay::default()));
    sim.spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            h.spawn(serve(h.clone(), conn, relay.clone()));
        }
    });
    addr
}

fn bbb() -> Option<MediaTags> {
    let data = common::corpus_file("media/srs_bbb.flv")?;
    Some(MediaTags::from_flv(data).unwrap())
}

#[test]
fn publisher_paces_tags_and_players_verify_them() {
    let Some(media) = bbb() else { return };
    let mut sim = Sim::from_env(2024);
    sim.set_default_link(LinkConfig::default().with_latency(Duration::from_millis(15)));
    let server = start_relay(&sim);
    let tags = media.looped(Duration::from_secs(25));
    let publisher = SimPublisher::spawn(
        &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
        server,
        PublisherOptions::new("live", "bbb").ending(PublishEnd::Hold),
        tags.clone(),
    );
    sim.run_for(Duration::from_secs(3)).unwrap();
    let started = publisher.log().started_at.expect("publish started");
    let players: Vec<SimPlayer> = (0..3)
        .map(|i| {
            let mut opts = PlayerOptions::new("live", "bbb");
            opts.expect = Some(publisher.shared_log());
            opts.stop_at = Some(Duration::from_secs(20));
            SimPlayer::spawn(&sim.host(Ipv4Addr::new(10, 0, 2, i)), server, opts)
        })
        .collect();
    sim.run_until(Duration::from_secs(30)).unwrap();

    let log = publisher.log();
    assert_eq!(log.sent.len(), tags.len(), "every tag sent");
    // Real timing: each tag left at start + its timestamp.
    for rec in &log.sent {
        assert_eq!(rec.at, started + Duration::from_millis(rec.timestamp));
    }
    for p in &players {
        let l = p.log();
        assert!(l.is_clean(), "{:?}", l.first_problem);
        assert!(l.frames > 500, "{}", l.frames);
        assert_eq!(l.matched, l.frames);
        assert_eq!(l.ended.as_deref(), Some("stopped"));
        assert!(l.config_messages >= 2);
    }
}

#[test]
fn client_runs_are_deterministic() {
    let Some(media) = bbb() else { return };
    let tags = media.looped(Duration::from_secs(4));
    Sim::assert_deterministic(7, |sim| {
        sim.set_default_link(
            LinkConfig::default()
                .with_latency(Duration::from_millis(4))
                .with_jitter(Duration::from_millis(3)),
        );
        let server = start_relay(sim);
        SimPublisher::spawn(
            &sim.host(Ipv4Addr::new(10, 0, 1, 1)),
            server,
            PublisherOptions::new("live", "s"),
            tags.clone(),
        );
        sim.run_for(Duration::from_secs(1)).unwrap();
        SimPlayer::spawn(
            &sim.host(Ipv4Addr::new(10, 0, 2, 1)),
            server,
            PlayerOptions::new("live", "s"),
        );
        sim.run_for(Duration::from_secs(5)).unwrap();
    });
}
