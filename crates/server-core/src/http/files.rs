//! Static files: the document root (`http_server.dir`) and every vhost's HLS
//! directory (`hls_path`, usually the same), read through the runtime's file
//! system so the simulator's in-memory one works.

use std::io;
use std::path::PathBuf;

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::StatusCode;
use tracing::warn;

use super::mime;
use super::path::UrlPath;
use super::reply::{self, Reply};
use super::MAX_FILE_BYTES;
use crate::server::ServerCtx;

/// What looking a path up found.
pub(crate) enum Lookup {
    /// The file's bytes and its extension.
    Found(Bytes, String),
    /// No root has it.
    Missing,
    /// A root has something there that could not be read.
    Failed(io::Error),
}

/// Roots searched in order: the document root, then HLS directories not already listed.
fn roots(ctx: &ServerCtx) -> Vec<PathBuf> {
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

/// Reads the file `path` names under the first root that has it.
pub(crate) async fn lookup(ctx: &ServerCtx, path: &UrlPath) -> Lookup {
    let fs = ctx.rt.fs();
    let ext = if path.dir {
        "html".to_owned()
    } else {
        path.extension()
    };
    let mut failure = None;
    for root in roots(ctx) {
        let file = path.file_under(&root);
        match fs.read(&file, MAX_FILE_BYTES).await {
            Ok(data) => return Lookup::Found(data, ext),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
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

/// The response for a file that was found.
pub(crate) fn found(data: Bytes, ext: &str) -> Reply {
    let mut resp = reply::full(StatusCode::OK, mime::content_type(ext), data);
    if let Some(cc) = mime::cache_control(ext) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
    }
    resp
}

/// The response when reading failed for a reason other than absence.
pub(crate) fn failed(e: &io::Error) -> Reply {
    match e.kind() {
        io::ErrorKind::PermissionDenied => reply::status(StatusCode::FORBIDDEN),
        _ => reply::status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}
