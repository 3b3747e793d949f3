//! Get mode: the throughput of one URL. Each client fetches it over and
//! over on one keep-alive HTTP/1.1 connection, as fast as the server
//! answers, reading every body in full (counted, never kept): the load a
//! CDN edge, or a crowd of LL-HLS players asking for the same part, puts on
//! a server. What a request costs the server is the point, so nothing here
//! waits: no think time, no pacing, one timer for the whole session.
//!
//! A 200 answer is a request ([`ConnStats::requests`]); any other status is
//! counted apart ([`ConnStats::non_200`]) and the connection goes on, so a
//! segment that left the playlist window shows up as a number in the report
//! instead of ending the run. When the server closes a connection that has
//! answered, a new one is opened at once (a disconnect and a session in the
//! report); a connection closed before its first answer is an error, after
//! which the client's session loop waits before retrying, so a server that
//! drops every connection is not hammered in a tight loop.
//!
//! [`ConnStats::requests`]: crate::stats::ConnStats::requests
//! [`ConnStats::non_200`]: crate::stats::ConnStats::non_200

use std::pin::pin;
use std::time::Instant;

use hyper::StatusCode;

use crate::client::{Arrival, Session};
use crate::http::{read_body, until, HttpConn};
use crate::progress::Counters;
use crate::rtmp_conn::ConnError;

/// Fetches the URL until `session.end`. `Ok` when the end was reached.
pub async fn session(session: &mut Session<'_>) -> Result<(), ConnError> {
    let env = session.env;
    let target = &env.opts.url;
    let limit = env.opts.max_body;
    let mut timer = pin!(tokio::time::sleep_until(session.end.into()));
    let mut conn: Option<HttpConn> = None;
    // Connections this session opened, and whether the current one has
    // answered yet.
    let mut opened = 0u32;
    let mut answered = false;
    // The last status other than 200, so the report's message is rewritten
    // only when it changes, not at every answer.
    let mut last_bad: Option<StatusCode> = None;
    loop {
        if conn.as_ref().is_some_and(|c| !c.is_open()) {
            // Closed by the server between two requests.
            if !answered {
                return Err(ConnError::Closed);
            }
            conn = None;
            closed_by_server(session);
        }
        let c = match &mut conn {
            Some(c) => c,
            None => {
                let Some(fresh) = until(HttpConn::open(env.addr), timer.as_mut()).await else {
                    return Ok(());
                };
                let fresh = fresh?;
                opened += 1;
                if opened > 1 {
                    // The client loop counted the first one.
                    session.stats.sessions = session.stats.sessions.saturating_add(1);
                }
                answered = false;
                conn.insert(fresh)
            }
        };
        let response = match until(c.send(target), timer.as_mut()).await {
            None => return Ok(()),
            Some(Ok(r)) => r,
            Some(Err(ConnError::Closed)) if answered => {
                conn = None;
                closed_by_server(session);
                continue;
            }
            Some(Err(e)) => return Err(e),
        };
        session.established = true;
        let status = response.status();
        let mut body = response.into_body();
        let read = read_body(&mut body, timer.as_mut(), limit, |n| {
            session.add_bytes(n as u64)
        })
        .await;
        let len = match read {
            Ok(Some(len)) => len,
            Ok(None) => return Ok(()),
            Err(ConnError::Closed) if answered => {
                conn = None;
                closed_by_server(session);
                continue;
            }
            Err(e) => return Err(e),
        };
        answered = true;
        if status == StatusCode::OK {
            session.stats.requests = session.stats.requests.saturating_add(1);
            session.on_media(Instant::now(), env.now_ms(), Arrival::Response, len);
        } else {
            session.stats.non_200 = session.stats.non_200.saturating_add(1);
            if last_bad != Some(status) {
                last_bad = Some(status);
                session.stats.last_error = Some(format!("HTTP {status} for {}", target.path));
            }
        }
    }
}

/// The server closed a connection that had answered: counted as a
/// disconnect; the caller opens the next one at once.
fn closed_by_server(session: &mut Session<'_>) {
    session.stats.disconnects = session.stats.disconnects.saturating_add(1);
    Counters::bump(&session.env.counters.disconnects);
}
