//! The exports of the wasm module: each SMART step as one synchronous function of
//! strings and numbers, called by the JS API (`src/api/*.js`) between the browser
//! effects it carries out (`src/browser/*.js`).
//!
//! The split is the one of `protocol`: this module decides, the JS side does. Nothing
//! here does I/O, reads a clock or draws randomness; the JS side passes page URLs,
//! HTTP answers, random bytes, digests and "now" in, and gets back what to send, what
//! to store and what to tell the app. So every decision of a launch is natively
//! testable, and the wasm needs no browser binding at all.
//!
//! The wasm exports two entry points only, [`step`] and [`Grant::call`]: each runs a
//! step by name, with its arguments as a JSON array, and answers JSON text. wasm-bindgen
//! writes a JS wrapper per export (string copies in and out, frees), and one per step
//! was 1.6 KB gz of the package; one string in and one out is the cheapest thing it
//! passes, and the browser's `JSON.parse` reads the answer. Every answer is an envelope,
//! `{"ok":<value>}` or `{"error":{...}}` (the members of a `SmartError`), which the JS
//! side unwraps in one place (`src/api/core.js`). Instants are epoch milliseconds (JS
//! numbers). The steps are plain functions too, which the native tests call.

use crate::prelude::*;
use crate::protocol::callback::{self, CallbackParams, TransactionRecord};
use crate::protocol::context::FhirContextItem;
use crate::protocol::discovery::{self, DiscoveryOptions, SmartConfiguration};
use crate::protocol::id_token::{self, IdTokenClaims};
use crate::protocol::json::{push_json_string, Json};
use crate::protocol::text::{self, concat, push_u64};
use crate::protocol::token::{self, TokenResponse};
use crate::protocol::{authorize, base64url, fhir, jwks, pkce, scopes, url};
use crate::protocol::{Error, ErrorCode, Result};
use crate::session::{self, EndReason, RefreshTicket, Session, SessionEvent, SessionOptions};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;

/// Default limit for one HTTP request (`timeoutMs`).
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default popup size of `authorizePopup`.
const POPUP_SIZE: (u64, u64) = (520, 680);

// --- the JSON answers -------------------------------------------------------------

/// A JSON object written member by member (no `core::fmt`: see `protocol::text`).
pub(crate) struct Obj(String);

impl Obj {
    pub(crate) fn new() -> Obj {
        Obj(String::from("{"))
    }

    fn key(&mut self, key: &str) -> &mut String {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        push_json_string(&mut self.0, key);
        self.0.push(':');
        &mut self.0
    }

    /// A member whose value is JSON text already.
    pub(crate) fn raw(mut self, key: &str, json: &str) -> Obj {
        self.key(key).push_str(json);
        self
    }

    pub(crate) fn str(mut self, key: &str, value: &str) -> Obj {
        push_json_string(self.key(key), value);
        self
    }

    /// Leaves the member out when `value` is `None` (JS reads it as `undefined`).
    pub(crate) fn opt_str(self, key: &str, value: Option<&str>) -> Obj {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    pub(crate) fn num(mut self, key: &str, value: u64) -> Obj {
        push_u64(self.key(key), value);
        self
    }

    pub(crate) fn opt_num(self, key: &str, value: Option<u64>) -> Obj {
        match value {
            Some(v) => self.num(key, v),
            None => self,
        }
    }

    pub(crate) fn bool(self, key: &str, value: bool) -> Obj {
        self.raw(key, if value { "true" } else { "false" })
    }

    pub(crate) fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

fn json_str(value: &str) -> String {
    let mut out = String::new();
    push_json_string(&mut out, value);
    out
}

/// The members of a `SmartError` (README "Error codes"). No value of a token, code,
/// verifier or state is in an `Error`, so none can be here (spec #75).
fn error_json(e: &Error) -> String {
    Obj::new()
        .str("code", e.code.as_str())
        .str("message", &e.message())
        .opt_str("field", e.field)
        .opt_num("status", e.status.map(u64::from))
        .opt_str("oauthError", e.oauth_error.as_deref())
        .opt_str("description", e.description.as_deref())
        .end()
}

/// The envelope of every answer: `{"ok":value}` or `{"error":{...}}`.
fn answer(result: Result<String>) -> String {
    match result {
        Ok(value) => Obj::new().raw("ok", &value).end(),
        Err(e) => Obj::new().raw("error", &error_json(&e)).end(),
    }
}

fn ms(value: f64) -> u64 {
    // `as` saturates: a negative or NaN clock reads as 0.
    value as u64
}

fn invalid(field: &'static str) -> Error {
    Error::new(ErrorCode::InvalidOptions).field(field)
}

// --- reading the app's options ----------------------------------------------------

/// The app's options object, as `JSON.stringify` gave it (functions and `undefined`
/// members are gone; the JS side checks `onTokenEvent` itself).
fn options_object(text: &str) -> Result<Json> {
    match Json::parse(text) {
        Ok(obj @ Json::Object(_)) => Ok(obj),
        _ => Err(invalid("options")),
    }
}

/// The JSON type an option must have when present (`null` counts as absent).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Bool,
    /// A non-negative number (`NaN` arrives as `null`: absent).
    Num,
    List,
}

/// Checks the type of every option of `kinds` that is present, in order: the first
/// one of the wrong type is `invalid_options` naming it. Checked in one loop, then read
/// borrowed with [`text_of`] and friends: with a fallible read per option, each early
/// return dropped what had been read so far, and those drop ladders were most of the
/// code of reading the options.
fn check_kinds(obj: &Json, kinds: &[(&'static str, Kind)]) -> Result<()> {
    for &(key, kind) in kinds {
        let ok = match obj.get(key) {
            None | Some(Json::Null) => true,
            Some(Json::String(_)) => kind == Kind::Str,
            Some(Json::Bool(_)) => kind == Kind::Bool,
            Some(Json::Number(n)) => kind == Kind::Num && *n >= 0.0,
            Some(Json::Array(_)) => kind == Kind::List,
            Some(Json::Object(_)) => false,
        };
        if !ok {
            return Err(invalid(key));
        }
    }
    Ok(())
}

fn text_of<'a>(obj: &'a Json, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Json::as_str)
}

fn flag_of(obj: &Json, key: &str) -> Option<bool> {
    obj.get(key).and_then(Json::as_bool)
}

fn number_of(obj: &Json, key: &str) -> Option<u64> {
    obj.get(key).and_then(Json::as_f64).map(|n| n as u64)
}

fn timeout_ms(obj: &Json) -> u64 {
    number_of(obj, "timeoutMs")
        .map(|n| n.min(u32::MAX.into()))
        .unwrap_or(DEFAULT_TIMEOUT_MS)
}

/// `AuthorizeOptions`, in the order of the README.
const AUTHORIZE_OPTIONS: [(&str, Kind); 13] = [
    ("target", Kind::Str),
    ("issuers", Kind::List),
    ("clientId", Kind::Str),
    ("scope", Kind::Str),
    ("redirectUri", Kind::Str),
    ("iss", Kind::Str),
    ("launch", Kind::Str),
    ("aud", Kind::Str),
    ("allowInsecureLocalhost", Kind::Bool),
    ("legacyCapabilityStatement", Kind::Bool),
    ("timeoutMs", Kind::Num),
    ("width", Kind::Num),
    ("height", Kind::Num),
];

/// One entry of the EHR-launch allowlist (spec #12, #17); `iss` is required.
const ISSUER_OPTIONS: [(&str, Kind); 4] = [
    ("iss", Kind::Str),
    ("clientId", Kind::Str),
    ("scope", Kind::Str),
    ("redirectUri", Kind::Str),
];

/// `ReadyOptions` but `onTokenEvent`.
const READY_OPTIONS: [(&str, Kind); 4] = [
    ("expiringLeadSeconds", Kind::Num),
    ("autoRefresh", Kind::Bool),
    ("timeoutMs", Kind::Num),
    ("verifyIdToken", Kind::Bool),
];

// --- the entry point --------------------------------------------------------------

/// The arguments of a step: a JSON array from the JS side (`src/api/core.js`). The JS
/// side is this crate's own code, so a missing or mistyped argument is a bug there; it
/// reads as empty, which every step refuses.
struct Args(Vec<Json>);

impl Args {
    fn parse(text: &str) -> Args {
        match Json::parse(text) {
            Ok(Json::Array(items)) => Args(items),
            _ => Args(Vec::new()),
        }
    }

