//! `SmartClient`: the launched session. Tokens live here, in wasm memory, and nowhere
//! else (spec #72). The timing policy (events, auto-refresh, single-flight) is the pure
//! `session::Session`; this file carries out its steps in the browser.

use super::{to_js_error, ReadyOptions};
use crate::browser::{self, fetch, storage, timers, webcrypto};
use crate::launch::Completed;
use crate::prelude::*;
use crate::protocol::callback::TransactionRecord;
use crate::protocol::id_token::{self, IdTokenClaims};
use crate::protocol::json::Json;
use crate::protocol::token::{self, TokenResponse};
use crate::protocol::{fhir, jwks, scopes, url, Error, ErrorCode, Result};
use crate::session::{self, EndReason, RefreshTicket, Session, SessionEvent, Step};
use alloc::rc::{Rc, Weak};
use core::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

struct Inner {
    record: TransactionRecord,
    /// `None` once the session has ended: the tokens are wiped.
    tokens: Option<TokenResponse>,
    expires_at_ms: Option<u64>,
    id_claims: Option<IdTokenClaims>,
    fhir_user: Option<String>,
    session: Session,
    listeners: Vec<(u32, js_sys::Function)>,
    next_listener: u32,
    /// The one refresh in flight, shared by every caller (spec #63).
    refresh: Option<js_sys::Promise>,
    timer: Option<timers::Timeout>,
    wake: Option<timers::WakeListeners>,
    timeout_ms: u32,
    /// `ReadyOptions.verifyIdToken`: refreshed id_tokens are verified too.
    verify_id_token: bool,
}

type Shared = Rc<RefCell<Inner>>;

/// The launched SMART session.
#[wasm_bindgen]
pub struct SmartClient {
    inner: Shared,
}

fn set(obj: &js_sys::Object, key: &str, value: JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(key), &value);
}

/// Builds the JS value directly rather than printing JSON and calling `JSON.parse`:
/// printing would link Rust's float formatting (kilobytes of wasm). A non-finite number
/// becomes `null`, as the JSON text did.
fn json_to_js(value: &Json) -> JsValue {
    match value {
        Json::Null => JsValue::NULL,
        Json::Bool(b) => JsValue::from_bool(*b),
        Json::Number(n) if n.is_finite() => JsValue::from_f64(*n),
        Json::Number(_) => JsValue::NULL,
        Json::String(s) => JsValue::from_str(s),
        Json::Array(items) => {
            let array = js_sys::Array::new();
            for item in items {
                array.push(&json_to_js(item));
            }
            array.into()
        }
        Json::Object(members) => {
            let obj = js_sys::Object::new();
            for (k, v) in members {
                set(&obj, k, json_to_js(v));
            }
            obj.into()
        }
    }
}

/// Checks a new id_token (spec #67, #69) and returns its claims and fhirUser URL.
/// Without a discovered `issuer` the claims cannot be validated, so they are not
/// exposed at all: an unvalidated `fhirUser` must not look trusted. `nonce` is the one
/// sent with the authorization request; a refreshed id_token is not bound to it
/// (OIDC §12.2) and is checked against the original instead (spec #70).
fn read_id_token(
    jwt: &str,
    record: &TransactionRecord,
    nonce: Option<&str>,
    now_ms: u64,
) -> Result<Option<(IdTokenClaims, Option<String>)>> {
    let Some(issuer) = record.issuer.as_deref() else {
        return Ok(None);
    };
    let decoded = id_token::decode_id_token(jwt)?;
    let claims = decoded.claims;
    id_token::validate_claims(
        &claims,
        issuer,
        &record.client_id,
        nonce,
        now_ms,
        id_token::CLOCK_LEEWAY_S,
    )?;
    let fhir_user = match claims.fhir_user.as_deref() {
        Some(claim) => Some(id_token::parse_fhir_user(claim, &record.fhir_base)?.url),
        None => None,
    };
    Ok(Some((claims, fhir_user)))
}

