//! Scopes: syntax checks, v1/v2 parsing, and granted-vs-requested comparison
//! (smart-spec.md §5).

use super::error::{Error, ErrorCode, Result};

/// Splits a scope string on ASCII spaces, dropping empty tokens, and checks each token
/// against the RFC 6749 §3.3 charset (`%x21 / %x23-5B / %x5D-7E`) (spec #20).
pub fn scope_tokens(scope: &str) -> Result<Vec<&str>> {
    let tokens: Vec<&str> = scope.split(' ').filter(|t| !t.is_empty()).collect();
    let valid = |t: &&str| {
        t.bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
    };
    if tokens.is_empty() || !tokens.iter().all(valid) {
        return Err(Error::new(ErrorCode::InvalidOptions).field("scope"));
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens_refuse_forbidden_characters() {
        // spec #20
        assert!(scope_tokens("patient/Obs \"x\"").is_err());
        assert!(scope_tokens("a\\b").is_err());
        assert!(scope_tokens("café").is_err());
        assert!(scope_tokens("   ").is_err());
        assert_eq!(
            scope_tokens(" launch  openid ").unwrap(),
            ["launch", "openid"]
        );
    }
}
