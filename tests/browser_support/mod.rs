//! Shared helpers of the browser tests: the sandbox's test endpoints, the launch steps,
//! the storage audit. See tests/browser_launch.rs for how the tests reach the sandbox.
#![allow(dead_code)] // each test file uses its own subset

use js_sys::{Array, Function, Object, Reflect};
use smart_launch::api;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

pub const SANDBOX: &str = match option_env!("SMART_SANDBOX_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:9410",
};
pub const CLIENT_ID: &str = "smart-launch-test";
pub const SCOPE: &str = "launch/patient openid fhirUser patient/*.rs offline_access";

pub fn fhir_base() -> String {
    format!("{SANDBOX}/fhir")
}

pub fn window() -> web_sys::Window {
    web_sys::window().expect("a window")
}

pub fn origin() -> String {
    window().location().origin().expect("origin")
}

pub fn redirect_uri() -> String {
    format!("{}/callback", origin())
}

pub fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("set");
    }
    o.into()
}

pub fn prop(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

pub fn prop_str(value: &JsValue, name: &str) -> Option<String> {
    prop(value, name).as_string()
}

pub fn code_of(err: &JsValue) -> String {
    prop_str(err, "code").unwrap_or_else(|| format!("not a SmartError: {err:?}"))
}

pub fn set_page_url(path_and_query: &str) {
    window()
        .history()
        .expect("history")
        .replace_state_with_url(&JsValue::NULL, "", Some(path_and_query))
        .expect("replaceState");
}

/// A plain fetch from the test page (not through the library).
pub async fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
        let headers = web_sys::Headers::new().expect("headers");
        headers.set("content-type", "application/json").expect("ct");
        init.set_headers(&headers);
    }
    let resp: web_sys::Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .expect("fetch")
        .unchecked_into();
    let text = JsFuture::from(resp.text().expect("text"))
        .await
        .expect("body")
        .as_string()
        .unwrap_or_default();
    (resp.status(), text)
}

pub async fn http_json(method: &str, url: &str, body: Option<&str>) -> JsValue {
    let (status, text) = http(method, url, body).await;
    assert!(status < 300, "{method} {url}: {status} {text}");
    js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL)
}

/// Clears the sandbox's request log and faults, and this page's launch state.
pub async fn fresh_start() {
    http("DELETE", &format!("{SANDBOX}/_log"), None).await;
    http("DELETE", &format!("{SANDBOX}/_faults"), None).await;
    api::reset_page_state_for_tests();
    let storage = window().session_storage().expect("ss").expect("ss");
    storage.clear().expect("clear");
    set_page_url("/");
}

pub async fn fault(spec: &str) {
    http_json("POST", &format!("{SANDBOX}/_faults"), Some(spec)).await;
}

/// The requests the sandbox received since the last `fresh_start`.
pub async fn log() -> Vec<JsValue> {
    let entries = http_json("GET", &format!("{SANDBOX}/_log"), None).await;
    let list = if Array::is_array(&entries) {
        entries
    } else {
        prop(&entries, "entries")
    };
    list.dyn_into::<Array>()
        .expect("log array")
        .iter()
        .collect()
}

pub async fn requests_to(path: &str) -> Vec<JsValue> {
    log()
        .await
        .into_iter()
        .filter(|e| prop_str(e, "path").as_deref() == Some(path))
        .collect()
}

pub fn form_field(entry: &JsValue, name: &str) -> Option<String> {
    prop_str(&prop(entry, "form"), name)
}

pub fn header(entry: &JsValue, name: &str) -> Option<String> {
    prop_str(&prop(entry, "headers"), name)
}

pub fn standalone_options(scope: &str) -> JsValue {
    obj(&[
        ("clientId", CLIENT_ID.into()),
        ("scope", scope.into()),
        ("redirectUri", redirect_uri().into()),
        ("iss", fhir_base().into()),
        ("allowInsecureLocalhost", true.into()),
    ])
}

pub async fn authorize_url(options: JsValue) -> Result<(String, String), JsValue> {
    let out = api::authorize_url(options).await?;
    Ok((
        prop_str(&out, "url").expect("url"),
        prop_str(&out, "state").expect("state"),
    ))
}

