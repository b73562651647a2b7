//! base64url without padding (RFC 4648 §5), as PKCE (RFC 7636 §3) and JWS compact
//! serialisation (RFC 7515 §2) use it.
//!
//! Hand-written rather than the `base64` crate: its generic engine cost ~2 KB gz of
//! wasm for what is here an encoder and a strict decoder of a few dozen lines. The
//! decoder accepts exactly what `base64`'s `URL_SAFE_NO_PAD` accepts (no padding, no
//! `+`/`/`, no whitespace, canonical trailing bits); the tests compare the two.

use crate::prelude::*;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes.chunks(n)`, whose `split_at` keeps a panic path (and its message) in the wasm.
fn chunks(bytes: &[u8], n: usize) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    core::iter::from_fn(move || {
        let (chunk, tail) = rest.split_at_checked(n).unwrap_or((rest, &[]));
        rest = tail;
        (!chunk.is_empty()).then_some(chunk)
    })
}

/// Encodes `bytes` as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in chunks(bytes, 3) {
        // The chunk's bytes, big-endian, in the top 24 bits (absent bytes are zero).
        let mut n = 0;
        for (i, &b) in chunk.iter().enumerate() {
            n |= u32::from(b) << (16 - 8 * i);
        }
        // 1 byte gives 2 symbols, 2 give 3, 3 give 4.
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn value(symbol: u8) -> Option<u32> {
    let v = match symbol {
        b'A'..=b'Z' => symbol - b'A',
        b'a'..=b'z' => symbol - b'a' + 26,
        b'0'..=b'9' => symbol - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    };
    Some(v.into())
}

/// Decodes base64url without padding. `None` for any other character (padding
/// included), an impossible length (4n+1), or non-zero bits after the last octet.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let symbols = text.as_bytes();
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3 + 2);
    for chunk in chunks(symbols, 4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, &s) in chunk.iter().enumerate() {
            n |= value(s)? << (18 - 6 * i);
        }
        let octets = chunk.len() - 1;
        // The bits below the last whole octet must be zero (canonical encoding).
        if octets < 3 && n & (0xFF_FFFF >> (8 * octets)) != 0 {
            return None;
        }
        for i in 0..octets {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use proptest::prelude::*;

    #[test]
    fn rfc4648_vectors() {
        // RFC 4648 §10, in the URL-safe alphabet and without padding.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
        }
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn refuses_what_the_crate_refuses() {
        for bad in [
            "Zg==", "Zm9v=", "Z", "Zm9vY", "Zh", "Zm9", "a+b/", "Zm 9v", "Zm9v\n",
        ] {
            let theirs = URL_SAFE_NO_PAD.decode(bad).ok();
            assert_eq!(decode(bad), theirs, "{bad:?}");
        }
        assert_eq!(decode("Zh"), None);
        assert_eq!(decode("Zm-"), URL_SAFE_NO_PAD.decode("Zm-").ok());
    }

    proptest! {
        #[test]
        fn same_as_the_base64_crate(bytes in proptest::collection::vec(any::<u8>(), 0..70)) {
            let coded = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(encode(&bytes), coded.clone());
            prop_assert_eq!(decode(&coded), Some(bytes));
        }

        #[test]
        fn decodes_like_the_base64_crate(text in "[A-Za-z0-9_=+/-]{0,12}") {
            prop_assert_eq!(decode(&text), URL_SAFE_NO_PAD.decode(&text).ok());
        }
    }
}