    /// A JSON value argument (an object the JS side got from an earlier step).
    fn value(&self, i: usize) -> &Json {
        self.0.get(i).unwrap_or(&Json::Null)
    }

    fn str(&self, i: usize) -> &str {
        self.0.get(i).and_then(Json::as_str).unwrap_or("")
    }

    fn opt_string(&self, i: usize) -> Option<String> {
        self.0.get(i).and_then(Json::as_str).map(String::from)
    }

    fn num(&self, i: usize) -> f64 {
        self.0.get(i).and_then(Json::as_f64).unwrap_or(0.0)
    }

    fn status(&self, i: usize) -> u16 {
        self.num(i) as u16
    }

    fn flag(&self, i: usize) -> bool {
        self.0.get(i).and_then(Json::as_bool).unwrap_or(false)
    }
}

fn bool_answer(value: bool) -> String {
    answer(Ok(String::from(if value { "true" } else { "false" })))
}

/// Runs the step `name` (one of the functions below) with `args`, a JSON array of its
/// arguments, and `bytes`: the random bytes of `code_verifier`, the digest and random
/// bytes of `authorization`.
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub fn step(name: &str, args: &str, bytes: &[u8]) -> String {
    let a = Args::parse(args);
    match name {
        "plan" => plan(a.str(0), a.str(1), a.str(2)),
        "discover" => discover(a.status(0), a.str(1), a.str(2), a.flag(3), a.flag(4)),
        "code_verifier" => code_verifier(bytes),
        "authorization" => {
            let (digest, random) = bytes.split_at(bytes.len().min(32));
            authorization(a.value(0), a.value(1), a.str(2), digest, random, a.num(3))
        }
        "record_is_live" => bool_answer(record_is_live(a.str(0), a.num(1))),
        "callback_state" => callback_state(a.str(0)),
        "code_exchange" => code_exchange(a.str(0), a.opt_string(1), a.flag(2), a.num(3)),
        "clean_url" => answer(Ok(json_str(&clean_url(a.str(0))))),
        "ready_options" => ready_options(a.str(0)),
        "signature_check" => signature_check(a.status(0), a.str(1), a.str(2)),
        "jwks_key" => jwks_key(a.status(0), a.str(1), a.str(2), a.opt_string(3)),
        "error_codes" => answer(Ok(error_codes())),
        _ => answer(Err(invalid("step"))),
    }
}

// --- the launch page --------------------------------------------------------------

/// Decides the launch before any network call (spec #11-#19): EHR launch when the page
/// URL carries `launch` (or the app passed one), with its `iss` checked against the
/// `issuers` allowlist (spec #12); else a standalone launch against `options.iss`.
/// Picks the registration (client id, scope, redirect URI: per issuer, else the
/// top-level options) and resolves a relative `redirectUri` against the page.
///
/// Answers the plan, which the JS side passes back to [`authorization`] as is:
/// `fhirBase`, `launch`, `clientId`, `scope`, `redirectUri`, `redirectOrigin`, `aud`,
/// `discoveryUrl`, `metadataUrl`, `target`, `width`, `height`, `timeoutMs`,
/// `allowInsecureLocalhost`, `legacyCapabilityStatement`.
pub fn plan(options: &str, page_href: &str, page_query: &str) -> String {
    answer(make_plan(options, page_href, page_query))
}

fn make_plan(options: &str, page_href: &str, page_query: &str) -> Result<String> {
    let opts = options_object(options)?;
    check_kinds(&opts, &AUTHORIZE_OPTIONS)?;
    let target = match text_of(&opts, "target") {
        None => "_self",
        Some(t @ ("_self" | "_top" | "_parent")) => t,
        Some(_) => return Err(invalid("target")),
    };
    let issuers = opts
        .get("issuers")
        .and_then(Json::as_array)
        .unwrap_or_default();
    for entry in issuers {
        check_kinds(entry, &ISSUER_OPTIONS)?;
        if text_of(entry, "iss").is_none() {
            return Err(invalid("issuers"));
        }
    }
    let find = |iss: &str| issuers.iter().find(|e| text_of(e, "iss") == Some(iss));
    let opt_iss = text_of(&opts, "iss");
    let page_launch = url::parse_query(page_query)
        .iter()
        .any(|(k, _)| k == "launch");

    let from_page;
    let (fhir_base, launch, entry) = match text_of(&opts, "launch") {
        // EHR launch (spec #11-#13), with the launch handle the app read itself...
        Some(launch) => (opt_iss.ok_or_else(|| invalid("iss"))?, Some(launch), None),
        // ...or from the launch URL.
        None if page_launch => {
            from_page = authorize::ehr_launch_params(page_query)?;
            (from_page.0.as_str(), Some(from_page.1.as_str()), None)
        }
        None => (opt_iss.ok_or_else(|| invalid("iss"))?, None, None),
    };
    let entry = entry.or_else(|| find(fhir_base));
    // spec #12: the launch URL can be forged; an unknown `iss` is refused before any
    // request. Exact string match: `aud` must equal it verbatim (spec #22). Without an
    // allowlist, the app's own `iss` is the one trusted server.
    if launch.is_some() && entry.is_none() && !(issuers.is_empty() && opt_iss == Some(fhir_base)) {
        return Err(Error::new(ErrorCode::IssuerNotAllowed).field("iss"));
    }

    // The registration: the issuer's own, else the top-level options (spec #17).
    let pick = |key| {
        entry
            .and_then(|e| text_of(e, key))
            .or_else(|| text_of(&opts, key))
    };
    let client_id = pick("clientId")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("clientId"))?;
    let scope = pick("scope").ok_or_else(|| invalid("scope"))?;
    let redirect = pick("redirectUri").ok_or_else(|| invalid("redirectUri"))?;
    // A relative redirectUri (e.g. "callback.html") is taken relative to this page.
    let redirect_uri = url::resolve(redirect, page_href).map_err(|_| invalid("redirectUri"))?;
    let redirect_origin = url::Url::parse(&redirect_uri)
        .map_err(|_| invalid("redirectUri"))?
        .origin();
    let discovery_url = discovery::discovery_url(fhir_base)?;
    let metadata_url = discovery::capability_statement_url(fhir_base)?;

