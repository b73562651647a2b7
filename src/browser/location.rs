//! The address bar, history and top-level navigation.

use crate::prelude::*;
use crate::protocol::{Error, ErrorCode, Result};
use wasm_bindgen::JsValue;

fn no_window() -> Error {
    Error::new(ErrorCode::InvalidOptions).field("window")
}

/// The page's full URL.
pub fn href() -> Result<String> {
    super::window()
        .and_then(|w| w.location().href().ok())
        .ok_or_else(no_window)
}

/// The query string without its leading `?`.
pub fn query() -> String {
    super::window()
        .and_then(|w| w.location().search().ok())
        .map(|s| s.trim_start_matches('?').to_string())
        .unwrap_or_default()
}

/// The page's origin, e.g. `https://app.example`.
pub fn origin() -> Result<String> {
    super::window()
        .and_then(|w| w.location().origin().ok())
        .ok_or_else(no_window)
}

/// Replaces the current history entry's URL without loading anything (spec #39).
pub fn replace_url(url: &str) -> Result<()> {
    let history = super::window()
        .and_then(|w| w.history().ok())
        .ok_or_else(no_window)?;
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(url))
        .map_err(|_| no_window())
}

/// Where the authorization redirect happens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// This frame (the default).
    #[default]
    SelfFrame,
    /// The top-level window: leaves an EHR iframe.
    Top,
    /// The parent frame.
    Parent,
}

/// Navigates `target` to `url`.
pub fn navigate(url: &str, target: Target) -> Result<()> {
    let window = super::window().ok_or_else(no_window)?;
    let frame = match target {
        Target::SelfFrame => Some(window),
        Target::Top => window.top().ok().flatten(),
        Target::Parent => window.parent().ok().flatten(),
    }
    .ok_or_else(|| Error::new(ErrorCode::InvalidOptions).field("target"))?;
    // A cross-origin top or parent can be navigated, though not read: of its Location
    // only the `href` setter and `replace()` are reachable (`assign` throws there).
    frame
        .location()
        .set_href(url)
        .map_err(|_| Error::new(ErrorCode::InvalidOptions).field("target"))
}
