//! The launch page: the plan, discovery, and the authorization request with its
//! transaction record.

use super::options::*;
use super::{answer, invalid, json_str, ms, Obj};
use crate::prelude::*;
use crate::protocol::callback::{self, TransactionRecord};
use crate::protocol::discovery::{self, DiscoveryOptions, SmartConfiguration};
use crate::protocol::json::Json;
use crate::protocol::text;
use crate::protocol::{authorize, pkce, url, Error, ErrorCode, Result};

/// Default popup size of `authorizePopup`.
const POPUP_SIZE: (u64, u64) = (520, 680);

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

pub(super) fn make_plan(options: &str, page_href: &str, page_query: &str) -> Result<String> {
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
    let opt_iss = text_of(&opts, "iss");
    // `as_str` here and at the other `String`-to-`str` comparisons of the launch and
    // callback: `&String == &str` compiled to its own comparison (18 B gz in all).
    let page_launch = url::parse_query(page_query)
        .iter()
        .any(|(k, _)| k.as_str() == "launch");

    let pairs;
    let (fhir_base, launch) = match text_of(&opts, "launch") {
        // EHR launch from the launch URL (spec #11-#13)...
        // The parameters borrowed from the parsed query: `ehr_launch_params`, which
        // copies them out, cost 41 B gz (with the `launch` test parsing the query as
        // given, as it always did: one parse for both cost 15 B gz more).
        None if page_launch => {
            pairs = url::parse_query(text::strip_prefix(page_query, b'?').unwrap_or(page_query));
            let (iss, launch) = authorize::launch_params(&pairs)?;
            (iss, Some(launch))
        }
        // ...or with the launch handle the app read itself, or standalone.
        launch => (opt_iss.ok_or_else(|| invalid("iss"))?, launch),
    };
    // `is_some_and`, here and below, not `== Some(..)`: the `Option` comparison cost
    // 34 B gz.
    let entry = issuers
        .iter()
        .find(|e| text_of(e, "iss").is_some_and(|iss| iss == fhir_base));
    // spec #12: the launch URL can be forged; an unknown `iss` is refused before any
    // request. Exact string match: `aud` must equal it verbatim (spec #22). Without an
    // allowlist, the app's own `iss` is the one trusted server.
    if launch.is_some()
        && entry.is_none()
        && !(issuers.is_empty() && opt_iss.is_some_and(|iss| iss == fhir_base))
    {
        return Err(Error::at(ErrorCode::IssuerNotAllowed, "iss"));
    }

    // The registration: the issuer's own, else the top-level options (spec #17).
    // Missing, each is `invalid_options` naming it: one error in the closure, not one at
    // each call (32 B gz).
    let pick = |key| {
        if let Some(value) = entry.and_then(|e| text_of(e, key)) {
            return Ok(value);
        }
        text_of(&opts, key).ok_or_else(|| invalid(key))
    };
    let client_id = pick("clientId")?;
    if client_id.is_empty() {
        return Err(invalid("clientId"));
    }
    let scope = pick("scope")?;
    let redirect = pick("redirectUri")?;
    // A relative redirectUri (e.g. "callback.html") is taken relative to this page.
    let redirect_uri =
        url::resolve_url(redirect, page_href).ok_or_else(|| invalid("redirectUri"))?;
    // `parse_url`, not `Url::parse`: its error was built only to be dropped (with
    // `authorize::check_url`, 47 B gz). A match, not `ok_or_else(..)?.origin()`, which
    // moved the `Url` through the `Result` first (17 B gz).
    let redirect_origin = match url::parse_url(&redirect_uri) {
        Some(parsed) => parsed.origin().to_owned(),
        None => return Err(invalid("redirectUri")),
    };
    let request_base = discovery::request_base(fhir_base)?;

    Ok(Obj::new()
        .str("fhirBase", fhir_base)
        .opt_str("launch", launch)
        .str("clientId", client_id)
        .str("scope", scope)
        .str("redirectUri", &redirect_uri)
        .str("redirectOrigin", &redirect_origin)
        .str("aud", text_of(&opts, "aud").unwrap_or(fhir_base))
        .str(
            "discoveryUrl",
            &text::concat(&[request_base, discovery::WELL_KNOWN_PATH]),
        )
        .str(
            "metadataUrl",
            &text::concat(&[request_base, discovery::METADATA_PATH]),
        )
        .str("target", target)
        .num("width", number_of(&opts, "width", POPUP_SIZE.0))
        .num("height", number_of(&opts, "height", POPUP_SIZE.1))
        .num("timeoutMs", timeout_ms(&opts))
        .bool(
            "allowInsecureLocalhost",
            flag_of(&opts, "allowInsecureLocalhost", false),
        )
        .bool(
            "legacyCapabilityStatement",
            flag_of(&opts, "legacyCapabilityStatement", false),
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
    answer(make_discover(
        status,
        body,
        fhir_base,
        allow_insecure_localhost,
        capability_statement,
    ))
}

/// [`discover`] before its envelope: `step` wraps every answer once.
pub(super) fn make_discover(
    status: u16,
    body: &str,
    fhir_base: &str,
    allow_insecure_localhost: bool,
    capability_statement: bool,
) -> Result<String> {
    let opts = DiscoveryOptions {
        allow_insecure_localhost,
    };
    // The answer has no warnings (the JS side reports none), so none are gathered.
    let config =
        discovery::process_without_warnings(capability_statement, status, body, fhir_base, &opts);
    config.map(|c| config_json(&c))
}

fn config_json(c: &SmartConfiguration) -> String {
    Obj::new()
        .str("authorization_endpoint", &c.authorization_endpoint)
        .str("token_endpoint", &c.token_endpoint)
        .opt_string("issuer", &c.issuer)
        .opt_string("revocation_endpoint", &c.revocation_endpoint)
        .opt_string("jwks_uri", &c.jwks_uri)
        .end()
}

/// 32 random bytes as a byte array, borrowed: a copy returned by value went through
/// memory twice. A stubbed `getRandomValues` that returns without filling the array
/// must not give a predictable state or verifier: 32 zero bytes from a real CSPRNG is
/// not a thing (spec #74).
fn random_32(bytes: &[u8]) -> Result<&[u8; 32]> {
    match <&[u8; 32]>::try_from(bytes) {
        Ok(b) if *b != [0; 32] => Ok(b),
        _ => Err(Error::new(ErrorCode::CryptoUnavailable)),
    }
}

/// A `state` (the first 32 of the `random` bytes) or `nonce` (the rest, which must be
/// 32) of 32 random bytes (spec #21): the halves [`split_32`] would give, cut here
/// rather than passed around as a pair of slices, which went through memory (34 B gz).
fn random_state(random: &[u8], nonce: bool) -> Result<String> {
    let part = if nonce {
        random.get(32..)
    } else {
        random.get(..32)
    };
    random_32(part.unwrap_or_default()).map(pkce::new_state)
}

/// The first 32 bytes and the rest (all and none when shorter): `split_at` keeps a
/// formatting panic path in the wasm even where it cannot fail.
pub(super) fn split_32(bytes: &[u8]) -> (&[u8], &[u8]) {
    bytes.split_at_checked(32).unwrap_or((bytes, &[]))
}

/// The PKCE `code_verifier` of 32 bytes from `crypto.getRandomValues` (spec #23): the
/// JS side hashes it with `crypto.subtle.digest` while discovery is in flight.
pub fn code_verifier(random: &[u8]) -> String {
    answer(make_code_verifier(random))
}

/// [`code_verifier`] before its envelope: `step` wraps every answer once.
pub(super) fn make_code_verifier(random: &[u8]) -> Result<String> {
    random_32(random).map(|r| json_str(&pkce::code_verifier(r)))
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

pub(super) fn make_authorization<'a>(
    plan: &'a Json,
    config: &'a Json,
    verifier: &str,
    digest: &[u8],
    random: &[u8],
    now_ms: u64,
) -> Result<String> {
    // Both documents are this module's own answers, passed back unchanged. Read
    // borrowed, each before the struct that copies it: a `?` inside the literal dropped
    // the members built so far, and the record is written from borrows.
    let need = |doc: &'a Json, key: &'static str| text_of(doc, key).ok_or_else(|| invalid(key));
    let digest =
        <&[u8; 32]>::try_from(digest).map_err(|_| Error::new(ErrorCode::CryptoUnavailable))?;
    let state = random_state(random, false)?;
    let scope = need(plan, "scope")?;
    let nonce = if text::split(scope, b' ').any(|s| s == "openid") {
        Some(random_state(random, true)?)
    } else {
        None
    };
    pkce::check_verifier(verifier)?;
    let endpoint = need(config, "authorization_endpoint")?;
    let client_id = need(plan, "clientId")?;
    let redirect_uri = need(plan, "redirectUri")?;
    let aud = need(plan, "aud")?;
    let code_challenge = pkce::code_challenge_from_digest(digest);
    let params = authorize::AuthorizeParams {
        authorization_endpoint: endpoint,
        client_id,
        redirect_uri,
        scope,
        state: state.as_str(),
        aud,
        code_challenge: code_challenge.as_str(),
        launch: text_of(plan, "launch"),
        nonce: nonce.as_deref(),
        allow_insecure_localhost: flag_of(plan, "allowInsecureLocalhost", false),
    };
    let url = authorize::authorize_url(&params)?;
    // In the order of `callback::RECORD_MEMBERS`; tests/steps_flow.rs reads each member
    // back. A named view of the members cost 76 B gz more (measured).
    let record = callback::record_json(
        &[
            Some(params.state),
            Some(verifier),
            Some(params.client_id),
            Some(params.redirect_uri),
            Some(need(plan, "fhirBase")?),
            text_of(config, "issuer"),
            Some(need(config, "token_endpoint")?),
            text_of(config, "revocation_endpoint"),
            text_of(config, "jwks_uri"),
            Some(params.scope),
            params.nonce,
            params.launch,
        ],
        now_ms,
    );
    Ok(Obj::new()
        .str("url", &url)
        .str("state", params.state)
        .str("record", &record)
        .end())
}

/// Whether a stored transaction record is still good: readable and younger than its
/// time-to-live (spec #32). The JS side removes the others.
pub fn record_is_live(record: &str, now: f64) -> bool {
    TransactionRecord::from_json(record).is_ok_and(|r| !r.is_expired(ms(now)))
}