    Ok(Obj::new()
        .str("fhirBase", fhir_base)
        .opt_str("launch", launch)
        .str("clientId", client_id)
        .str("scope", scope)
        .str("redirectUri", &redirect_uri)
        .str("redirectOrigin", &redirect_origin)
        .str("aud", text_of(&opts, "aud").unwrap_or(fhir_base))
        .str("discoveryUrl", &discovery_url)
        .str("metadataUrl", &metadata_url)
        .str("target", target)
        .num("width", number_of(&opts, "width").unwrap_or(POPUP_SIZE.0))
        .num("height", number_of(&opts, "height").unwrap_or(POPUP_SIZE.1))
        .num("timeoutMs", timeout_ms(&opts))
        .bool(
            "allowInsecureLocalhost",
            flag_of(&opts, "allowInsecureLocalhost").unwrap_or(false),
        )
        .bool(
            "legacyCapabilityStatement",
            flag_of(&opts, "legacyCapabilityStatement").unwrap_or(false),
        )
        .end())
}

/// Reads a discovery answer (spec #1-#10): the `.well-known/smart-configuration`
/// document, or with `capability_statement` the CapabilityStatement of `metadata` (the
/// explicit legacy opt-in, spec #10). Answers what the launch needs of it
/// (`authorization_endpoint`, `token_endpoint`, `issuer`, `revocation_endpoint`,
/// `jwks_uri`), which the JS side caches for the page and passes to [`authorization`].
pub fn discover(
    status: u16,
    body: &str,
    fhir_base: &str,
    allow_insecure_localhost: bool,
    capability_statement: bool,
) -> String {
    let opts = DiscoveryOptions {
        allow_insecure_localhost,
    };
    let config = if capability_statement {
        discovery::process_capability_statement(status, body, fhir_base, &opts)
    } else {
        discovery::process_discovery_response(status, body, fhir_base, &opts)
    };
    answer(config.map(|c| config_json(&c)))
}

fn config_json(c: &SmartConfiguration) -> String {
    Obj::new()
        .str("authorization_endpoint", &c.authorization_endpoint)
        .str("token_endpoint", &c.token_endpoint)
        .opt_str("issuer", c.issuer.as_deref())
        .opt_str("revocation_endpoint", c.revocation_endpoint.as_deref())
        .opt_str("jwks_uri", c.jwks_uri.as_deref())
        .end()
}

