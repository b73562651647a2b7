//! The launch flow: from the launch page to an authorization request, and from the
//! redirect back to a token response. Each step is a protocol function; this module only
//! sequences them with the browser effects (fetch, storage, address bar) in between.

use crate::browser::{self, crypto, fetch, location, storage, webcrypto};
use crate::prelude::*;
use crate::protocol::callback::{self, CallbackParams, TransactionRecord};
use crate::protocol::discovery::{self, DiscoveryOptions, SmartConfiguration};
use crate::protocol::{authorize, pkce, token, url, Error, ErrorCode, Result};
use crate::PageCell;

/// Default limit for one HTTP request.
pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// One entry of the EHR-launch allowlist: a FHIR base this app trusts, with the
/// registration it has there (spec #12, #17).
#[derive(Clone, Debug, Default)]
pub struct IssuerEntry {
    pub iss: String,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub redirect_uri: Option<String>,
}

/// `AuthorizeOptions` of the JS API, read by `api.rs`.
#[derive(Clone, Debug, Default)]
pub struct AuthorizeOptions {
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub redirect_uri: Option<String>,
    pub iss: Option<String>,
    pub issuers: Vec<IssuerEntry>,
    pub launch: Option<String>,
    pub aud: Option<String>,
    pub target: location::Target,
    pub allow_insecure_localhost: bool,
    pub legacy_capability_statement: bool,
    pub timeout_ms: u32,
}

/// What `authorize`/`authorizeUrl`/`authorizePopup` produced.
pub struct PreparedAuthorization {
    pub url: String,
    pub state: String,
    pub redirect_uri: String,
}

/// Discovery documents by FHIR base, for the life of the page (issue: cached in memory
/// per base). Never persisted. A list, not a HashMap: a page talks to one or two
/// servers, and the map's hashing and table code cost about 1 KB gz of wasm.
static DISCOVERY_CACHE: PageCell<Vec<(String, SmartConfiguration)>> = PageCell::new(Vec::new());

fn invalid(field: &'static str) -> Error {
    Error::new(ErrorCode::InvalidOptions).field(field)
}

/// Forgets the discovery cache (browser tests switch server faults between launches).
pub fn clear_discovery_cache() {
    DISCOVERY_CACHE.with(|c| c.borrow_mut().clear());
}

/// The cached configuration of `fhir_base`, if this page discovered it before.
fn cached_configuration(fhir_base: &str) -> Option<SmartConfiguration> {
    DISCOVERY_CACHE.with(|c| {
        c.borrow()
            .iter()
            .find(|(k, _)| k == fhir_base)
            .map(|(_, v)| v.clone())
    })
}

/// Sends the discovery request (spec #1, #2); [`finish_discovery`] reads it.
fn start_discovery(fhir_base: &str, timeout_ms: u32) -> Result<fetch::InFlight> {
    let well_known = discovery::discovery_url(fhir_base)?;
    fetch::start(fetch::HttpRequest::get(&well_known, timeout_ms))
}

/// Validates the server's SMART configuration (spec #1-#10) and caches it for the page.
async fn finish_discovery(
    request: fetch::InFlight,
    fhir_base: &str,
    opts: &DiscoveryOptions,
    legacy: bool,
    timeout_ms: u32,
) -> Result<SmartConfiguration> {
    let answer = fetch::finish(request).await;
    let config = match answer
        .and_then(|r| discovery::process_discovery_response(r.status, &r.body, fhir_base, opts))
    {
        Ok(config) => config,
        // spec #10: the CapabilityStatement route only as an explicit opt-in.
        Err(e) if legacy && e.code != ErrorCode::InsecureEndpoint => {
            let metadata = discovery::capability_statement_url(fhir_base)?;
            let r = fetch::send(fetch::HttpRequest::get(&metadata, timeout_ms)).await?;
            discovery::process_capability_statement(r.status, &r.body, fhir_base, opts)?
        }
        Err(e) => return Err(e),
    };
    DISCOVERY_CACHE.with(|c| {
        let mut cache = c.borrow_mut();
        cache.retain(|(k, _)| k != fhir_base);
        cache.push((fhir_base.to_string(), config.clone()));
    });
    Ok(config)
}

/// Removes transaction records past their time-to-live (spec #32) and tells whether
/// any live record remains, in one pass over sessionStorage.
fn purge_stale_records(now_ms: u64) -> bool {
    let mut live = false;
    if let Ok(pending) = storage::pending() {
        for (state, json) in pending {
            let stale = TransactionRecord::from_json(&json)
                .map(|r| r.is_expired(now_ms))
                .unwrap_or(true);
            if stale {
                let _ = storage::remove(&state);
            } else {
                live = true;
            }
        }
    }
    live
}

