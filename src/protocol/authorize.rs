//! The launch input and the authorization request (smart-spec.md §2.1-§2.3, checklist
//! #11-#31; AL step 2 and step 4; RFC 6749 §4.1.1; RFC 7636 §4.3).
//!
//! [`ehr_launch_params`] reads the EHR's launch URL; [`authorize_url`] builds the GET
//! request and [`authorize_form_fields`] the fields of the `authorize-post` variant
//! (spec #27). Both check the same rules first and emit the same parameters in the same
//! order: `response_type=code`, `client_id`, `redirect_uri`, `launch` (EHR only),
//! `scope`, `state`, `aud`, `code_challenge`, `code_challenge_method=S256`, `nonce`.
//! Nothing else is ever sent: no `auth_time`, no `max_age` (spec #29).
//!
//! Decisions written down:
//! - The scope goes out exactly as configured (spec #31); the builder never adds or
//!   widens a scope. A scope that breaks a rule is a configuration error
//!   (`invalid_options`, field `scope`): `launch` present in a standalone launch or
//!   absent in an EHR launch (#15, #19), `fhirUser` without `openid` (#28),
//!   `online_access` outside an EHR launch (#30).
//! - With `openid`, a `nonce` is required (smart-spec.md §2.3 PROJ).
//! - `aud` and `launch` go out verbatim, only form-encoded (#13, #22).

use crate::prelude::*;
use core::fmt;

use super::error::{Error, ErrorCode, Result};
use super::pkce::{is_s256_challenge, CODE_CHALLENGE_METHOD};
use super::scopes::scope_tokens;
use super::url::{append_query, is_https_or_local, parse_query, parse_url};

/// Reads `iss` and `launch` from the EHR launch URL's query (with or without the leading
/// `?`) (spec #11, #13; AL step 2).
///
/// Both must be present and non-empty, else `launch_params_missing` naming the field. A
/// parameter repeated with different values is refused the same way (ambiguous input).
/// `launch` is returned byte-exact after form decoding: never trimmed or interpreted.
/// `iss` must still be checked against the app's allowlist (spec #12) before any
/// network call.
pub fn ehr_launch_params(page_query: &str) -> Result<(String, String)> {
    let query = super::text::strip_prefix(page_query, b'?').unwrap_or(page_query);
    let pairs = parse_query(query);
    let (iss, launch) = launch_params(&pairs)?;
    Ok((iss.to_string(), launch.to_string()))
}

/// [`ehr_launch_params`] of a query already parsed (without its `?`), borrowed.
pub fn launch_params(pairs: &[(String, String)]) -> Result<(&str, &str)> {
    Ok((one_param(pairs, "iss")?, one_param(pairs, "launch")?))
}

/// The one non-empty value of `name` in `pairs` (see [`ehr_launch_params`]). A plain
/// loop: the filter-map iterator it replaced cost more wasm.
fn one_param<'a>(pairs: &'a [(String, String)], name: &'static str) -> Result<&'a str> {
    let mut found: Option<&String> = None;
    for (n, v) in pairs {
        // `str` against `str`: `&String != &str` linked its own `ne` (16 B gz).
        if n.as_str() != name {
            continue;
        }
        if found.is_some_and(|f| f != v) {
            found = None;
            break;
        }
        found = Some(v);
    }
    match found {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::at(ErrorCode::LaunchParamsMissing, name)),
    }
}

