//! The redirect back to the app: the transaction record that survives it, and the
//! callback checks (smart-spec.md §2.4-§2.6, checklist #32-#40; RFC 6749 §4.1.2,
//! §4.1.2.1, §10.12; RFC 9207 §2.4; RFC 9700 §4.2.4, §4.3).
//!
//! The browser layer runs the steps of §2.5 in this order:
//! 1. read the query, then at once replace the address bar with
//!    `remove_query_params(href, CALLBACK_PARAMS)` (spec #39);
//! 2. [`parse_callback`], look the record up in sessionStorage by `state` and delete it
//!    (single use, spec #32), parse it with [`TransactionRecord::from_json`];
//! 3. [`check_callback`], which gives the code or a typed error;
//! 4. exchange the code once, at `record.token_endpoint` (spec #40). The callback's `iss`
//!    is only compared, never used to route (spec #14), and nothing in the callback is
//!    ever navigated to (spec #36, #37).

use crate::prelude::*;
use core::fmt;

use super::error::{Error, ErrorCode, Result};
use super::json::{push_json_string, Json};
use super::pkce::check_verifier;
use super::text::push_u64;
use super::url::parse_query;

/// How long a transaction record stays valid: 10 minutes (smart-spec.md §2.6 PROJ).
pub const TRANSACTION_TTL_MS: u64 = 10 * 60 * 1000;

/// The query parameters of an authorization response that leave the address bar after
/// the callback (spec #39): RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207 `iss`, and the OIDC
/// session-management `session_state`.
pub const CALLBACK_PARAMS: &[&str] = &[
    "code",
    "state",
    "iss",
    "error",
    "error_description",
    "error_uri",
    "session_state",
];

/// The version of the record's JSON layout.
const RECORD_VERSION: f64 = 1.0;

/// The string members of the record's JSON, in order (one table for writing and
/// reading), each with whether it must be present and non-empty.
const RECORD_MEMBERS: [(&str, bool); 12] = [
    ("state", true),
    ("code_verifier", true),
    ("client_id", true),
    ("redirect_uri", true),
    ("fhir_base", true),
    ("issuer", false),
    ("token_endpoint", true),
    ("revocation_endpoint", false),
    ("jwks_uri", false),
    ("requested_scope", true),
    ("nonce", false),
    ("launch", false),
];

/// What must survive the redirect (smart-spec.md §2.6), stored in sessionStorage keyed
/// by `state`, single use, with a TTL (spec #32, #73). It holds no token; the verifier
/// is useless without the code. `Debug` redacts `state`, `code_verifier`, `nonce` and
/// `launch` (spec #75).
#[derive(Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    pub state: String,
    pub code_verifier: String,
    pub client_id: String,
    /// Byte-identical in the token request (spec #18).
    pub redirect_uri: String,
    /// The FHIR base, also the `aud` that was sent.
    pub fhir_base: String,
    /// The discovery `issuer`, when known: the expected RFC 9207 `iss` (spec #38).
    pub issuer: Option<String>,
    /// The token endpoint bound to this transaction (spec #40).
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub requested_scope: String,
    pub nonce: Option<String>,
    /// `Some` for an EHR launch: the launch handle that was sent.
    pub launch: Option<String>,
    /// When the authorization request was made (epoch ms, the caller's clock).
    pub created_at_ms: u64,
}

fn redact(v: &Option<String>) -> Option<&'static str> {
    v.as_ref().map(|_| "<redacted>")
}

impl fmt::Debug for TransactionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransactionRecord")
            .field("state", &"<redacted>")
            .field("code_verifier", &"<redacted>")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("fhir_base", &self.fhir_base)
            .field("issuer", &self.issuer)
            .field("token_endpoint", &self.token_endpoint)
            .field("revocation_endpoint", &self.revocation_endpoint)
            .field("jwks_uri", &self.jwks_uri)
            .field("requested_scope", &self.requested_scope)
            .field("nonce", &redact(&self.nonce))
            .field("launch", &redact(&self.launch))
            .field("created_at_ms", &self.created_at_ms)
            .finish()
    }
}

fn lost(field: &'static str) -> Error {
    Error::at(ErrorCode::SessionLost, field)
}

