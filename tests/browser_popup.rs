//! The popup hand-off (spec #77): the opener accepts the callback only from its own
//! popup window at the redirect URI's exact origin, and notices a closed popup.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use js_sys::{Function, Reflect};
use smart_launch::browser::popup;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn message_script(code: &str) -> String {
    format!(
        "opener.postMessage({{type: 'smart-launch:callback', state: 'S', query: 'code={code}&state=S'}}, '*')"
    )
}

/// The opener's side, running: resolves to the query, or rejects with the error code.
fn wait_for_callback(opened: &web_sys::Window) -> js_sys::Promise {
    let opened = opened.clone();
    let expected_origin = origin();
    future_to_promise(async move {
        popup::wait_for_callback(&opened, &expected_origin, "S")
            .await
            .map(JsValue::from)
            .map_err(|e| JsValue::from(e.code.as_str()))
    })
}

/// Runs `script` inside `target`'s own realm, so its messages have `target` as source.
fn run_in(target: &web_sys::Window, script: &str) {
    let ctor: Function = Reflect::get(target, &"Function".into())
        .unwrap()
        .unchecked_into();
    let f: Function = Reflect::construct(&ctor, &js_sys::Array::of1(&script.into()))
        .unwrap()
        .unchecked_into();
    f.call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn only_the_popup_at_the_exact_origin_is_heard() {
    // spec #77: origin and source window are both checked.
    let opened = window()
        .open_with_url_and_target("about:blank", "popup-under-test")
        .unwrap()
        .expect("popups are allowed in the test browser");
    let waiting = wait_for_callback(&opened);

    // A foreign origin (an opaque data: frame) sends a well-formed message: ignored.
    run_in(
        &window(),
        "const f = document.createElement('iframe'); f.id = 'foreign'; \
         f.src = \"data:text/html,<script>parent.postMessage({type: 'smart-launch:callback', \
         state: 'S', query: 'code=foreign&state=S'}, '*')</script>\"; \
         document.body.appendChild(f);",
    );
    // This page itself (right origin, wrong window) sends one: ignored.
    window()
        .post_message(
            &js_sys::JSON::parse(
                r#"{"type":"smart-launch:callback","state":"S","query":"code=self&state=S"}"#,
            )
            .unwrap(),
            &origin(),
        )
        .unwrap();
    // The popup with another state: ignored.
    run_in(
        &opened,
        "opener.postMessage({type: 'smart-launch:callback', state: 'T', query: 'code=other&state=T'}, '*')",
    );
    sleep_ms(500).await;
    // The popup itself, same origin, the right state: heard.
    run_in(&opened, &message_script("good"));
    let query = JsFuture::from(waiting).await.expect("heard");
    assert_eq!(query.as_string().as_deref(), Some("code=good&state=S"));
    opened.close().unwrap();
    run_in(&window(), "document.getElementById('foreign').remove()");
}

#[wasm_bindgen_test]
async fn a_closed_popup_is_popup_closed() {
    // spec #79: the popup flow notices a user who closes the window.
    let opened = window()
        .open_with_url_and_target("about:blank", "popup-closed-test")
        .unwrap()
        .expect("popups are allowed in the test browser");
    let waiting = wait_for_callback(&opened);
    sleep_ms(100).await;
    opened.close().unwrap();
    let err = JsFuture::from(waiting).await.expect_err("closed");
    assert_eq!(err.as_string().as_deref(), Some("popup_closed"));
}
