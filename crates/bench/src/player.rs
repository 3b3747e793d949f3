//! An RTMP player: connect, createStream, play, then count what arrives
//! (RTMP spec 7.2.1.1, 7.2.1.3, 7.2.2.1) until the session ends.

use std::pin::pin;
use std::time::Instant;

use rtmp_proto::session::{ClientConfig, ClientEvent};
use rtmp_proto::MessageType;

use crate::client::{Arrival, Session};
use crate::rtmp_conn::{ConnError, RtmpConn, Wake};

/// `onStatus` level of a refusal (RTMP spec 7.2.2).
const LEVEL_ERROR: &str = "error";

/// The connect properties of an Enhanced RTMP v2 player (`--enhanced`):
/// the FourCCs it takes and `capsEx` Multitrack, so a server sends every
/// track of a multitrack stream.
fn enhanced_properties(enhanced: bool) -> Vec<(String, rtmp_proto::amf0::Amf0Value)> {
    use rtmp_proto::amf0::Amf0Value;
    if !enhanced {
        return Vec::new();
    }
    let fourccs = ["avc1", "hvc1", "av01", "mp4a", "Opus"]
        .iter()
        .map(|f| Amf0Value::String((*f).to_owned()))
        .collect();
    vec![
        ("fourCcList".to_owned(), Amf0Value::StrictArray(fourccs)),
        (
            "capsEx".to_owned(),
            Amf0Value::Number(f64::from(rtmp_proto::command::CAPS_EX_MULTITRACK)),
        ),
    ]
}

/// Plays client `id`'s stream ([`Env::play_name`](crate::client::Env::play_name))
/// until `session.end`. `Ok` when the end was reached.
pub async fn session(
    session: &mut Session<'_>,
    seed: [u8; 32],
    id: usize,
) -> Result<(), ConnError> {
    let env = session.env;
    let name = env.play_name(id);
    let end = session.end;
    let mut timer = pin!(tokio::time::sleep_until(end.into()));
    let batch = env.opts.read_interval;
    // Only armed once the first frame is in, so its time stays exact.
    let mut hold = pin!(tokio::time::sleep_until(end.into()));
    let mut holding = false;
    let mut conn = tokio::time::timeout_at(
        end.into(),
        RtmpConn::connect(env.addr, ClientConfig::default(), seed),
    )
    .await
    .map_err(|_| ConnError::Timeout)??;
    let tc_url = env.opts.url.tc_url(&env.app);
    conn.session
        .connect(&env.app, &tc_url, enhanced_properties(env.opts.enhanced));
    loop {
        if conn.wants_flush() {
            conn.flush().await?;
        }
        let hold_now = if holding { Some(hold.as_mut()) } else { None };
        match conn.next(timer.as_mut(), hold_now, || env.now_ms()).await? {
            Wake::Timer => return Ok(()),
            Wake::Data(n) => {
                session.add_bytes(n as u64);
                let now = Instant::now();
                let now_ms = env.now_ms();
                while let Some(event) = conn.session.poll_event() {
                    on_event(session, &mut conn, &name, event, now, now_ms)?;
                }
                if !batch.is_zero() && session.has_first_frame() {
                    holding = true;
                    hold.as_mut().reset((now + batch).into());
                }
            }
        }
    }
}

fn on_event(
    session: &mut Session<'_>,
    conn: &mut RtmpConn,
    name: &str,
    event: ClientEvent,
    now: Instant,
    now_ms: u64,
) -> Result<(), ConnError> {
    match event {
        ClientEvent::Connected { .. } => {
            conn.session.create_stream();
        }
        ClientEvent::StreamCreated { stream_id, .. } => {
            conn.session.play(stream_id, name);
        }
        ClientEvent::ConnectFailed { status } => {
            return Err(ConnError::Refused(format!("connect: {}", status.code)));
        }
        ClientEvent::CallFailed { command, .. } => {
            return Err(ConnError::Refused(command));
        }
        ClientEvent::Status { level, code, .. } => {
            if level == LEVEL_ERROR {
                return Err(ConnError::Refused(code));
            }
            // Play.Start (or Reset) means the server took us.
            if code.starts_with("NetStream.Play.") {
                session.established = true;
            }
        }
        ClientEvent::Media { message, .. } => {
            session.established = true;
            let arrival = if message.type_id == MessageType::Video {
                Arrival::video(&message.payload)
            } else {
                Arrival::Audio
            };
            session.on_media(now, now_ms, arrival, message.payload.len() as u64);
        }
        _ => {}
    }
    Ok(())
}
