//! Everything that touches the browser, one file per browser effect (as gloo does): the
//! rest of the crate calls these small typed wrappers and never web-sys directly.

pub mod crypto;
pub mod fetch;
pub mod location;
pub mod popup;
pub mod storage;
pub mod timers;
pub mod webcrypto;

use wasm_bindgen::JsValue;

/// Milliseconds since the epoch from the browser's wall clock.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub(crate) fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// The `message` of a thrown JS value, for logging nothing secret: used only to tell
/// failure kinds apart, never shown with request data.
pub(crate) fn is_abort_error(err: &JsValue) -> bool {
    js_sys::Reflect::get(err, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .is_some_and(|n| n == "AbortError" || n == "TimeoutError")
}
