//! Typed NetConnection and NetStream commands (RTMP spec 7.2). STUB: filled in by the session work.