/// 32 random bytes as a byte array. A stubbed `getRandomValues` that returns without
/// filling the array must not give a predictable state or verifier: 32 zero bytes from
/// a real CSPRNG is not a thing (spec #74).
fn random_32(bytes: &[u8]) -> Result<[u8; 32]> {
    match <[u8; 32]>::try_from(bytes) {
        Ok(b) if b.iter().any(|&x| x != 0) => Ok(b),
        _ => Err(Error::new(ErrorCode::CryptoUnavailable)),
    }
}

/// The PKCE `code_verifier` of 32 bytes from `crypto.getRandomValues` (spec #23): the
/// JS side hashes it with `crypto.subtle.digest` while discovery is in flight.
pub fn code_verifier(random: &[u8]) -> String {
    answer(random_32(random).map(|r| json_str(&pkce::code_verifier(&r))))
}

/// The authorization request (spec #16-#31) and its transaction record (spec #32).
/// `random` is 64 bytes from `crypto.getRandomValues`: the `state` (256 bits, spec #21)
/// and, with `openid`, the `nonce`; `digest` is the SHA-256 of `verifier`.
/// Answers `url`, `state`, and `record`: the text to keep in sessionStorage under the
/// state (it holds no token).
pub fn authorization(
    plan: &Json,
    config: &Json,
    verifier: &str,
    digest: &[u8],
    random: &[u8],
    now: f64,
) -> String {
    answer(make_authorization(
        plan,
        config,
        verifier,
        digest,
        random,
        ms(now),
    ))
}

fn make_authorization(
    plan: &Json,
    config: &Json,
    verifier: &str,
    digest: &[u8],
    random: &[u8],
    now_ms: u64,
) -> Result<String> {
    // Both documents are this module's own answers, passed back unchanged.
    let text = |doc: &Json, key: &str| doc.get(key).and_then(Json::as_str).map(String::from);
    let need = |doc: &Json, key: &'static str| text(doc, key).ok_or_else(|| invalid(key));
    let digest =
        <[u8; 32]>::try_from(digest).map_err(|_| Error::new(ErrorCode::CryptoUnavailable))?;
    let (state_bytes, nonce_bytes) = random.split_at(random.len().min(32));
    let state = pkce::new_state(&random_32(state_bytes)?);
    let scope = need(plan, "scope")?;
    let nonce = if text::split(&scope, b' ').any(|s| s == "openid") {
        Some(pkce::new_state(&random_32(nonce_bytes)?))
    } else {
        None
    };
    pkce::check_verifier(verifier)?;
    let params = authorize::AuthorizeParams {
        authorization_endpoint: need(config, "authorization_endpoint")?,
        client_id: need(plan, "clientId")?,
        redirect_uri: need(plan, "redirectUri")?,
        scope: scope.clone(),
        state: state.clone(),
        aud: need(plan, "aud")?,
        code_challenge: pkce::code_challenge_from_digest(&digest),
        launch: text(plan, "launch"),
        nonce: nonce.clone(),
        allow_insecure_localhost: plan.get("allowInsecureLocalhost") == Some(&Json::Bool(true)),
    };
    let url = authorize::authorize_url(&params)?;
    let record = TransactionRecord {
        state: state.clone(),
        code_verifier: verifier.to_string(),
        client_id: params.client_id,
        redirect_uri: params.redirect_uri,
        fhir_base: need(plan, "fhirBase")?,
        issuer: text(config, "issuer"),
        token_endpoint: need(config, "token_endpoint")?,
        revocation_endpoint: text(config, "revocation_endpoint"),
        jwks_uri: text(config, "jwks_uri"),
        requested_scope: scope,
        nonce,
        launch: params.launch,
        created_at_ms: now_ms,
    };
    Ok(Obj::new()
        .str("url", &url)
        .str("state", &state)
        .str("record", &record.to_json())
        .end())
}

/// Whether a stored transaction record is still good: readable and younger than its
/// time-to-live (spec #32). The JS side removes the others.
pub fn record_is_live(record: &str, now: f64) -> bool {
    TransactionRecord::from_json(record).is_ok_and(|r| !r.is_expired(ms(now)))
}

// --- the redirect back ------------------------------------------------------------

/// The `state` of the page's authorization response, `null` without one (a malformed
/// response is `callback_invalid`). Tells the JS side which record to read, and the
/// popup which launch its callback belongs to.
pub fn callback_state(query: &str) -> String {
    answer(
        callback::parse_callback(query).map(|p| match p.state.as_deref() {
            Some(state) => json_str(state),
            None => String::from("null"),
        }),
    )
}

/// Checks the authorization response against its record (spec #32-#38) and answers the
/// code exchange to send (spec #40-#43): `url` (the token endpoint stored in the
/// record) and the form `body`. `record` is what sessionStorage held under the state
/// (`undefined` when nothing); `pending`: whether other live records exist.
pub fn code_exchange(query: &str, record: Option<String>, pending: bool, now: f64) -> String {
    answer(make_code_exchange(
        query,
        record.as_deref(),
        pending,
        ms(now),
    ))
}

fn make_code_exchange(
    query: &str,
    record: Option<&str>,
    pending: bool,
    now_ms: u64,
) -> Result<String> {
    let params: CallbackParams = callback::parse_callback(query)?;
    let record = record
        .map(TransactionRecord::from_json)
        .transpose()
        // An unreadable record is as good as gone.
        .map_err(|_| Error::new(ErrorCode::SessionLost))?;
    let code = callback::check_callback(&params, record.as_ref(), pending, now_ms)?;
    let record = record.ok_or_else(|| Error::new(ErrorCode::SessionLost))?;
    let body = token::code_exchange_body(
        &code,
        &record.redirect_uri,
        &record.code_verifier,
        &record.client_id,
    );
    Ok(Obj::new()
        .str("url", &record.token_endpoint)
        .str("body", &body)
        .end())
}