/// spec #68: checks the id_token's signature with WebCrypto and a key from the JWKS at
/// the *discovered* `jwks_uri`. The token's `iss` is compared with the discovered issuer
/// before anything is fetched, and nothing the token names is ever fetched.
async fn verify_id_token_signature(
    jwt: &str,
    record: &TransactionRecord,
    timeout_ms: u32,
) -> Result<()> {
    let invalid = |field| Error::new(ErrorCode::IdTokenInvalid).field(field);
    let token = id_token::decode_id_token(jwt)?;
    let alg = jwks::SignatureAlg::from_jws(&token.alg)?;
    if record.issuer.as_deref() != Some(token.claims.iss.as_str()) {
        return Err(invalid("iss"));
    }
    let jwks_uri = record
        .jwks_uri
        .as_deref()
        .ok_or_else(|| invalid("jwks_uri"))?;
    let answer = fetch::send(fetch::HttpRequest::get(jwks_uri, timeout_ms)).await?;
    if !(200..300).contains(&answer.status) {
        return Err(invalid("jwks").status(answer.status));
    }
    let key = jwks::select_key(&answer.body, alg, token.kid.as_deref())?;
    let valid = webcrypto::verify(
        alg,
        json_to_js(&key),
        &token.signing_input,
        &token.signature,
    )
    .await?;
    if valid {
        Ok(())
    } else {
        Err(invalid("signature"))
    }
}

impl SmartClient {
    /// The client of a completed launch; with `verifyIdToken`, only once the
    /// id_token's signature checks out.
    pub(crate) async fn launched(done: Completed, opts: ReadyOptions) -> Result<SmartClient> {
        if opts.verify_id_token {
            if let Some(jwt) = done.tokens.id_token.as_deref() {
                verify_id_token_signature(jwt, &done.record, opts.timeout_ms).await?;
            }
        }
        SmartClient::from_launch(done, opts)
    }

    fn from_launch(done: Completed, opts: ReadyOptions) -> Result<SmartClient> {
        let Completed {
            record,
            tokens,
            requested_at_ms,
        } = done;
        let now = browser::now_ms();
        let (id_claims, fhir_user) = match tokens.id_token.as_deref() {
            Some(jwt) => match read_id_token(jwt, &record, record.nonce.as_deref(), now)? {
                Some((claims, user)) => (Some(claims), user),
                None => (None, None),
            },
            None => (None, None),
        };
        let expires_at_ms = token::expires_at_ms(tokens.expires_in, requested_at_ms);
        let session = Session::new(
            expires_at_ms,
            tokens.refresh_token.is_some(),
            opts.session,
            now,
        );
        let mut listeners = Vec::new();
        if let Some(listener) = opts.listener {
            listeners.push((0, listener));
        }
        let inner = Rc::new(RefCell::new(Inner {
            record,
            tokens: Some(tokens),
            expires_at_ms,
            id_claims,
            fhir_user,
            session,
            listeners,
            next_listener: 1,
            refresh: None,
            timer: None,
            wake: None,
            timeout_ms: opts.timeout_ms,
            verify_id_token: opts.verify_id_token,
        }));
        // Timers sleep with the laptop and crawl in background tabs: re-check the
        // clock whenever the page comes back (spec #66).
        let weak = Rc::downgrade(&inner);
        inner.borrow_mut().wake = timers::on_wake(move || tick(&weak));
        let step = inner.borrow_mut().session.tick(now);
        apply(&inner, step, None);
        Ok(SmartClient { inner })
    }
}

fn tick(weak: &Weak<RefCell<Inner>>) {
    if let Some(inner) = weak.upgrade() {
        let step = inner.borrow_mut().session.tick(browser::now_ms());
        apply(&inner, step, None);
    }
}

