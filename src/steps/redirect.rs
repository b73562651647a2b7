//! The redirect back: the authorization response, the code exchange, the address
//! bar, `ReadyOptions`, and the id_token signature inputs (spec #68).

use super::options::*;
use super::{answer, json_str, ms, Obj};
use crate::prelude::*;
use crate::protocol::callback::{self, CallbackParams, TransactionRecord};
use crate::protocol::json::Json;
use crate::protocol::text;
use crate::protocol::{id_token, jwks, token, url, Error, ErrorCode, Result};
use crate::session::SessionOptions;

/// The `state` of the page's authorization response, `null` without one (a malformed
/// response is `callback_invalid`). Tells the JS side which record to read, and the
/// popup which launch its callback belongs to.
pub fn callback_state(query: &str) -> String {
    answer(make_callback_state(query))
}

/// [`callback_state`] before its envelope: `step` wraps every answer once.
pub(super) fn make_callback_state(query: &str) -> Result<String> {
    callback::parse_callback(query).map(|p| match p.state.as_deref() {
        Some(state) => json_str(state),
        None => String::from("null"),
    })
}

/// Checks the authorization response against its record (spec #32-#38) and answers the
/// code exchange to send (spec #40-#43): `url` (the token endpoint stored in the
/// record) and the form `body`. `record` is what sessionStorage held under the state
/// (`undefined` when nothing), borrowed from the step's arguments (a copy of it, and of
/// `jwks_key`'s `kid`, cost 14 B gz); `pending`: whether other live records exist.
pub fn code_exchange(query: &str, record: Option<&str>, pending: bool, now: f64) -> String {
    answer(make_code_exchange(query, record, pending, ms(now)))
}

pub(super) fn make_code_exchange(
    query: &str,
    record: Option<&str>,
    pending: bool,
    now_ms: u64,
) -> Result<String> {
    let params: CallbackParams = callback::parse_callback(query)?;
    // A match, not map-transpose-map_err, which moved the record through a temporary at
    // each step.
    let record = match record {
        // An unreadable record is as good as gone: plain `session_lost`. Every error
        // of `from_json` is `session_lost` naming a member (a proptest holds it), so
        // only the member goes: the error kept, not dropped for a new one (6 B gz).
        Some(text) => Some(TransactionRecord::from_json(text).map_err(|mut e| {
            e.field = None;
            e
        })?),
        None => None,
    };
    let code = callback::check_callback(&params, record.as_ref(), pending, now_ms)?;
    let Some(record) = record else {
        return Err(Error::new(ErrorCode::SessionLost));
    };
    let body = token::code_exchange_body(
        code,
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

pub(super) fn make_ready_options(options: &str) -> Result<String> {
    let opts = options_object(options)?;
    check_kinds(&opts, &READY_OPTIONS)?;
    let defaults = SessionOptions::default();
    let lead = match opts.get("expiringLeadSeconds").and_then(Json::as_f64) {
        Some(seconds) => (seconds * 1000.0) as u64,
        None => defaults.expiring_lead_ms,
    };
    Ok(Obj::new()
        .num("timeoutMs", timeout_ms(&opts))
        .bool("verifyIdToken", flag_of(&opts, "verifyIdToken", false))
        .num("expiringLeadMs", lead)
        .bool(
            "autoRefresh",
            flag_of(&opts, "autoRefresh", defaults.auto_refresh),
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

pub(super) fn make_signature_check(status: u16, body: &str, record: &str) -> Result<String> {
    let tokens = token::process_without_warnings(status, body, false)?;
    let Some(jwt) = tokens.id_token.as_deref() else {
        return Ok(String::from("null"));
    };
    let record = TransactionRecord::from_json(record)?;
    let bad = |field| Error::at(ErrorCode::IdTokenInvalid, field);
    let decoded = id_token::decode_id_token(jwt)?;
    jwks::SignatureAlg::from_jws(&decoded.alg)?;
    // Not `!= Some(..)`: the `Option` comparison cost 16 B gz.
    if record
        .issuer
        .as_ref()
        .is_none_or(|i| *i != decoded.claims.iss)
    {
        return Err(bad("iss"));
    }
    let jwks_uri = record.jwks_uri.as_deref().ok_or_else(|| bad("jwks_uri"))?;
    // The token has exactly three segments (`decode_id_token`): the signature follows
    // the signing input and its `.` (no search for the last `.`: 12 B gz).
    let signature = text::sub(jwt, decoded.signing_input.len() + 1..);
    Ok(Obj::new()
        .str("alg", &decoded.alg)
        .opt_string("kid", &decoded.kid)
        .str("jwksUri", jwks_uri)
        .str("input", &decoded.signing_input)
        .str("signature", signature)
        .end())
}

/// The one public key of a JWKS answer that may verify a token signed with `alg` and
/// header `kid` (spec #68), as a JWK for `crypto.subtle.importKey`.
pub fn jwks_key(status: u16, body: &str, alg: &str, kid: Option<&str>) -> String {
    answer(make_jwks_key(status, body, alg, kid))
}

pub(super) fn make_jwks_key(
    status: u16,
    body: &str,
    alg: &str,
    kid: Option<&str>,
) -> Result<String> {
    if !(200..300).contains(&status) {
        return Err(Error::at(ErrorCode::IdTokenInvalid, "jwks").status(status));
    }
    let mut out = Obj::new();
    jwks::for_public_members(
        body,
        jwks::SignatureAlg::from_jws(alg)?,
        kid,
        |name, value| {
            out.str(name, value);
        },
    )?;
    Ok(out.end())
}
