//! Standard `onStatus` levels and codes (RTMP spec 7.2.2 and the NetConnection
//! / NetStream status codes of the Flash Player API reference), as FMS, SRS
//! and nginx-rtmp send them.
//!
//! Clients switch on these exact strings: ffmpeg waits for
//! `NetStream.Publish.Start` before sending media, Flash Player for
//! `NetConnection.Connect.Success` before creating streams.

/// The `level` of a normal status report.
pub const LEVEL_STATUS: &str = "status";
/// The `level` of an error report.
pub const LEVEL_ERROR: &str = "error";
/// The `level` of a warning.
pub const LEVEL_WARNING: &str = "warning";

/// `connect` succeeded.
pub const CONNECT_SUCCESS: &str = "NetConnection.Connect.Success";
/// `connect` was refused (authentication, unknown application...).
pub const CONNECT_REJECTED: &str = "NetConnection.Connect.Rejected";
/// The connection was closed.
pub const CONNECT_CLOSED: &str = "NetConnection.Connect.Closed";
/// `connect` failed for another reason.
pub const CONNECT_FAILED: &str = "NetConnection.Connect.Failed";
/// The application name is not known to the server.
pub const CONNECT_INVALID_APP: &str = "NetConnection.Connect.InvalidApp";
/// A remote call (`NetConnection.call`) failed.
pub const CALL_FAILED: &str = "NetConnection.Call.Failed";
/// The server asks the client to reconnect, to the `tcUrl` in the
/// information object if there is one, else to the one it used (Enhanced
/// RTMP v2, "Reconnect Request"; level `status`). Sent only to clients whose
/// `connect` announced [`CAPS_EX_RECONNECT`](super::CAPS_EX_RECONNECT).
pub const CONNECT_RECONNECT_REQUEST: &str = "NetConnection.Connect.ReconnectRequest";

/// `publish` accepted: the client may send media.
pub const PUBLISH_START: &str = "NetStream.Publish.Start";
/// `publish` refused: the name is in use or not allowed.
pub const PUBLISH_BAD_NAME: &str = "NetStream.Publish.BadName";
/// The publisher has been idle for too long.
pub const PUBLISH_IDLE: &str = "NetStream.Publish.Idle";
/// Publishing stopped (answer to `FCUnpublish` / unpublish).
pub const UNPUBLISH_SUCCESS: &str = "NetStream.Unpublish.Success";

/// The playlist was reset (sent before `NetStream.Play.Start` when `reset` is set).
pub const PLAY_RESET: &str = "NetStream.Play.Reset";
/// Playback started.
pub const PLAY_START: &str = "NetStream.Play.Start";
/// Playback stopped.
pub const PLAY_STOP: &str = "NetStream.Play.Stop";
/// `play` named a stream that does not exist.
pub const PLAY_STREAM_NOT_FOUND: &str = "NetStream.Play.StreamNotFound";
/// `play` failed for another reason.
pub const PLAY_FAILED: &str = "NetStream.Play.Failed";
/// The publisher of a live stream being played stopped publishing.
pub const PLAY_UNPUBLISH_NOTIFY: &str = "NetStream.Play.UnpublishNotify";
/// A publisher started publishing the live stream being played.
pub const PLAY_PUBLISH_NOTIFY: &str = "NetStream.Play.PublishNotify";
/// Playback is being switched to another stream.
pub const PLAY_SWITCH: &str = "NetStream.Play.Switch";
/// Playback reached the end of a recorded stream.
pub const PLAY_COMPLETE: &str = "NetStream.Play.Complete";

/// The stream was paused.
pub const PAUSE_NOTIFY: &str = "NetStream.Pause.Notify";
/// The stream was resumed.
pub const UNPAUSE_NOTIFY: &str = "NetStream.Unpause.Notify";
/// A seek completed.
pub const SEEK_NOTIFY: &str = "NetStream.Seek.Notify";
/// A seek failed.
pub const SEEK_FAILED: &str = "NetStream.Seek.Failed";
/// Data messages (`onMetaData`...) follow; sent by SRS as a data message
/// (type 18) after `NetStream.Play.Start`.
pub const DATA_START: &str = "NetStream.Data.Start";
/// A stream-level operation failed.
pub const STREAM_FAILED: &str = "NetStream.Failed";
