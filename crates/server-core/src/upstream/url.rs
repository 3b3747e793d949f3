//! `rtmp://host[:port]/app[/more]/stream[?query]`: where an upstream
//! connection goes. The parser lives in `rtmp_proto::url`, shared with the
//! `rtmp-client` library, so every client of the workspace reads a URL the
//! same way.

pub use rtmp_proto::url::{
    split_host_port, RtmpUrl, RtmpUrlError, MAX_RTMP_URL_BYTES, RTMP_DEFAULT_PORT,
};
