//! LL-HLS from memory (RFC 8216bis 6.2.5): the playlist of a low-latency
//! stream, with blocking reload (`_HLS_msn`, `_HLS_part`) and delta updates
//! (`_HLS_skip=YES`), its partial segments, which exist nowhere else, and
//! its recent complete segments (those whose parts are still kept: the same
//! bytes as their files, see [`crate::hls_sink::LiveHls`]). Anything else,
//! older segments included, falls through to the files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use super::body::ResponseBody;
use super::files;
use super::mime;
use super::path::UrlPath;
use super::pieces::Pieces;
use super::reply::{self, Reply};
use crate::context::ServerCtx;
use crate::hls_sink::LiveStream;
use crate::hub::query_param;
use crate::runtime::timeout;

/// Parts and complete segments never change once published: caches may
/// keep them as long as they like (they are gone from the server's memory
/// within a few segments anyway; a segment's file is not, and answers
/// without this, as any static file).
const MEDIA_CACHE: &str = "public, max-age=60, immutable";
/// A blocking or delta playlist is one answer among many to the same URL
/// with other queries: short-lived, so a CDN in front can collapse requests.
const BLOCKING_PLAYLIST_CACHE: &str = "public, max-age=1";

/// The answer when `path` is a low-latency stream's playlist, part or
/// complete segment in memory; `None` for anything else.
pub(crate) async fn serve(
    ctx: &Arc<ServerCtx>,
    path: &UrlPath,
    query: &str,
    request: &HeaderMap,
) -> Option<Reply> {
    let ext = path.extension();
    if ext != "m3u8" && ext != "m4s" {
        return None;
    }
    for root in files::roots(ctx) {
        let file = path.file_under(&root);
        if ext == "m3u8" {
            if let Some(stream) = ctx.hls.live.find(&file) {
                return Some(playlist(ctx, &stream, query).await);
            }
        } else if let Some(stream) = ctx.hls.live.find_media(&file) {
            if let Some(resp) = media(ctx, &stream, &file, &ext, request).await {
                return Some(resp);
            }
        }
    }
    None
}

/// Waits until `ready` holds for the stream's state, or `hold` passes.
async fn wait_for(
    ctx: &ServerCtx,
    stream: &LiveStream,
    hold: Duration,
    ready: impl Fn(&crate::hls_sink::LiveState) -> bool,
) -> bool {
    let deadline = ctx.rt.now().saturating_add(hold);
    loop {
        let listener = stream.changed.listen();
        if ready(&stream.lock()) {
            return true;
        }
        let left = deadline.saturating_sub(ctx.rt.now());
        if left.is_zero() || timeout(&*ctx.rt, left, listener).await.is_none() {
            return ready(&stream.lock());
        }
    }
}

/// 6.2.5.2: with `_HLS_msn` (and `_HLS_part`), the answer waits until the
/// playlist holds that segment (part); a request more than two segments
/// ahead is refused; after three target durations, 503.
async fn playlist(ctx: &ServerCtx, stream: &LiveStream, query: &str) -> Reply {
    let number = |name| query_param(query, name).map(|v| v.parse::<u64>());
    let msn = match number("_HLS_msn") {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => return reply::text(StatusCode::BAD_REQUEST, "bad _HLS_msn"),
    };
    let part = match number("_HLS_part") {
        None => None,
        Some(Ok(p)) if msn.is_some() => Some(u32::try_from(p).unwrap_or(u32::MAX)),
        // _HLS_part without _HLS_msn is an error (6.2.5.2).
        Some(_) => return reply::text(StatusCode::BAD_REQUEST, "bad _HLS_part"),
    };
    let skip = matches!(query_param(query, "_HLS_skip"), Some("YES" | "v2"));
    if let Some(msn) = msn {
        let (current, hold) = {
            let state = stream.lock();
            (state.msn, state.hold)
        };
        if msn > current.saturating_add(2) {
            return reply::text(StatusCode::BAD_REQUEST, "_HLS_msn too far ahead");
        }
        if !wait_for(ctx, stream, hold, |s| s.has(msn, part)).await {
            return reply::status(StatusCode::SERVICE_UNAVAILABLE);
        }
    }
    let body = {
        let state = stream.lock();
        if skip {
            state.delta.clone()
        } else {
            state.full.clone()
        }
    };
    let mut resp = reply::full(StatusCode::OK, mime::content_type("m3u8"), body);
    let cache = if msn.is_some() || skip {
        BLOCKING_PLAYLIST_CACHE
    } else {
        "no-cache"
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

/// A complete segment, or a part, waiting for it when it is the one the
/// preload hint names; `None` when memory no longer has it (evicted since
/// it was found: its file, if it has one, answers).
async fn media(
    ctx: &ServerCtx,
    stream: &LiveStream,
    file: &Path,
    ext: &str,
    request: &HeaderMap,
) -> Option<Reply> {
    let (segment, part_due, hold) = {
        let state = stream.lock();
        let due = state.part(file).is_some() || state.hint.as_deref() == Some(file);
        (state.segment(file), due, state.hold)
    };
    if let Some(buffers) = segment {
        return Some(from_memory(buffers, ext, request));
    }
    if !part_due {
        return None;
    }
    let file: PathBuf = file.to_path_buf();
    if !wait_for(ctx, stream, hold, |s| s.part(&file).is_some()).await {
        return Some(reply::status(StatusCode::NOT_FOUND));
    }
    let Some(bytes) = stream.lock().part(&file) else {
        return Some(reply::status(StatusCode::NOT_FOUND));
    };
    Some(from_memory(vec![bytes], ext, request))
}

/// A part or segment held as `buffers`, whole or the one byte range the
/// request asks for, as the file handler answers a file (`Accept-Ranges`,
/// `206` with `Content-Range`, `416`); `HEAD` keeps the length. The
/// buffers are sliced, never copied.
fn from_memory(buffers: Vec<Bytes>, ext: &str, request: &HeaderMap) -> Reply {
    let len: u64 = buffers.iter().map(|b| b.len() as u64).sum();
    let Some((status, bytes)) = files::requested(request, len) else {
        return files::unsatisfiable(len);
    };
    let body = Pieces::range_of(buffers, bytes.clone());
    let mut resp = Response::new(ResponseBody::Shared(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime::content_type(ext)),
    );
    files::range_headers(headers, status, &bytes, len);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(MEDIA_CACHE));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::http::testing::ManualRuntime;
    use futures_util::FutureExt;

    /// A segment evicted between the lookup and the answer is left to its
    /// file at once, not waited for as if it were a part to come.
    #[test]
    fn a_segment_gone_since_it_was_found_falls_through_to_its_file() {
        let ctx = ServerCtx::new(ManualRuntime::new(), Config::default());
        let m3u8 = Path::new("/h/live/s.m3u8");
        let segment = Path::new("/h/live/s-1.m4s");
        let buffers = vec![Bytes::from_static(b"x")];
        ctx.hls
            .live
            .publish_segment(m3u8, segment.to_path_buf(), 1, buffers);
        let stream = ctx.hls.live.find_media(segment).expect("held");
        ctx.hls.live.forget_segment(m3u8, segment);
        let answer = media(&ctx, &stream, segment, "m4s", &HeaderMap::new())
            .now_or_never()
            .expect("answered without waiting");
        assert!(answer.is_none());
    }
}
