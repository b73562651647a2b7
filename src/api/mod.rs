//! The JS API (DESIGN.md "The JS API"): `authorize`, `authorizeUrl`, `authorizePopup`,
//! `ready`, the `SmartClient` class and `SmartError`. Options are read field by field
//! with `Reflect` rather than serde: serde derive with serde-wasm-bindgen costs ~22 KB gz
//! (toolchain.md), most of the size budget, for a dozen option fields.

mod client;

pub use client::SmartClient;

use crate::browser::{location, popup, storage};
use crate::launch::{self, AuthorizeOptions, IssuerEntry};
use crate::prelude::*;
use crate::protocol::{Error, ErrorCode, Result};
use crate::session::SessionOptions;
use crate::PageCell;
use core::future::Future;
use core::pin::Pin;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Options of `authorize`, `authorizeUrl` and `authorizePopup`. */
export interface AuthorizeOptions {
  /** The client id registered at the server (or per issuer in `issuers`). */
  clientId?: string;
  /** Space-separated scopes, e.g. "launch openid fhirUser patient/*.rs offline_access". */
  scope?: string;
  /** The registered redirect URI; a relative one is taken relative to the page. */
  redirectUri?: string;
  /** Standalone launch: the FHIR base URL to launch against. */
  iss?: string;
  /** EHR launch allowlist: only these FHIR bases are accepted as `iss`. */
  issuers?: IssuerOptions[];
  /** EHR launch: the launch handle, when the app reads it itself. */
  launch?: string;
  /** The `aud` parameter; defaults to the FHIR base, verbatim. */
  aud?: string;
  /** Where the authorization page opens: "_self" (default), "_top" or "_parent". */
  target?: "_self" | "_top" | "_parent";
  /** Popup size for `authorizePopup` (default 520 x 680). */
  width?: number;
  height?: number;
  /** Allow http:// endpoints on localhost / 127.0.0.1 (development only). */
  allowInsecureLocalhost?: boolean;
  /** Fall back to the CapabilityStatement `oauth-uris` of SMART v1 servers. */
  legacyCapabilityStatement?: boolean;
  /** Limit for each HTTP request, in milliseconds (default 30000). */
  timeoutMs?: number;
}

/** One trusted EHR and this app's registration there. */
export interface IssuerOptions {
  iss: string;
  clientId?: string;
  scope?: string;
  redirectUri?: string;
}

/** Options of `ready`. */
export interface ReadyOptions {
  /** Registered before the first event can fire. */
  onTokenEvent?: (event: TokenEvent) => void;
  /** Seconds before expiry at which `expiring` fires (default 60). */
  expiringLeadSeconds?: number;
  /** Refresh at the expiring point when a refresh token is held (default true). */
  autoRefresh?: boolean;
  /** Limit for each HTTP request, in milliseconds (default 30000). */
  timeoutMs?: number;
  /**
   * Verify the id_token's signature (RS256 or ES256, WebCrypto) with a key from the
   * discovered `jwks_uri`, so `fhirUser` can be trusted in the browser (default false:
   * the claims are always checked, the signature only on request).
   */
  verifyIdToken?: boolean;
}

/** One `fhirContext` item of the token response (SMART 2.0, 2.1 and 2.2 shapes). */
export interface FhirContextItem {
  reference?: string;
  canonical?: string;
  identifier?: object;
  type?: string;
  /** Absent in the response means "launch". */
  role: string;
  [member: string]: unknown;
}

export type TokenEvent =
  | { type: "expiring"; expiresAt: number; secondsLeft: number }
  | { type: "refreshed"; expiresAt?: number }
  | { type: "refreshFailed"; error: SmartError }
  | { type: "expired" }
  | { type: "ended"; reason: string };

/** Every failure of smart-launch; `code` is stable (see the README's table). */
export class SmartError extends Error {
  code: string;
  status?: number;
  oauthError?: string;
  description?: string;
  field?: string;
}
"#;

