//! The `id_token` and `fhirUser` (smart-spec.md §6; SC `#scopes-for-requesting-identity-data`,
//! `#steps-for-using-an-id-token`; OpenID Connect Core §3.1.3.7, §12.2; RFC 7515 §7.1).
//!
//! [`decode_id_token`] splits the compact JWS and reads its header and claims; it does
//! **not** check the signature, only that it is well-formed base64url. It keeps
//! [`IdToken::signing_input`] so the browser layer can verify the signature (the token's
//! last segment, as sent) with WebCrypto against the JWKS of the *expected* issuer
//! (spec #68). [`validate_claims`] applies the OIDC
//! claim checks (spec #67) and must run before anything the token names is fetched.
//! `Debug` never shows the token, its signature or its nonce (spec #75).

use crate::prelude::*;
use core::fmt;

use super::error::{Error, ErrorCode, Result};
use super::json::Json;
use super::text;

fn invalid(field: &'static str) -> Error {
    Error::at(ErrorCode::IdTokenInvalid, field)
}

/// A decoded, not yet verified, `id_token`.
#[derive(Clone, PartialEq)]
pub struct IdToken {
    /// The JWS `alg` (never `none`).
    pub alg: String,
    /// The JWS `kid`, to pick the key from the JWKS.
    pub kid: Option<String>,
    pub claims: IdTokenClaims,
    /// The decoded payload, the JSON text of every claim as sent.
    pub payload: String,
    /// `BASE64URL(header) "." BASE64URL(payload)`, the bytes the signature covers
    /// (RFC 7515 §5.2).
    pub signing_input: String,
}

impl fmt::Debug for IdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdToken")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("claims", &self.claims)
            .field("signing_input", &"<redacted>")
            .finish()
    }
}

/// The claims this client uses (OIDC §2, SC identity). Times are in seconds.
#[derive(Clone, PartialEq)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    /// A string `aud` becomes a one-element list.
    pub aud: Vec<String>,
    pub azp: Option<String>,
    pub exp: u64,
    pub iat: u64,
    pub nonce: Option<String>,
    /// The SMART `fhirUser` claim.
    pub fhir_user: Option<String>,
    // The legacy (SMART v1) `profile` claim is not kept: [`fhir_user_claim`] reads it
    // from the payload, the one place that wants it (53 B gz).
    // The claims object itself is not kept: nothing read it (the app gets the payload
    // text, `IdToken::payload`), and a grant held it for the whole session (9 B gz).
}

impl fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("aud", &self.aud)
            .field("azp", &self.azp)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("nonce", &self.nonce.as_ref().map(|_| "<redacted>"))
            .field("fhir_user", &self.fhir_user)
            .finish_non_exhaustive()
    }
}

fn segment_text(segment: &str) -> Option<String> {
    text::utf8(&super::base64url::decode(segment)?, false)
}

fn json_object(text: &str) -> Option<Json> {
    match Json::parse(text) {
        Ok(obj @ Json::Object(_)) => Some(obj),
        _ => None,
    }
}

