//! Aggregate messages (type 22): FLV-tag-shaped sub-messages in one body. STUB: filled in by the chunk work.