#[wasm_bindgen(module = "/src/js/smart_error.js")]
extern "C" {
    #[wasm_bindgen(js_name = SmartError)]
    type JsSmartError;

    #[wasm_bindgen(constructor, js_class = "SmartError")]
    fn new(
        code: &str,
        message: &str,
        status: JsValue,
        oauth_error: JsValue,
        description: JsValue,
        field: JsValue,
    ) -> JsSmartError;
}

/// A `SmartError` for JS. Its message is `Error::message` (the `Display` text), which
/// holds no secret.
pub(crate) fn to_js_error(e: &Error) -> JsValue {
    let opt = |s: &Option<String>| {
        s.as_deref()
            .map(JsValue::from)
            .unwrap_or(JsValue::UNDEFINED)
    };
    JsSmartError::new(
        e.code.as_str(),
        &e.message(),
        e.status.map(JsValue::from).unwrap_or(JsValue::UNDEFINED),
        opt(&e.oauth_error),
        opt(&e.description),
        e.field.map(JsValue::from).unwrap_or(JsValue::UNDEFINED),
    )
    .into()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn get_string(obj: &JsValue, key: &'static str) -> Result<Option<String>> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| Error::new(ErrorCode::InvalidOptions).field(key))
}

fn get_bool(obj: &JsValue, key: &'static str) -> Result<Option<bool>> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_bool()
        .map(Some)
        .ok_or_else(|| Error::new(ErrorCode::InvalidOptions).field(key))
}

fn get_number(obj: &JsValue, key: &'static str) -> Result<Option<f64>> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map(Some)
        .ok_or_else(|| Error::new(ErrorCode::InvalidOptions).field(key))
}

fn timeout_ms(obj: &JsValue) -> Result<u32> {
    Ok(get_number(obj, "timeoutMs")?
        .map(|n| n.min(u32::MAX as f64) as u32)
        .unwrap_or(launch::DEFAULT_TIMEOUT_MS))
}

struct PopupSize {
    width: u32,
    height: u32,
}

fn read_authorize_options(obj: &JsValue) -> Result<(AuthorizeOptions, PopupSize)> {
    if !obj.is_object() {
        return Err(Error::new(ErrorCode::InvalidOptions).field("options"));
    }
    let target = match get_string(obj, "target")?.as_deref() {
        None | Some("_self") => location::Target::SelfFrame,
        Some("_top") => location::Target::Top,
        Some("_parent") => location::Target::Parent,
        Some(_) => return Err(Error::new(ErrorCode::InvalidOptions).field("target")),
    };
    let mut issuers = Vec::new();
    let list = get(obj, "issuers");
    if !list.is_undefined() && !list.is_null() {
        let array = list
            .dyn_ref::<js_sys::Array>()
            .ok_or_else(|| Error::new(ErrorCode::InvalidOptions).field("issuers"))?;
        for item in array.iter() {
            issuers.push(IssuerEntry {
                iss: get_string(&item, "iss")?
                    .ok_or_else(|| Error::new(ErrorCode::InvalidOptions).field("issuers"))?,
                client_id: get_string(&item, "clientId")?,
                scope: get_string(&item, "scope")?,
                redirect_uri: get_string(&item, "redirectUri")?,
            });
        }
    }
    let options = AuthorizeOptions {
        client_id: get_string(obj, "clientId")?,
        scope: get_string(obj, "scope")?,
        redirect_uri: get_string(obj, "redirectUri")?,
        iss: get_string(obj, "iss")?,
        issuers,
        launch: get_string(obj, "launch")?,
        aud: get_string(obj, "aud")?,
        target,
        allow_insecure_localhost: get_bool(obj, "allowInsecureLocalhost")?.unwrap_or(false),
        legacy_capability_statement: get_bool(obj, "legacyCapabilityStatement")?.unwrap_or(false),
        timeout_ms: timeout_ms(obj)?,
    };
    let size = PopupSize {
        width: get_number(obj, "width")?.map(|n| n as u32).unwrap_or(520),
        height: get_number(obj, "height")?.map(|n| n as u32).unwrap_or(680),
    };
    Ok((options, size))
}

pub(crate) struct ReadyOptions {
    pub session: SessionOptions,
    pub listener: Option<js_sys::Function>,
    pub timeout_ms: u32,
    pub verify_id_token: bool,
}

fn read_ready_options(obj: &JsValue) -> Result<ReadyOptions> {
    let mut session = SessionOptions::default();
    if let Some(lead) = get_number(obj, "expiringLeadSeconds")? {
        session.expiring_lead_ms = (lead * 1000.0) as u64;
    }
    if let Some(auto) = get_bool(obj, "autoRefresh")? {
        session.auto_refresh = auto;
    }
    let listener = match get(obj, "onTokenEvent") {
        v if v.is_undefined() || v.is_null() => None,
        v => Some(
            v.dyn_into::<js_sys::Function>()
                .map_err(|_| Error::new(ErrorCode::InvalidOptions).field("onTokenEvent"))?,
        ),
    };
    Ok(ReadyOptions {
        session,
        listener,
        verify_id_token: get_bool(obj, "verifyIdToken")?.unwrap_or(false),
        timeout_ms: if obj.is_object() {
            timeout_ms(obj)?
        } else {
            launch::DEFAULT_TIMEOUT_MS
        },
    })
}

type JsResult = core::result::Result<JsValue, JsValue>;

/// The one way this crate turns a future into a promise. `future_to_promise` is
/// generic: called with each async block it gets a copy of its machinery (task, waker,
/// resolve/reject glue) per call site, several KB of wasm in all. Boxed as a trait
/// object, every caller shares one copy.
#[inline(never)]
fn to_promise(future: Pin<Box<dyn Future<Output = JsResult>>>) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(future)
}