/// The page URL without the authorization response's parameters (spec #39).
pub fn clean_url(href: &str) -> String {
    url::remove_query_params(href, callback::CALLBACK_PARAMS)
}

/// Reads `ReadyOptions` (but `onTokenEvent`, which the JS side checks): `timeoutMs`,
/// `verifyIdToken`, and the session policy `expiringLeadMs`, `autoRefresh`.
pub fn ready_options(options: &str) -> String {
    answer(make_ready_options(options))
}

fn make_ready_options(options: &str) -> Result<String> {
    let opts = options_object(options)?;
    check_kinds(&opts, &READY_OPTIONS)?;
    let defaults = SessionOptions::default();
    let lead = match opts.get("expiringLeadSeconds").and_then(Json::as_f64) {
        Some(seconds) => (seconds * 1000.0) as u64,
        None => defaults.expiring_lead_ms,
    };
    Ok(Obj::new()
        .num("timeoutMs", timeout_ms(&opts))
        .bool(
            "verifyIdToken",
            flag_of(&opts, "verifyIdToken").unwrap_or(false),
        )
        .num("expiringLeadMs", lead)
        .bool(
            "autoRefresh",
            flag_of(&opts, "autoRefresh").unwrap_or(defaults.auto_refresh),
        )
        .end())
}

// --- the id_token signature (spec #68) --------------------------------------------

/// What verifying the signature of a token response's `id_token` takes, `null` when
/// the response has none: `alg` (`RS256`/`ES256`), `kid`, the `jwksUri` of the
/// *discovered* configuration, the signing `input` and the base64url `signature`.
/// The token's own `iss` is compared with the discovered issuer first; nothing the
/// token names is ever fetched. A token response the launch would refuse anyway gives
/// that error first.
pub fn signature_check(status: u16, body: &str, record: &str) -> String {
    answer(make_signature_check(status, body, record))
}

fn make_signature_check(status: u16, body: &str, record: &str) -> Result<String> {
    let tokens = token::process_token_response(status, body)?;
    let Some(jwt) = tokens.id_token.as_deref() else {
        return Ok(String::from("null"));
    };
    let record = TransactionRecord::from_json(record)?;
    let bad = |field| Error::new(ErrorCode::IdTokenInvalid).field(field);
    let decoded = id_token::decode_id_token(jwt)?;
    jwks::SignatureAlg::from_jws(&decoded.alg)?;
    if record.issuer.as_deref() != Some(decoded.claims.iss.as_str()) {
        return Err(bad("iss"));
    }
    let jwks_uri = record.jwks_uri.as_deref().ok_or_else(|| bad("jwks_uri"))?;
    let signature = text::rfind(jwt, b'.').map_or("", |i| text::sub(jwt, i + 1..));
    Ok(Obj::new()
        .str("alg", &decoded.alg)
        .opt_str("kid", decoded.kid.as_deref())
        .str("jwksUri", jwks_uri)
        .str("input", &decoded.signing_input)
        .str("signature", signature)
        .end())
}

/// The one public key of a JWKS answer that may verify a token signed with `alg` and
/// header `kid` (spec #68), as a JWK for `crypto.subtle.importKey`.
pub fn jwks_key(status: u16, body: &str, alg: &str, kid: Option<String>) -> String {
    answer(make_jwks_key(status, body, alg, kid.as_deref()))
}

fn make_jwks_key(status: u16, body: &str, alg: &str, kid: Option<&str>) -> Result<String> {
    if !(200..300).contains(&status) {
        return Err(Error::new(ErrorCode::IdTokenInvalid)
            .field("jwks")
            .status(status));
    }
    let key = jwks::select_key(body, jwks::SignatureAlg::from_jws(alg)?, kid)?;
    // The selected key holds string members only (the public parameters).
    let mut out = Obj::new();
    for (name, value) in key.as_object().unwrap_or_default() {
        if let Json::String(v) = value {
            out = out.str(name, v);
        }
    }
    Ok(out.end())
}

/// The stable error codes (README "Error codes"), as a JSON array.
pub fn error_codes() -> String {
    let mut out = String::from("[");
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, code.as_str());
    }
    out.push(']');
    out
}

// --- the launched session ---------------------------------------------------------

/// A validated id_token: its claims, the payload text they came from (`idTokenClaims`:
/// every claim as sent) and the `fhirUser` URL.
struct CheckedIdToken {
    claims: IdTokenClaims,
    payload: String,
    fhir_user: Option<String>,
}

/// What a grant holds while it lives; `None` in [`Grant`] before the launch completed
/// and after the session ended (the tokens are wiped: spec #65, #80).
struct Live {
    record: TransactionRecord,
    tokens: TokenResponse,
    expires_at_ms: Option<u64>,
    id_token: Option<CheckedIdToken>,
}

/// A launched SMART session: the transaction it came from, the current token
/// response, the validated id_token claims, and the timing policy
/// ([`crate::session::Session`]). Tokens live here and in the JS `SmartClient` that
/// holds this object, in memory only (spec #72).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
pub struct Grant {
    live: Option<Live>,
    /// The FHIR base, kept after the end (`serverUrl`).
    server_url: String,
    /// The requested scope, reported when the server granted none (spec #46).
    requested_scope: String,
    session: Session,
}

impl Default for Grant {
    fn default() -> Self {
        Grant::new()
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen)]
impl Grant {
    /// An empty grant; its `launch` step fills it.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen(constructor))]
    pub fn create() -> Grant {
        Grant::new()
    }

