#![no_main]
//! Callback parsing and checks never panic; a stored record either parses or is
//! `session_lost`; stripping the callback parameters leaves none behind (spec #32, #39).
use libfuzzer_sys::fuzz_target;
use smart_launch::protocol::callback::{
    check_callback, is_callback, parse_callback, TransactionRecord, CALLBACK_PARAMS,
};
use smart_launch::protocol::url::remove_query_params;
use smart_launch::protocol::ErrorCode;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = is_callback(text);
        if let Ok(params) = parse_callback(text) {
            let _ = check_callback(&params, None, true, 0);
        }
        match TransactionRecord::from_json(text) {
            Ok(record) => assert_eq!(TransactionRecord::from_json(&record.to_json()), Ok(record)),
            Err(e) => assert_eq!(e.code, ErrorCode::SessionLost),
        }
        let clean = remove_query_params(&format!("https://app/cb?{text}"), CALLBACK_PARAMS);
        let query = clean.split_once('#').map_or(clean.as_str(), |(q, _)| q);
        assert!(!is_callback(query.split_once('?').map_or("", |(_, q)| q)));
    }
});