/// Decodes a compact JWS `id_token` (RFC 7515 §7.1; spec #67, #68): three base64url
/// segments (a JWE's five are refused), a JSON header with an `alg` other than `none`,
/// a JSON object of claims, and a non-empty signature. Each defect is `IdTokenInvalid`
/// naming the part (`id_token`, `header`, `alg`, `payload`, `signature`) or the claim.
/// The signature is not verified here.
pub fn decode_id_token(jwt: &str) -> Result<IdToken> {
    // Three parts: the signature after the last `.`, and one `.` in what it signs,
    // which is then `signing_input` as it lies in `jwt` (18 B gz less than two
    // `split_once` and the signed length summed up).
    let parts = split_last(jwt, b'.').and_then(|(signing_input, signature)| {
        let (header, payload) = text::split_once(signing_input, b'.')?;
        Some((signing_input, header, payload, signature)).filter(|_| !text::contains(payload, b"."))
    });
    let Some((signing_input, header, payload, signature)) = parts else {
        return Err(invalid("id_token"));
    };
    // `let else`, not `ok_or_else` and `?`, here and for the payload: 15 B gz.
    let Some(header_json) = segment_text(header).and_then(|t| json_object(&t)) else {
        return Err(invalid("header"));
    };
    // A non-empty string, as the required claims are, and not `none`.
    let alg = required_str(&header_json, "alg")?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(invalid("alg"));
    }
    let kid = match header_json.get("kid") {
        None => None,
        Some(Json::String(k)) => Some(k.as_str()),
        Some(_) => return Err(invalid("kid")),
    };
    let Some(payload_text) = segment_text(payload) else {
        return Err(invalid("payload"));
    };
    let Some(raw) = json_object(&payload_text) else {
        return Err(invalid("payload"));
    };
    let claims = read_claims(&raw)?;
    // Checked, not kept: WebCrypto is given the segment's text (`steps::redirect`), so
    // the decoded bytes were never read (54 B gz of wasm to keep them).
    if super::base64url::decode(signature).is_none_or(|s| s.is_empty()) {
        return Err(invalid("signature"));
    }
    Ok(IdToken {
        alg: alg.into(),
        // As the claims are copied: `Option<&String>::cloned` was its own code (9 B gz).
        kid: kid.map(String::from),
        claims,
        payload: payload_text,
        signing_input: signing_input.into(),
    })
}