    /// Runs the grant's step `name` (one of its methods) with `args`, a JSON array of
    /// its arguments (see [`step`]).
    pub fn call(&mut self, name: &str, args: &str) -> String {
        let a = Args::parse(args);
        match name {
            "launch" => self.launch(
                a.status(0),
                a.str(1),
                a.str(2),
                a.num(3),
                a.num(4),
                a.num(5),
                a.flag(6),
            ),
            "snapshot" => answer(Ok(self.snapshot())),
            "tick" => answer(Ok(self.tick(a.num(0)))),
            "begin_refresh" => self.begin_refresh(),
            "refresh_request" => self.refresh_request(a.opt_string(0)),
            "refresh_response" => self.refresh_response(a.status(0), a.str(1), a.num(2)),
            "refresh_failed" => answer(Ok(self.refresh_failed(a.str(0), a.num(1)))),
            "needs_refresh" => bool_answer(self.needs_refresh(a.num(0))),
            "fhir_request" => self.fhir_request(a.str(0)),
            "fhir_answer" => {
                self.fhir_answer(a.status(0), a.opt_string(1), a.str(2), a.flag(3), a.flag(4))
            }
            "revocation" => self.revocation(),
            "logout" => answer(Ok(self.logout())),
            _ => answer(Err(invalid("step"))),
        }
    }
}

fn session_ended() -> Error {
    Error::new(ErrorCode::SessionEnded)
}

/// Checks a new id_token (spec #67, #69) and gives its claims and fhirUser URL. Without
/// a discovered `issuer` the claims cannot be validated, so they are not exposed at
/// all: an unvalidated `fhirUser` must not look trusted. `nonce` is the one sent with
/// the authorization request; a refreshed id_token is not bound to it (OIDC §12.2) and
/// is checked against the original instead (spec #70).
fn read_id_token(
    jwt: &str,
    record: &TransactionRecord,
    nonce: Option<&str>,
    now_ms: u64,
) -> Result<Option<CheckedIdToken>> {
    let Some(issuer) = record.issuer.as_deref() else {
        return Ok(None);
    };
    let claims = id_token::decode_id_token(jwt)?.claims;
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
    Ok(Some(CheckedIdToken {
        claims,
        payload: payload_text(jwt),
        fhir_user,
    }))
}

/// The decoded payload of a JWT, as JSON text (`idTokenClaims`: every claim as sent).
/// Called on a token that decoded already, so it cannot fail; `{}` if it did.
fn payload_text(jwt: &str) -> String {
    text::split(jwt, b'.')
        .nth(1)
        .and_then(base64url::decode)
        .and_then(|bytes| text::utf8(&bytes, false))
        .unwrap_or_else(|| String::from("{}"))
}

/// The normalised `fhirContext` items of a token response (spec #50), each with `i`,
/// its index in the response's `fhirContext` array: the JS side adds the item's other
/// members (`identifier`, extensions) from the response it parsed itself, so no JSON
/// value is written back here.
fn fhir_context_json(raw: &Json) -> String {
    let mut out = String::from("[");
    let items = raw
        .get("fhirContext")
        .and_then(Json::as_array)
        .unwrap_or_default();
    for (i, item) in items.iter().enumerate() {
        let Ok(item) = FhirContextItem::parse(item) else {
            continue;
        };
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(
            &Obj::new()
                .num("i", i as u64)
                .opt_str("reference", item.reference.as_deref())
                .opt_str("canonical", item.canonical.as_deref())
                .opt_str("type", item.resource_type.as_deref())
                .str("role", &item.role)
                .end(),
        );
    }
    out.push(']');
    out
}

fn event_json(event: &SessionEvent) -> String {
    let obj = Obj::new().str("type", event.kind());
    match *event {
        SessionEvent::Expiring {
            expires_at_ms,
            seconds_left,
        } => obj
            .num("expiresAt", expires_at_ms)
            .num("secondsLeft", seconds_left),
        SessionEvent::Refreshed { expires_at_ms } => obj.opt_num("expiresAt", expires_at_ms),
        SessionEvent::RefreshFailed { code } => obj.str("code", code.as_str()),
        SessionEvent::Expired => obj,
        SessionEvent::Ended { reason } => obj.str("reason", reason.as_str()),
    }
    .end()
}

impl Grant {
    /// Carries out a session step here: an `ended` event wipes the tokens. Answers the
    /// step for the JS side: `events` to deliver in order, the `wake` instant for the
    /// next [`Grant::tick`] (`null`: none), and `refresh`: start the automatic refresh.
    fn step_json(&mut self, step: session::Step) -> String {
        if step
            .events
            .iter()
            .any(|e| matches!(e, SessionEvent::Ended { .. }))
        {
            self.live = None;
        }
        let mut events = String::from("[");
        for (i, event) in step.events.iter().enumerate() {
            if i > 0 {
                events.push(',');
            }
            events.push_str(&event_json(event));
        }
        events.push(']');
        let wake = match step.next_wake_ms {
            Some(at) if self.live.is_some() => {
                let mut s = String::new();
                push_u64(&mut s, at);
                s
            }
            _ => String::from("null"),
        };
        Obj::new()
            .raw("events", &events)
            .raw("wake", &wake)
            .bool("refresh", step.start_refresh)
            .end()
    }

    fn live(&self) -> Result<&Live> {
        self.live.as_ref().ok_or_else(session_ended)
    }

    fn snapshot_json(&self) -> String {
        let mut obj = Obj::new()
            .str("serverUrl", &self.server_url)
            .str("scope", self.scope());
        if let Some(live) = &self.live {
            let t = &live.tokens;
            let c = &t.context;
            obj = obj
                .str("accessToken", &t.access_token)
                .str("tokenType", &t.token_type)
                .opt_num("expiresAt", live.expires_at_ms)
                .opt_str("patientId", c.patient.as_deref())
                .opt_str("encounterId", c.encounter.as_deref())
                .opt_str("smartStyleUrl", c.smart_style_url.as_deref())
                .opt_str("intent", c.intent.as_deref())
                .opt_str("tenant", c.tenant.as_deref())
                .opt_str("idToken", t.id_token.as_deref())
                .opt_str(
                    "fhirUser",
                    live.id_token.as_ref().and_then(|t| t.fhir_user.as_deref()),
                )
                .bool("hasRefreshToken", t.refresh_token.is_some());
            if let Some(banner) = c.need_patient_banner {
                obj = obj.bool("needPatientBanner", banner);
            }
            if let Some(checked) = &live.id_token {
                obj = obj.raw("idTokenClaims", &checked.payload);
            }
        }
        obj.end()
    }

