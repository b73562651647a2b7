//! The token endpoint: code exchange, refresh and revocation requests, and the
//! processing of their responses (smart-spec.md §3, §4; AL steps 5 and 7; RFC 6749
//! §4.1.3, §5.1, §5.2, §6; RFC 7636 §4.5; RFC 7009).
//!
//! Request builders return the `application/x-www-form-urlencoded` body; the browser
//! layer POSTs it with the headers [`CONTENT_TYPE`] and [`ACCEPT`], `credentials:
//! "omit"` (spec #43), and **no `Authorization` header**: this is a public client,
//! which authenticates with nothing but its `client_id` in the body and PKCE
//! (AL step 5, spec #42). No builder here can produce a `client_secret` or a
//! `client_assertion`.
//!
//! Response processors take the HTTP status and the body text and return a
//! [`TokenResponse`] or a typed [`Error`] naming the field at fault, never its value.
//! A code exchange is never retried: the caller maps any error to "restart
//! authorization" (spec #55).

use crate::prelude::*;
use core::fmt;

use super::context::{self, LaunchContext};
use super::error::{Error, ErrorCode, Result};
use super::json::Json;
use super::url::form_encode_into;
use super::warning::{self, Warning};

/// The `Content-Type` of every token, refresh and revocation request (RFC 6749 §4.1.3).
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The `Accept` header of token requests.
pub const ACCEPT: &str = "application/json";

/// The code exchange body (AL step 5; RFC 6749 §4.1.3; RFC 7636 §4.5; spec #41, #42):
/// `grant_type=authorization_code`, `code`, `redirect_uri` (byte-identical to the one
/// of the authorization request, spec #18), `code_verifier` and `client_id`.
/// The caller sends no `Authorization` header.
pub fn code_exchange_body(
    code: &str,
    redirect_uri: &str,
    code_verifier: &str,
    client_id: &str,
) -> String {
    let mut body = String::from("grant_type=authorization_code");
    param(&mut body, "code", code);
    param(&mut body, "redirect_uri", redirect_uri);
    param(&mut body, "code_verifier", code_verifier);
    param(&mut body, "client_id", client_id);
    body
}

/// Appends `&name=value`, the value form-encoded. The names and the fixed values of
/// these bodies need no encoding, so they are written as they are: one call for each
/// parameter, not a list of pairs stored in memory first.
fn param(body: &mut String, name: &str, value: &str) {
    body.push('&');
    body.push_str(name);
    body.push('=');
    form_encode_into(body, value);
}

/// The refresh body (AL step 7; RFC 6749 §6; spec #60, #61): `grant_type=refresh_token`,
/// the current `refresh_token`, and `client_id` (always sent by public clients: some
/// servers require it, client-js PR #175). `scope` is sent only when narrowing: pass
/// `None` to keep the grant (an empty or blank scope counts as `None`). Check a
/// narrowing scope first with [`narrow_refresh_body`] or
/// [`super::scopes::check_refresh_scope`].
pub fn refresh_body(refresh_token: &str, client_id: &str, scope: Option<&str>) -> String {
    let mut body = String::from("grant_type=refresh_token");
    param(&mut body, "refresh_token", refresh_token);
    param(&mut body, "client_id", client_id);
    if let Some(scope) = scope.map(str::trim_ascii).filter(|s| !s.is_empty()) {
        param(&mut body, "scope", scope);
    }
    body
}

/// [`refresh_body`] with a narrowing `scope`, refused with `ScopeNotGranted` unless
/// every requested scope is covered by the current grant (spec #61).
pub fn narrow_refresh_body(
    refresh_token: &str,
    client_id: &str,
    scope: &str,
    granted: &str,
) -> Result<String> {
    super::scopes::check_refresh_scope(scope, granted)?;
    Ok(refresh_body(refresh_token, client_id, Some(scope)))
}

/// The revocation body (RFC 7009 §2.1; spec #80): the refresh token, the hint
/// `token_type_hint=refresh_token`, and `client_id` (public client, no auth header).
pub fn revocation_body(token: &str, client_id: &str) -> String {
    let mut body = String::from("token=");
    form_encode_into(&mut body, token);
    body.push_str("&token_type_hint=refresh_token");
    param(&mut body, "client_id", client_id);
    body
}

/// Processes a revocation answer (RFC 7009 §2.2): any 2xx is success (the server
/// answers 200 even for an unknown token); anything else is the OAuth error mapping
/// of [`process_token_response`]. Logout wipes memory whatever this returns.
pub fn process_revocation_response(status: u16, body: &str) -> Result<()> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(error_response(status, Json::parse(body).ok().as_ref()))
    }
}

/// A successful token response (AL step 5; RFC 6749 §5.1). `Debug` redacts every
/// token (spec #75).
#[derive(Clone, PartialEq)]
pub struct TokenResponse {
    /// Opaque: never parsed as a JWT (spec #47).
    pub access_token: String,
    /// As sent; matched case-insensitively to `bearer` (spec #45).
    pub token_type: String,
    /// Seconds; `None` when absent: the expiry is then unknown (spec #48).
    pub expires_in: Option<u64>,
    /// The granted scope, authoritative; `None` when absent: assume the requested
    /// scopes, and a warning says so (spec #46).
    pub scope: Option<String>,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub context: LaunchContext,
    /// Every member of the response, extensions included, in document order (spec #52).
    /// After a refresh ([`merge_refresh`]), the earlier members overlaid with the new
    /// ones.
    pub raw: Json,
    /// Non-fatal deviations of the server.
    pub warnings: Vec<Warning>,
}

