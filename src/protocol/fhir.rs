//! Reading FHIR server answers: the RFC 6750 `WWW-Authenticate` error and the text of an
//! OperationOutcome (spec #58).

use super::json::Json;
use super::jwks::member_is;
use super::text::{find_or_end, split_at, split_once};
use crate::prelude::*;

/// The `error` attribute of a `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3),
/// e.g. `invalid_token` or `insufficient_scope`.
pub fn bearer_error(www_authenticate: &str) -> Option<&str> {
    // HTTP whitespace is ASCII (RFC 9110 §5.6.3); `trim_ascii` and byte searches also
    // keep core's Unicode trimming and string searchers out of the wasm.
    let rest = www_authenticate.trim_ascii_start();
    let (scheme, mut params) = split_at(rest, find_or_end(rest, b" "));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    while let Some((name, after)) = split_once(params, b'=') {
        // The list separators before the name: commas, and empty list items (RFC 9110
        // §5.6.1).
        let mut name = name.as_bytes();
        while let [b',' | b' ' | b'\t' | b'\n' | b'\x0c' | b'\r', rest @ ..] = name {
            name = rest;
        }
        let after = after.trim_ascii_start();
        let (value, remainder) = match super::text::strip_prefix(after, b'"') {
            Some(quoted) => split_once(quoted, b'"')?,
            None => {
                // The `,` stays at the remainder's start, where the separator loop
                // drops it: 6 B gz less than `split_once` and `unwrap_or`.
                let (value, remainder) = split_at(after, find_or_end(after, b","));
                (value.trim_ascii(), remainder)
            }
        };
        if name.trim_ascii_end().eq_ignore_ascii_case(b"error") {
            return Some(value);
        }
        params = remainder;
    }
    None
}

/// The human text of an OperationOutcome body: each issue's `details.text` or
/// `diagnostics`, joined by "; ".
pub fn operation_outcome_text(body: &str) -> Option<String> {
    let doc = Json::parse(body).ok()?;
    if !member_is(&doc, "resourceType", "OperationOutcome") {
        return None;
    }
    // Joined as they are found: a collected list, then joined, cost more wasm; an
    // Option, not a String and a found flag (2 B gz).
    let mut joined: Option<String> = None;
    let Some(Json::Array(issues)) = doc.get("issue") else {
        return None;
    };
    for issue in issues {
        // Matches on the members, not `as_str` and `or_else`: 12 B gz.
        let details_text = issue.get("details").and_then(|d| d.get("text"));
        let text = if let Some(Json::String(text)) = details_text {
            text
        } else if let Some(Json::String(text)) = issue.get("diagnostics") {
            text
        } else {
            continue;
        };
        if let Some(joined) = &mut joined {
            joined.push_str("; ");
            joined.push_str(text);
        } else {
            joined = Some(text.clone());
        }
    }
    joined
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
            ),
            Some("invalid_token")
        );
        assert_eq!(
            bearer_error("bearer error=insufficient_scope"),
            Some("insufficient_scope")
        );
        assert_eq!(
            bearer_error(r#"Basic realm="x", error="invalid_token""#),
            None
        );
        assert_eq!(bearer_error(r#"Bearer realm="a,error=b""#), None);
        assert_eq!(bearer_error(r#"Bearer error="unterminated"#), None);
        // An unquoted value ends at the next `,`.
        assert_eq!(
            bearer_error("Bearer realm=x ,, error=invalid_token,scope=a"),
            Some("invalid_token")
        );
        assert_eq!(bearer_error("Bearer realm=x,"), None);
        // Empty list items and tabs are separators (RFC 9110 §5.6.1).
        assert_eq!(
            bearer_error("Bearer realm=\"x\",,\t , error=\"invalid_token\""),
            Some("invalid_token")
        );
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
        let outcome = |issues: &str| {
            operation_outcome_text(&format!(
                r#"{{"resourceType":"OperationOutcome","issue":[{issues}]}}"#
            ))
        };
        assert_eq!(outcome(""), None);
        assert_eq!(outcome(r#"{"details":{}},{"code":"x"}"#), None);
        assert_eq!(outcome(r#"{"details":{"text":""}}"#).as_deref(), Some(""));
        assert_eq!(
            outcome(r#"{"diagnostics":"a"},{"details":{"text":7}},{"details":{"text":"b"},"diagnostics":"c"}"#)
                .as_deref(),
            Some("a; b")
        );
    }
}
