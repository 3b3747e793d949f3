//! HLS VOD of the files under a vhost's `vod { dir }`:
//! `/vod/APP/NAME.mp4/index.m3u8` is the playlist of `dir/APP/NAME.mp4`
//! (`EXT-X-PLAYLIST-TYPE:VOD`, `EXT-X-ENDLIST`), `/vod/APP/NAME.mp4/N.ts`
//! its segment `N`, cut at key frames and muxed to MPEG-TS when asked for.
//! Nothing is written to disk. The vhost is the request's `Host` (else the
//! default vhost), as for HTTP-FLV; with no vhost's `vod` enabled, `/vod/`
//! is an ordinary static path.

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL};
use hyper::StatusCode;
use media_core::vod::{mux_segment, playlist, segments, MediaIndex, VodSegment};
use media_core::MediaMessage;
use tracing::debug;

use super::path::{encode_segment, UrlPath};
use super::reply::{self, Reply};
use crate::context::ServerCtx;
use crate::runtime::{timeout, FileReader};
use crate::vod::{open, VodError, VodFile, READ_TIMEOUT};

/// The path prefix (first segment) of VOD URLs.
pub(crate) const VOD_PREFIX: &str = "vod";
/// The playlist's name inside a file's URL.
const PLAYLIST: &str = "index.m3u8";
/// A segment whose frames span more of the file than this is read frame by
/// frame rather than in one piece (bounds what one request holds).
const MAX_SEGMENT_SPAN: u64 = 32 * 1024 * 1024;

/// What a VOD URL asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asked {
    Playlist,
    Segment(usize),
}

/// The file (relative to `dir`) and what of it, when `path` is a VOD URL.
fn parse(path: &UrlPath) -> Option<(String, Asked)> {
    let (first, rest) = path.segments.split_first()?;
    if first != VOD_PREFIX || path.dir || rest.len() < 2 {
        return None;
    }
    let (last, file) = rest.split_last()?;
    let asked = if last == PLAYLIST {
        Asked::Playlist
    } else {
        let n = last.strip_suffix(".ts")?;
        if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Asked::Segment(n.parse().ok()?)
    };
    Some((file.join("/"), asked))
}

/// True when this request is for VOD: a `/vod/…` playlist or segment URL
/// and a vhost that has `vod` enabled for `host`.
pub(crate) fn owns(ctx: &ServerCtx, path: &UrlPath, host: Option<&str>) -> bool {
    parse(path).is_some() && ctx.vhost(host.unwrap_or_default()).vod.is_some()
}

/// Serves a VOD playlist or segment.
pub(crate) async fn serve(ctx: &Arc<ServerCtx>, path: &UrlPath, host: Option<&str>) -> Reply {
    let Some((rel, asked)) = parse(path) else {
        return reply::status(StatusCode::NOT_FOUND);
    };
    let vhost = ctx.vhost(host.unwrap_or_default());
    let Some(vod) = vhost.vod.as_ref() else {
        return reply::status(StatusCode::NOT_FOUND);
    };
    let file = match open(&*ctx.rt, vod, &rel).await {
        Ok(f) => f,
        Err(e) => return failed(&rel, &e),
    };
    let target_ms = u64::try_from(vod.hls_fragment.as_millis()).unwrap_or(u64::MAX);
    let segs = segments(&file.index, target_ms);
    match asked {
        Asked::Playlist => {
            let text = playlist(&segs, |n| format!("{n}.ts"));
            let mut resp = reply::full(StatusCode::OK, "application/vnd.apple.mpegurl", text);
            // The file may be replaced (a new recording): ask again.
            resp.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        Asked::Segment(n) => {
            let Some(seg) = segs.get(n).copied() else {
                return reply::status(StatusCode::NOT_FOUND);
            };
            match segment(ctx, &file, seg).await {
                Ok(ts) => reply::full(StatusCode::OK, "video/mp2t", ts),
                Err(e) => failed(&rel, &e),
            }
        }
    }
}

/// The status for a file that could not be served.
fn failed(rel: &str, e: &VodError) -> Reply {
    debug!(file = %encode_segment(rel), "vod: {e}");
    match e {
        VodError::NotFound => reply::status(StatusCode::NOT_FOUND),
        VodError::Forbidden(_) => reply::status(StatusCode::FORBIDDEN),
        VodError::Index(_) => reply::text(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        VodError::Timeout => reply::status(StatusCode::GATEWAY_TIMEOUT),
        VodError::Io(_) => reply::status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// Reads a segment's frames (one read when they lie close together) and
/// muxes them.
async fn segment(ctx: &ServerCtx, file: &VodFile, seg: VodSegment) -> Result<Bytes, VodError> {
    let index: &MediaIndex = &file.index;
    let samples = index.samples.get(seg.first..seg.end).unwrap_or_default();
    let start = samples.iter().map(|s| s.offset).min().unwrap_or(0);
    let end = samples
        .iter()
        .map(|s| s.offset.saturating_add(u64::from(s.size)))
        .max()
        .unwrap_or(0);
    let span = end.saturating_sub(start);
    let whole = if span <= MAX_SEGMENT_SPAN {
        Some(read(ctx, &*file.reader, start, span as usize).await?)
    } else {
        None
    };
    let mut frames: Vec<MediaMessage> = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        let data = match &whole {
            Some(data) => {
                let at = (s.offset - start) as usize;
                data.get(at..at + s.size as usize)
                    .map(|_| data.slice(at..at + s.size as usize))
            }
            None => Some(read(ctx, &*file.reader, s.offset, s.size as usize).await?),
        };
        let Some(data) = data.filter(|d| d.len() == s.size as usize) else {
            // The file is shorter than when it was indexed.
            return Err(VodError::NotFound);
        };
        if let Some(msg) = index.message(seg.first + i, data) {
            frames.push(msg);
        }
    }
    Ok(mux_segment(&index.headers, &frames))
}

async fn read(
    ctx: &ServerCtx,
    reader: &dyn FileReader,
    offset: u64,
    len: usize,
) -> Result<Bytes, VodError> {
    timeout(&*ctx.rt, READ_TIMEOUT, reader.read_at(offset, len))
        .await
        .ok_or(VodError::Timeout)?
        .map_err(VodError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<(String, Asked)> {
        parse(&UrlPath::parse(s).unwrap())
    }

    #[test]
    fn urls_name_a_file_and_a_part() {
        assert_eq!(
            p("/vod/live/cam.mp4/index.m3u8"),
            Some(("live/cam.mp4".into(), Asked::Playlist))
        );
        assert_eq!(
            p("/vod/live/cam.flv/12.ts"),
            Some(("live/cam.flv".into(), Asked::Segment(12)))
        );
        assert_eq!(p("/vod/index.m3u8"), None);
        assert_eq!(p("/live/cam.mp4/index.m3u8"), None);
        assert_eq!(p("/vod/live/cam.mp4/x.ts"), None);
        assert_eq!(p("/vod/live/cam.mp4/"), None);
        assert_eq!(p("/vod/live/cam.mp4/99999999999.ts"), None);
    }
}
