//! Protocol control (spec 5.4) and user control (spec 6.2) messages. STUB: filled in by the chunk work.
