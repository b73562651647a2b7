//! Reading FHIR server answers: the RFC 6750 `WWW-Authenticate` error and the text of an
//! OperationOutcome (spec #58).

use super::json::Json;
use super::text::{find, sub};
use crate::prelude::*;

/// The `error` attribute of a `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3),
/// e.g. `invalid_token` or `insufficient_scope`.
pub fn bearer_error(www_authenticate: &str) -> Option<String> {
    let rest = trim_start(www_authenticate);
    let scheme_end = find(rest, b" ").unwrap_or(rest.len());
    if !sub(rest, ..scheme_end).eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = sub(rest, scheme_end..);
    while let Some(eq) = find(params, b"=") {
        let name = trim(skip_commas(trim(sub(params, ..eq))));
        let after = trim_start(sub(params, eq + 1..));
        let (value, remainder) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = find(quoted, b"\"")?;
                (sub(quoted, ..end), sub(quoted, end + 1..))
            }
            None => {
                let end = find(after, b",").unwrap_or(after.len());
                (trim(sub(after, ..end)), sub(after, end..))
            }
        };
        if name.eq_ignore_ascii_case("error") {
            return Some(value.to_string());
        }
        params = remainder;
    }
    None
}

// `str::trim` and friends, for a header value. Why not those: `char::is_whitespace`
// brings core's UTF-8 decoding char searchers (~1 KB of wasm). A header value is a
// ByteString (U+0000 to U+00FF), and there the whitespace chars are U+0009 to U+000D,
// U+0020, U+0085 and U+00A0, matched here by their UTF-8 bytes (the test checks every
// char of that range against `str::trim`).

fn trim(s: &str) -> &str {
    trim_end(trim_start(s))
}

fn trim_start(mut s: &str) -> &str {
    loop {
        s = match s.as_bytes() {
            [b'\t'..=b'\r' | b' ', ..] => sub(s, 1..),
            [0xc2, 0x85 | 0xa0, ..] => sub(s, 2..),
            _ => return s,
        }
    }
}

fn trim_end(mut s: &str) -> &str {
    loop {
        s = match s.as_bytes() {
            [.., b'\t'..=b'\r' | b' '] => sub(s, ..s.len() - 1),
            [.., 0xc2, 0x85 | 0xa0] => sub(s, ..s.len() - 2),
            _ => return s,
        }
    }
}

/// `s.trim_start_matches(',')`.
fn skip_commas(s: &str) -> &str {
    let start = s.bytes().position(|b| b != b',').unwrap_or(s.len());
    sub(s, start..)
}

/// The human text of an OperationOutcome body: each issue's `details.text` or
/// `diagnostics`, joined by "; ".
pub fn operation_outcome_text(body: &str) -> Option<String> {
    let doc = Json::parse(body).ok()?;
    if doc.get("resourceType").and_then(Json::as_str) != Some("OperationOutcome") {
        return None;
    }
    let texts: Vec<&str> = doc
        .get("issue")
        .and_then(Json::as_array)?
        .iter()
        .filter_map(|issue| {
            issue
                .get("details")
                .and_then(|d| d.get("text"))
                .and_then(Json::as_str)
                .or_else(|| issue.get("diagnostics").and_then(Json::as_str))
        })
        .collect();
    (!texts.is_empty()).then(|| super::text::join(&texts, "; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bearer_error() {
        // spec #58: 401 invalid_token and 403 insufficient_scope are told apart
        assert_eq!(
            bearer_error(
                r#"Bearer realm="fhir", error="invalid_token", error_description="expired""#
            )
            .as_deref(),
            Some("invalid_token")
        );
        assert_eq!(
            bearer_error("bearer error=insufficient_scope").as_deref(),
            Some("insufficient_scope")
        );
        assert_eq!(
            bearer_error(r#"Basic realm="x", error="invalid_token""#),
            None
        );
        assert_eq!(bearer_error(r#"Bearer realm="a,error=b""#), None);
        assert_eq!(bearer_error(r#"Bearer error="unterminated"#), None);
        assert_eq!(
            bearer_error("\u{a0} Bearer realm=x ,, error =\t\u{85}invalid_token\u{a0}, x=y")
                .as_deref(),
            Some("invalid_token")
        );
    }

    #[test]
    fn header_trim_is_str_trim_on_byte_strings() {
        // spec #58: the byte-wise trims read a header value as str::trim would
        for c in (0u32..=0xff).filter_map(char::from_u32) {
            for s in [format!("{c}a{c}"), format!("{c}{c}"), format!("a{c}{c}b")] {
                assert_eq!(trim(&s), s.trim(), "{:?}", c);
                assert_eq!(trim_start(&s), s.trim_start(), "{:?}", c);
                assert_eq!(trim_end(&s), s.trim_end(), "{:?}", c);
            }
        }
        assert_eq!(skip_commas(",,a,"), ",,a,".trim_start_matches(','));
    }

    #[test]
    fn reads_operation_outcome_text() {
        let body = r#"{"resourceType":"OperationOutcome","issue":[
            {"severity":"error","code":"forbidden","details":{"text":"scope does not allow Observation"}},
            {"severity":"error","code":"x","diagnostics":"second"}]}"#;
        assert_eq!(
            operation_outcome_text(body).as_deref(),
            Some("scope does not allow Observation; second")
        );
        assert_eq!(
            operation_outcome_text(r#"{"resourceType":"Patient"}"#),
            None
        );
        assert_eq!(operation_outcome_text("<html>"), None);
    }
}
