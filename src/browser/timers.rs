//! One-shot timers and the page events after which timers may have been late:
//! background tabs throttle timers and a sleeping laptop stops them, so the session
//! re-checks the wall clock on `visibilitychange` and `focus` (spec #66).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// A pending `setTimeout`; dropping it cancels the timer.
pub struct Timeout {
    id: i32,
    _callback: Closure<dyn FnMut()>,
}

/// The longest delay `setTimeout` honours (2^31 - 1 ms); longer ones fire at once.
const MAX_DELAY_MS: u64 = 0x7fff_ffff;

/// Calls `f` once after `delay_ms`, unless the returned handle is dropped first.
pub fn set_timeout(delay_ms: u64, f: impl FnOnce() + 'static) -> Option<Timeout> {
    set_timeout_boxed(delay_ms, alloc::boxed::Box::new(f))
}

/// The one body of [`set_timeout`]: generic, it was copied (closure glue and all) for
/// each caller's closure type.
#[inline(never)]
fn set_timeout_boxed(delay_ms: u64, f: alloc::boxed::Box<dyn FnOnce()>) -> Option<Timeout> {
    let mut f = Some(f);
    let callback = Closure::<dyn FnMut()>::new(move || {
        if let Some(f) = f.take() {
            f()
        }
    });
    let id = super::window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.as_ref().unchecked_ref(),
            delay_ms.min(MAX_DELAY_MS) as i32,
        )
        .ok()?;
    Some(Timeout {
        id,
        _callback: callback,
    })
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(w) = super::window() {
            w.clear_timeout_with_handle(self.id);
        }
    }
}

/// Event listeners that stay registered while this value lives.
pub struct WakeListeners {
    callback: Closure<dyn FnMut()>,
}

/// Calls `f` whenever the page becomes visible again or gains focus.
pub fn on_wake(f: impl FnMut() + 'static) -> Option<WakeListeners> {
    let window = super::window()?;
    let document = window.document()?;
    let callback = Closure::<dyn FnMut()>::new(f);
    let func = callback.as_ref().unchecked_ref();
    document
        .add_event_listener_with_callback("visibilitychange", func)
        .ok()?;
    window
        .add_event_listener_with_callback("focus", func)
        .ok()?;
    Some(WakeListeners { callback })
}

impl Drop for WakeListeners {
    fn drop(&mut self) {
        if let Some(window) = super::window() {
            let func = self.callback.as_ref().unchecked_ref();
            if let Some(document) = window.document() {
                let _ = document.remove_event_listener_with_callback("visibilitychange", func);
            }
            let _ = window.remove_event_listener_with_callback("focus", func);
        }
    }
}
