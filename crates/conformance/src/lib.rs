//! Capture replay. Filled in by the conformance issue.