fn event_to_js(event: &SessionEvent, error: Option<&Error>) -> JsValue {
    let obj = js_sys::Object::new();
    set(&obj, "type", event.kind().into());
    match *event {
        SessionEvent::Expiring {
            expires_at_ms,
            seconds_left,
        } => {
            set(&obj, "expiresAt", (expires_at_ms as f64).into());
            set(&obj, "secondsLeft", (seconds_left as f64).into());
        }
        SessionEvent::Refreshed { expires_at_ms } => {
            if let Some(at) = expires_at_ms {
                set(&obj, "expiresAt", (at as f64).into());
            }
        }
        SessionEvent::RefreshFailed { code } => {
            let fallback = Error::new(code);
            set(&obj, "error", to_js_error(error.unwrap_or(&fallback)));
        }
        SessionEvent::Expired => {}
        SessionEvent::Ended { reason } => set(&obj, "reason", reason.as_str().into()),
    }
    obj.into()
}

/// Carries out a session step: timer, events (wiping tokens on `ended`), and the
/// automatic refresh.
fn apply(inner: &Shared, step: Step, error: Option<&Error>) {
    let listeners = {
        let mut state = inner.borrow_mut();
        let ended = step
            .events
            .iter()
            .any(|e| matches!(e, SessionEvent::Ended { .. }));
        if ended {
            // The session is over: nothing of it stays in memory (spec #65, #80).
            state.tokens = None;
            state.id_claims = None;
            state.timer = None;
            state.wake = None;
        } else {
            let weak = Rc::downgrade(inner);
            state.timer = step.next_wake_ms.and_then(|at| {
                let delay = at.saturating_sub(browser::now_ms());
                timers::set_timeout(delay, move || tick(&weak))
            });
        }
        state.listeners.clone()
    };
    for event in &step.events {
        let js = event_to_js(event, error);
        for (_, listener) in &listeners {
            // A throwing listener must not keep the others from hearing the event.
            let _ = listener.call1(&JsValue::NULL, &js);
        }
    }
    if step.start_refresh {
        // The session counts this refresh as in flight already; failures surface as
        // `refreshFailed` events, so the promise's own rejection is not needed here.
        let _ = start_refresh(inner, None);
    }
}

/// Sends the one refresh request and stores its promise for joiners.
fn start_refresh(inner: &Shared, scope: Option<String>) -> js_sys::Promise {
    let weak = Rc::downgrade(inner);
    let promise = super::to_promise(Box::pin(async move {
        let Some(inner) = weak.upgrade() else {
            return Ok(JsValue::UNDEFINED);
        };
        let result = run_refresh(&inner, scope).await;
        inner.borrow_mut().refresh = None;
        let now = browser::now_ms();
        match result {
            Ok(fresh) => {
                let step = {
                    let mut state = inner.borrow_mut();
                    let expires_at_ms = token::expires_at_ms(fresh.expires_in, now);
                    let merged = match state.tokens.as_ref() {
                        Some(previous) => token::merge_refresh(previous, fresh),
                        None => fresh,
                    };
                    let has_refresh = merged.refresh_token.is_some();
                    state.tokens = Some(merged);
                    state.expires_at_ms = expires_at_ms;
                    state
                        .session
                        .refresh_succeeded(expires_at_ms, has_refresh, now)
                };
                apply(&inner, step, None);
                Ok(JsValue::UNDEFINED)
            }
            Err(e) => {
                let terminal = session::is_terminal_refresh_error(e.code);
                let step = inner
                    .borrow_mut()
                    .session
                    .refresh_failed(e.code, terminal, now);
                apply(&inner, step, Some(&e));
                Err(to_js_error(&e))
            }
        }
    }));
    inner.borrow_mut().refresh = Some(promise.clone());
    promise
}

