//! Choosing the key that verifies an id_token signature (spec #68; RFC 7515 §4.1.4,
//! RFC 7517 §4-5, RFC 7518 §3.1). The signature itself is checked by the browser's
//! WebCrypto (`crypto.subtle.verify`); this module only decides which JWK, from the
//! JWKS at the *discovered* `jwks_uri`, may be used, and with which algorithm.

use super::error::{Error, ErrorCode, Result};
use super::json::Json;
use crate::prelude::*;

/// The JWS algorithms accepted for id_tokens. SMART servers SHALL support RS256; ES256
/// is accepted too. Everything else (notably `none` and the HMAC family, which would
/// turn a public key into a shared secret) is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureAlg {
    Rs256,
    Es256,
}

impl SignatureAlg {
    pub fn from_jws(alg: &str) -> Result<SignatureAlg> {
        match alg {
            "RS256" => Ok(SignatureAlg::Rs256),
            "ES256" => Ok(SignatureAlg::Es256),
            _ => Err(invalid("alg")),
        }
    }

    /// The JWK `kty` a key for this algorithm must have.
    pub fn key_type(self) -> &'static str {
        match self {
            SignatureAlg::Rs256 => "RSA",
            SignatureAlg::Es256 => "EC",
        }
    }
}

fn invalid(field: &'static str) -> Error {
    Error::at(ErrorCode::IdTokenInvalid, field)
}

/// Picks the one key of `jwks_body` (a JWK Set document) that may verify a token signed
/// with `alg` and header `kid`, and returns it as JSON to hand to WebCrypto's
/// `importKey("jwk", ...)`, reduced to the public members WebCrypto needs.
///
/// A key qualifies when its `kty` fits the algorithm, its `use` (if any) is `sig`, its
/// `alg` (if any) equals the token's, and, for EC, its curve is P-256. With a `kid` in
/// the token, the key must carry the same `kid`; without one, exactly one key may
/// qualify (an ambiguous set is refused rather than tried key by key).
pub fn select_key(jwks_body: &str, alg: SignatureAlg, kid: Option<&str>) -> Result<Json> {
    let mut public = Vec::new();
    for_public_members(jwks_body, alg, kid, |name, value| {
        public.push((name.to_string(), Json::String(value.to_string())))
    })?;
    Ok(Json::Object(public))
}

