//! The authorization popup: the way out when the EHR frames the app and the
//! authorization server refuses to be framed (spec #79). Results travel by
//! `postMessage` with an exact target origin, and the opener checks the origin and the
//! source window of every message (spec #77).

use super::timers;
use crate::prelude::*;
use crate::protocol::text::push_u64;
use crate::protocol::{Error, ErrorCode, Result};
use alloc::rc::Rc;
use core::cell::RefCell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Window};

/// The `type` of the message the callback page sends to its opener.
const MESSAGE_TYPE: &str = "smart-launch:callback";
/// How often the opener looks whether the user closed the popup.
const CLOSED_POLL_MS: u64 = 400;

/// The name of the popup window `open` creates. It outlives the navigations to the
/// authorization server and back, while the popup's sessionStorage (a copy taken when
/// the window opened, before the transaction record existed) cannot tell.
const WINDOW_NAME: &str = "smart-launch-authorize";

/// Whether this page runs in the popup of `authorizePopup`: opened by another window,
/// under the popup's name. (An EHR that opens the app in a new window gives it an
/// opener too, but not this name.)
pub fn is_authorization_popup() -> bool {
    let Some(window) = super::window() else {
        return false;
    };
    // The name first: reading `opener` costs milliseconds on a page's first access
    // (measured on the callback page), and most pages are not the popup.
    window.name().ok().as_deref() == Some(WINDOW_NAME)
        && window
            .opener()
            .ok()
            .is_some_and(|o| !o.is_null() && !o.is_undefined())
}

/// Sends an open popup to `url` (the authorization endpoint).
pub fn navigate(popup: &Window, url: &str) -> Result<()> {
    if popup.closed().unwrap_or(true) {
        return Err(Error::new(ErrorCode::PopupClosed));
    }
    popup
        .location()
        .set_href(url)
        .map_err(|_| Error::new(ErrorCode::PopupBlocked))
}

/// Opens `url` in a popup window of the given size.
pub fn open(url: &str, width: u32, height: u32) -> Result<Window> {
    let window = super::window().ok_or_else(|| Error::new(ErrorCode::PopupBlocked))?;
    // Built by hand rather than `format!`: see `protocol::text`.
    let mut features = String::from("popup=yes,width=");
    push_u64(&mut features, width.into());
    features.push_str(",height=");
    push_u64(&mut features, height.into());
    window
        .open_with_url_and_target_and_features(url, WINDOW_NAME, &features)
        .ok()
        .flatten()
        .ok_or_else(|| Error::new(ErrorCode::PopupBlocked))
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Waits for the callback page in `popup` to post its query string for `state`.
/// Messages from another origin or another window are ignored (spec #77); a closed
/// popup rejects with `popup_closed`.
pub async fn wait_for_callback(
    popup: &Window,
    expected_origin: &str,
    state: &str,
) -> Result<String> {
    let window = super::window().ok_or_else(|| Error::new(ErrorCode::PopupClosed))?;
    let outcome: Rc<RefCell<Option<Result<String>>>> = Rc::new(RefCell::new(None));
    let mut resolve_slot: Option<js_sys::Function> = None;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| resolve_slot = Some(resolve));
    let resolve = resolve_slot.ok_or_else(|| Error::new(ErrorCode::PopupClosed))?;

    let on_message = {
        let outcome = outcome.clone();
        let resolve = resolve.clone();
        let popup: JsValue = popup.clone().into();
        let expected_origin = expected_origin.to_string();
        let state = state.to_string();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let from_popup = event.source().is_some_and(|s| JsValue::from(s) == popup);
            if event.origin() != expected_origin || !from_popup {
                return;
            }
            let data = event.data();
            if get(&data, "type").as_string().as_deref() != Some(MESSAGE_TYPE)
                || get(&data, "state").as_string().as_deref() != Some(state.as_str())
            {
                return;
            }
            let query = get(&data, "query").as_string().unwrap_or_default();
            outcome.borrow_mut().get_or_insert(Ok(query));
            let _ = resolve.call0(&JsValue::NULL);
        })
    };
    window
        .add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref())
        .map_err(|_| Error::new(ErrorCode::PopupClosed))?;

    // Poll `closed`: no event tells the opener that the user closed the window.
    let poll: Rc<RefCell<Option<timers::Timeout>>> = Rc::new(RefCell::new(None));
    fn schedule(
        poll: Rc<RefCell<Option<timers::Timeout>>>,
        popup: Window,
        outcome: Rc<RefCell<Option<Result<String>>>>,
        resolve: js_sys::Function,
    ) {
        let next = poll.clone();
        let timer = timers::set_timeout(CLOSED_POLL_MS, move || {
            if outcome.borrow().is_some() {
                return;
            }
            if popup.closed().unwrap_or(true) {
                *outcome.borrow_mut() = Some(Err(Error::new(ErrorCode::PopupClosed)));
                let _ = resolve.call0(&JsValue::NULL);
            } else {
                schedule(next, popup, outcome, resolve);
            }
        });
        *poll.borrow_mut() = timer;
    }
    schedule(poll.clone(), popup.clone(), outcome.clone(), resolve);

    let _ = JsFuture::from(promise).await;
    poll.borrow_mut().take();
    let _ =
        window.remove_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    let result = outcome
        .borrow_mut()
        .take()
        .unwrap_or_else(|| Err(Error::new(ErrorCode::PopupClosed)));
    result
}

/// On the callback page: when this window was opened by the app's `authorizePopup`,
/// hands the callback to the opener (exact target origin, spec #77) and closes.
pub fn hand_to_opener(state: &str, query: &str) -> bool {
    let Some(window) = super::window() else {
        return false;
    };
    let Some(opener) = window
        .opener()
        .ok()
        .filter(|o| !o.is_null() && !o.is_undefined())
    else {
        return false;
    };
    let Ok(origin) = window.location().origin() else {
        return false;
    };
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &MESSAGE_TYPE.into());
    let _ = js_sys::Reflect::set(&message, &"state".into(), &state.into());
    let _ = js_sys::Reflect::set(&message, &"query".into(), &query.into());
    let opener: Window = opener.unchecked_into();
    if opener.post_message(&message, &origin).is_err() {
        return false;
    }
    let _ = window.close();
    true
}
