//! An HTTP-FLV player: one `GET` whose body is an endless FLV stream
//! (the format of FLV spec annex E, sent as it is produced).

use std::pin::pin;
use std::time::Instant;

use media_core::flv::{TagScanner, TagType};

use crate::client::{Arrival, Session};
use crate::http::{next_body_event, BodyEvent, HttpConn};
use crate::rtmp_conn::ConnError;

/// Plays client `id`'s URL ([`Env::play_url`](crate::client::Env::play_url))
/// until `session.end`. `Ok` when the end was reached.
pub async fn session(session: &mut Session<'_>, id: usize) -> Result<(), ConnError> {
    let env = session.env;
    let url = env.play_url(id);
    let end = session.end;
    let mut timer = pin!(tokio::time::sleep_until(end.into()));
    let mut conn = tokio::time::timeout_at(end.into(), HttpConn::open(env.addr))
        .await
        .map_err(|_| ConnError::Timeout)??;
    let response = tokio::time::timeout_at(end.into(), conn.get(&url))
        .await
        .map_err(|_| ConnError::Timeout)??;
    session.established = true;
    let mut body = response.into_body();
    let mut scanner = TagScanner::new();
    loop {
        match next_body_event(&mut body, timer.as_mut()).await? {
            BodyEvent::Timer => return Ok(()),
            BodyEvent::End => return Err(ConnError::Closed),
            BodyEvent::Data(data) => {
                session.add_bytes(data.len() as u64);
                let now = Instant::now();
                let now_ms = env.now_ms();
                let mut rest: &[u8] = &data;
                while let Some(tag) = scanner.scan(&mut rest)? {
                    let len = u64::from(tag.header.data_size);
                    match tag.header.tag_type {
                        TagType::Audio => session.on_media(now, now_ms, Arrival::Audio, len),
                        TagType::Video => {
                            let arrival = Arrival::video(tag.body_start());
                            session.on_media(now, now_ms, arrival, len)
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
