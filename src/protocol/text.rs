//! String building without `core::fmt`.
//!
//! Why: `format!`, `write!` and `Display` pull the formatting machinery (and, through
//! it, float printing tables) into the wasm; building strings with `push_str` keeps
//! them out. Code reachable from the JS API uses these helpers; `Display` impls remain
//! for native callers and tests, and delegate here where they can.

use crate::prelude::*;

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(d as char);
    }
}

/// The parts joined without a separator.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits() {
        for n in [0, 7, 10, 404, 65_535, u64::MAX] {
            let mut s = String::from("x");
            push_u64(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn concat_joins() {
        assert_eq!(concat(&["a", "", "bc"]), "abc");
        assert_eq!(concat(&[]), "");
    }
}
