//! smart-launch: a SMART App Launch 2.2 client for the browser.
//!
//! `protocol` is the sans-IO core (pure, natively tested). The browser glue and the JS
//! API are compiled only for `wasm32`; see DESIGN.md for the layering.

pub mod protocol;
pub mod session;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
mod launch;

#[cfg(target_arch = "wasm32")]
pub mod api;