struct Redacted<'a>(&'a Option<String>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Some(<redacted>)"
        } else {
            "None"
        })
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let members: Vec<&str> = self
            .raw
            .as_object()
            .map(|m| m.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default();
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &Redacted(&self.refresh_token))
            .field("id_token", &Redacted(&self.id_token))
            .field("context", &self.context)
            .field(
                "authorization_details",
                &self.authorization_details().map(|_| "<present>"),
            )
            .field("raw_members", &members)
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl TokenResponse {
    /// The granted scope, authoritative; when the server sent none (non-conformant),
    /// the requested scope, as AL step 5 says to assume (spec #46; a warning is in
    /// [`TokenResponse::warnings`]).
    pub fn granted_scope<'a>(&'a self, requested: &'a str) -> &'a str {
        self.scope.as_deref().unwrap_or(requested)
    }

    /// The extension members (a full URI or a name starting with `__`, SC
    /// `#extensibility`, spec #52), in document order.
    pub fn extensions(&self) -> Vec<(&str, &Json)> {
        self.raw
            .as_object()
            .unwrap_or_default()
            .iter()
            .filter(|(k, _)| {
                // Byte windows, not `str::contains`: core's substring searcher is 0.6 KB
                // of wasm for this one use.
                k.starts_with("__")
                    || k.as_bytes().windows(3).any(|w| w == b"://")
                    || k.starts_with("urn:")
            })
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    }

    /// RFC 9396 `authorization_details` (experimental in 2.2), when it is an array. A
    /// refresh that sent none, or one that is not an array, keeps the earlier one.
    pub fn authorization_details(&self) -> Option<&Json> {
        self.raw
            .get("authorization_details")
            .filter(|d| matches!(d, Json::Array(_)))
    }

    /// The FHIR bases this token may be sent to besides `aud`: the `locations` of each
    /// `smart_on_fhir` entry of `authorization_details` (AL *Authorization Details*,
    /// spec #54). Empty when the server sent none.
    pub fn authorized_locations(&self) -> Vec<&str> {
        let Some(details) = self.authorization_details().and_then(Json::as_array) else {
            return Vec::new();
        };
        details
            .iter()
            .filter(|d| d.get("type").and_then(Json::as_str) == Some("smart_on_fhir"))
            .filter_map(|d| d.get("locations").and_then(Json::as_array))
            .flatten()
            .filter_map(Json::as_str)
            .collect()
    }
}

/// Processes a token endpoint answer to a code exchange or a refresh (AL steps 5, 7;
/// RFC 6749 §5.1, §5.2; spec #44-#48, #52, #55).
///
/// A 2xx JSON object is a success when `access_token` is a non-empty string (else
/// `TokenResponseInvalid`, field `access_token`), `token_type` is `bearer` in any case
/// (`UnsupportedTokenType`), and `expires_in`, if present, a non-negative integer
/// (`TokenResponseInvalid`, field `expires_in`). A 2xx body that is not a JSON object
/// is `TokenResponseInvalid`; one that carries an OAuth `error` instead of a token is
/// treated as that error.
///
/// Any other status is an OAuth error (RFC 6749 §5.2): `invalid_grant` (a bad, used or
/// expired code, a `redirect_uri` mismatch, a failed PKCE check) is `InvalidGrant`,
/// `invalid_client` is `InvalidClient`, any other code (`invalid_request` for a missing
/// parameter or `code_verifier`, `unsupported_grant_type`, ...) is `TokenRequestFailed`
/// with the code in `oauth_error`. Without a readable OAuth error: 5xx is
/// `TokenServerError`, 401 is `InvalidClient` (RFC 6749 uses 401 only for client
/// authentication), anything else `TokenRequestFailed`. The status is always kept.
pub fn process_token_response(status: u16, body: &str) -> Result<TokenResponse> {
    read_token_response::<true>(status, body, false)
}

/// [`process_token_response`], or with `refresh` [`process_refresh_response`], without
/// the warnings: the same checks and errors, the same response but an empty
/// [`TokenResponse::warnings`]. For the wasm's steps, which do not report them: the
/// wasm then has no code for them (99 B gz).
pub(crate) fn process_without_warnings(
    status: u16,
    body: &str,
    refresh: bool,
) -> Result<TokenResponse> {
    read_token_response::<false>(status, body, refresh)
}