/// Everything the authorization request carries (smart-spec.md §2.3). Owned by
/// default; the launch step builds it of borrowed `&str`s (`AuthorizeParams<&str>`) from
/// its plan and configuration: the copy of each member into a `String`, and the drop of
/// them all, cost the wasm 9 B gz.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizeParams<S = String> {
    /// From discovery; an existing query is kept (spec #26).
    pub authorization_endpoint: S,
    /// The id registered for this server (spec #17).
    pub client_id: S,
    /// Absolute `https:` (or loopback with the flag), no fragment; sent byte-exact and
    /// reused byte-exact in the token request (spec #18).
    pub redirect_uri: S,
    /// Space-separated, sent as configured (spec #19, #20, #31).
    pub scope: S,
    /// From [`super::pkce::new_state`] (spec #21).
    pub state: S,
    /// The FHIR base; in EHR launch the launch `iss` verbatim (spec #22).
    pub aud: S,
    /// From [`super::pkce::code_challenge_from_digest`] (spec #24).
    pub code_challenge: S,
    /// `Some` exactly for an EHR launch: the launch handle, verbatim (spec #13, #15).
    pub launch: Option<S>,
    /// OIDC nonce; required when `scope` has `openid`.
    pub nonce: Option<S>,
    /// Development only: accept `http:` loopback endpoints and redirect URIs.
    pub allow_insecure_localhost: bool,
}

impl<S> AuthorizeParams<S> {
    /// True for an EHR launch (a `launch` handle is present).
    pub fn is_ehr_launch(&self) -> bool {
        self.launch.is_some()
    }
}

/// Redacts `state`, `launch` and `nonce` (spec #75).
impl<S: fmt::Debug> fmt::Debug for AuthorizeParams<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeParams")
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("state", &"<redacted>")
            .field("aud", &self.aud)
            .field("code_challenge", &self.code_challenge)
            .field("launch", &self.launch.as_ref().map(|_| "<redacted>"))
            .field("nonce", &self.nonce.as_ref().map(|_| "<redacted>"))
            .field("allow_insecure_localhost", &self.allow_insecure_localhost)
            .finish()
    }
}

fn invalid(field: &'static str) -> Error {
    Error::at(ErrorCode::InvalidOptions, field)
}

/// Checks an absolute `http(s)` URL without fragment (and without query unless
/// `query_ok`) that must be `https:` (or loopback with the flag): `invalid_options` or
/// `insecure_endpoint`, naming `field`. The query is checked last, so an insecure `aud`
/// with a query reads as insecure.
fn check_url(
    url: &str,
    field: &'static str,
    allow_insecure_localhost: bool,
    query_ok: bool,
) -> Result<()> {
    // `parse_url`, not `Url::parse`, whose error was built only to be replaced (with the
    // plan's redirect origin, 47 B gz). Only its two facts kept, the `Url` dropped at
    // once: kept across the TLS check, it cost 27 B gz.
    let has_query = match parse_url(url) {
        Some(parsed) if !parsed.has_fragment() => parsed.has_query(),
        _ => return Err(invalid(field)),
    };
    if !is_https_or_local(url, allow_insecure_localhost) {
        return Err(Error::at(ErrorCode::InsecureEndpoint, field));
    }
    if !query_ok && has_query {
        return Err(invalid(field));
    }
    Ok(())
}

/// Checks a `redirect_uri` (spec #18; RFC 6749 §3.1.2): absolute, no fragment,
/// `https:` or, only with `allow_insecure_localhost`, `http:` on loopback.
/// Errors: `invalid_options` or `insecure_endpoint`, field `redirect_uri`.
pub fn check_redirect_uri(redirect_uri: &str, allow_insecure_localhost: bool) -> Result<()> {
    check_url(redirect_uri, "redirect_uri", allow_insecure_localhost, true)
}

/// The shortest `state` accepted: 22 base64url characters carry 132 bits, above the
/// IG's 122-bit floor (spec #21). [`super::pkce::new_state`] gives 43.
pub const MIN_STATE_LEN: usize = 22;

/// One parameter, passed in registers: an inlined `push` stored each pair to memory
/// first.
#[inline(never)]
fn push_pair<'a>(pairs: &mut Vec<(&'static str, &'a str)>, name: &'static str, value: &'a str) {
    pairs.push((name, value));
}

