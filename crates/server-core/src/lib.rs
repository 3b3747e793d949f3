//! Runtime-neutral server. Filled in by the server-core issue.