/// [`to_promise`] for a future of the crate's own `Result`: errors become `SmartError`.
pub(crate) fn spawn<T: Into<JsValue>>(
    future: impl Future<Output = Result<T>> + 'static,
) -> js_sys::Promise {
    to_promise(Box::pin(async move {
        future.await.map(Into::into).map_err(|e| to_js_error(&e))
    }))
}

/// Starts the launch: discovery, then the authorization redirect (EHR or standalone).
#[wasm_bindgen(js_name = authorize, unchecked_return_type = "Promise<void>")]
pub fn authorize(
    #[wasm_bindgen(unchecked_param_type = "AuthorizeOptions")] options: JsValue,
) -> js_sys::Promise {
    spawn(async move {
        let (opts, _) = read_authorize_options(&options)?;
        let prepared = launch::prepare(&opts).await?;
        location::navigate(&prepared.url, opts.target)?;
        Ok(JsValue::UNDEFINED)
    })
}

/// Like `authorize`, but returns the authorization URL and its state instead of going
/// there.
#[wasm_bindgen(
    js_name = authorizeUrl,
    unchecked_return_type = "Promise<{ url: string, state: string }>"
)]
pub fn authorize_url(
    #[wasm_bindgen(unchecked_param_type = "AuthorizeOptions")] options: JsValue,
) -> js_sys::Promise {
    spawn(async move {
        let (opts, _) = read_authorize_options(&options)?;
        let prepared = launch::prepare(&opts).await?;
        let out = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&out, &"url".into(), &prepared.url.into());
        let _ = js_sys::Reflect::set(&out, &"state".into(), &prepared.state.into());
        Ok(out)
    })
}