fn required_str<'a>(raw: &'a Json, name: &'static str) -> Result<&'a str> {
    match raw.get(name) {
        Some(Json::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(invalid(name)),
    }
}

fn optional_str<'a>(raw: &'a Json, name: &'static str) -> Result<Option<&'a str>> {
    raw.opt_str(name).map_err(|_| invalid(name))
}

/// A NumericDate (RFC 7519 §2): non-negative seconds, fractions truncated.
fn numeric_date(raw: &Json, name: &'static str) -> Result<u64> {
    match raw.get(name) {
        // The range also refuses NaN and the infinities.
        Some(Json::Number(n)) if (0.0..1e15).contains(n) => Ok(*n as u64),
        _ => Err(invalid(name)),
    }
}

/// Reads the claims object (OIDC §2): `iss`, `sub`, `aud`, `exp` and `iat` are
/// required; `aud` is a string or a non-empty array of strings.
pub fn parse_claims(raw: Json) -> Result<IdTokenClaims> {
    read_claims(&raw)
}

/// [`parse_claims`], borrowing the object: dropped once by its owner, not at each
/// of the checks' exits.
fn read_claims(raw: &Json) -> Result<IdTokenClaims> {
    let aud_items = match raw.get("aud") {
        // One string: a list of one (the copy below reads both shapes alike).
        Some(a @ Json::String(s)) if !s.is_empty() => core::slice::from_ref(a),
        Some(Json::Array(items)) => items.as_slice(),
        _ => return Err(invalid("aud")),
    };
    let aud = super::json::strings(aud_items);
    // Empty, or fewer strings than items: the copy's length tells, not a second loop
    // over the items (8 B gz).
    if aud.is_empty() || aud.len() != aud_items.len() {
        return Err(invalid("aud"));
    }
    let iss = required_str(raw, "iss")?;
    let sub = required_str(raw, "sub")?;
    let azp = optional_str(raw, "azp")?;
    let exp = numeric_date(raw, "exp")?;
    let iat = numeric_date(raw, "iat")?;
    let nonce = optional_str(raw, "nonce")?;
    let fhir_user = optional_str(raw, "fhirUser")?;
    Ok(IdTokenClaims {
        iss: iss.into(),
        sub: sub.into(),
        aud,
        azp: azp.map(String::from),
        exp,
        iat,
        nonce: nonce.map(String::from),
        fhir_user: fhir_user.map(String::from),
    })
}

/// The leeway for `exp` against the local clock: a browser's clock can be minutes off
/// the server's (no NTP on a shared workstation), and a token refused for that would end
/// a clinician's session for nothing. Five minutes, as common OIDC libraries use.
pub const CLOCK_LEEWAY_S: u64 = 300;

/// How far `iat` may be in the future beyond the leeway: a day.
const MAX_IAT_SKEW_S: u64 = 24 * 3600;

/// The OIDC §3.1.3.7 claim checks (SC identity, spec #67), each failure an
/// `IdTokenInvalid` whose `field` names the claim:
/// - `iss` exactly equals `expected_issuer` (the discovery `issuer`);
/// - `aud` contains `client_id`;
/// - `azp`, when present or when there are several audiences, equals `client_id`;
/// - `exp` is after `now` (less `leeway_s`);
/// - `iat` is not more than `leeway_s` + a day in the future;
/// - `nonce` equals the one sent, if one was sent.
pub fn validate_claims(
    claims: &IdTokenClaims,
    expected_issuer: &str,
    client_id: &str,
    nonce: Option<&str>,
    now_ms: u64,
    leeway_s: u64,
) -> Result<()> {
    // Each comparison `str` against `str`: `String` against `&str` is a distinct
    // `PartialEq` in each of its shapes (20 B gz).
    if claims.iss.as_str() != expected_issuer {
        return Err(invalid("iss"));
    }
    if !holds(&claims.aud, client_id) {
        return Err(invalid("aud"));
    }
    match &claims.azp {
        Some(azp) if azp.as_str() != client_id => return Err(invalid("azp")),
        None if claims.aud.len() > 1 => return Err(invalid("azp")),
        _ => {}
    }
    let now_s = now_ms / 1000;
    if claims.exp.saturating_add(leeway_s) <= now_s {
        return Err(invalid("exp"));
    }
    if claims.iat
        > now_s
            .saturating_add(leeway_s)
            .saturating_add(MAX_IAT_SKEW_S)
    {
        return Err(invalid("iat"));
    }
    if let Some(sent) = nonce {
        // `is_none_or` rather than `!= Some(sent)`, the linked `Option` comparison: 4 B gz.
        if claims.nonce.as_deref().is_none_or(|got| got != sent) {
            return Err(invalid("nonce"));
        }
    }
    Ok(())
}

/// A refreshed `id_token` must name the same issuer, subject and audience as the
/// original (OIDC §12.2, spec #70); `aud` is compared as a set.
pub fn check_refreshed_id_token(original: &IdTokenClaims, fresh: &IdTokenClaims) -> Result<()> {
    if original.iss != fresh.iss {
        return Err(invalid("iss"));
    }
    if original.sub != fresh.sub {
        return Err(invalid("sub"));
    }
    // Set equality by mutual inclusion: `aud` lists are short, and a sort would link
    // the standard library's sort routines (kilobytes of wasm).
    let (a, b) = (&original.aud, &fresh.aud);
    if !(a.iter().all(|x| holds(b, x)) && b.iter().all(|x| holds(a, x))) {
        return Err(invalid("aud"));
    }
    Ok(())
}

/// Whether `list` holds `item`: one loop for the three audience checks, not a
/// `contains` (its own `SliceContains` copy) and an `any` closure.
fn holds(list: &[String], item: &str) -> bool {
    for x in list {
        if x.as_str() == item {
            return true;
        }
    }
    false
}

/// The resource types a `fhirUser` may name (SC identity; PractitionerRole since 2.1).
pub const FHIR_USER_TYPES: [&str; 5] = [
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "RelatedPerson",
    "Person",
];

/// The current user as a FHIR resource (spec #69).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FhirUser<'a> {
    /// One of [`FHIR_USER_TYPES`], borrowed from it, not copied from the claim.
    pub resource_type: &'static str,
    /// Borrowed from the claim: the app reads only `url`, and a copy made and dropped
    /// on every launch was 38 B gz of wasm.
    pub id: &'a str,
    /// The absolute URL: the claim itself, or the claim resolved against `aud`.
    pub url: String,
}