/// [`TransactionRecord::to_json`] of borrowed members, in the order of
/// `RECORD_MEMBERS`: the launch writes its record without first copying each member
/// into a `TransactionRecord`.
pub(crate) fn record_json(values: &[Option<&str>; 12], created_at_ms: u64) -> String {
    let mut out = String::from("{\"v\":");
    push_u64(&mut out, RECORD_VERSION as u64);
    for ((key, _), value) in RECORD_MEMBERS.iter().zip(values) {
        out.push(',');
        push_json_string(&mut out, key);
        out.push(':');
        match *value {
            Some(v) => push_json_string(&mut out, v),
            None => out.push_str("null"),
        }
    }
    out.push_str(",\"created_at_ms\":");
    push_u64(&mut out, created_at_ms);
    out.push('}');
    out
}

impl TransactionRecord {
    /// The JSON text to keep in sessionStorage.
    ///
    /// Written member by member with the fmt-free JSON helpers rather than through
    /// `Json`'s `Display`, which would bring float formatting into the wasm.
    pub fn to_json(&self) -> String {
        record_json(
            &[
                Some(&self.state),
                Some(&self.code_verifier),
                Some(&self.client_id),
                Some(&self.redirect_uri),
                Some(&self.fhir_base),
                self.issuer.as_deref(),
                Some(&self.token_endpoint),
                self.revocation_endpoint.as_deref(),
                self.jwks_uri.as_deref(),
                Some(&self.requested_scope),
                self.nonce.as_deref(),
                self.launch.as_deref(),
            ],
            self.created_at_ms,
        )
    }

    /// Reads a record written by [`TransactionRecord::to_json`]. Anything malformed (not
    /// JSON, another version, a missing or mistyped member, an invalid verifier) is
    /// `session_lost`, naming the member: the launch must start again.
    pub fn from_json(text: &str) -> Result<Self> {
        let doc = match Json::parse(text) {
            Ok(doc @ Json::Object(_)) => doc,
            _ => return Err(lost("transaction")),
        };
        if doc.get("v").and_then(Json::as_f64) != Some(RECORD_VERSION) {
            return Err(lost("v"));
        }
        let created = doc
            .get("created_at_ms")
            .and_then(Json::as_f64)
            // `n as u64 as f64 == n`: a whole number (in this range, which NaN and the
            // infinities are not in; `f64::fract` is std-only).
            .filter(|n| (0.0..=9.0e15).contains(n) && *n as u64 as f64 == *n)
            .ok_or_else(|| lost("created_at_ms"))?;
        // Every member is checked first, in one loop, and only then copied out: with a
        // `?` per member, each early return drops the members built so far, and those
        // drop ladders were most of this function's wasm.
        for (k, required) in RECORD_MEMBERS {
            let value = doc.opt_str(k).map_err(|_| lost(k))?;
            if required && value.is_none_or(str::is_empty) {
                return Err(lost(k));
            }
        }
        let opt = |k| doc.get(k).and_then(Json::as_str).map(String::from);
        let req = |k| opt(k).unwrap_or_default();
        let record = TransactionRecord {
            state: req("state"),
            code_verifier: req("code_verifier"),
            client_id: req("client_id"),
            redirect_uri: req("redirect_uri"),
            fhir_base: req("fhir_base"),
            issuer: opt("issuer"),
            token_endpoint: req("token_endpoint"),
            revocation_endpoint: opt("revocation_endpoint"),
            jwks_uri: opt("jwks_uri"),
            requested_scope: req("requested_scope"),
            nonce: opt("nonce"),
            launch: opt("launch"),
            created_at_ms: created as u64,
        };
        check_verifier(&record.code_verifier).map_err(|_| lost("code_verifier"))?;
        Ok(record)
    }

    /// True once more than [`TRANSACTION_TTL_MS`] has passed since `created_at_ms`
    /// (spec #32). A clock that went backwards does not expire the record.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.created_at_ms) > TRANSACTION_TTL_MS
    }
}