/// [`process_token_response`], for a refresh when `refresh`, with its warnings when
/// `WARN`. (A flag, not a wrapper that pushes a warning: the wrapper copied the whole
/// response on its way out.)
fn read_token_response<const WARN: bool>(
    status: u16,
    body: &str,
    refresh: bool,
) -> Result<TokenResponse> {
    let json = Json::parse(body).ok();
    if !(200..300).contains(&status) {
        return Err(error_response(status, json.as_ref()));
    }
    let invalid = |field| Error::at(ErrorCode::TokenResponseInvalid, field);
    let Some(obj @ Json::Object(_)) = json else {
        return Err(invalid("body").status(status));
    };
    // Every member is checked, borrowed, before any is copied out: an early return then
    // has nothing to drop (the drop ladders of a member-by-member build were much of
    // this function's wasm). Every failure leaves the block with its error, which gets
    // the status at its one exit (35 B gz less than a return with a status each).
    let mut warnings = Vec::new();
    let error = 'checks: {
        // One lookup of `access_token` for both rules: a body without one that carries
        // an OAuth `error` is that error.
        let access_token = match obj.get("access_token") {
            Some(Json::String(t)) if !t.is_empty() => t,
            None if matches!(obj.get("error"), Some(Json::String(_))) => {
                break 'checks error_response(status, Some(&obj))
            }
            _ => break 'checks invalid("access_token"),
        };
        let token_type = match obj.get("token_type").and_then(Json::as_str) {
            Some(t) if t.eq_ignore_ascii_case("bearer") => t,
            Some(_) => break 'checks Error::at(ErrorCode::UnsupportedTokenType, "token_type"),
            None => break 'checks invalid("token_type"),
        };
        let expires_in = match obj.get("expires_in") {
            None | Some(Json::Null) => None,
            // `n as u64 as f64 == n`: a whole number (in this range; `f64::fract` is
            // std-only).
            Some(Json::Number(n))
                if *n >= 0.0 && *n <= MAX_EXPIRES_IN && *n as u64 as f64 == *n =>
            {
                Some(*n as u64)
            }
            Some(_) => break 'checks invalid("expires_in"),
        };
        let Ok(scope) = obj.opt_str("scope") else {
            break 'checks invalid("scope");
        };
        if scope.is_none() {
            warning::push::<WARN>(&mut warnings, Warning::ScopeAbsent);
        }
        // `is_empty` guards, not `Some("")` patterns: those compiled to string comparison
        // calls (34 B gz; and this arm order is 36 B gz less than the empty case last).
        #[allow(clippy::redundant_guards)]
        let refresh_token = match obj.opt_str("refresh_token") {
            Ok(Some(t)) if t.is_empty() => {
                warning::push::<WARN>(&mut warnings, Warning::RefreshTokenEmpty);
                None
            }
            Ok(t) => t,
            Err(_) => break 'checks invalid("refresh_token"),
        };
        let id_token = match obj.opt_str("id_token") {
            Ok(Some(t)) if !t.is_empty() => Some(t),
            Ok(None) => None,
            _ => break 'checks invalid("id_token"),
        };
        match obj.get("authorization_details") {
            None | Some(Json::Null | Json::Array(_)) => {}
            Some(_) => warning::push::<WARN>(&mut warnings, Warning::AuthorizationDetailsNotArray),
        }
        // The context's two checks here, so that its reader returns no `Result`.
        let patient = match context::id_member(&obj, "patient") {
            Ok(id) => id,
            Err(e) => break 'checks e,
        };
        let encounter = match context::id_member(&obj, "encounter") {
            Ok(id) => id,
            Err(e) => break 'checks e,
        };
        let context = LaunchContext::read_checked::<WARN>(&obj, patient, encounter, &mut warnings);
        if refresh && expires_in.is_none() {
            warning::push::<WARN>(&mut warnings, Warning::RefreshExpiresInAbsent);
        }
        return Ok(TokenResponse {
            access_token: access_token.into(),
            token_type: token_type.into(),
            expires_in,
            scope: scope.map(String::from),
            refresh_token: refresh_token.map(String::from),
            id_token: id_token.map(String::from),
            context,
            raw: obj,
            warnings,
        });
    };
    Err(error.status(status))
}

/// Ten years: a larger `expires_in` is nonsense, and keeping it below 2^53 keeps the
/// float-to-integer conversion exact.
const MAX_EXPIRES_IN: f64 = 315_360_000.0;

/// [`process_token_response`] for a refresh (AL step 7): `expires_in` is required
/// there, so its absence adds [`Warning::RefreshExpiresInAbsent`] (spec #64). Merge the result
/// into the session with [`merge_refresh`].
pub fn process_refresh_response(status: u16, body: &str) -> Result<TokenResponse> {
    read_token_response::<true>(status, body, true)
}

/// Maps a non-success answer to an error (RFC 6749 §5.2, spec #55).
fn error_response(status: u16, json: Option<&Json>) -> Error {
    let oauth = json.and_then(|j| j.get("error")).and_then(Json::as_str);
    let code = match oauth {
        Some("invalid_grant") => ErrorCode::InvalidGrant,
        Some("invalid_client") => ErrorCode::InvalidClient,
        Some(_) => ErrorCode::TokenRequestFailed,
        None if status >= 500 => ErrorCode::TokenServerError,
        None if status == 401 => ErrorCode::InvalidClient,
        None => ErrorCode::TokenRequestFailed,
    };
    let mut err = Error::new(code).status(status);
    if let Some(oauth) = oauth {
        err = err.oauth_error(oauth);
        let description = json
            .and_then(|j| j.get("error_description"))
            .and_then(Json::as_str);
        if let Some(d) = description {
            err = err.description(d);
        }
    }
    err
}

