#![no_main]
//! Token response processing never panics; a success always holds a non-empty bearer
//! token, and its `Debug` output never shows the token (spec #44, #45, #75).
use libfuzzer_sys::fuzz_target;
use smart_launch::protocol::token::{merge_refresh, process_token_response};

fuzz_target!(|data: &[u8]| {
    let Some((&status, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = std::str::from_utf8(rest) else {
        return;
    };
    let status = [200, 201, 302, 400, 401, 403, 500, 503][usize::from(status % 8)];
    if let Ok(t) = process_token_response(status, body) {
        assert!(!t.access_token.is_empty());
        assert!(t.token_type.eq_ignore_ascii_case("bearer"));
        if t.access_token.len() >= 8 {
            assert!(!format!("{t:?}").contains(&t.access_token));
        }
        let merged = merge_refresh(&t, t.clone());
        assert_eq!(merged.access_token, t.access_token);
    }
});