/// The refresh grant (spec #60-#62, #64, #70).
async fn run_refresh(inner: &Shared, scope: Option<String>) -> Result<TokenResponse> {
    let (endpoint, body, timeout, original_claims, verify) = {
        let state = inner.borrow();
        let tokens = state
            .tokens
            .as_ref()
            .ok_or_else(|| Error::new(ErrorCode::SessionEnded))?;
        let refresh_token = tokens
            .refresh_token
            .as_deref()
            .ok_or_else(|| Error::new(ErrorCode::NoRefreshToken))?;
        if let (Some(asked), Some(granted)) = (scope.as_deref(), tokens.scope.as_deref()) {
            scopes::check_refresh_scope(asked, granted)?;
        }
        (
            state.record.token_endpoint.clone(),
            token::refresh_body(refresh_token, &state.record.client_id, scope.as_deref()),
            state.timeout_ms,
            state.id_claims.clone(),
            state.verify_id_token,
        )
    };
    let answer = fetch::send(fetch::HttpRequest::post_form(&endpoint, &body, timeout)).await?;
    let fresh = token::process_token_response(answer.status, &answer.body)?;
    if let Some(jwt) = fresh.id_token.as_deref() {
        if verify {
            let record = inner.borrow().record.clone();
            verify_id_token_signature(jwt, &record, timeout).await?;
        }
        let checked = {
            let state = inner.borrow();
            read_id_token(jwt, &state.record, None, browser::now_ms())?
        };
        if let Some((claims, _)) = checked {
            if let Some(original) = original_claims.as_ref() {
                id_token::check_refreshed_id_token(original, &claims)?;
            }
            inner.borrow_mut().id_claims = Some(claims);
        }
    }
    Ok(fresh)
}

/// Asks for a fresh token: starts the one refresh, or joins the one in flight.
async fn refresh(inner: &Shared, scope: Option<String>) -> Result<()> {
    let ticket = inner.borrow_mut().session.begin_refresh();
    let promise = match ticket {
        RefreshTicket::Start => start_refresh(inner, scope),
        RefreshTicket::Join => match inner.borrow().refresh.clone() {
            Some(p) => p,
            None => return Ok(()),
        },
        refused => {
            return Err(Error::new(
                refused.error_code().unwrap_or(ErrorCode::SessionEnded),
            ))
        }
    };
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| error_from_js(&e))
}

/// Recovers the code of a `SmartError` that crossed a promise.
fn error_from_js(value: &JsValue) -> Error {
    let code = js_sys::Reflect::get(value, &"code".into())
        .ok()
        .and_then(|c| c.as_string());
    let code = code
        .and_then(|c| ErrorCode::ALL.iter().copied().find(|k| k.as_str() == c))
        .unwrap_or(ErrorCode::NetworkError);
    let mut error = Error::new(code);
    if let Some(status) = js_sys::Reflect::get(value, &"status".into())
        .ok()
        .and_then(|s| s.as_f64())
    {
        error = error.status(status as u16);
    }
    error
}

