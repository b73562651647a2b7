#![no_main]
//! The discovery processors never panic, and what they accept is safe: absolute https
//! endpoints and S256 PKCE (spec #3, #4, #6).
use libfuzzer_sys::fuzz_target;
use smart_launch::protocol::discovery::{
    process_capability_statement, process_discovery_response, DiscoveryOptions,
};
use smart_launch::protocol::url::is_https_or_local;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let opts = DiscoveryOptions::default();
        if let Ok(c) = process_discovery_response(200, text, "https://h/fhir", &opts) {
            assert!(is_https_or_local(&c.token_endpoint, false));
            assert!(is_https_or_local(&c.authorization_endpoint, false));
            assert!(c
                .code_challenge_methods_supported
                .iter()
                .any(|m| m == "S256"));
        }
        if let Ok(c) = process_capability_statement(200, text, "https://h/fhir", &opts) {
            assert!(is_https_or_local(&c.token_endpoint, false));
            assert!(c.legacy);
        }
    }
});
