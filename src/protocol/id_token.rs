//! TODO: filled in by the protocol-core work (issue 2).