async fn request(inner: &Shared, path_or_url: String, init: JsValue) -> Result<JsValue> {
    let now = browser::now_ms();
    // Timers may have slept: re-check the clock before each request (spec #66).
    let step = inner.borrow_mut().session.tick(now);
    apply(inner, step, None);
    let needs_refresh = inner.borrow().session.needs_refresh_before_request(now);
    if needs_refresh {
        // A failed refresh is reported through `refreshFailed`; the request then
        // meets the server's 401 and reports that.
        let _ = refresh(inner, None).await;
    }
    let (server, timeout) = {
        let state = inner.borrow();
        (state.record.fhir_base.clone(), state.timeout_ms)
    };
    let base = crate::protocol::text::concat(&[url::strip_trailing_slash(&server), "/"]);
    let target = url::resolve(&path_or_url, &base)
        .map_err(|_| Error::new(ErrorCode::InvalidOptions).field("pathOrUrl"))?;
    // The bearer token goes only to URLs under the FHIR base (spec #57).
    let with_token = url::is_under(&target, &server);
    let init = (!init.is_undefined() && !init.is_null()).then_some(init);
    let mut retried = false;
    loop {
        let bearer = if with_token {
            let state = inner.borrow();
            Some(
                state
                    .tokens
                    .as_ref()
                    .ok_or_else(|| Error::new(ErrorCode::SessionEnded))?
                    .access_token
                    .clone(),
            )
        } else {
            None
        };
        let answer = fetch::send(fetch::HttpRequest {
            method: "GET",
            url: &target,
            accept: "application/fhir+json, application/json",
            form_body: None,
            bearer: bearer.as_deref(),
            init: init.as_ref(),
            timeout_ms: timeout,
        })
        .await?;
        let bearer_error = answer
            .www_authenticate
            .as_deref()
            .and_then(fhir::bearer_error);
        match answer.status {
            200..=299 => {
                if answer.body.is_empty() {
                    return Ok(JsValue::NULL);
                }
                return Ok(js_sys::JSON::parse(&answer.body)
                    .unwrap_or_else(|_| JsValue::from_str(&answer.body)));
            }
            // spec #58: one refresh and one retry on an expired or revoked token.
            401 if with_token
                && !retried
                && bearer_error.as_deref() != Some("insufficient_scope") =>
            {
                retried = true;
                let can_refresh = inner.borrow().session.has_refresh_token();
                if !can_refresh || refresh(inner, None).await.is_err() {
                    return Err(fhir_error(ErrorCode::InvalidToken, 401, &answer.body));
                }
            }
            401 => return Err(fhir_error(ErrorCode::InvalidToken, 401, &answer.body)),
            // spec #58: no refresh helps a scope problem.
            403 => return Err(fhir_error(ErrorCode::InsufficientScope, 403, &answer.body)),
            status => {
                return Err(fhir_error(
                    ErrorCode::FhirRequestFailed,
                    status,
                    &answer.body,
                ))
            }
        }
    }
}

fn fhir_error(code: ErrorCode, status: u16, body: &str) -> Error {
    let error = Error::new(code).status(status);
    match fhir::operation_outcome_text(body) {
        Some(text) => error.description(&text),
        None => error,
    }
}

async fn logout(inner: &Shared) -> Result<()> {
    let revoke = {
        let state = inner.borrow();
        match (
            state.record.revocation_endpoint.clone(),
            state.tokens.as_ref().and_then(|t| t.refresh_token.clone()),
        ) {
            (Some(endpoint), Some(refresh_token)) => Some((
                endpoint,
                token::revocation_body(&refresh_token, &state.record.client_id),
                state.timeout_ms,
            )),
            _ => None,
        }
    };
    // spec #80: revoke the refresh token when the server offers revocation. Logout
    // goes on whatever the answer: the memory is wiped either way.
    if let Some((endpoint, body, timeout)) = revoke {
        let _ = fetch::send(fetch::HttpRequest::post_form(&endpoint, &body, timeout)).await;
    }
    if let Ok(pending) = storage::pending() {
        for (state, _) in pending {
            let _ = storage::remove(&state);
        }
    }
    let step = inner.borrow_mut().session.end(EndReason::Logout);
    apply(inner, step, None);
    Ok(())
}

/// Getters hand strings over as `JsValue`s (typed for TypeScript with
/// `unchecked_return_type`): a `String` or `Option<String>` return costs each getter its
/// own JS glue (copy out, free) and a multi-value shim in the wasm; this way all share
/// the one string import.
fn js_str(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn js_opt_str(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::UNDEFINED, JsValue::from_str)
}

impl SmartClient {
    /// The granted scope string, else the requested one.
    fn scope_string(&self) -> String {
        let state = self.inner.borrow();
        state
            .tokens
            .as_ref()
            .and_then(|t| t.scope.clone())
            .unwrap_or_else(|| state.record.requested_scope.clone())
    }
}

#[wasm_bindgen]
impl SmartClient {
    /// The access token ("" once the session has ended).
    #[wasm_bindgen(getter, js_name = accessToken, unchecked_return_type = "string")]
    pub fn access_token(&self) -> JsValue {
        let state = self.inner.borrow();
        js_str(state.tokens.as_ref().map_or("", |t| &t.access_token))
    }

