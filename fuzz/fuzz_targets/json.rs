#![no_main]
//! The JSON reader never panics, and what it reads it writes back to an equal value.
use libfuzzer_sys::fuzz_target;
use smart_launch::protocol::json::Json;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(value) = Json::parse(text) {
            let again = Json::parse(&value.to_string()).expect("own output parses");
            assert_eq!(value, again);
        }
    }
});
