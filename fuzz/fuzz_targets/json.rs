#![no_main]
//! The JSON reader never panics, and what it reads it writes back to a value equal to
//! it: exactly, except that a number outside the reader's exact range (more than 15
//! significant digits or a decimal exponent beyond +-22, documented at
//! `json::decimal_to_f64`) may come back a few units in the last place away.
use libfuzzer_sys::fuzz_target;
use smart_launch::protocol::json::Json;

fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Json::Array(xs), Json::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y))
        }
        (Json::Object(xs), Json::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|((kx, x), (ky, y))| kx == ky && same(x, y))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(value) = Json::parse(text) {
            let again = Json::parse(&value.to_string()).expect("own output parses");
            assert!(same(&value, &again), "{value:?} != {again:?}");
        }
    }
});