/// Validates `p` and lists the parameters in wire order.
fn authorize_pairs<'a, S: AsRef<str>>(
    p: &'a AuthorizeParams<S>,
) -> Result<Vec<(&'static str, &'a str)>> {
    let launch = p.launch.as_ref().map(S::as_ref);
    let nonce = p.nonce.as_ref().map(S::as_ref);
    check_url(
        p.authorization_endpoint.as_ref(),
        "authorization_endpoint",
        p.allow_insecure_localhost,
        true,
    )?;
    if p.client_id.as_ref().is_empty() {
        return Err(invalid("client_id"));
    }
    check_redirect_uri(p.redirect_uri.as_ref(), p.allow_insecure_localhost)?;
    check_url(p.aud.as_ref(), "aud", p.allow_insecure_localhost, false)?;
    if p.state.as_ref().len() < MIN_STATE_LEN {
        return Err(invalid("state"));
    }
    if !is_s256_challenge(p.code_challenge.as_ref()) {
        return Err(invalid("code_challenge"));
    }
    // Not `== Some("")`, the Option comparison: see `check_callback`, 16 B gz.
    if launch.is_some_and(str::is_empty) {
        return Err(Error::at(ErrorCode::LaunchParamsMissing, "launch"));
    }

    let tokens = scope_tokens(p.scope.as_ref())?;
    let has = |t: &str| tokens.contains(&t);
    let ehr = p.is_ehr_launch();
    if has("launch") != ehr {
        return Err(invalid("scope")); // spec #15, #19
    }
    if has("fhirUser") && !has("openid") {
        return Err(invalid("scope")); // spec #28
    }
    if has("online_access") && !ehr {
        return Err(invalid("scope")); // spec #30
    }
    // `is_empty`, not a `Some("")` pattern, which compiles to a string comparison: 5 B gz.
    if nonce.map_or(has("openid"), str::is_empty) {
        return Err(invalid("nonce"));
    }

    let mut pairs = Vec::with_capacity(10);
    let mut add = |name, value: &'a str| push_pair(&mut pairs, name, value);
    add("response_type", "code");
    add("client_id", p.client_id.as_ref());
    add("redirect_uri", p.redirect_uri.as_ref());
    if let Some(launch) = launch {
        add("launch", launch);
    }
    add("scope", p.scope.as_ref());
    add("state", p.state.as_ref());
    add("aud", p.aud.as_ref());
    add("code_challenge", p.code_challenge.as_ref());
    add("code_challenge_method", CODE_CHALLENGE_METHOD);
    if let Some(nonce) = nonce {
        add("nonce", nonce);
    }
    Ok(pairs)
}

/// The GET authorization URL (AL step 4; RFC 6749 §4.1.1; spec #16-#31): the
/// endpoint with its own query kept and every parameter form-encoded after it (#26).
///
/// Errors (all before anything is sent): `invalid_options` naming `client_id`,
/// `redirect_uri`, `scope`, `state`, `aud`, `code_challenge`, `nonce` or
/// `authorization_endpoint`; `insecure_endpoint` for a non-`https:` endpoint,
/// redirect URI or `aud`; `launch_params_missing` for an empty `launch`.
pub fn authorize_url<S: AsRef<str>>(p: &AuthorizeParams<S>) -> Result<String> {
    let pairs = authorize_pairs(p)?;
    Ok(append_query(p.authorization_endpoint.as_ref(), &pairs))
}

