//! Video on demand: FLV and MP4 files under a vhost's `vod { dir }` played
//! as if they were streams, over RTMP ([`VodPlayback`], from the
//! connection's `play`) and as HLS (`http::vod`). The media logic (indexes,
//! pacing, segments) is `media_core::vod`'s; this module finds the files,
//! reads them through the runtime's file system and keeps their indexes.

mod files;
mod playback;

pub use files::{
    open, path_under, vod_extension, VodError, VodFile, INDEX_TIMEOUT, READ_TIMEOUT, VOD_EXTENSIONS,
};
pub use playback::{VodItem, VodPlayback};

use crate::context::ServerCtx;
use crate::lifecycle::Target;

/// The file a `play` of `target` is for, opened, when its vhost has `vod`:
/// a name with a VOD extension is always a file (or an error: no such
/// file); a name without one is `NAME.flv` when that file exists and no one
/// publishes the stream (ffmpeg drops `.flv` from the names it plays, and
/// FMS and nginx-rtmp name FLV files without it). `None`: a live play.
pub async fn find_for_play(ctx: &ServerCtx, target: &Target) -> Option<Result<VodFile, VodError>> {
    let vod = target.vhost.vod.as_ref()?;
    let key = &target.key;
    if let Some(rel) = play_name(&key.app, &key.stream) {
        return Some(open(&*ctx.rt, vod, &rel).await);
    }
    let live = ctx.hub.find(key).is_some_and(|s| s.publisher().is_some());
    if live || key.stream.contains('.') {
        return None;
    }
    let rel = format!("{}/{}.flv", key.app, key.stream);
    open(&*ctx.rt, vod, &rel).await.ok().map(Ok)
}

/// The file a `play` of `app`/`stream` names on a vhost with `vod`:
/// `NAME.mp4` or `NAME.flv` below the app's directory
/// (`rtmp://HOST/APP/NAME.mp4` plays `dir/APP/NAME.mp4`, the path SRS's DVR
/// writes by default). FMS's type prefixes are understood as librtmp and
/// ffmpeg send them: `mp4:NAME.mp4`, and `mp4:NAME` (the extension dropped)
/// for `NAME.mp4`. `None` when the name has no VOD extension nor prefix.
pub fn play_name(app: &str, stream: &str) -> Option<String> {
    let (typed, name) = match stream.split_once(':') {
        Some((t @ ("mp4" | "flv" | "f4v"), rest)) => (Some(t), rest),
        _ => (None, stream),
    };
    let name = if vod_extension(name).is_some() {
        name.to_owned()
    } else {
        format!("{name}.{}", typed?)
    };
    Some(if app.is_empty() {
        name
    } else {
        format!("{app}/{name}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn play_names_map_to_files_as_players_send_them() {
        let n = |s| play_name("live", s);
        assert_eq!(n("a.mp4").as_deref(), Some("live/a.mp4"));
        assert_eq!(n("mp4:a.mp4").as_deref(), Some("live/a.mp4"));
        assert_eq!(n("mp4:a").as_deref(), Some("live/a.mp4"));
        assert_eq!(n("flv:rec/a").as_deref(), Some("live/rec/a.flv"));
        assert_eq!(n("a.flv").as_deref(), Some("live/a.flv"));
        assert_eq!(n("a"), None);
        assert_eq!(n("a.m3u8"), None);
    }
}
