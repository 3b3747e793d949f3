//! Static files: the document root (`http_server.dir`) and every vhost's HLS
//! directory (`hls_path`, usually the same), read through the runtime's file
//! system so the simulator's in-memory one works. Files of any size are sent a
//! piece at a time, whole or as one byte range.

use std::io;
use std::ops::Range;
use std::path::PathBuf;

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};
use tracing::warn;

use super::body::{FileBody, ResponseBody};
use super::mime;
use super::path::UrlPath;
use super::range::{self, Ranged};
use super::reply::{self, Reply};
use crate::context::ServerCtx;
use crate::runtime::FileReader;

/// What looking a path up found.
pub(crate) enum Lookup {
    /// The open file and its extension.
    Found(Box<dyn FileReader>, String),
    /// No root has it.
    Missing,
    /// A root has something there that could not be read.
    Failed(io::Error),
}

/// Roots searched in order: the document root, then HLS directories not already listed.
pub(crate) fn roots(ctx: &ServerCtx) -> Vec<PathBuf> {
    let mut roots = vec![ctx.http().dir.clone()];
    for vhost in ctx.vhosts() {
        if let Some(hls) = &vhost.hls {
            if !roots.contains(&hls.path) {
                roots.push(hls.path.clone());
            }
        }
    }
    roots
}

/// Longest file name a segment can match: Linux's `NAME_MAX`, the limit of
/// ext4, XFS, btrfs and tmpfs alike. A longer segment names nothing.
pub(crate) const NAME_MAX: usize = 255;

/// True when an open failed because nothing can be at that path: it is
/// absent (`ENOENT`), a file stands where a directory would
/// (`/index.html/x`: `ENOTDIR`), or a name or the whole path is longer than
/// the file system allows (`ENAMETOOLONG`). All three are `404`, as nginx's
/// static module answers them: the resource does not exist, and nothing about
/// the request is wrong. (`414 URI Too Long` would be untrue: the URI was read
/// and parsed whole, and one a few hundred bytes long is not long.)
fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidFilename
    )
}

/// Opens the file `path` names under the first root that has it.
pub(crate) async fn lookup(ctx: &ServerCtx, path: &UrlPath) -> Lookup {
    if path.segments.iter().any(|s| s.len() > NAME_MAX) {
        return Lookup::Missing;
    }
    let fs = ctx.rt.fs();
    let ext = if path.dir {
        "html".to_owned()
    } else {
        path.extension()
    };
    let mut failure = None;
    for root in roots(ctx) {
        let file = path.file_under(&root);
        match fs.open(&file).await {
            Ok(reader) => return Lookup::Found(reader, ext),
            Err(e) if is_absent(&e) => {}
            Err(e) => {
                warn!(file = %file.display(), "read: {e}");
                failure.get_or_insert(e);
            }
        }
    }
    match failure {
        Some(e) => Lookup::Failed(e),
        None => Lookup::Missing,
    }
}

/// The response for a file that was found: all of it, or the one byte range
/// the request's `Range` header asks for.
pub(crate) fn found(reader: Box<dyn FileReader>, ext: &str, request: &HeaderMap) -> Reply {
    let len = reader.len();
    let Some((status, bytes)) = requested(request, len) else {
        return unsatisfiable(len);
    };
    let mut resp = Response::new(ResponseBody::File(Box::new(FileBody::new(
        reader,
        bytes.clone(),
    ))));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime::content_type(ext)),
    );
    range_headers(headers, status, &bytes, len);
    if let Some(cc) = mime::cache_control(ext) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
    }
    resp
}

/// What a request gets of a body of `len` bytes (a file, or an LL-HLS
/// segment in memory): all of it (`200`) or the one range its `Range`
/// header asks for (`206`); `None` when no byte of it is in that range
/// (answered with [`unsatisfiable`]).
pub(crate) fn requested(request: &HeaderMap, len: u64) -> Option<(StatusCode, Range<u64>)> {
    // A conditional range needs validators (ETag, Last-Modified) this server
    // does not send, so it can never match: the whole body, as RFC 9110 says.
    let asked = if request.contains_key(header::IF_RANGE) {
        None
    } else {
        request.get(header::RANGE).and_then(|v| v.to_str().ok())
    };
    match range::resolve(asked, len) {
        Ranged::Full => Some((StatusCode::OK, 0..len)),
        Ranged::Partial(bytes) => Some((StatusCode::PARTIAL_CONTENT, bytes)),
        Ranged::Unsatisfiable => None,
    }
}

/// `416` for a body of `len` bytes, saying its length (RFC 9110 15.5.17).
pub(crate) fn unsatisfiable(len: u64) -> Reply {
    let mut resp = reply::status(StatusCode::RANGE_NOT_SATISFIABLE);
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
        resp.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    resp
}

/// `Accept-Ranges`, and for a `206` its `Content-Range` (RFC 9110 14.3,
/// 14.4): `bytes` of a body of `len` bytes.
pub(crate) fn range_headers(
    headers: &mut HeaderMap,
    status: StatusCode,
    bytes: &Range<u64>,
    len: u64,
) {
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT {
        let value = format!(
            "bytes {}-{}/{len}",
            bytes.start,
            bytes.end.saturating_sub(1)
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(header::CONTENT_RANGE, v);
        }
    }
}

/// The response when reading failed for a reason other than absence.
pub(crate) fn failed(e: &io::Error) -> Reply {
    match e.kind() {
        io::ErrorKind::PermissionDenied => reply::status(StatusCode::FORBIDDEN),
        _ => reply::status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}
