//! Deterministic simulator. Filled in by the sim issue.