/// What the sandbox's authorization endpoint would redirect to.
pub async fn sandbox_redirect(authorize_url: &str) -> String {
    let query = authorize_url.split_once('?').expect("query").1;
    let answer = http_json("GET", &format!("{SANDBOX}/_test/authorize?{query}"), None).await;
    prop_str(&answer, "location").unwrap_or_else(|| panic!("no redirect: {answer:?}"))
}

/// The callback URL as a path on this page's origin.
pub fn callback_path(location: &str) -> String {
    location
        .strip_prefix(&origin())
        .expect("redirect to this origin")
        .to_string()
}

pub async fn ready(options: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(api::ready(options)).await
}

/// A full standalone launch; returns the client and the callback path it used.
pub async fn launch_with(scope: &str, ready_options: JsValue) -> (JsValue, String) {
    let (url, _) = authorize_url(standalone_options(scope))
        .await
        .expect("authorize");
    let callback = callback_path(&sandbox_redirect(&url).await);
    set_page_url(&callback);
    let client = ready(ready_options).await.expect("ready");
    (client, callback)
}

pub async fn launch(scope: &str) -> JsValue {
    launch_with(scope, JsValue::UNDEFINED).await.0
}

/// Calls a method of the client; the returned promise is already running.
pub fn start(client: &JsValue, method: &str, args: &[JsValue]) -> js_sys::Promise {
    let f: Function = prop(client, method).dyn_into().expect("method");
    f.apply(client, &args.iter().collect::<Array>())
        .expect("call")
        .dyn_into()
        .expect("a promise")
}

pub async fn call(client: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    JsFuture::from(start(client, method, args)).await
}

/// Collects the token events of a client into a JS array.
pub fn record_events(client: &JsValue) -> Array {
    let events = Array::new();
    let sink = events.clone();
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    let f: Function = prop(client, "onTokenEvent")
        .dyn_into()
        .expect("onTokenEvent");
    f.call1(client, listener.as_ref()).expect("subscribe");
    listener.forget();
    events
}

pub fn event_types(events: &Array) -> Vec<String> {
    events.iter().filter_map(|e| prop_str(&e, "type")).collect()
}

pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("timeout");
    });
    JsFuture::from(promise).await.expect("sleep");
}

/// No token value anywhere but memory: Web Storage, cookies, the URL, IndexedDB.
pub async fn assert_no_token_stored(secrets: &[String]) {
    let w = window();
    let mut places = Vec::new();
    for storage in [w.local_storage(), w.session_storage()] {
        let storage = storage.expect("storage").expect("storage");
        for i in 0..storage.length().expect("len") {
            let key = storage.key(i).expect("key").unwrap_or_default();
            let value = storage.get_item(&key).expect("get").unwrap_or_default();
            places.push(format!("{key}={value}"));
        }
    }
    let document: web_sys::Document = w.document().expect("document");
    let cookie = Reflect::get(&document, &"cookie".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default();
    places.push(cookie);
    places.push(w.location().href().expect("href"));
    // IndexedDB: the library never opens a database.
    let idb = prop(&w, "indexedDB");
    let dbs = JsFuture::from(
        prop(&idb, "databases")
            .dyn_into::<Function>()
            .expect("databases")
            .call0(&idb)
            .expect("call")
            .dyn_into::<js_sys::Promise>()
            .expect("promise"),
    )
    .await
    .expect("databases");
    assert_eq!(
        Array::from(&dbs).length(),
        0,
        "an IndexedDB database exists"
    );
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        for place in &places {
            assert!(
                !place.contains(secret.as_str()),
                "a token value was found in storage"
            );
        }
    }
}

pub fn secrets_of(client: &JsValue) -> Vec<String> {
    let response = prop(client, "tokenResponse");
    ["access_token", "refresh_token", "id_token"]
        .iter()
        .filter_map(|k| prop_str(&response, k))
        .collect()
}

/// How many token requests of this grant type (`authorization_code`, `refresh_token`)
/// the sandbox received since the last `fresh_start`.
pub async fn token_requests(grant: &str) -> usize {
    requests_to("/token")
        .await
        .iter()
        .filter(|e| form_field(e, "grant_type").as_deref() == Some(grant))
        .count()
}
