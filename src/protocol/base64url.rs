//! base64url without padding (RFC 4648 §5), as PKCE (RFC 7636 §3) and JWS compact
//! serialisation (RFC 7515 §2) use it.
//!
//! Hand-written rather than the `base64` crate: its generic engine cost ~2 KB gz of
//! wasm for what is here an encoder and a strict decoder of a few dozen lines. The
//! decoder accepts exactly what `base64`'s `URL_SAFE_NO_PAD` accepts (no padding, no
//! `+`/`/`, no whitespace, canonical trailing bits); the tests compare the two.

use crate::prelude::*;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes `bytes` as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    // A bit stream, not groups of three bytes: `acc`'s low `bits` bits are pending.
    let (mut acc, mut bits) = (0u32, 0);
    for &b in bytes {
        acc = acc << 8 | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[(acc >> bits & 63) as usize] as char);
        }
    }
    if bits > 0 {
        // The last bits, zero-filled to a whole symbol.
        out.push(ALPHABET[(acc << (6 - bits) & 63) as usize] as char);
    }
    out
}

/// The value of a symbol: its index in [`ALPHABET`]. A search, not a `match` on the
/// five ranges (19 B gz less); at most 64 compares a symbol, for tokens of a few KB.
fn value(symbol: u8) -> Option<u32> {
    let mut v = 0;
    while let Some(&c) = ALPHABET.get(v) {
        if c == symbol {
            return Some(v as u32);
        }
        v += 1;
    }
    None
}

/// Decodes base64url without padding. `None` for any other character (padding
/// included), an impossible length (4n+1), or non-zero bits after the last octet.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let symbols = text.as_bytes();
    // Room for a byte a symbol, a third more than the output needs, for less code
    // than the exact size (7 B gz).
    let mut out = Vec::with_capacity(symbols.len());
    // A bit stream, as in `encode`: each symbol adds six bits, each whole octet leaves.
    let (mut acc, mut bits) = (0u32, 0);
    for &s in symbols {
        acc = acc << 6 | value(s)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Six bits left over is a length of 4n+1; the two or four bits after the last
    // octet must be zero (canonical encoding).
    if bits == 6 || acc & ((1 << bits) - 1) != 0 {
        return None;
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