/// The expiry instant in epoch milliseconds: `now_ms`, read from the local clock when
/// the request was sent, plus `expires_in` seconds (AL step 5, spec #47). The access
/// token itself is never parsed. `None` when the server gave no lifetime (spec #48).
pub fn expires_at_ms(expires_in: Option<u64>, now_ms: u64) -> Option<u64> {
    // `saturating_mul` by hand: on wasm32 its overflow check is a call to the 128-bit
    // multiply `__multi3`, which was linked for this alone (31 B gz).
    expires_in.map(|s| {
        let lifetime_ms = if s > u64::MAX / 1000 {
            u64::MAX
        } else {
            s * 1000
        };
        now_ms.saturating_add(lifetime_ms)
    })
}

/// Merges a refresh response into the session's token response (AL step 7; RFC 6749
/// §6; spec #62, #64): the access token, type, expiry and scope are replaced (a
/// missing scope keeps the old grant); the refresh token only when a new one arrived
/// (the old one must then be discarded); the id token only when one arrived; launch
/// context and `authorization_details` are kept unless new values came. `raw` is the
/// old members overlaid with the new ones.
///
/// In place, and `fresh` by value: every member moves, so no string or JSON value of
/// either response is copied.
pub fn merge_refresh(tokens: &mut TokenResponse, mut fresh: TokenResponse) {
    merge_raw(
        &mut tokens.raw,
        core::mem::replace(&mut fresh.raw, Json::Null),
    );
    tokens.warnings = core::mem::take(&mut fresh.warnings);
    merge_refreshed_fields(tokens, fresh);
}

/// The `raw` part of [`merge_refresh`]: the old members overlaid with the new ones.
fn merge_raw(tokens_raw: &mut Json, fresh_raw: Json) {
    if !matches!(tokens_raw, Json::Object(_)) {
        *tokens_raw = Json::Object(Vec::new());
    }
    if let (Json::Object(raw), Json::Object(mut members)) = (tokens_raw, fresh_raw) {
        // Taken out of their slots, not out of a `vec::IntoIter`, whose drop cost wasm.
        for (key, value) in &mut members {
            let (key, value) = (core::mem::take(key), core::mem::replace(value, Json::Null));
            match raw.iter_mut().find(|(k, _)| *k == key) {
                // An `authorization_details` array stays unless a new array came (it is
                // read in `raw`, see `TokenResponse::authorization_details`).
                Some((_, Json::Array(_)))
                    if key == "authorization_details" && !matches!(value, Json::Array(_)) => {}
                Some(slot) => slot.1 = value,
                None => raw.push((key, value)),
            }
        }
    }
}