    fn scope(&self) -> &str {
        self.live
            .as_ref()
            .and_then(|l| l.tokens.scope.as_deref())
            .unwrap_or(&self.requested_scope)
    }

    /// Processes a refresh answer (spec #60-#62, #64, #70) into the grant.
    fn accept_refresh(&mut self, status: u16, body: &str, now_ms: u64) -> Result<String> {
        let fresh = token::process_refresh_response(status, body)?;
        let live = self.live()?;
        let mut claims = None;
        if let Some(jwt) = fresh.id_token.as_deref() {
            if let Some(checked) = read_id_token(jwt, &live.record, None, now_ms)? {
                if let Some(original) = live.id_token.as_ref() {
                    id_token::check_refreshed_id_token(&original.claims, &checked.claims)?;
                }
                claims = Some(checked);
            }
        }
        let context =
            (!fresh.context.fhir_context.is_empty()).then(|| fhir_context_json(&fresh.raw));
        let expires_at_ms = token::expires_at_ms(fresh.expires_in, now_ms);
        let Some(live) = self.live.as_mut() else {
            return Err(session_ended());
        };
        live.tokens = token::merge_refresh(&live.tokens, fresh);
        live.expires_at_ms = expires_at_ms;
        if let Some(mut checked) = claims {
            // The user named at launch stays the user (the claims must agree, spec #70).
            if let Some(original) = live.id_token.take() {
                checked.fhir_user = original.fhir_user;
            }
            live.id_token = Some(checked);
        }
        let has_refresh = live.tokens.refresh_token.is_some();
        let step = self
            .session
            .refresh_succeeded(expires_at_ms, has_refresh, now_ms);
        let mut obj = Obj::new().raw("step", &self.step_json(step));
        if let Some(context) = context {
            obj = obj.raw("fhirContext", &context);
        }
        Ok(obj.raw("client", &self.snapshot_json()).end())
    }
}

impl Grant {
    /// An empty grant; [`Grant::launch`] fills it.
    pub fn new() -> Grant {
        Grant {
            live: None,
            server_url: String::new(),
            requested_scope: String::new(),
            // Replaced by the launch's; JS never uses a grant whose launch failed.
            session: Session::new(None, false, SessionOptions::default(), 0),
        }
    }

    /// Takes the code exchange's answer (spec #44-#55, #67, #69): the token response,
    /// its id_token claims and `fhirUser`, the expiry from `expires_in` and the instant
    /// the request was sent (spec #47), and starts the session policy with the app's
    /// `expiringLeadMs` and `autoRefresh`. Answers `client` (the getters' values),
    /// `fhirContext` (see [`fhir_context_json`]) and the first `step`.
    // Scalars only: what wasm-bindgen passes without glue.
    #[allow(clippy::too_many_arguments)]
    pub fn launch(
        &mut self,
        status: u16,
        body: &str,
        record: &str,
        requested_at: f64,
        now: f64,
        expiring_lead_ms: f64,
        auto_refresh: bool,
    ) -> String {
        let result = self.accept_launch(
            status,
            body,
            record,
            ms(requested_at),
            ms(now),
            SessionOptions {
                auto_refresh,
                expiring_lead_ms: ms(expiring_lead_ms),
            },
        );
        answer(result)
    }

    /// The getters' values: `accessToken`, `tokenType`, `scope`, `expiresAt`,
    /// `serverUrl`, `patientId`, `encounterId`, `needPatientBanner`, `smartStyleUrl`,
    /// `intent`, `tenant`, `idToken`, `idTokenClaims`, `fhirUser`, `hasRefreshToken`.
    /// After the end: only `serverUrl` and the requested `scope`.
    pub fn snapshot(&self) -> String {
        self.snapshot_json()
    }

    /// Re-checks the clock (timer, `visibilitychange`, `focus`, before a request:
    /// spec #66); answers the step.
    pub fn tick(&mut self, now: f64) -> String {
        let step = self.session.tick(ms(now));
        self.step_json(step)
    }

    /// "I want a fresh token": answers `"start"` (send the one refresh, then report
    /// it), `"join"` (one is in flight: wait for it, spec #63), or the error
    /// (`no_refresh_token`, `session_ended`).
    pub fn begin_refresh(&mut self) -> String {
        let ticket = self.session.begin_refresh();
        answer(match ticket {
            RefreshTicket::Start => Ok(json_str("start")),
            RefreshTicket::Join => Ok(json_str("join")),
            refused => Err(Error::new(
                refused.error_code().unwrap_or(ErrorCode::SessionEnded),
            )),
        })
    }

    /// The refresh request to send after `"start"` (spec #60, #61): `url` and `body`.
    /// A `scope` wider than the grant is `scope_not_granted` (report it with
    /// [`Grant::refresh_failed`] like any failure).
    pub fn refresh_request(&self, scope: Option<String>) -> String {
        let result = self.live().and_then(|live| {
            let t = &live.tokens;
            let refresh_token = t
                .refresh_token
                .as_deref()
                .ok_or_else(|| Error::new(ErrorCode::NoRefreshToken))?;
            if let (Some(asked), Some(granted)) = (scope.as_deref(), t.scope.as_deref()) {
                scopes::check_refresh_scope(asked, granted)?;
            }
            let body = token::refresh_body(refresh_token, &live.record.client_id, scope.as_deref());
            Ok(Obj::new()
                .str("url", &live.record.token_endpoint)
                .str("body", &body)
                .end())
        });
        answer(result)
    }