/// Decides the launch (EHR or standalone), discovers, and builds the authorization
/// request, leaving its transaction record in sessionStorage.
///
/// The synchronous steps before and after discovery are separate functions, kept out
/// of line: inlined into the async body they would sit in its state machine, which
/// makes that body (the largest function of the wasm) larger still.
pub async fn prepare(opts: &AuthorizeOptions) -> Result<PreparedAuthorization> {
    let plan = plan(opts)?;
    let disco_opts = DiscoveryOptions {
        allow_insecure_localhost: opts.allow_insecure_localhost,
    };
    // What does not depend on discovery happens while its request is in flight: the
    // SHA-256 runs off the main thread, and the stale-record purge pays for the page's
    // first sessionStorage access (milliseconds, measured in the bench).
    let request = match cached_configuration(&plan.fhir_base) {
        Some(config) => Ok(config),
        None => Err(start_discovery(&plan.fhir_base, opts.timeout_ms)?),
    };
    let verifier = pkce::code_verifier(&crypto::random_32()?);
    let digest = webcrypto::start_sha256(verifier.as_bytes());
    let _ = purge_stale_records(browser::now_ms());
    let config = match request {
        Ok(config) => config,
        Err(request) => {
            finish_discovery(
                request,
                &plan.fhir_base,
                &disco_opts,
                opts.legacy_capability_statement,
                opts.timeout_ms,
            )
            .await?
        }
    };
    let digest = webcrypto::finish_sha256(digest?).await?;
    build_request(opts, plan, &config, verifier, &digest)
}

/// Who to launch against, and with which registration: what [`plan`] decides.
struct LaunchPlan {
    fhir_base: String,
    launch: Option<String>,
    client_id: String,
    scope: String,
    redirect_uri: String,
}

/// Decides the launch (EHR or standalone) and the registration, before any network call.
#[inline(never)]
fn plan(opts: &AuthorizeOptions) -> Result<LaunchPlan> {
    let page_href = location::href()?;
    let page_query = location::query();
    let page_params = url::parse_query(&page_query);
    let page_launch = page_params.iter().any(|(k, _)| k == "launch");

    // EHR launch when the launch URL carries `launch` (or the app passed one).
    let (fhir_base, launch, entry) = if page_launch || opts.launch.is_some() {
        let (iss, launch) = match &opts.launch {
            Some(launch) => (
                opts.iss.clone().ok_or_else(|| invalid("iss"))?,
                launch.clone(),
            ),
            None => authorize::ehr_launch_params(&page_query)?,
        };
        // spec #12: the launch URL can be forged; refuse an unknown `iss` before any
        // network request. Exact string match: `aud` must equal it verbatim (spec #22).
        let entry = opts
            .issuers
            .iter()
            .find(|e| e.iss == iss)
            .cloned()
            .or_else(|| {
                (opts.issuers.is_empty() && opts.iss.as_deref() == Some(iss.as_str())).then(|| {
                    IssuerEntry {
                        iss: iss.clone(),
                        ..IssuerEntry::default()
                    }
                })
            })
            .ok_or_else(|| Error::new(ErrorCode::IssuerNotAllowed).field("iss"))?;
        (iss, Some(launch), entry)
    } else {
        let iss = opts.iss.clone().ok_or_else(|| invalid("iss"))?;
        let entry = opts.issuers.iter().find(|e| e.iss == iss).cloned();
        (iss.clone(), None, entry.unwrap_or_default())
    };

    let client_id = entry
        .client_id
        .or_else(|| opts.client_id.clone())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("clientId"))?;
    let scope = entry
        .scope
        .or_else(|| opts.scope.clone())
        .ok_or_else(|| invalid("scope"))?;
    let redirect = entry
        .redirect_uri
        .or_else(|| opts.redirect_uri.clone())
        .ok_or_else(|| invalid("redirectUri"))?;
    // A relative redirectUri (e.g. "callback.html") is taken relative to this page.
    let redirect_uri = url::resolve(&redirect, &page_href).map_err(|_| invalid("redirectUri"))?;
    Ok(LaunchPlan {
        fhir_base,
        launch,
        client_id,
        scope,
        redirect_uri,
    })
}