/// [`merge_refresh`] without `raw` and `warnings`, for a holder that never reads them
/// (the wasm's `Grant`: the JS side has the response it parsed itself). Both are left
/// as they were. The member overlay, unused there, is then not in the wasm (248 B gz;
/// the warnings 11 B gz more).
pub(crate) fn merge_refreshed_fields(tokens: &mut TokenResponse, fresh: TokenResponse) {
    tokens.access_token = fresh.access_token;
    tokens.token_type = fresh.token_type;
    tokens.expires_in = fresh.expires_in;
    context::replace_if_some(&mut tokens.scope, fresh.scope);
    context::replace_if_some(&mut tokens.refresh_token, fresh.refresh_token);
    context::replace_if_some(&mut tokens.id_token, fresh.id_token);
    context::merge(&mut tokens.context, fresh.context);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::url::parse_query;

    /// Appendix A: the IG public-client example token response fields.
    const IG_EXAMPLE: &str = r#"{
        "need_patient_banner": true,
        "smart_style_url": "https://smart.argo.run/stu2/smart-style.json",
        "patient": "87a339d0-8cae-418e-89c7-8651e6aab3c6",
        "token_type": "Bearer",
        "scope": "launch/patient patient/Observation.rs patient/Patient.rs",
        "expires_in": 3600,
        "access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.SECRET-ACCESS.sig",
        "refresh_token": "eyJhbGciOiJIUzI1NiJ9.SECRET-REFRESH.sig"
    }"#;

    fn err(status: u16, body: &str) -> Error {
        process_token_response(status, body).unwrap_err()
    }

    #[test]
    fn code_exchange_body_has_exactly_the_public_client_params() {
        // spec #41, #42: the five parameters, no secret, no assertion
        let body = code_exchange_body(
            "c+o/de=1",
            "https://app.example/cb?x=1",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "demo_app_whatever",
        );
        let q = parse_query(&body);
        let names: Vec<&str> = q.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "code",
                "redirect_uri",
                "code_verifier",
                "client_id"
            ]
        );
        assert_eq!(q[0].1, "authorization_code");
        assert_eq!(q[1].1, "c+o/de=1");
        assert_eq!(q[2].1, "https://app.example/cb?x=1");
        assert_eq!(q[4].1, "demo_app_whatever");
        assert!(!body.contains("client_secret") && !body.contains("client_assertion"));
        assert_eq!(CONTENT_TYPE, "application/x-www-form-urlencoded");
    }

    #[test]
    fn refresh_body_sends_client_id_and_omits_scope_by_default() {
        // spec #60, #61
        let q = parse_query(&refresh_body("r.t/1", "app", None));
        assert_eq!(
            q,
            [
                ("grant_type".to_string(), "refresh_token".to_string()),
                ("refresh_token".into(), "r.t/1".into()),
                ("client_id".into(), "app".into()),
            ]
        );
        assert!(!refresh_body("r", "app", Some("  ")).contains("scope"));
        let q = parse_query(&refresh_body("r", "app", Some("patient/Patient.r")));
        assert_eq!(q[3], ("scope".into(), "patient/Patient.r".into()));
    }

    #[test]
    fn narrowing_refresh_rejects_a_superset() {
        // spec #61: the builder rejects a superset
        let granted = "patient/Observation.rs launch/patient";
        assert!(narrow_refresh_body("r", "app", "patient/Observation.r", granted).is_ok());
        let e = narrow_refresh_body(
            "r",
            "app",
            "patient/Observation.rs patient/Patient.r",
            granted,
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::ScopeNotGranted, Some("scope"))
        );
    }

    #[test]
    fn request_bodies_are_byte_exact() {
        // spec #41, #60, #80: the bytes sent, values form-encoded, in this order
        assert_eq!(
            code_exchange_body("c+o/de=1", "https://a.example/cb?x=1 y", "v~1", "id&2"),
            "grant_type=authorization_code&code=c%2Bo%2Fde%3D1\
             &redirect_uri=https%3A%2F%2Fa.example%2Fcb%3Fx%3D1+y&code_verifier=v%7E1\
             &client_id=id%262"
        );
        assert_eq!(
            refresh_body("r/1", "app", Some(" patient/*.rs ")),
            "grant_type=refresh_token&refresh_token=r%2F1&client_id=app&scope=patient%2F*.rs"
        );
        assert_eq!(
            refresh_body("r", "a", None),
            "grant_type=refresh_token&refresh_token=r&client_id=a"
        );
        assert_eq!(
            revocation_body("t=1", "a b"),
            "token=t%3D1&token_type_hint=refresh_token&client_id=a+b"
        );
    }

    #[test]
    fn revocation_body_hints_refresh_token() {
        // spec #80 (RFC 7009 §2.1)
        let q = parse_query(&revocation_body("rt", "app"));
        assert_eq!(
            q,
            [
                ("token".to_string(), "rt".to_string()),
                ("token_type_hint".into(), "refresh_token".into()),
                ("client_id".into(), "app".into()),
            ]
        );
        assert!(process_revocation_response(200, "").is_ok());
        let e = process_revocation_response(503, "down").unwrap_err();
        assert_eq!((e.code, e.status), (ErrorCode::TokenServerError, Some(503)));
    }

    #[test]
    fn ig_example_response_parses() {
        // spec #44, #45, #46, #49, #51: Appendix A fixture
        let t = process_token_response(200, IG_EXAMPLE).unwrap();
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(
            t.scope.as_deref(),
            Some("launch/patient patient/Observation.rs patient/Patient.rs")
        );
        assert!(t.refresh_token.is_some()); // issued although offline_access not granted
        assert_eq!(
            t.context.patient.as_deref(),
            Some("87a339d0-8cae-418e-89c7-8651e6aab3c6")
        );
        assert_eq!(t.context.need_patient_banner, Some(true));
        assert!(t.warnings.is_empty());
        assert_eq!(t.raw.as_object().unwrap().len(), 8);
    }

    #[test]
    fn debug_output_redacts_tokens() {
        // spec #75
        let mut t = process_token_response(200, IG_EXAMPLE).unwrap();
        t.id_token = Some("SECRET-ID".into());
        let dbg = format!("{t:?}");
        for secret in ["SECRET-ACCESS", "SECRET-REFRESH", "SECRET-ID", "eyJ"] {
            assert!(!dbg.contains(secret), "{secret} leaked: {dbg}");
        }
        assert!(dbg.contains("<redacted>") && dbg.contains("raw_members"));
    }

    #[test]
    fn access_token_must_be_a_non_empty_string() {
        // spec #44
        for body in [
            r#"{"token_type":"bearer","scope":"x"}"#,
            r#"{"access_token":"","token_type":"bearer"}"#,
            r#"{"access_token":42,"token_type":"bearer"}"#,
        ] {
            let e = err(200, body);
            assert_eq!(
                (e.code, e.field, e.status),
                (
                    ErrorCode::TokenResponseInvalid,
                    Some("access_token"),
                    Some(200)
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn success_status_with_a_non_json_body_is_invalid() {
        // spec #44: 200 JSON, otherwise it fails
        for body in ["<html>ok</html>", "", "[1,2]", "\"token\"", "{\"a\":"] {
            let e = err(200, body);
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::TokenResponseInvalid, Some("body"))
            );
        }
    }

    #[test]
    fn token_type_is_case_insensitive_bearer() {
        // spec #45
        for tt in ["bearer", "BEARER", "Bearer", "bEaReR"] {
            let body = format!(r#"{{"access_token":"a","token_type":"{tt}","scope":"s"}}"#);
            assert_eq!(process_token_response(200, &body).unwrap().token_type, tt);
        }
        for tt in [r#""mac""#, r#""DPoP""#, r#""bearer ""#] {
            let body = format!(r#"{{"access_token":"a","token_type":{tt}}}"#);
            let e = err(200, &body);
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::UnsupportedTokenType, Some("token_type")),
                "{tt}"
            );
        }
        for body in [
            r#"{"access_token":"a"}"#,
            r#"{"access_token":"a","token_type":1}"#,
        ] {
            let e = err(200, body);
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::TokenResponseInvalid, Some("token_type"))
            );
        }
    }

    #[test]
    fn expires_in_must_be_a_non_negative_integer() {
        // spec #47, #48
        for v in [r#""3600""#, "-1", "1.5", "true", "1e300"] {
            let body = format!(r#"{{"access_token":"a","token_type":"bearer","expires_in":{v}}}"#);
            let e = err(200, &body);
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::TokenResponseInvalid, Some("expires_in")),
                "{v}"
            );
        }
        let ok = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":0,"scope":""}"#,
        );
        assert_eq!(ok.unwrap().expires_in, Some(0));
    }

    #[test]
    fn absent_expires_in_means_unknown_expiry() {
        // spec #48
        let t = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"s"}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, None);
        assert_eq!(expires_at_ms(t.expires_in, 1_000), None);
    }

    #[test]
    fn expiry_comes_from_the_local_clock_not_the_token() {
        // spec #47: an opaque (non-JWT) access token works; expiry = now + expires_in
        let t = process_token_response(
            200,
            r#"{"access_token":"opaque!","token_type":"bearer","expires_in":300,"scope":"s"}"#,
        )
        .unwrap();
        assert_eq!(
            expires_at_ms(t.expires_in, 1_700_000_000_000),
            Some(1_700_000_300_000)
        );
        assert_eq!(expires_at_ms(Some(u64::MAX), u64::MAX - 1), Some(u64::MAX));
        // The multiplication saturates too, at exactly the edge of `u64`.
        let edge = u64::MAX / 1000;
        assert_eq!(expires_at_ms(Some(edge), 0), Some(edge * 1000));
        assert_eq!(expires_at_ms(Some(edge + 1), 0), Some(u64::MAX));
    }

    #[test]
    fn missing_scope_warns_and_non_string_scope_fails() {
        // spec #46
        let t =
            process_token_response(200, r#"{"access_token":"a","token_type":"bearer"}"#).unwrap();
        assert_eq!(t.scope, None);
        assert_eq!(t.warnings, [Warning::ScopeAbsent]);
        assert_eq!(t.granted_scope("openid launch"), "openid launch");
        let narrower = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"openid"}"#,
        )
        .unwrap();
        assert_eq!(narrower.granted_scope("openid launch"), "openid");
        let e = err(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":["a"]}"#,
        );
        assert_eq!(e.field, Some("scope"));
    }

    #[test]
    fn extension_members_are_kept_and_exposed() {
        // spec #52
        let t = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"s","__darkMode":true,
                "https://ext.example/x":{"a":1},"unknown_plain":1}"#,
        )
        .unwrap();
        let ext = t.extensions();
        assert_eq!(ext.len(), 2);
        assert_eq!(ext[0], ("__darkMode", &Json::Bool(true)));
        assert_eq!(ext[1].0, "https://ext.example/x");
        assert_eq!(t.raw.get("unknown_plain"), Some(&Json::Number(1.0)));
    }

    #[test]
    fn authorization_details_locations() {
        // spec #54
        let t = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"s","authorization_details":[
                {"type":"smart_on_fhir","locations":["https://r2.example/fhir"],"fhirVersions":["1.0.2"],"patient":"p2"},
                {"type":"other","locations":["https://elsewhere"]}]}"#,
        )
        .unwrap();
        assert_eq!(t.authorized_locations(), ["https://r2.example/fhir"]);
        let t = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"s","authorization_details":{}}"#,
        )
        .unwrap();
        assert_eq!(t.authorization_details(), None);
        assert!(t.warnings.contains(&Warning::AuthorizationDetailsNotArray));
    }

    #[test]
    fn invalid_grant_is_typed() {
        // spec #55: 400 invalid_grant (bad/used code, redirect_uri mismatch, PKCE check failed)
        let e = err(
            400,
            r#"{"error":"invalid_grant","error_description":"PKCE verification failed","error_uri":"https://as/e"}"#,
        );
        assert_eq!(e.code, ErrorCode::InvalidGrant);
        assert_eq!(e.status, Some(400));
        assert_eq!(e.oauth_error.as_deref(), Some("invalid_grant"));
        assert_eq!(e.description.as_deref(), Some("PKCE verification failed"));
    }

    #[test]
    fn invalid_client_is_typed_with_or_without_a_body() {
        // spec #55: 401 invalid_client
        let e = err(401, r#"{"error":"invalid_client"}"#);
        assert_eq!((e.code, e.status), (ErrorCode::InvalidClient, Some(401)));
        let e = err(401, "Unauthorized");
        assert_eq!(
            (e.code, e.oauth_error.clone()),
            (ErrorCode::InvalidClient, None)
        );
    }

    #[test]
    fn other_oauth_errors_keep_their_code() {
        // spec #55: invalid_request (missing parameter / code_verifier),
        // unsupported_grant_type, unknown codes
        for code in [
            "invalid_request",
            "unsupported_grant_type",
            "invalid_scope",
            "weird_new_code",
        ] {
            let e = err(
                400,
                &format!(r#"{{"error":"{code}","error_description":"missing code_verifier"}}"#),
            );
            assert_eq!(e.code, ErrorCode::TokenRequestFailed, "{code}");
            assert_eq!(e.oauth_error.as_deref(), Some(code));
            assert_eq!(e.status, Some(400));
        }
    }

    #[test]
    fn bodies_without_an_oauth_error_map_by_status() {
        // spec #55: HTML error pages, empty bodies
        let e = err(500, "<html>Internal Server Error</html>");
        assert_eq!((e.code, e.status), (ErrorCode::TokenServerError, Some(500)));
        let e = err(503, r#"{"message":"down"}"#);
        assert_eq!(e.code, ErrorCode::TokenServerError);
        let e = err(400, "");
        assert_eq!(
            (e.code, e.status),
            (ErrorCode::TokenRequestFailed, Some(400))
        );
        let e = err(302, "");
        assert_eq!(e.code, ErrorCode::TokenRequestFailed);
        // a 500 that still names an OAuth error keeps the OAuth code
        let e = err(500, r#"{"error":"invalid_grant"}"#);
        assert_eq!((e.code, e.status), (ErrorCode::InvalidGrant, Some(500)));
    }

    #[test]
    fn oauth_error_in_a_200_body_is_an_error() {
        // spec #55: some servers answer errors with 200
        let e = err(200, r#"{"error":"invalid_grant"}"#);
        assert_eq!((e.code, e.status), (ErrorCode::InvalidGrant, Some(200)));
    }

    #[test]
    fn errors_never_echo_token_values() {
        // spec #75
        let e = err(200, r#"{"access_token":"SECRET","token_type":"mac"}"#);
        assert!(!format!("{e:?} {e}").contains("SECRET"));
        let e = err(
            200,
            r#"{"access_token":"SECRET","token_type":"bearer","expires_in":"SECRET"}"#,
        );
        assert!(!format!("{e:?} {e}").contains("SECRET"));
    }

    #[test]
    fn refresh_merge_rotates_and_keeps() {
        // spec #62, #64
        let first = process_token_response(
            200,
            r#"{"access_token":"a1","token_type":"bearer","expires_in":3600,"scope":"launch/patient patient/*.rs",
                "refresh_token":"r1","id_token":"i1","patient":"p1","__x":1}"#,
        )
        .unwrap();
        // no new refresh token, no patient, no id_token
        let fresh = process_refresh_response(
            200,
            r#"{"access_token":"a2","token_type":"Bearer","expires_in":600,"scope":"patient/*.rs"}"#,
        )
        .unwrap();
        let mut merged = first;
        merge_refresh(&mut merged, fresh);
        assert_eq!(merged.access_token, "a2");
        assert_eq!(merged.expires_in, Some(600));
        assert_eq!(merged.scope.as_deref(), Some("patient/*.rs"));
        assert_eq!(merged.refresh_token.as_deref(), Some("r1"));
        assert_eq!(merged.id_token.as_deref(), Some("i1"));
        assert_eq!(merged.context.patient.as_deref(), Some("p1"));
        assert_eq!(
            merged.raw.get("access_token").and_then(Json::as_str),
            Some("a2")
        );
        assert_eq!(merged.raw.get("__x"), Some(&Json::Number(1.0)));
        // a rotated refresh token replaces the old one
        let rotated = process_refresh_response(
            200,
            r#"{"access_token":"a3","token_type":"bearer","expires_in":600,"scope":"patient/*.rs",
                "refresh_token":"r2","patient":"p2"}"#,
        )
        .unwrap();
        merge_refresh(&mut merged, rotated);
        assert_eq!(merged.refresh_token.as_deref(), Some("r2"));
        assert_eq!(
            merged.raw.get("refresh_token").and_then(Json::as_str),
            Some("r2")
        );
        assert_eq!(merged.context.patient.as_deref(), Some("p2"));
    }

    #[test]
    fn refresh_merge_keeps_authorization_details_unless_a_new_array_came() {
        // spec #54, #64
        let details = |t: &TokenResponse| t.authorized_locations().join(" ");
        let response = |extra: &str| {
            let body =
                format!(r#"{{"access_token":"a","token_type":"bearer","scope":"s"{extra}}}"#);
            process_refresh_response(200, &body).unwrap()
        };
        let located = |url: &str| {
            format!(
                r#","authorization_details":[{{"type":"smart_on_fhir","locations":["{url}"]}}]"#
            )
        };
        let mut merged = response(&located("https://r1"));
        merge_refresh(&mut merged, response(""));
        assert_eq!(details(&merged), "https://r1");
        merge_refresh(&mut merged, response(r#","authorization_details":null"#));
        assert_eq!(details(&merged), "https://r1");
        merge_refresh(&mut merged, response(r#","authorization_details":{}"#));
        assert_eq!(details(&merged), "https://r1");
        merge_refresh(&mut merged, response(&located("https://r2")));
        assert_eq!(details(&merged), "https://r2");
        merge_refresh(&mut merged, response(r#","authorization_details":null"#));
        assert_eq!(details(&merged), "https://r2");
        // A merged response brings its own kept array along.
        let mut other = response(&located("https://r3"));
        merge_refresh(&mut other, response(r#","authorization_details":null"#));
        merge_refresh(&mut merged, other);
        assert_eq!(details(&merged), "https://r3");
        let mut fresh = response(&located("https://r1"));
        merge_refresh(&mut fresh, merged);
        assert_eq!(details(&fresh), "https://r3");
    }

    #[test]
    fn empty_refresh_token_warns_and_empty_id_token_fails() {
        let t = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"s","refresh_token":""}"#,
        )
        .unwrap();
        assert_eq!(t.refresh_token, None);
        assert_eq!(t.warnings, [Warning::RefreshTokenEmpty]);
        let t = process_token_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"s","refresh_token":"r","id_token":"i"}"#,
        )
        .unwrap();
        assert_eq!(t.refresh_token.as_deref(), Some("r"));
        assert_eq!(t.id_token.as_deref(), Some("i"));
        assert!(t.warnings.is_empty());
        let with_id_token = |v: &str| {
            format!(r#"{{"access_token":"a","token_type":"bearer","scope":"s","id_token":{v}}}"#)
        };
        let t = process_token_response(200, &with_id_token("null")).unwrap();
        assert_eq!(t.id_token, None);
        for bad in [r#""""#, "1", "[]"] {
            let e = err(200, &with_id_token(bad));
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::TokenResponseInvalid, Some("id_token")),
                "{bad}"
            );
        }
        let e = err(
            200,
            r#"{"access_token":"a","token_type":"bearer","refresh_token":5}"#,
        );
        assert_eq!(e.field, Some("refresh_token"));
    }

    #[test]
    fn refresh_without_expires_in_warns() {
        // spec #64: expires_in is required in a refresh response
        let t = process_refresh_response(
            200,
            r#"{"access_token":"a","token_type":"bearer","scope":"s"}"#,
        )
        .unwrap();
        assert_eq!(t.warnings, [Warning::RefreshExpiresInAbsent]);
    }

    #[test]
    fn bad_context_fails_with_status() {
        // spec #49 via the token response
        let e = err(
            200,
            r#"{"access_token":"a","token_type":"bearer","patient":5}"#,
        );
        assert_eq!(
            (e.code, e.field, e.status),
            (ErrorCode::TokenResponseInvalid, Some("patient"), Some(200))
        );
    }

    #[test]
    fn context_ids_are_checked_after_the_token_members_patient_first() {
        // spec #49: the same errors, in the same order, as `LaunchContext` reads them
        for (body, field) in [
            (r#""patient":"a/b","encounter":"e/1""#, "patient"),
            (r#""encounter":"..","patient":"p1""#, "encounter"),
            (r#""patient":5,"scope":7"#, "scope"),
            (r#""encounter":[],"id_token":"""#, "id_token"),
        ] {
            let body = format!(r#"{{"access_token":"a","token_type":"bearer",{body}}}"#);
            for refresh in [false, true] {
                let e = process_without_warnings(200, &body, refresh).unwrap_err();
                assert_eq!(
                    (e.code, e.field, e.status),
                    (ErrorCode::TokenResponseInvalid, Some(field), Some(200)),
                    "{body}"
                );
            }
        }
    }

    #[test]
    fn without_warnings_only_the_warnings_differ() {
        let bodies = [
            IG_EXAMPLE,
            r#"{"access_token":"a","token_type":"bearer"}"#,
            r#"{"access_token":"a","token_type":"bearer","refresh_token":"","intent":5}"#,
            r#"{"access_token":"a","token_type":"bearer","fhirContext":{},"need_patient_banner":1,"authorization_details":{}}"#,
            r#"{"access_token":"a","token_type":"bearer","fhirContext":[{"reference":5}]}"#,
            r#"{"access_token":"a","token_type":"bearer","patient":5}"#,
            r#"{"error":"invalid_grant"}"#,
            "not json",
        ];
        for body in bodies {
            for refresh in [false, true] {
                let full = read_token_response::<true>(200, body, refresh);
                let quiet = process_without_warnings(200, body, refresh);
                match (full, quiet) {
                    (Ok(mut full), Ok(quiet)) => {
                        assert!(quiet.warnings.is_empty(), "{body}");
                        full.warnings.clear();
                        assert!(full == quiet, "{body}");
                    }
                    (Err(full), Err(quiet)) => assert_eq!(full, quiet, "{body}"),
                    _ => panic!("{body}: one failed, the other did not"),
                }
            }
        }
        // The bodies above do warn, so the comparison is not of two empty lists.
        let warned = process_refresh_response(200, bodies[2]).unwrap();
        assert!(warned.warnings.len() >= 3, "{:?}", warned.warnings);
    }
}