/// The parameters of an authorization response (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207).
/// Unknown parameters are ignored (and so never followed, spec #37). `Debug` redacts
/// `code` and `state` (spec #75).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    /// Untrusted text: show only as text (spec #36).
    pub error_description: Option<String>,
    /// Untrusted URI: never navigated to automatically (spec #36).
    pub error_uri: Option<String>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &redact(&self.code))
            .field("state", &redact(&self.state))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("error_uri", &self.error_uri)
            .finish()
    }
}

/// Reads the callback query (with or without the leading `?`). A recognised parameter
/// repeated (with any values) is `callback_invalid` naming it: an authorization
/// response carries each once, and a second copy can only be injected.
pub fn parse_callback(query: &str) -> Result<CallbackParams> {
    let query = super::text::strip_prefix(query, b'?').unwrap_or(query);
    let mut p = CallbackParams::default();
    // By reference, the kept values copied: the early return out of a by-value loop
    // linked the drop of a half-consumed `vec::IntoIter`.
    for (name, value) in &parse_query(query) {
        let (slot, field) = match name.as_str() {
            "code" => (&mut p.code, "code"),
            "state" => (&mut p.state, "state"),
            "iss" => (&mut p.iss, "iss"),
            "error" => (&mut p.error, "error"),
            "error_description" => (&mut p.error_description, "error_description"),
            "error_uri" => (&mut p.error_uri, "error_uri"),
            _ => continue,
        };
        if slot.is_some() {
            return Err(Error::at(ErrorCode::CallbackInvalid, field));
        }
        *slot = Some(value.clone());
    }
    Ok(p)
}

/// True when the query looks like an authorization response: a `state` plus a `code`
/// or an `error`. Lets `ready()` tell a callback from a plain page load.
pub fn is_callback(query: &str) -> bool {
    let query = super::text::strip_prefix(query, b'?').unwrap_or(query);
    let pairs = parse_query(query);
    let has = |name: &str| pairs.iter().any(|(n, v)| n == name && !v.is_empty());
    has("state") && (has("code") || has("error"))
}

