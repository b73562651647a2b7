//! URL pieces the protocol needs: `application/x-www-form-urlencoded` encoding and
//! decoding (WHATWG URL Standard §5, as browsers and OAuth servers use it).
//!
//! Why not the `url` crate: it brings IDNA tables worth tens of KB in wasm, and SMART
//! needs only form encoding, query parsing and RFC 3986 reference resolution.

/// Encodes `name=value` pairs joined by `&`, every byte outside `*-._` and ASCII
/// alphanumerics percent-encoded and spaces as `+` (spec #26, #41).
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode_into(&mut out, name);
        out.push('=');
        form_encode_into(&mut out, value);
    }
    out
}

/// Appends one form-encoded component to `out`.
pub fn form_encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

/// Decodes one form-encoded component: `+` is a space, `%XX` a byte; a `%` not followed
/// by two hex digits stays literal (as browsers do). Invalid UTF-8 becomes U+FFFD.
pub fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let h = core::str::from_utf8(h).ok()?;
                    u8::from_str_radix(h, 16).ok()
                });
                match hex {
                    Some(byte) if bytes[i + 1].is_ascii_hexdigit() => {
                        out.push(byte);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a query string (without the leading `?`) into decoded `(name, value)` pairs,
/// in order, repeats kept.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((name, value)) => (form_decode(name), form_decode(value)),
            None => (form_decode(part), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_everything_reserved() {
        // spec #26: every value form-encoded
        let body = form_encode(&[
            ("scope", "launch/patient patient/*.rs"),
            ("redirect_uri", "https://app/cb?x=1&y=é"),
        ]);
        assert_eq!(
            body,
            "scope=launch%2Fpatient+patient%2F*.rs&redirect_uri=https%3A%2F%2Fapp%2Fcb%3Fx%3D1%26y%3D%C3%A9"
        );
    }

    #[test]
    fn query_parsing_decodes_and_keeps_order() {
        let q = parse_query("code=a%2Bb&state=x+y&empty=&flag&&bad=%zz%4");
        assert_eq!(
            q,
            vec![
                ("code".into(), "a+b".into()),
                ("state".into(), "x y".into()),
                ("empty".into(), "".into()),
                ("flag".into(), "".into()),
                ("bad".into(), "%zz%4".into()),
            ]
        );
    }

    #[test]
    fn encode_then_decode_is_identity() {
        for s in ["", "a b+c", "%25%", "ünï/?&=#", "\u{1f600}"] {
            let mut enc = String::new();
            form_encode_into(&mut enc, s);
            assert_eq!(form_decode(&enc), s);
        }
    }
}