/// Builds the authorization request for a discovered server and leaves its transaction
/// record in sessionStorage.
#[inline(never)]
fn build_request(
    opts: &AuthorizeOptions,
    plan: LaunchPlan,
    config: &SmartConfiguration,
    verifier: String,
    verifier_sha256: &[u8; 32],
) -> Result<PreparedAuthorization> {
    let LaunchPlan {
        fhir_base,
        launch,
        client_id,
        scope,
        redirect_uri,
    } = plan;
    let state = pkce::new_state(&crypto::random_32()?);
    let wants_openid = scope.split(' ').any(|s| s == "openid");
    let nonce = if wants_openid {
        Some(pkce::new_state(&crypto::random_32()?))
    } else {
        None
    };
    let aud = opts.aud.clone().unwrap_or_else(|| fhir_base.clone());
    let params = authorize::AuthorizeParams {
        authorization_endpoint: config.authorization_endpoint.clone(),
        client_id: client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        scope: scope.clone(),
        state: state.clone(),
        aud,
        code_challenge: pkce::code_challenge_from_digest(verifier_sha256),
        launch: launch.clone(),
        nonce: nonce.clone(),
        allow_insecure_localhost: opts.allow_insecure_localhost,
    };
    let url = authorize::authorize_url(&params)?;

    let now = browser::now_ms();
    let record = TransactionRecord {
        state: state.clone(),
        code_verifier: verifier,
        client_id,
        redirect_uri: redirect_uri.clone(),
        fhir_base,
        issuer: config.issuer.clone(),
        token_endpoint: config.token_endpoint.clone(),
        revocation_endpoint: config.revocation_endpoint.clone(),
        jwks_uri: config.jwks_uri.clone(),
        requested_scope: scope,
        nonce,
        launch,
        created_at_ms: now,
    };
    storage::save(&state, &record.to_json())?;
    Ok(PreparedAuthorization {
        url,
        state,
        redirect_uri,
    })
}

/// What the callback yields: the consumed record and the server's token response.
pub struct Completed {
    pub record: TransactionRecord,
    pub tokens: token::TokenResponse,
    pub requested_at_ms: u64,
}

/// Takes the authorization response out of the address bar (spec #39), keeping the
/// rest of the URL.
pub fn clean_address_bar() {
    if let Ok(href) = location::href() {
        let clean = url::remove_query_params(&href, callback::CALLBACK_PARAMS);
        if clean != href {
            let _ = location::replace_url(&clean);
        }
    }
}

/// A code exchange on its way: what [`begin`] sent, for [`finish`].
pub struct Exchange {
    record: TransactionRecord,
    requested_at_ms: u64,
    request: fetch::InFlight,
}

/// Validates a callback against its transaction record and sends the code exchange
/// (spec #32-#41, #55): one POST, never retried, to the token endpoint stored in the
/// record.
///
/// The token request leaves as soon as the record checks out. Consuming the record and
/// purging stale ones (sessionStorage calls of up to a few milliseconds each, measured
/// in the bench) follow while it is in flight, in the same task: no other code runs in
/// between, so the record is as single-use as if it had been removed first.
pub fn begin(params: &CallbackParams, timeout_ms: u32) -> Result<Exchange> {
    let now = browser::now_ms();
    let started = check_and_send(params, now, timeout_ms);
    // Single-use (spec #32): the record is gone whatever the outcome.
    if let Some(state) = params.state.as_deref() {
        if let Err(e) = storage::remove(state) {
            if let Ok(exchange) = &started {
                exchange.request.abort();
            }
            return Err(e);
        }
    }
    let _ = purge_stale_records(now);
    started
}

fn check_and_send(params: &CallbackParams, now: u64, timeout_ms: u32) -> Result<Exchange> {
    let record = match params.state.as_deref() {
        Some(state) => storage::get(state)?
            .map(|json| TransactionRecord::from_json(&json))
            .transpose()
            // An unreadable record is as good as gone.
            .map_err(|_| Error::new(ErrorCode::SessionLost))?,
        None => None,
    };
    // Other live records tell `state_mismatch` from `session_lost` when this one is missing.
    let pending = record.is_none() && purge_stale_records(now);
    let code = callback::check_callback(params, record.as_ref(), pending, now)?;
    let record = record.ok_or_else(|| Error::new(ErrorCode::SessionLost))?;
    let body = token::code_exchange_body(
        &code,
        &record.redirect_uri,
        &record.code_verifier,
        &record.client_id,
    );
    let request = fetch::start(fetch::HttpRequest::post_form(
        &record.token_endpoint,
        &body,
        timeout_ms,
    ))?;
    Ok(Exchange {
        record,
        requested_at_ms: now,
        request,
    })
}

/// The token response of the exchange [`begin`] sent (spec #44-#55).
pub async fn finish(exchange: Exchange) -> Result<Completed> {
    let answer = fetch::finish(exchange.request).await?;
    let tokens = token::process_token_response(answer.status, &answer.body)?;
    Ok(Completed {
        record: exchange.record,
        tokens,
        requested_at_ms: exchange.requested_at_ms,
    })
}
