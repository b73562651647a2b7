//! HTTP through the browser's `fetch`, with a timeout (AbortController).
//!
//! Every request is CORS mode with `credentials: "omit"`: SMART endpoints are reached
//! cross-origin, and cookies must never ride along (spec #43; client-js #82).

use super::timers;
use crate::prelude::*;
use crate::protocol::{Error, ErrorCode, Result};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Response};

/// What the protocol layer needs of an HTTP answer.
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
    /// The `WWW-Authenticate` header (RFC 6750 §3), when the server exposed it.
    pub www_authenticate: Option<String>,
}

/// One request. `init` is an app's own `RequestInit` (for `SmartClient.request`): its
/// method, headers and body are kept; credentials and mode are always ours.
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub accept: &'a str,
    /// An `application/x-www-form-urlencoded` body.
    pub form_body: Option<&'a str>,
    /// Sent as `Authorization: Bearer` (spec #56); the caller decides where (spec #57).
    pub bearer: Option<&'a str>,
    pub init: Option<&'a JsValue>,
    pub timeout_ms: u32,
}

impl<'a> HttpRequest<'a> {
    pub fn get(url: &'a str, timeout_ms: u32) -> Self {
        HttpRequest {
            method: "GET",
            url,
            accept: "application/json",
            form_body: None,
            bearer: None,
            init: None,
            timeout_ms,
        }
    }

    pub fn post_form(url: &'a str, body: &'a str, timeout_ms: u32) -> Self {
        HttpRequest {
            method: "POST",
            form_body: Some(body),
            ..HttpRequest::get(url, timeout_ms)
        }
    }
}

fn network_error() -> Error {
    Error::new(ErrorCode::NetworkError)
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets one member of the `RequestInit` dictionary. A plain object filled through
/// `Reflect.set` rather than web-sys's `RequestInit` setters: each setter (and each of
/// the `RequestMode`/`RequestCredentials` enums) is a JS import with its own glue.
fn put(init: &js_sys::Object, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(init, &JsValue::from_str(key), value);
}

/// A request on its way: [`start`] sent it, [`finish`] reads its answer.
pub struct InFlight {
    response: js_sys::Promise,
    controller: AbortController,
    _timer: Option<timers::Timeout>,
}

impl InFlight {
    /// Cancels the request (its `finish` then fails with `timeout`).
    pub fn abort(&self) {
        self.controller.abort();
    }
}

/// Sends the request now, synchronously, so that the caller can do other work while it
/// is in flight.
pub fn start(req: HttpRequest<'_>) -> Result<InFlight> {
    let window = super::window().ok_or_else(network_error)?;
    let init = js_sys::Object::new();
    let headers = match req.init.map(|i| get(i, "headers")) {
        Some(h) if !h.is_undefined() && !h.is_null() => {
            // `new Headers(x)` takes a Headers, a record or pairs alike.
            Headers::new_with_str_sequence_sequence(&h)
                .map_err(|_| Error::new(ErrorCode::InvalidOptions).field("init.headers"))?
        }
        _ => Headers::new().map_err(|_| network_error())?,
    };
    let mut method = req.method.to_string();
    if let Some(app_init) = req.init {
        if let Some(m) = get(app_init, "method").as_string() {
            method = m;
        }
        let body = get(app_init, "body");
        if !body.is_undefined() {
            put(&init, "body", &body);
        }
    }
    if !headers.has("accept").unwrap_or(false) {
        let _ = headers.set("accept", req.accept);
    }
    if let Some(body) = req.form_body {
        let _ = headers.set("content-type", "application/x-www-form-urlencoded");
        put(&init, "body", &JsValue::from_str(body));
    }
    if let Some(token) = req.bearer {
        let _ = headers.set(
            "authorization",
            &crate::protocol::text::concat(&["Bearer ", token]),
        );
    }
    put(&init, "method", &JsValue::from_str(&method));
    put(&init, "headers", &headers);
    put(&init, "mode", &JsValue::from_str("cors"));
    put(&init, "credentials", &JsValue::from_str("omit"));
    // The page's address never goes to a server: on the callback page it may still
    // hold the authorization code when the token request leaves (see launch::begin).
    put(&init, "referrerPolicy", &JsValue::from_str("no-referrer"));

    let controller = AbortController::new().map_err(|_| network_error())?;
    put(&init, "signal", &controller.signal());
    let abort = controller.clone();
    let timer = timers::set_timeout(req.timeout_ms.into(), move || abort.abort());
    let response = window.fetch_with_str_and_init(req.url, init.unchecked_ref());
    Ok(InFlight {
        response,
        controller,
        _timer: timer,
    })
}

/// Waits for the answer of a request [`start`] sent and reads the whole body as text.
pub async fn finish(flight: InFlight) -> Result<HttpResponse> {
    let InFlight {
        response,
        controller,
        _timer,
    } = flight;
    let response: Response = match JsFuture::from(response).await {
        Ok(value) => value.unchecked_into(),
        Err(err) if controller.signal().aborted() || super::is_abort_error(&err) => {
            return Err(Error::new(ErrorCode::Timeout))
        }
        Err(_) => return Err(network_error()),
    };
    let www_authenticate = response.headers().get("www-authenticate").ok().flatten();
    let text = response.text().map_err(|_| network_error())?;
    let body = match JsFuture::from(text).await {
        Ok(body) => body.as_string().unwrap_or_default(),
        Err(_) if controller.signal().aborted() => return Err(Error::new(ErrorCode::Timeout)),
        Err(_) => return Err(network_error()),
    };
    Ok(HttpResponse {
        status: response.status(),
        body,
        www_authenticate,
    })
}

/// Sends the request and reads the whole body as text.
pub async fn send(req: HttpRequest<'_>) -> Result<HttpResponse> {
    finish(start(req)?).await
}
