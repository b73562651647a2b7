#![no_main]
//! Scope parsing never panics, every token writes back as read, and every scope covers
//! itself (smart-spec.md §5.2).
use libfuzzer_sys::fuzz_target;
use smart_launch::protocol::scopes::{check_refresh_scope, compare, covers, parse_scopes, to_v1};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scopes = parse_scopes(text);
    let tokens: Vec<&str> = text.split(' ').filter(|t| !t.is_empty()).collect();
    assert_eq!(scopes.len(), tokens.len());
    for (scope, token) in scopes.iter().zip(&tokens) {
        assert_eq!(scope.to_string(), *token);
        assert!(covers(std::slice::from_ref(scope), scope));
    }
    let report = compare(text, text);
    assert!(report.missing.is_empty() && report.extra.is_empty());
    let _ = check_refresh_scope(text, text);
    let _ = to_v1(text);
});