/// Parses a `fhirUser` claim (SC identity, spec #69): an absolute `http(s)` URL or a
/// reference relative to the FHIR base `aud` (`Practitioner/123`), ending in
/// `Type/id` (optionally `/_history/vid`), with `Type` one of [`FHIR_USER_TYPES`].
/// Anything else (`Organization/1`, a query or fragment, a path-absolute `/x/y`) is
/// `FhirUserInvalid` (field `fhirUser`). Whether the URL is under `aud`, and so may get
/// the access token, is the caller's check (spec #57).
pub fn parse_fhir_user<'a>(claim: &'a str, aud: &str) -> Result<FhirUser<'a>> {
    fhir_user(claim, aud).ok_or_else(|| Error::at(ErrorCode::FhirUserInvalid, "fhirUser"))
}

/// [`parse_fhir_user`] in `Option`: every defect is the same error, built once.
fn fhir_user<'a>(claim: &'a str, aud: &str) -> Option<FhirUser<'a>> {
    // One loop, not `any`: that brought its own `Copied::try_fold`.
    for b in claim.bytes() {
        if b <= b' ' || b >= 0x7f || b == b'?' || b == b'#' {
            return None;
        }
    }
    let relative = !text::contains(claim, b":");
    // A relative path-absolute `/x/y` needs no check of its own (6 B gz): its `Type`
    // would hold that first `/` (refused below) or be empty (no type).
    let path = if relative {
        claim
    } else {
        // Absolute: the first `:` must end an `http(s)` scheme, followed by `//`.
        let (scheme, rest) = text::split_once(claim, b':')?;
        // An early return, not a flag filtered on `strip_prefix`: 5 B gz.
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return None;
        }
        let authority_path = rest.strip_prefix("//")?;
        text::split_once(authority_path, b'/')?.1
    };
    // `Type/id` at the end of the path, or `Type/id/_history/vid`: a versioned
    // reference names the same resource. Cut from the end, at the last `/`s: 59 B gz
    // less than counting every segment and keeping the last four.
    let (mut head, mut id) = split_last(path, b'/')?;
    if let Some((before, "_history")) = split_last(head, b'/') {
        if let Some(versioned) = split_last(before, b'/') {
            (head, id) = versioned;
        }
    }
    // The type is the last segment of `head`; a relative reference is `Type/id` alone.
    let type_start = text::upto_last(head, b'/');
    if relative && type_start != 0 {
        return None;
    }
    let resource_type = text::sub(head, type_start..);
    if id.is_empty() || !text::all_word(id, b"-.") {
        return None;
    }
    // The type as the list's own `&'static str`: no copy of it to make and drop
    // (23 B gz less than `contains` and `to_owned`).
    let resource_type = *FHIR_USER_TYPES.iter().find(|&&t| t == resource_type)?;
    Some(FhirUser {
        resource_type,
        id,
        url: if relative {
            text::concat(&[text::trim_end(aud, b'/'), "/", claim])
        } else {
            claim.to_owned()
        },
    })
}

/// `s` cut at its last `sep`, which neither part holds; `None` without one. From
/// `upto_last`'s length, not `rfind` and `split_at`: 16 B gz.
fn split_last(s: &str, sep: u8) -> Option<(&str, &str)> {
    let after = text::upto_last(s, sep);
    if after == 0 {
        return None;
    }
    Some((text::sub(s, ..after - 1), text::sub(s, after..)))
}

/// The claim naming the user: `fhirUser`, or, only with `legacy_profile` (the app's
/// opt-in for SMART v1 servers), the deprecated `profile` claim when `fhirUser` is
/// absent and `profile` is a string (spec #71; a URL in SMART v1 but something else
/// elsewhere: never fatal).
///
/// `profile` is read from the payload here rather than kept among the claims: the
/// launch never reads it, and reading and keeping it for every token was 53 B gz of
/// wasm.
pub fn fhir_user_claim(token: &IdToken, legacy_profile: bool) -> Option<String> {
    if let Some(claim) = &token.claims.fhir_user {
        return Some(claim.clone());
    }
    if !legacy_profile {
        return None;
    }
    let raw = Json::parse(&token.payload).ok()?;
    raw.get("profile").and_then(Json::as_str).map(String::from)
}

