//! Server and client session state machines. STUB: filled in by the session work.