/// Runs the authorization in a popup; this page never unloads. Resolves to the client.
#[wasm_bindgen(js_name = authorizePopup, unchecked_return_type = "Promise<SmartClient>")]
pub fn authorize_popup(
    #[wasm_bindgen(unchecked_param_type = "AuthorizeOptions")] options: JsValue,
    #[wasm_bindgen(js_name = readyOptions, unchecked_optional_param_type = "ReadyOptions")]
    ready_options: JsValue,
) -> js_sys::Promise {
    // The window opens now, empty, while the click that called us still counts as a
    // user gesture: popup blockers allow nothing later, and discovery may take longer.
    let opened = read_authorize_options(&options).and_then(|(opts, size)| {
        let window = popup::open("about:blank", size.width, size.height)?;
        Ok((opts, window))
    });
    spawn(async move {
        let (opts, window) = opened?;
        let prepared = match read_ready_options(&ready_options) {
            Ok(ready_opts) => launch::prepare(&opts)
                .await
                .map(|prepared| (ready_opts, prepared)),
            Err(e) => Err(e),
        };
        let (ready_opts, prepared) = match prepared {
            Ok(p) => p,
            Err(e) => {
                let _ = window.close();
                return Err(e);
            }
        };
        if let Err(e) = popup::navigate(&window, &prepared.url) {
            let _ = storage::remove(&prepared.state);
            return Err(e);
        }
        let origin = crate::protocol::url::Url::parse(&prepared.redirect_uri)
            .map(|u| u.origin())
            .map_err(|_| Error::new(ErrorCode::InvalidOptions).field("redirectUri"))?;
        let query = match popup::wait_for_callback(&window, &origin, &prepared.state).await {
            Ok(q) => q,
            Err(e) => {
                let _ = storage::remove(&prepared.state);
                return Err(e);
            }
        };
        let params = crate::protocol::callback::parse_callback(&query)?;
        let completed = launch::finish(launch::begin(&params, opts.timeout_ms)?).await?;
        client::SmartClient::launched(completed, ready_opts).await
    })
}

/// `ready()` on one page always answers with the same promise: the code is exchanged
/// once (spec #40).
static READY: PageCell<Option<js_sys::Promise>> = PageCell::new(None);

/// On the redirect_uri page: validates the callback, exchanges the code once and
/// resolves to the client. `code` and `state` leave the address bar as the token
/// request leaves, before `ready()` returns (spec #39).
#[wasm_bindgen(js_name = ready, unchecked_return_type = "Promise<SmartClient>")]
pub fn ready(
    #[wasm_bindgen(unchecked_optional_param_type = "ReadyOptions")] options: JsValue,
) -> js_sys::Promise {
    if let Some(p) = READY.with(|r| r.borrow().clone()) {
        return p;
    }
    let started = begin_ready(&options);
    let promise = spawn(async move {
        let Some((exchange, ready_opts)) = started? else {
            // This page is the popup and handed the callback over: it never settles.
            loop {
                core::future::pending::<()>().await
            }
        };
        let completed = launch::finish(exchange).await?;
        client::SmartClient::launched(completed, ready_opts).await
    });
    READY.with(|r| *r.borrow_mut() = Some(promise.clone()));
    promise
}

/// The synchronous part of `ready()`: up to the token request, sent before `ready()`
/// returns. `None` when this page is the popup of `authorizePopup` and handed the
/// callback to its opener.
fn begin_ready(options: &JsValue) -> Result<Option<(launch::Exchange, ReadyOptions)>> {
    let query = crate::browser::location::query();
    let outcome = (|| {
        let params = crate::protocol::callback::parse_callback(&query)?;
        let ready_opts = read_ready_options(options)?;
        // In the popup (told by its window name): hand the callback to the opener, which
        // holds the live page and the transaction record. The message goes to this
        // page's own origin only, so an attacker that opens the callback URL under that
        // name learns nothing.
        if let Some(state) = params.state.as_deref() {
            if popup::is_authorization_popup() && popup::hand_to_opener(state, &query) {
                return Ok(None);
            }
        }
        launch::begin(&params, ready_opts.timeout_ms).map(|e| Some((e, ready_opts)))
    })();
    // `code` and `state` leave the address bar (spec #39) whatever the outcome, right
    // after the token request left (it sends no Referer): no other code ran before.
    launch::clean_address_bar();
    outcome
}

/// Test hook: lets one page run several launches (browser tests do; apps never need
/// to). Forgets the `ready()` promise and the discovery cache.
#[doc(hidden)]
pub fn reset_page_state_for_tests() {
    READY.with(|r| r.borrow_mut().take());
    launch::clear_discovery_cache();
}

/// The stable error codes, for apps that switch on them.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "string[]")]
pub fn error_codes() -> Vec<JsValue> {
    ErrorCode::ALL
        .iter()
        .map(|c| JsValue::from_str(c.as_str()))
        .collect()
}