/// The `authorize-post` variant (spec #27; AL step 4, OIDC Core §3.1.2.1): the same
/// parameters as [`authorize_url`], to submit as an
/// `application/x-www-form-urlencoded` form by top-level navigation to
/// `authorization_endpoint` (used as the form `action` unchanged, its query included).
/// Use it only when the server advertises `authorize-post` (spec #8). Same errors.
pub fn authorize_form_fields<S: AsRef<str>>(
    p: &AuthorizeParams<S>,
) -> Result<Vec<(String, String)>> {
    Ok(authorize_pairs(p)?
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::pkce::{code_challenge_s256, code_verifier, new_state};

    fn standalone() -> AuthorizeParams {
        AuthorizeParams {
            authorization_endpoint: "https://h/auth/authorize".into(),
            client_id: "demo_app_whatever".into(),
            redirect_uri: "https://sharp-lake-word.glitch.me/graph.html".into(),
            scope: "launch/patient patient/Observation.rs patient/Patient.rs offline_access".into(),
            state: new_state(&[9u8; 32]),
            aud: "https://h/fhir".into(),
            code_challenge: code_challenge_s256(&code_verifier(&[3u8; 32])),
            launch: None,
            nonce: None,
            allow_insecure_localhost: false,
        }
    }

    fn ehr() -> AuthorizeParams {
        AuthorizeParams {
            scope: "launch openid fhirUser patient/*.rs online_access".into(),
            launch: Some("xyz123".into()),
            nonce: Some("n-0S6_WzA2Mj".into()),
            aud: "https://h/fhir/".into(),
            ..standalone()
        }
    }

    fn query_of(url: &str) -> Vec<(String, String)> {
        parse_query(url.split_once('?').unwrap().1)
    }

    fn param(url: &str, name: &str) -> Option<String> {
        let all: Vec<String> = query_of(url)
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v)
            .collect();
        assert!(all.len() <= 1, "{name} repeated");
        all.into_iter().next()
    }

    fn fails(p: &AuthorizeParams) -> (ErrorCode, Option<&'static str>) {
        let e = authorize_url(p).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn ehr_launch_needs_iss_and_launch() {
        // spec #11
        let missing = |q: &str| {
            let e = ehr_launch_params(q).unwrap_err();
            assert_eq!(e.code, ErrorCode::LaunchParamsMissing, "{q}");
            e.field
        };
        assert_eq!(missing("launch=abc"), Some("iss"));
        assert_eq!(missing("iss=https%3A%2F%2Fh%2Ffhir"), Some("launch"));
        assert_eq!(missing("iss=&launch=abc"), Some("iss"));
        assert_eq!(missing("iss=https://h/fhir&launch="), Some("launch"));
        assert_eq!(missing(""), Some("iss"));
        assert_eq!(
            missing("iss=https://a/&iss=https://b/&launch=x"),
            Some("iss")
        );
        assert_eq!(missing("iss=https://a/&launch=&launch="), Some("launch"));
        assert_eq!(
            missing("iss=https://a/&launch=x&launch=x&launch=y"),
            Some("launch")
        );
        // A repeat with the same value is not ambiguous.
        let (_, launch) =
            ehr_launch_params("iss=https://a/&launch=x&iss=https://a/&launch=x").unwrap();
        assert_eq!(launch, "x");
        let (iss, launch) =
            ehr_launch_params("?iss=https%3A%2F%2Fh%2Ffhir%2F&launch=abc&x=1").unwrap();
        assert_eq!((iss.as_str(), launch.as_str()), ("https://h/fhir/", "abc"));
    }

    #[test]
    fn launch_round_trips_byte_exact() {
        // spec #13: `+`, `%`, `=`, `/` and spaces survive, nothing trimmed
        let raw = " a+b%2F=c/d%  ";
        let mut page = String::from("iss=https%3A%2F%2Fh%2Ffhir&launch=");
        crate::protocol::url::form_encode_into(&mut page, raw);
        let (_, launch) = ehr_launch_params(&page).unwrap();
        assert_eq!(launch, raw);
        let url = authorize_url(&AuthorizeParams {
            launch: Some(launch),
            ..ehr()
        })
        .unwrap();
        assert_eq!(param(&url, "launch").as_deref(), Some(raw));
    }

    #[test]
    fn ig_example_request() {
        // spec #16, #17, #18, #25, #31: the IG public example (EX step 4)
        let p = standalone();
        let url = authorize_url(&p).unwrap();
        assert!(url.starts_with("https://h/auth/authorize?response_type=code&client_id=demo_app_whatever&redirect_uri=https%3A%2F%2Fsharp-lake-word.glitch.me%2Fgraph.html&scope=launch%2Fpatient+patient%2FObservation.rs"), "{url}");
        assert_eq!(param(&url, "response_type").as_deref(), Some("code"));
        assert_eq!(
            param(&url, "client_id").as_deref(),
            Some("demo_app_whatever")
        );
        assert_eq!(param(&url, "redirect_uri").unwrap(), p.redirect_uri);
        assert_eq!(param(&url, "scope").unwrap(), p.scope);
        assert_eq!(param(&url, "state").unwrap(), p.state);
        assert_eq!(param(&url, "aud").unwrap(), p.aud);
        assert_eq!(param(&url, "code_challenge").unwrap(), p.code_challenge);
        assert_eq!(
            param(&url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(param(&url, "launch"), None); // spec #15
        assert_eq!(param(&url, "nonce"), None);
        assert_eq!(query_of(&url).len(), 8);
    }

    #[test]
    fn ehr_request_carries_launch_and_aud_verbatim() {
        // spec #22: iss=https://h/fhir/ gives aud=https://h/fhir/ (no slash normalisation)
        let url = authorize_url(&ehr()).unwrap();
        assert_eq!(param(&url, "aud").as_deref(), Some("https://h/fhir/"));
        assert_eq!(param(&url, "launch").as_deref(), Some("xyz123"));
        assert_eq!(param(&url, "nonce").as_deref(), Some("n-0S6_WzA2Mj"));
        let url = authorize_url(&AuthorizeParams {
            aud: "https://H/fhir".into(),
            ..ehr()
        })
        .unwrap();
        assert_eq!(param(&url, "aud").as_deref(), Some("https://H/fhir"));
    }

    #[test]
    fn existing_endpoint_query_is_kept() {
        // spec #26
        let url = authorize_url(&AuthorizeParams {
            authorization_endpoint: "https://h/auth?tenant=t".into(),
            ..standalone()
        })
        .unwrap();
        assert!(
            url.starts_with("https://h/auth?tenant=t&response_type=code&"),
            "{url}"
        );
        assert_eq!(param(&url, "tenant").as_deref(), Some("t"));
    }

    #[test]
    fn never_auth_time_or_max_age() {
        // spec #29
        for p in [standalone(), ehr()] {
            let url = authorize_url(&p).unwrap();
            assert_eq!(param(&url, "auth_time"), None);
            assert_eq!(param(&url, "max_age"), None);
            let fields = authorize_form_fields(&p).unwrap();
            assert!(fields
                .iter()
                .all(|(n, _)| n != "auth_time" && n != "max_age"));
        }
    }

    #[test]
    fn post_fields_equal_get_parameters() {
        // spec #27
        for p in [standalone(), ehr()] {
            let url = authorize_url(&p).unwrap();
            assert_eq!(authorize_form_fields(&p).unwrap(), query_of(&url));
        }
        let mut p = standalone();
        p.client_id.clear();
        let e = authorize_form_fields(&p).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::InvalidOptions, Some("client_id"))
        );
    }

    #[test]
    fn client_id_required() {
        // spec #17
        let p = AuthorizeParams {
            client_id: String::new(),
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("client_id")));
    }

    #[test]
    fn redirect_uri_rules() {
        // spec #18
        let with = |uri: &str, dev: bool| AuthorizeParams {
            redirect_uri: uri.into(),
            allow_insecure_localhost: dev,
            ..standalone()
        };
        let field = Some("redirect_uri");
        assert_eq!(
            fails(&with("https://app/cb#x", false)),
            (ErrorCode::InvalidOptions, field)
        );
        assert_eq!(
            fails(&with("/cb", false)),
            (ErrorCode::InvalidOptions, field)
        );
        assert_eq!(fails(&with("", false)), (ErrorCode::InvalidOptions, field));
        assert_eq!(
            fails(&with("custom:cb", false)),
            (ErrorCode::InvalidOptions, field)
        );
        assert_eq!(
            fails(&with("http://app/cb", false)),
            (ErrorCode::InsecureEndpoint, field)
        );
        assert_eq!(
            fails(&with("http://app/cb", true)),
            (ErrorCode::InsecureEndpoint, field)
        );
        assert_eq!(
            fails(&with("http://localhost:5173/cb", false)),
            (ErrorCode::InsecureEndpoint, field)
        );
        let url = authorize_url(&with("http://localhost:5173/cb?x=1", true)).unwrap();
        assert_eq!(
            param(&url, "redirect_uri").as_deref(),
            Some("http://localhost:5173/cb?x=1")
        );
        assert!(check_redirect_uri("https://app/cb", false).is_ok());
    }

    #[test]
    fn scope_charset_is_checked() {
        // spec #20
        let p = AuthorizeParams {
            scope: "patient/Obs \"x\"".into(),
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("scope")));
        let p = AuthorizeParams {
            scope: "  ".into(),
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("scope")));
    }

    #[test]
    fn launch_scope_exactly_in_ehr_launch() {
        // spec #19, #15
        let p = AuthorizeParams {
            scope: "launch patient/*.rs".into(),
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("scope")));
        let p = AuthorizeParams {
            scope: "launch/patient openid fhirUser".into(),
            ..ehr()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("scope")));
        let p = AuthorizeParams {
            launch: Some(String::new()),
            ..ehr()
        };
        assert_eq!(fails(&p), (ErrorCode::LaunchParamsMissing, Some("launch")));
    }

    #[test]
    fn fhir_user_needs_openid() {
        // spec #28
        let p = AuthorizeParams {
            scope: "launch fhirUser".into(),
            ..ehr()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("scope")));
        let p = AuthorizeParams {
            scope: "launch openid fhirUser".into(),
            nonce: None,
            ..ehr()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("nonce")));
        let p = AuthorizeParams {
            nonce: Some(String::new()),
            ..ehr()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("nonce")));
    }

    #[test]
    fn online_access_only_in_ehr_launch() {
        // spec #30
        let p = AuthorizeParams {
            scope: "launch/patient patient/*.rs online_access".into(),
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("scope")));
        assert!(authorize_url(&ehr()).is_ok());
    }

    #[test]
    fn scope_is_sent_as_configured() {
        // spec #31: no widening, no reordering
        let p = AuthorizeParams {
            scope: "patient/Observation.rs launch/patient".into(),
            ..standalone()
        };
        let url = authorize_url(&p).unwrap();
        assert_eq!(
            param(&url, "scope").as_deref(),
            Some("patient/Observation.rs launch/patient")
        );
    }

    #[test]
    fn weak_state_and_bad_challenge_are_refused() {
        // spec #21, #24
        let p = AuthorizeParams {
            state: "0hJc1S9O4oW54XuY".into(), // the IG example's ~95-bit state
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("state")));
        let p = AuthorizeParams {
            code_challenge: code_verifier(&[3u8; 32]) + "=",
            ..standalone()
        };
        assert_eq!(
            fails(&p),
            (ErrorCode::InvalidOptions, Some("code_challenge"))
        );
    }

    #[test]
    fn endpoint_and_aud_need_tls() {
        // spec #6, #22
        let p = AuthorizeParams {
            authorization_endpoint: "http://h/auth".into(),
            ..standalone()
        };
        assert_eq!(
            fails(&p),
            (ErrorCode::InsecureEndpoint, Some("authorization_endpoint"))
        );
        let p = AuthorizeParams {
            aud: "http://h/fhir".into(),
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InsecureEndpoint, Some("aud")));
        let p = AuthorizeParams {
            aud: "fhir".into(),
            ..standalone()
        };
        assert_eq!(fails(&p), (ErrorCode::InvalidOptions, Some("aud")));
    }

    #[test]
    fn debug_redacts_secrets() {
        // spec #75
        let p = AuthorizeParams {
            state: "STATE-SECRET-VALUE-0123456789".into(),
            launch: Some("LAUNCH-SECRET".into()),
            nonce: Some("NONCE-SECRET".into()),
            ..ehr()
        };
        let dbg = format!("{p:?}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert!(dbg.contains("demo_app_whatever"));
        let e = format!(
            "{:?}",
            authorize_url(&AuthorizeParams {
                scope: "x".into(),
                ..p
            })
            .unwrap_err()
        );
        assert!(!e.contains("SECRET"), "{e}");
    }
}