/// Checks a callback against its transaction record in the order of smart-spec.md §2.5
/// and gives the authorization `code` to exchange.
///
/// - `record`: the record stored under `params.state` (already removed from storage:
///   single use), `None` when there is none;
/// - `pending_exists`: whether this tab holds other pending transaction records.
///
/// Errors, in this order:
/// 1. `state_missing`: no or empty `state` (spec #33);
/// 2. `state_mismatch` (field `state`) when no record matches but others are pending,
///    `session_lost` when none is (reload, replay, other tab) (spec #32, #33);
/// 3. `state_mismatch`: the record's state differs, by exact comparison (spec #34);
/// 4. `transaction_expired`: older than [`TRANSACTION_TTL_MS`] (spec #32);
/// 5. `issuer_mismatch` (field `iss`): the callback has `iss`, the record knows the
///    issuer, and they differ as strings (RFC 9207 §2.4; spec #38);
/// 6. `authorization_denied` for `error=access_denied`, `authorization_failed` for any
///    other error, with `oauth_error` and `description` kept as plain text; `error_uri`
///    is dropped (spec #35, #36);
/// 7. `callback_invalid` (field `code`): neither code nor error.
pub fn check_callback<'a>(
    params: &'a CallbackParams,
    record: Option<&TransactionRecord>,
    pending_exists: bool,
    now_ms: u64,
) -> Result<&'a str> {
    // No authorization response at all: the callback page was reloaded (its `code` and
    // `state` were taken out of the URL) or opened directly. The launch is gone.
    if params.code.is_none() && params.error.is_none() && params.state.is_none() {
        return Err(Error::new(ErrorCode::SessionLost));
    }
    let state = match params.state.as_deref() {
        Some(s) if !s.is_empty() => s,
        _ => return Err(Error::at(ErrorCode::StateMissing, "state")),
    };
    let Some(record) = record else {
        return Err(if pending_exists {
            Error::at(ErrorCode::StateMismatch, "state")
        } else {
            Error::at(ErrorCode::SessionLost, "state")
        });
    };
    if record.state.as_str() != state {
        return Err(Error::at(ErrorCode::StateMismatch, "state"));
    }
    if record.is_expired(now_ms) {
        return Err(Error::new(ErrorCode::TransactionExpired));
    }
    if let Some(got) = &params.iss {
        if record
            .issuer
            .as_ref()
            .is_some_and(|expected| got != expected)
        {
            return Err(Error::at(ErrorCode::IssuerMismatch, "iss"));
        }
    }
    if let Some(error) = &params.error {
        let code = if error.as_str() == "access_denied" {
            ErrorCode::AuthorizationDenied
        } else {
            ErrorCode::AuthorizationFailed
        };
        let mut e = Error::new(code).oauth_error(error);
        if let Some(d) = &params.error_description {
            e = e.description(d);
        }
        return Err(e);
    }
    match params.code.as_deref() {
        // Borrowed: the exchange writes it into its form body, which copies it anyway
        // (with the `is_empty` launch check in authorize.rs: 16 B gz; each alone cost
        // 4-5 B gz more, gzip being what it is).
        Some(code) if !code.is_empty() => Ok(code),
        _ => Err(Error::at(ErrorCode::CallbackInvalid, "code")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::pkce::{code_verifier, new_state};
    use crate::protocol::url::remove_query_params;
    use proptest::prelude::*;

    const NOW: u64 = 1_700_000_000_000;

    fn record() -> TransactionRecord {
        TransactionRecord {
            state: new_state(&[0xa5u8; 32]),
            code_verifier: code_verifier(&[2u8; 32]),
            client_id: "app".into(),
            redirect_uri: "https://app/cb?x=1".into(),
            fhir_base: "https://h/fhir/".into(),
            issuer: Some("https://h/auth".into()),
            token_endpoint: "https://h/auth/token".into(),
            revocation_endpoint: None,
            jwks_uri: Some("https://h/jwks".into()),
            requested_scope: "launch openid fhirUser patient/*.rs".into(),
            nonce: Some("nonce-value".into()),
            launch: Some("a+b/=c".into()),
            created_at_ms: NOW,
        }
    }

    fn callback(state: &str, extra: &str) -> CallbackParams {
        parse_callback(&format!("state={state}&{extra}")).unwrap()
    }

    fn check<'a>(p: &'a CallbackParams, r: Option<&TransactionRecord>) -> Result<&'a str> {
        check_callback(p, r, false, NOW + 1_000)
    }

    fn code_of(r: Result<&str>) -> (ErrorCode, Option<&'static str>) {
        let e = r.unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn record_round_trips_through_json() {
        // spec #32, #73: exactly what was stored comes back
        let r = record();
        assert_eq!(TransactionRecord::from_json(&r.to_json()).unwrap(), r);
        let bare = TransactionRecord {
            issuer: None,
            jwks_uri: None,
            revocation_endpoint: Some("https://h/revoke".into()),
            nonce: None,
            launch: None,
            created_at_ms: 0,
            ..record()
        };
        assert_eq!(TransactionRecord::from_json(&bare.to_json()).unwrap(), bare);
        // no token ever lives in the record
        assert!(!r.to_json().contains("token\":\"ey"));
    }

    #[test]
    fn malformed_record_is_session_lost() {
        // spec #32
        let good = record().to_json();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "transaction"),
            ("[]".into(), "transaction"),
            ("{".into(), "transaction"),
            (good.replace("\"v\":1", "\"v\":2"), "v"),
            (
                good.replace("\"client_id\":\"app\"", "\"client_id\":\"\""),
                "client_id",
            ),
            (
                good.replace("\"token_endpoint\"", "\"token_endpoint_x\""),
                "token_endpoint",
            ),
            (
                good.replace("\"issuer\":\"https://h/auth\"", "\"issuer\":5"),
                "issuer",
            ),
            (good.replace(&format!("{NOW}"), "-1"), "created_at_ms"),
            (good.replace(&format!("{NOW}"), "1.5"), "created_at_ms"),
            (good.replace(&format!("{NOW}"), "\"x\""), "created_at_ms"),
            (
                good.replace(&record().code_verifier, "short"),
                "code_verifier",
            ),
        ];
        for (text, field) in cases {
            let e = TransactionRecord::from_json(&text).unwrap_err();
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::SessionLost, Some(field)),
                "{text}"
            );
        }
    }

    #[test]
    fn record_debug_redacts_secrets() {
        // spec #75
        let r = record();
        let dbg = format!("{r:?}");
        for secret in [&r.state, &r.code_verifier, "nonce-value", "a+b/=c"] {
            assert!(!dbg.contains(secret), "{dbg}");
        }
        assert!(dbg.contains("https://h/auth/token"));
    }

    #[test]
    fn record_expires_after_ttl() {
        // spec #32
        let r = record();
        assert!(!r.is_expired(NOW));
        assert!(!r.is_expired(NOW + TRANSACTION_TTL_MS));
        assert!(r.is_expired(NOW + TRANSACTION_TTL_MS + 1));
        assert!(!r.is_expired(NOW - 5_000)); // clock went backwards
        let p = callback(&r.state, "code=c");
        let e = check_callback(&p, Some(&r), false, NOW + TRANSACTION_TTL_MS + 1).unwrap_err();
        assert_eq!(e.code, ErrorCode::TransactionExpired);
    }

    #[test]
    fn parse_callback_reads_and_refuses_repeats() {
        // spec #35, #37: unknown parameters (`next`) are ignored
        let p = parse_callback("?code=a%2Bb&state=s&iss=https%3A%2F%2Fh%2Fauth&next=https://evil")
            .unwrap();
        assert_eq!(p.code.as_deref(), Some("a+b"));
        assert_eq!(p.state.as_deref(), Some("s"));
        assert_eq!(p.iss.as_deref(), Some("https://h/auth"));
        let e = parse_callback("code=a&state=s&code=b").unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::CallbackInvalid, Some("code"))
        );
        let e = parse_callback("state=s&state=s&code=b").unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::CallbackInvalid, Some("state"))
        );
    }

    #[test]
    fn callback_debug_redacts_code_and_state() {
        // spec #75
        let p = parse_callback("code=CODESECRET&state=STATESECRET&iss=https://h").unwrap();
        let dbg = format!("{p:?}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert!(dbg.contains("https://h"));
    }

    #[test]
    fn recognises_callbacks() {
        // spec #33: without a state there is no callback to exchange
        assert!(is_callback("?code=c&state=s"));
        assert!(is_callback("error=access_denied&state=s"));
        assert!(!is_callback("code=c"));
        assert!(!is_callback("state=s"));
        assert!(!is_callback("iss=https://h/fhir&launch=x"));
        assert!(!is_callback("code=&state=s"));
        assert!(!is_callback(""));
    }

    #[test]
    fn good_callback_gives_the_code() {
        // spec #40: the code comes out; the endpoint used is the record's
        let r = record();
        let p = callback(&r.state, "code=the-code&iss=https%3A%2F%2Fh%2Fauth");
        assert_eq!(check(&p, Some(&r)).unwrap(), "the-code");
    }

    #[test]
    fn missing_state_is_refused_first() {
        // spec #33, #35: even an error response needs its state checked first
        let r = record();
        for q in ["code=c", "state=&code=c", "error=access_denied"] {
            let p = parse_callback(q).unwrap();
            assert_eq!(
                code_of(check(&p, Some(&r))),
                (ErrorCode::StateMissing, Some("state"))
            );
        }
    }

    #[test]
    fn a_page_without_a_response_is_a_lost_session() {
        // spec #32: a reloaded callback page (code and state already stripped) or a
        // visit without any authorization response: relaunch, not a state error.
        let r = record();
        for q in ["", "tab=2", "next=https%3A%2F%2Fevil"] {
            let p = parse_callback(q).unwrap();
            assert_eq!(code_of(check(&p, Some(&r))), (ErrorCode::SessionLost, None));
        }
    }

    #[test]
    fn unknown_state_makes_no_exchange() {
        // spec #33, #32: a replayed callback finds no record
        let p = callback("whatever", "code=c");
        assert_eq!(
            code_of(check_callback(&p, None, true, NOW)),
            (ErrorCode::StateMismatch, Some("state"))
        );
        assert_eq!(
            code_of(check_callback(&p, None, false, NOW)),
            (ErrorCode::SessionLost, Some("state"))
        );
    }

    #[test]
    fn state_is_compared_exactly() {
        // spec #34
        let r = record();
        let variants = [
            r.state[..r.state.len() - 1].to_string(),
            format!("{}x", r.state),
            r.state.to_ascii_uppercase(),
            format!(" {}", r.state),
        ];
        for v in variants {
            let mut p = callback("s", "code=c");
            p.state = Some(v);
            assert_eq!(
                code_of(check(&p, Some(&r))),
                (ErrorCode::StateMismatch, Some("state"))
            );
        }
    }

    #[test]
    fn issuer_mismatch_aborts() {
        // spec #38: exact string comparison, a trailing slash counts
        let r = record();
        for iss in [
            "https%3A%2F%2Fevil%2Fauth",
            "https%3A%2F%2Fh%2Fauth%2F",
            "HTTPS%3A%2F%2Fh%2Fauth",
        ] {
            let p = callback(&r.state, &format!("code=c&iss={iss}"));
            assert_eq!(
                code_of(check(&p, Some(&r))),
                (ErrorCode::IssuerMismatch, Some("iss"))
            );
        }
        // an error response with a foreign iss is still a mismatch, not an auth error
        let p = callback(&r.state, "error=access_denied&iss=https%3A%2F%2Fevil");
        assert_eq!(code_of(check(&p, Some(&r))).0, ErrorCode::IssuerMismatch);
    }

    #[test]
    fn callback_iss_never_routes() {
        // spec #14: without an expected issuer the callback iss is ignored, and only the
        // code comes out of the check: the exchange goes to record.token_endpoint
        let r = TransactionRecord {
            issuer: None,
            ..record()
        };
        let p = callback(&r.state, "code=c&iss=https%3A%2F%2Fevil%2Ffhir");
        assert_eq!(check(&p, Some(&r)).unwrap(), "c");
        assert_eq!(r.token_endpoint, "https://h/auth/token");
    }

    #[test]
    fn access_denied_is_typed() {
        // spec #35, #36
        let r = record();
        let p = callback(
            &r.state,
            "error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&error_uri=https%3A%2F%2Fevil%2Fgo",
        );
        let e = check(&p, Some(&r)).unwrap_err();
        assert_eq!(e.code, ErrorCode::AuthorizationDenied);
        assert_eq!(e.oauth_error.as_deref(), Some("access_denied"));
        assert_eq!(e.description.as_deref(), Some("<script>alert(1)</script>"));
        assert!(!format!("{e:?}").contains("evil"));
    }

    #[test]
    fn other_errors_keep_the_server_code() {
        // spec #35: unknown codes are handled
        let r = record();
        for error in ["invalid_scope", "server_error", "zzz_custom"] {
            let p = callback(&r.state, &format!("error={error}&code=ignored"));
            let e = check(&p, Some(&r)).unwrap_err();
            assert_eq!(e.code, ErrorCode::AuthorizationFailed);
            assert_eq!(e.oauth_error.as_deref(), Some(error));
            assert_eq!(e.description, None);
        }
    }

    #[test]
    fn no_code_no_error_is_invalid() {
        // spec #35 (RFC 6749 §4.1.2): a response carries a code or an error
        let r = record();
        for extra in ["x=1", "code="] {
            let p = callback(&r.state, extra);
            assert_eq!(
                code_of(check(&p, Some(&r))),
                (ErrorCode::CallbackInvalid, Some("code"))
            );
        }
    }

    #[test]
    fn address_bar_loses_callback_params() {
        // spec #39
        let href = "https://app/cb?tab=2&code=C&state=S&iss=I&session_state=x&error_uri=u#/home";
        let clean = remove_query_params(href, CALLBACK_PARAMS);
        assert_eq!(clean, "https://app/cb?tab=2#/home");
        assert!(!is_callback(clean.split_once('?').unwrap().1));
    }

    proptest! {
        #[test]
        fn hostile_input_never_panics(s in ".*") {
            // every malformed input is a typed error
            if let Ok(p) = parse_callback(&s) {
                let _ = check_callback(&p, Some(&record()), true, NOW);
            }
            let _ = is_callback(&s);
            if let Err(e) = TransactionRecord::from_json(&s) {
                prop_assert_eq!(e.code, ErrorCode::SessionLost);
            }
        }
    }
}
