//! The sans-IO SMART App Launch protocol core.
//!
//! A promise, kept by every module here: this code is fully deterministic. It does no
//! networking, reads no clock and draws no randomness of its own, and touches no browser
//! API. Random bytes and "now" are arguments; requests are returned as data (a URL, a
//! form body) and responses come back in as text. So every rule of SMART App Launch 2.2
//! (`smart-spec.md`) is tested natively, on plain data, and the same code runs in wasm.
//!
//! One module per protocol step, each citing the checklist items it implements:
//! [`discovery`], [`pkce`], [`authorize`], [`callback`], [`token`], [`scopes`],
//! [`context`], [`id_token`]. Shared pieces: [`error`] (stable error codes), [`warning`] (the server's tolerated deviations), [`json`]
//! (a small strict JSON reader), [`url`] (URL parsing, resolution and form encoding).

pub mod authorize;
pub mod base64url;
pub mod callback;
pub mod context;
pub mod discovery;
pub mod error;
pub mod fhir;
pub mod id_token;
pub mod json;
pub mod jwks;
pub mod pkce;
pub mod scopes;
pub mod text;
pub mod token;
pub mod url;
pub mod warning;

pub use error::{Error, ErrorCode, ErrorDetails, Result};
pub use warning::Warning;