/// [`select_key`], the key's public members handed to `emit` one by one, borrowed, in
/// the order of [`select_key`]'s object: the wasm writes them straight into its answer
/// (no copy of each into a JSON value, then written out and dropped). On an error,
/// some members may have been handed over already; the caller then drops what it built.
pub(crate) fn for_public_members(
    jwks_body: &str,
    alg: SignatureAlg,
    kid: Option<&str>,
    mut emit: impl FnMut(&'static str, &str),
) -> Result<()> {
    // `let else`, not `map_err` and `?`: 5 B gz.
    let Ok(doc) = Json::parse(jwks_body) else {
        return Err(invalid("jwks"));
    };
    let Some(Json::Array(keys)) = doc.get("keys") else {
        return Err(invalid("jwks"));
    };
    let mut found = None;
    for key in keys {
        let fits = member_is(key, "kty", alg.key_type())
            // A string `use` other than `sig` refuses the key (any other `use` is
            // ignored): `matches!`, not `as_str` and `is_none_or` (11 B gz).
            && !matches!(key.get("use"), Some(Json::String(u)) if u != "sig")
            && (key.get("alg").is_none() || member_is(key, "alg", jws_name(alg)))
            && (alg != SignatureAlg::Es256 || member_is(key, "crv", "P-256"))
            && kid.is_none_or(|k| member_is(key, "kid", k));
        if fits {
            // Only reached without a `kid`: with one, the first fit is taken.
            if found.is_some() {
                return Err(invalid("kid"));
            }
            found = Some(key);
            if kid.is_some() {
                break;
            }
        }
    }
    let key = found.ok_or_else(|| invalid("kid"))?;
    let members: &[&str] = match alg {
        SignatureAlg::Rs256 => &["kty", "n", "e"],
        SignatureAlg::Es256 => &["kty", "crv", "x", "y"],
    };
    for &name in members {
        // A match on the member, not `as_str`, `filter` and `ok_or_else`: 17 B gz.
        match key.get(name) {
            Some(Json::String(value)) if !value.is_empty() => emit(name, value),
            _ => return Err(invalid("jwks")),
        }
    }
    Ok(())
}

/// Whether member `name` of the object `obj` is the string `value`. Not inlined: one
/// comparison routine for the four members a key is matched on, and for the member
/// checks of discovery and FHIR answers (there, 26 bytes of wasm gzip less than their
/// own `get`, `and_then` and `Option` comparison). A match, not an `Option<&str>`
/// comparison, which linked its own `PartialEq` (10 B gz).
#[inline(never)]
pub(super) fn member_is(obj: &Json, name: &str, value: &str) -> bool {
    matches!(obj.get(name), Some(Json::String(s)) if s == value)
}

fn jws_name(alg: SignatureAlg) -> &'static str {
    match alg {
        SignatureAlg::Rs256 => "RS256",
        SignatureAlg::Es256 => "ES256",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_A: &str = r#"{"kty":"RSA","kid":"a","use":"sig","alg":"RS256","n":"nA","e":"AQAB"}"#;
    const RSA_B: &str = r#"{"kty":"RSA","kid":"b","n":"nB","e":"AQAB","d":"private!"}"#;
    const EC: &str = r#"{"kty":"EC","kid":"e","crv":"P-256","x":"xx","y":"yy"}"#;

    fn jwks(keys: &[&str]) -> String {
        format!(r#"{{"keys":[{}]}}"#, keys.join(","))
    }

    #[test]
    fn picks_the_key_named_by_kid() {
        // spec #68: the key comes from the discovered JWKS, by kid and type
        let key = select_key(&jwks(&[RSA_A, RSA_B, EC]), SignatureAlg::Rs256, Some("b")).unwrap();
        assert_eq!(key.to_string(), r#"{"kty":"RSA","n":"nB","e":"AQAB"}"#);
        let key = select_key(&jwks(&[RSA_A, EC]), SignatureAlg::Es256, Some("e")).unwrap();
        assert_eq!(
            key.to_string(),
            r#"{"kty":"EC","crv":"P-256","x":"xx","y":"yy"}"#
        );
    }

    #[test]
    fn refuses_unknown_algorithms() {
        // spec #68: no `none`, no HMAC with a public key as the secret
        for alg in ["none", "HS256", "RS512", "", "rs256"] {
            let err = SignatureAlg::from_jws(alg).unwrap_err();
            assert_eq!(
                (err.code, err.field),
                (ErrorCode::IdTokenInvalid, Some("alg"))
            );
        }
    }

    #[test]
    fn refuses_missing_wrong_or_ambiguous_keys() {
        // spec #68
        let cases = [
            (jwks(&[RSA_A]), SignatureAlg::Rs256, Some("zzz"), "kid"),
            (jwks(&[EC]), SignatureAlg::Rs256, Some("e"), "kid"),
            (jwks(&[RSA_A, RSA_B]), SignatureAlg::Rs256, None, "kid"),
            (
                jwks(&[r#"{"kty":"RSA","kid":"a","use":"enc","n":"n","e":"e"}"#]),
                SignatureAlg::Rs256,
                Some("a"),
                "kid",
            ),
            (
                jwks(&[r#"{"kty":"RSA","kid":"a","alg":"PS256","n":"n","e":"e"}"#]),
                SignatureAlg::Rs256,
                Some("a"),
                "kid",
            ),
            (
                jwks(&[r#"{"kty":"EC","kid":"e","crv":"P-384","x":"x","y":"y"}"#]),
                SignatureAlg::Es256,
                Some("e"),
                "kid",
            ),
            (
                jwks(&[r#"{"kty":"RSA","kid":"a","e":"AQAB"}"#]),
                SignatureAlg::Rs256,
                Some("a"),
                "jwks",
            ),
            ("<html>".to_string(), SignatureAlg::Rs256, None, "jwks"),
            (
                r#"{"keys":{}}"#.to_string(),
                SignatureAlg::Rs256,
                None,
                "jwks",
            ),
        ];
        for (body, alg, kid, field) in cases {
            let err = select_key(&body, alg, kid).unwrap_err();
            assert_eq!(
                (err.code, err.field),
                (ErrorCode::IdTokenInvalid, Some(field)),
                "{body}"
            );
        }
    }

    #[test]
    fn a_single_key_needs_no_kid() {
        let key = select_key(&jwks(&[RSA_A, EC]), SignatureAlg::Rs256, None).unwrap();
        assert_eq!(key.get("n").and_then(Json::as_str), Some("nA"));
    }
}