    /// The refresh answer: on success the new tokens replace the old at once (a
    /// rotated refresh token too: spec #62) and the answer is `client`, `step` and,
    /// when the response brought new launch context, `fhirContext`. On failure the
    /// error; the JS side then reports it with [`Grant::refresh_failed`].
    pub fn refresh_response(&mut self, status: u16, body: &str, now: f64) -> String {
        let result = self.accept_refresh(status, body, ms(now));
        answer(result)
    }

    /// The refresh in flight failed with `code` (spec #65: a terminal failure ends the
    /// session); answers the step.
    pub fn refresh_failed(&mut self, code: &str, now: f64) -> String {
        let code = ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == code)
            .unwrap_or(ErrorCode::NetworkError);
        let terminal = session::is_terminal_refresh_error(code);
        let step = self.session.refresh_failed(code, terminal, ms(now));
        self.step_json(step)
    }

    /// Whether a FHIR request should get a fresh token first (see
    /// [`Session::needs_refresh_before_request`]).
    pub fn needs_refresh(&self, now: f64) -> bool {
        self.live.is_some() && self.session.needs_refresh_before_request(ms(now))
    }

    /// Where a FHIR request goes (spec #56, #57): `url`, resolved against `serverUrl`,
    /// and `bearer`, the access token, only when the URL lies under `serverUrl`.
    pub fn fhir_request(&self, path_or_url: &str) -> String {
        let result = self.live().and_then(|live| {
            let server = &live.record.fhir_base;
            let base = concat(&[url::strip_trailing_slash(server), "/"]);
            let target = url::resolve(path_or_url, &base).map_err(|_| invalid("pathOrUrl"))?;
            let bearer =
                url::is_under(&target, server).then_some(live.tokens.access_token.as_str());
            Ok(Obj::new()
                .str("url", &target)
                .opt_str("bearer", bearer)
                .end())
        });
        answer(result)
    }

    /// What a FHIR answer means (spec #58): `"done"` for 2xx; `"retry"` for a 401 on a
    /// request that carried the token, not yet retried, and not for lack of scope, when
    /// a refresh token is held (refresh once, then send again); otherwise the error:
    /// `invalid_token` (401), `insufficient_scope` (403), `fhir_request_failed`, with
    /// the status and the OperationOutcome text.
    pub fn fhir_answer(
        &self,
        status: u16,
        www_authenticate: Option<String>,
        body: &str,
        with_token: bool,
        retried: bool,
    ) -> String {
        let bearer_error = www_authenticate.as_deref().and_then(fhir::bearer_error);
        let can_refresh = self
            .live
            .as_ref()
            .is_some_and(|l| l.tokens.refresh_token.is_some());
        let code = match status {
            200..=299 => return answer(Ok(json_str("done"))),
            401 if with_token
                && !retried
                && can_refresh
                && bearer_error.as_deref() != Some("insufficient_scope") =>
            {
                return answer(Ok(json_str("retry")))
            }
            401 => ErrorCode::InvalidToken,
            // No refresh helps a scope problem.
            403 => ErrorCode::InsufficientScope,
            _ => ErrorCode::FhirRequestFailed,
        };
        let mut error = Error::new(code).status(status);
        if let Some(text) = fhir::operation_outcome_text(body) {
            error = error.description(&text);
        }
        answer(Err(error))
    }

    /// The revocation request of logout (spec #80), `null` when the server offers no
    /// revocation or no refresh token is held: `url` and `body`.
    pub fn revocation(&self) -> String {
        let request = self.live.as_ref().and_then(|live| {
            let endpoint = live.record.revocation_endpoint.as_deref()?;
            let refresh_token = live.tokens.refresh_token.as_deref()?;
            Some(
                Obj::new()
                    .str("url", endpoint)
                    .str(
                        "body",
                        &token::revocation_body(refresh_token, &live.record.client_id),
                    )
                    .end(),
            )
        });
        answer(Ok(request.unwrap_or_else(|| String::from("null"))))
    }

    /// Ends the session by logout (spec #80): the tokens are wiped, `ended` fires once.
    pub fn logout(&mut self) -> String {
        let step = self.session.end(EndReason::Logout);
        self.step_json(step)
    }
}

impl Grant {
    fn accept_launch(
        &mut self,
        status: u16,
        body: &str,
        record: &str,
        requested_at_ms: u64,
        now_ms: u64,
        options: SessionOptions,
    ) -> Result<String> {
        let record = TransactionRecord::from_json(record)?;
        let tokens = token::process_token_response(status, body)?;
        let id_token = match tokens.id_token.as_deref() {
            Some(jwt) => read_id_token(jwt, &record, record.nonce.as_deref(), now_ms)?,
            None => None,
        };
        let expires_at_ms = token::expires_at_ms(tokens.expires_in, requested_at_ms);
        let context = fhir_context_json(&tokens.raw);
        self.server_url = record.fhir_base.clone();
        self.requested_scope = record.requested_scope.clone();
        self.session = Session::new(
            expires_at_ms,
            tokens.refresh_token.is_some(),
            options,
            now_ms,
        );
        self.live = Some(Live {
            record,
            tokens,
            expires_at_ms,
            id_token,
        });
        let step = self.session.tick(now_ms);
        let step = self.step_json(step);
        Ok(Obj::new()
            .raw("client", &self.snapshot_json())
            .raw("fhirContext", &context)
            .raw("step", &step)
            .end())
    }
}