    #[wasm_bindgen(getter, js_name = tokenType, unchecked_return_type = "string")]
    pub fn token_type(&self) -> JsValue {
        let state = self.inner.borrow();
        js_str(state.tokens.as_ref().map_or("Bearer", |t| &t.token_type))
    }

    /// The granted scope string: what the server granted, not what was asked (spec #46).
    #[wasm_bindgen(getter, unchecked_return_type = "string")]
    pub fn scope(&self) -> JsValue {
        js_str(&self.scope_string())
    }

    #[wasm_bindgen(getter, js_name = grantedScopes, unchecked_return_type = "string[]")]
    pub fn granted_scopes(&self) -> JsValue {
        let array = js_sys::Array::new();
        for scope in self.scope_string().split(' ').filter(|s| !s.is_empty()) {
            array.push(&js_str(scope));
        }
        array.into()
    }

    /// Epoch milliseconds, from `expires_in` and the local clock (spec #47).
    #[wasm_bindgen(getter, js_name = expiresAt, unchecked_return_type = "number | undefined")]
    pub fn expires_at(&self) -> JsValue {
        let at = self.inner.borrow().expires_at_ms;
        at.map_or(JsValue::UNDEFINED, |t| JsValue::from_f64(t as f64))
    }

    /// The FHIR base (= `aud`).
    #[wasm_bindgen(getter, js_name = serverUrl, unchecked_return_type = "string")]
    pub fn server_url(&self) -> JsValue {
        js_str(&self.inner.borrow().record.fhir_base)
    }

    #[wasm_bindgen(getter, js_name = patientId, unchecked_return_type = "string | undefined")]
    pub fn patient_id(&self) -> JsValue {
        let state = self.inner.borrow();
        js_opt_str(
            state
                .tokens
                .as_ref()
                .and_then(|t| t.context.patient.as_deref()),
        )
    }

    #[wasm_bindgen(getter, js_name = encounterId, unchecked_return_type = "string | undefined")]
    pub fn encounter_id(&self) -> JsValue {
        let state = self.inner.borrow();
        js_opt_str(
            state
                .tokens
                .as_ref()
                .and_then(|t| t.context.encounter.as_deref()),
        )
    }

    #[wasm_bindgen(getter, js_name = fhirContext, unchecked_return_type = "FhirContextItem[]")]
    pub fn fhir_context(&self) -> JsValue {
        let state = self.inner.borrow();
        let array = js_sys::Array::new();
        if let Some(tokens) = state.tokens.as_ref() {
            for item in &tokens.context.fhir_context {
                let obj = js_sys::Object::new();
                for (k, v) in &item.extra {
                    set(&obj, k, json_to_js(v));
                }
                if let Some(r) = &item.reference {
                    set(&obj, "reference", r.as_str().into());
                }
                if let Some(c) = &item.canonical {
                    set(&obj, "canonical", c.as_str().into());
                }
                if let Some(i) = &item.identifier {
                    set(&obj, "identifier", json_to_js(i));
                }
                if let Some(t) = &item.resource_type {
                    set(&obj, "type", t.as_str().into());
                }
                set(&obj, "role", item.role.as_str().into());
                array.push(&obj);
            }
        }
        array.into()
    }

    #[wasm_bindgen(getter, js_name = needPatientBanner, unchecked_return_type = "boolean | undefined")]
    pub fn need_patient_banner(&self) -> JsValue {
        let state = self.inner.borrow();
        let banner = state
            .tokens
            .as_ref()
            .and_then(|t| t.context.need_patient_banner);
        banner.map_or(JsValue::UNDEFINED, JsValue::from_bool)
    }