/// The URL of the user named by [`fhir_user_claim`], parsed with [`parse_fhir_user`];
/// `Ok(None)` when there is none.
pub fn resolve_fhir_user(
    token: &IdToken,
    aud: &str,
    legacy_profile: bool,
) -> Result<Option<String>> {
    match fhir_user_claim(token, legacy_profile) {
        Some(claim) => Ok(Some(parse_fhir_user(&claim, aud)?.url)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    const NOW_MS: u64 = 1_700_000_000_000;
    const NOW_S: u64 = NOW_MS / 1000;
    const ISS: &str = "https://auth.example/issuer";

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            b64(header),
            b64(claims),
            URL_SAFE_NO_PAD.encode([1u8, 2, 3])
        )
    }

    fn claims_json(extra: &str) -> String {
        format!(
            r#"{{"iss":"{ISS}","sub":"u1","aud":"app","exp":{},"iat":{},"nonce":"n-1","fhirUser":"Practitioner/7"{extra}}}"#,
            NOW_S + 300,
            NOW_S - 10
        )
    }

    fn claims(extra: &str) -> IdTokenClaims {
        parse_claims(Json::parse(&claims_json(extra)).unwrap()).unwrap()
    }

    fn check(c: &IdTokenClaims) -> Result<()> {
        validate_claims(c, ISS, "app", Some("n-1"), NOW_MS, 60)
    }

    fn field_of(r: Result<()>) -> Option<&'static str> {
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::IdTokenInvalid);
        e.field
    }

    #[test]
    fn decodes_header_claims_and_signature() {
        // spec #67, #68: parts kept for WebCrypto verification
        let token = jwt(
            r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#,
            &claims_json(""),
        );
        let t = decode_id_token(&token).unwrap();
        assert_eq!(t.alg, "RS256");
        assert_eq!(t.kid.as_deref(), Some("k1"));
        assert_eq!(t.signing_input, token.rsplit_once('.').unwrap().0);
        assert_eq!(t.claims.aud, ["app"]);
        assert_eq!(t.claims.fhir_user.as_deref(), Some("Practitioner/7"));
        assert!(check(&t.claims).is_ok());
    }

    #[test]
    fn malformed_tokens_are_typed_errors() {
        // spec #67: every malformed input is a typed error
        let good_claims = b64(&claims_json(""));
        let rs = b64(r#"{"alg":"RS256"}"#);
        let cases = [
            ("a.b".to_string(), "id_token"),
            ("a.b.c.d.e".to_string(), "id_token"),
            (format!("!!.{good_claims}.AQ"), "header"),
            (format!("{}.{good_claims}.AQ", b64("[1]")), "header"),
            (
                format!("{}.{good_claims}.AQ", b64(r#"{"alg":"none"}"#)),
                "alg",
            ),
            (
                format!("{}.{good_claims}.AQ", b64(r#"{"typ":"JWT"}"#)),
                "alg",
            ),
            (
                format!("{}.{good_claims}.AQ", b64(r#"{"alg":"RS256","kid":1}"#)),
                "kid",
            ),
            (format!("{rs}.{}.AQ", b64("not json")), "payload"),
            (
                format!("{rs}.{}.AQ", URL_SAFE_NO_PAD.encode([0xff, 0xfe])),
                "payload",
            ),
            (format!("{rs}.{good_claims}."), "signature"),
            (format!("{rs}.{good_claims}.A"), "signature"),
            (format!("{rs}.{}.AQ", b64(r#"{"iss":"x"}"#)), "aud"),
        ];
        for (token, field) in cases {
            let e = decode_id_token(&token).unwrap_err();
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::IdTokenInvalid, Some(field)),
                "{token}"
            );
        }
    }

    #[test]
    fn missing_or_mistyped_claims_name_the_claim() {
        // spec #67
        for (json, field) in [
            (r#"{"sub":"s","aud":"a","exp":1,"iat":1}"#, "iss"),
            (r#"{"iss":"i","aud":"a","exp":1,"iat":1}"#, "sub"),
            (r#"{"iss":"i","sub":"s","aud":[],"exp":1,"iat":1}"#, "aud"),
            (
                r#"{"iss":"i","sub":"s","aud":["a",1],"exp":1,"iat":1}"#,
                "aud",
            ),
            (
                r#"{"iss":"i","sub":"s","aud":"a","exp":"1","iat":1}"#,
                "exp",
            ),
            (r#"{"iss":"i","sub":"s","aud":"a","exp":1,"iat":-1}"#, "iat"),
            (
                r#"{"iss":"i","sub":"s","aud":"a","exp":1,"iat":1,"nonce":5}"#,
                "nonce",
            ),
            (
                r#"{"iss":"i","sub":"s","aud":"a","exp":1,"iat":1,"fhirUser":{}}"#,
                "fhirUser",
            ),
        ] {
            let e = parse_claims(Json::parse(json).unwrap()).unwrap_err();
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::IdTokenInvalid, Some(field)),
                "{json}"
            );
        }
    }

    #[test]
    fn numeric_dates_out_of_range_are_refused() {
        // spec #67: a negative or huge NumericDate is no date; fractions truncate
        let read = |exp: &str| {
            let json = format!(r#"{{"iss":"i","sub":"s","aud":"a","exp":{exp},"iat":1}}"#);
            parse_claims(Json::parse(&json).unwrap()).map(|c| c.exp)
        };
        for exp in ["1e300", "-1e300", "1e15", "-0.5"] {
            assert_eq!(read(exp).unwrap_err().field, Some("exp"), "{exp}");
        }
        assert_eq!(read("1.9").unwrap(), 1);
        assert_eq!(read("999999999999999").unwrap(), 999_999_999_999_999);
    }

    #[test]
    fn issuer_must_match_exactly() {
        // spec #67: iss
        assert_eq!(
            field_of(validate_claims(
                &claims(""),
                "https://auth.example/issuer/",
                "app",
                Some("n-1"),
                NOW_MS,
                60
            )),
            Some("iss")
        );
        let mut c = claims("");
        c.iss = "https://AUTH.example/issuer".into();
        assert_eq!(field_of(check(&c)), Some("iss"));
    }

    #[test]
    fn audience_must_contain_client_id() {
        // spec #67: aud
        let mut c = claims("");
        c.aud = vec!["other".into()];
        assert_eq!(field_of(check(&c)), Some("aud"));
    }

    #[test]
    fn azp_checked_with_several_audiences_or_when_present() {
        // spec #67: azp
        let mut c = claims("");
        c.aud = vec!["app".into(), "other".into()];
        assert_eq!(field_of(check(&c)), Some("azp"));
        c.azp = Some("app".into());
        assert!(check(&c).is_ok());
        let mut single = claims("");
        single.azp = Some("other".into());
        assert_eq!(field_of(check(&single)), Some("azp"));
    }

    #[test]
    fn expiry_and_issued_at_are_checked() {
        // spec #67: exp in the future, iat plausible
        let mut c = claims("");
        c.exp = NOW_S - 61;
        assert_eq!(field_of(check(&c)), Some("exp"));
        c.exp = NOW_S - 30; // within the 60 s leeway
        assert!(check(&c).is_ok());
        let mut c = claims("");
        c.iat = NOW_S + 2 * 24 * 3600;
        assert_eq!(field_of(check(&c)), Some("iat"));
    }

    #[test]
    fn a_local_clock_minutes_off_is_tolerated() {
        // spec #67: a token valid for one more minute at the server, checked by a
        // browser whose clock runs 4 minutes fast, or 10 minutes slow, still passes;
        // a clock 10 minutes fast sees it expired.
        let mut c = claims("");
        c.iat = NOW_S;
        c.exp = NOW_S + 60;
        let at = |offset_s: i64| (NOW_S as i64 + offset_s) as u64 * 1000;
        let check_at =
            |c: &IdTokenClaims, ms| validate_claims(c, ISS, "app", Some("n-1"), ms, CLOCK_LEEWAY_S);
        assert!(check_at(&c, at(4 * 60)).is_ok());
        assert!(check_at(&c, at(-10 * 60)).is_ok());
        assert_eq!(check_at(&c, at(10 * 60)).unwrap_err().field, Some("exp"));
    }

    #[test]
    fn nonce_must_match_when_sent() {
        // spec #67: nonce
        let mut c = claims("");
        c.nonce = Some("n-2".into());
        assert_eq!(field_of(check(&c)), Some("nonce"));
        c.nonce = None;
        assert_eq!(field_of(check(&c)), Some("nonce"));
        assert!(validate_claims(&c, ISS, "app", None, NOW_MS, 60).is_ok());
    }

    #[test]
    fn refreshed_id_token_keeps_iss_sub_aud() {
        // spec #70
        let original = claims("");
        let mut fresh = claims("");
        fresh.exp += 3600;
        assert!(check_refreshed_id_token(&original, &fresh).is_ok());
        fresh.sub = "u2".into();
        let e = check_refreshed_id_token(&original, &fresh).unwrap_err();
        assert_eq!((e.code, e.field), (ErrorCode::IdTokenInvalid, Some("sub")));
        let mut fresh = claims("");
        fresh.iss = "https://other".into();
        assert_eq!(
            check_refreshed_id_token(&original, &fresh)
                .unwrap_err()
                .field,
            Some("iss")
        );
        let mut fresh = claims("");
        fresh.aud.push("x".into());
        assert_eq!(
            check_refreshed_id_token(&original, &fresh)
                .unwrap_err()
                .field,
            Some("aud")
        );
        // `aud` is a set: the order does not matter, a missing member does, either way.
        let mut two = claims("");
        two.aud = vec!["app".into(), "x".into()];
        let mut swapped = claims("");
        swapped.aud = vec!["x".into(), "app".into()];
        assert!(check_refreshed_id_token(&two, &swapped).is_ok());
        assert_eq!(
            check_refreshed_id_token(&two, &original).unwrap_err().field,
            Some("aud")
        );
    }

    #[test]
    fn fhir_user_absolute_and_relative() {
        // spec #69: each allowed type, absolute or relative to aud
        for ty in FHIR_USER_TYPES {
            let claim = format!("{ty}/a-1");
            let u = parse_fhir_user(&claim, "https://h/fhir/").unwrap();
            assert_eq!(u.resource_type, ty);
            assert_eq!(u.id, "a-1");
            assert_eq!(u.url, format!("https://h/fhir/{ty}/a-1"));
        }
        let u = parse_fhir_user("https://h/fhir/Practitioner/7", "https://other/fhir").unwrap();
        assert_eq!((u.resource_type, u.id), ("Practitioner", "7"));
        assert_eq!(u.url, "https://h/fhir/Practitioner/7");
        let u = parse_fhir_user("https://h/fhir/Patient/7/_history/2", "https://h/fhir").unwrap();
        assert_eq!(u.id, "7");
    }

    #[test]
    fn fhir_user_other_types_and_shapes_are_rejected() {
        // spec #69: Organization/1 and malformed claims
        for claim in [
            "Organization/1",
            "https://h/fhir/Device/1",
            "Practitioner",
            "Practitioner/",
            "Practitioner/1?x=1",
            "Practitioner/1#f",
            "https://h\u{7f}/Practitioner/1",
            "https://h\u{e9}/Practitioner/1",
            "https://h\t/Practitioner/1",
            "/fhir/Practitioner/1",
            "/Practitioner/1",
            "/Practitioner/1/_history/2",
            "/1",
            "urn:uuid:Practitioner/1",
            "https://h",
            "Practitioner/a b",
            "x/Practitioner/1",
            "",
        ] {
            let e = parse_fhir_user(claim, "https://h/fhir").unwrap_err();
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::FhirUserInvalid, Some("fhirUser")),
                "{claim}"
            );
        }
    }

    #[test]
    fn fhir_user_scheme_is_http_in_any_case() {
        // spec #69: only an `http(s)://` URL is absolute; its scheme's case is free
        for claim in [
            "HTTPS://h/fhir/Patient/1",
            "Http://h/Patient/1",
            "https://h/a:b/Patient/1",
        ] {
            assert_eq!(parse_fhir_user(claim, "https://h/fhir").unwrap().url, claim);
        }
        for claim in [
            "ftp://h/Patient/1",
            "https:/h/Patient/1",
            "https:Patient/1",
            "httpx://h/Patient/1",
            "Patient/1:2",
        ] {
            let e = parse_fhir_user(claim, "https://h/fhir").unwrap_err();
            assert_eq!(e.code, ErrorCode::FhirUserInvalid, "{claim}");
        }
    }

    /// The last two segments of a `fhirUser` path as a collected list gives them.
    fn type_and_id(path: &str, relative: bool) -> Option<(String, String)> {
        let mut segments: Vec<&str> = path.split('/').collect();
        if segments.len() >= 4 && segments[segments.len() - 2] == "_history" {
            segments.truncate(segments.len() - 2);
        }
        if relative && segments.len() != 2 {
            return None;
        }
        match segments.as_slice() {
            [.., t, id] => Some((t.to_string(), id.to_string())),
            _ => None,
        }
    }

    proptest::proptest! {
        #[test]
        fn fhir_user_segments_match_a_collected_list(
            path in "((Patient|_history|7|)/){0,6}(Patient|_history|7|)",
        ) {
            let picked = |u: Result<FhirUser>| u.ok().map(|u| (u.resource_type.to_owned(), u.id.to_owned()));
            let accepted = |t: Option<(String, String)>| {
                t.filter(|(t, id)| {
                    let id_ok = id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b));
                    FHIR_USER_TYPES.contains(&t.as_str()) && !id.is_empty() && id_ok
                })
            };
            let relative = parse_fhir_user(&path, "https://h/fhir");
            proptest::prop_assert_eq!(picked(relative), accepted(type_and_id(&path, true)));
            let absolute_claim = format!("https://h/{path}");
            let absolute = parse_fhir_user(&absolute_claim, "https://h/fhir");
            proptest::prop_assert_eq!(picked(absolute), accepted(type_and_id(&path, false)));
        }
    }

    #[test]
    fn legacy_profile_only_behind_the_flag() {
        // spec #71
        let token = |claims: &str| decode_id_token(&jwt(r#"{"alg":"RS256"}"#, claims)).unwrap();
        let without_fhir_user = |extra: &str| {
            token(&format!(
                r#"{{"iss":"{ISS}","sub":"u1","aud":"app","exp":{},"iat":{}{extra}}}"#,
                NOW_S + 300,
                NOW_S - 10
            ))
        };
        let legacy = without_fhir_user(r#","profile":"https://h/fhir/Practitioner/9""#);
        assert_eq!(fhir_user_claim(&legacy, false), None);
        assert_eq!(
            resolve_fhir_user(&legacy, "https://h/fhir", false).unwrap(),
            None
        );
        assert_eq!(
            resolve_fhir_user(&legacy, "https://h/fhir", true).unwrap(),
            Some("https://h/fhir/Practitioner/9".into())
        );
        // A `profile` that is no string is no claim, and never an error.
        let odd = without_fhir_user(r#","profile":{"url":"Practitioner/9"}"#);
        assert_eq!(fhir_user_claim(&odd, true), None);
        assert_eq!(without_fhir_user("").claims.fhir_user, None);
        // fhirUser wins over profile
        let both = token(&claims_json(
            r#","profile":"https://h/fhir/Practitioner/9""#,
        ));
        assert_eq!(
            fhir_user_claim(&both, true).as_deref(),
            Some("Practitioner/7")
        );
        assert_eq!(
            resolve_fhir_user(&both, "https://h/fhir", true).unwrap(),
            Some("https://h/fhir/Practitioner/7".into())
        );
    }

    #[test]
    fn debug_redacts_token_parts_and_nonce() {
        // spec #75
        let token = jwt(r#"{"alg":"RS256"}"#, &claims_json(""));
        let t = decode_id_token(&token).unwrap();
        let dbg = format!("{t:?}");
        assert!(!dbg.contains(&token[..20]) && !dbg.contains("n-1"), "{dbg}");
        assert!(dbg.contains("Practitioner/7"));
    }
}