    #[wasm_bindgen(getter, js_name = smartStyleUrl, unchecked_return_type = "string | undefined")]
    pub fn smart_style_url(&self) -> JsValue {
        let state = self.inner.borrow();
        js_opt_str(
            state
                .tokens
                .as_ref()
                .and_then(|t| t.context.smart_style_url.as_deref()),
        )
    }

    #[wasm_bindgen(getter, unchecked_return_type = "string | undefined")]
    pub fn intent(&self) -> JsValue {
        let state = self.inner.borrow();
        js_opt_str(
            state
                .tokens
                .as_ref()
                .and_then(|t| t.context.intent.as_deref()),
        )
    }

    #[wasm_bindgen(getter, unchecked_return_type = "string | undefined")]
    pub fn tenant(&self) -> JsValue {
        let state = self.inner.borrow();
        js_opt_str(
            state
                .tokens
                .as_ref()
                .and_then(|t| t.context.tenant.as_deref()),
        )
    }

    #[wasm_bindgen(getter, js_name = idToken, unchecked_return_type = "string | undefined")]
    pub fn id_token(&self) -> JsValue {
        let state = self.inner.borrow();
        js_opt_str(state.tokens.as_ref().and_then(|t| t.id_token.as_deref()))
    }

    #[wasm_bindgen(getter, js_name = idTokenClaims, unchecked_return_type = "object | undefined")]
    pub fn id_token_claims(&self) -> JsValue {
        let state = self.inner.borrow();
        state
            .id_claims
            .as_ref()
            .map(|c| json_to_js(&c.raw))
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// The user's FHIR resource URL, absolute (spec #69).
    #[wasm_bindgen(getter, js_name = fhirUser, unchecked_return_type = "string | undefined")]
    pub fn fhir_user(&self) -> JsValue {
        js_opt_str(self.inner.borrow().fhir_user.as_deref())
    }

    #[wasm_bindgen(getter, js_name = hasRefreshToken)]
    pub fn has_refresh_token(&self) -> bool {
        let state = self.inner.borrow();
        state
            .tokens
            .as_ref()
            .is_some_and(|t| t.refresh_token.is_some())
    }

    /// Every member of the last token response, extensions included (spec #52).
    #[wasm_bindgen(getter, js_name = tokenResponse, unchecked_return_type = "Record<string, unknown>")]
    pub fn token_response(&self) -> JsValue {
        let state = self.inner.borrow();
        state
            .tokens
            .as_ref()
            .map(|t| json_to_js(&t.raw))
            .unwrap_or_else(|| js_sys::Object::new().into())
    }

    /// Subscribes to token events; returns the function that unsubscribes.
    #[wasm_bindgen(js_name = onTokenEvent, unchecked_return_type = "() => void")]
    pub fn on_token_event(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: TokenEvent) => void")]
        listener: js_sys::Function,
    ) -> JsValue {
        let id = {
            let mut state = self.inner.borrow_mut();
            let id = state.next_listener;
            state.next_listener += 1;
            state.listeners.push((id, listener));
            id
        };
        let weak = Rc::downgrade(&self.inner);
        Closure::once_into_js(move || {
            if let Some(inner) = weak.upgrade() {
                inner.borrow_mut().listeners.retain(|(i, _)| *i != id);
            }
        })
    }

    /// Refreshes the access token now. Concurrent calls share one request (spec #63).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn refresh(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{ scope?: string }")] options: JsValue,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        let scope = super::get_string(&options, "scope");
        super::spawn(async move {
            refresh(&inner, scope?).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Fetches a FHIR resource; the bearer token goes only to URLs under `serverUrl`.
    #[wasm_bindgen(unchecked_return_type = "Promise<any>")]
    pub fn request(
        &self,
        #[wasm_bindgen(js_name = pathOrUrl)] path_or_url: String,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: JsValue,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        super::spawn(async move { request(&inner, path_or_url, init).await })
    }

    /// Ends the session: revokes the refresh token if the server offers revocation,
    /// wipes the tokens from memory and fires `ended`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn logout(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        super::spawn(async move {
            logout(&inner).await?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
