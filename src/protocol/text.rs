//! String building without `core::fmt`.
//!
//! Why: `format!`, `write!` and `Display` pull the formatting machinery (and, through
//! it, float printing tables) into the wasm; building strings with `push_str` keeps
//! them out. Code reachable from the JS API uses these helpers; `Display` impls remain
//! for native callers and tests, and delegate here where they can.

use crate::prelude::*;

/// The hex digits, upper case as percent-escapes write them; `| 0x20` gives the lower
/// case ones of JSON's `\u` escapes (one table in the data, not two).
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, n: u64) {
    // The leading digits first, by recursion (at most 20 deep): no digit buffer, and
    // no index into one to keep a bounds-check panic path.
    if n >= 10 {
        push_u64(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// `&s[range]`, for a range the caller found in `s` (with `find`, `len`, ...).
///
/// Why not `&s[range]`: str indexing's failure path formats its panic message with
/// `char` and `Range` `Debug`, and that alone links ~6 KB of `core::fmt` into the wasm,
/// though the wasm panic handler never prints. Here a bad range (a bug) still panics,
/// with a fixed message. The protocol layer denies `clippy::string_slice` to keep it so.
#[inline]
pub fn sub<R: core::slice::SliceIndex<str, Output = str>>(s: &str, range: R) -> &str {
    match s.get(range) {
        Some(part) => part,
        None => not_a_char_boundary(),
    }
}

/// `s.split_at(mid)` without the formatting panic path (see [`sub`]).
#[inline]
pub fn split_at(s: &str, mid: usize) -> (&str, &str) {
    match s.split_at_checked(mid) {
        Some(parts) => parts,
        None => not_a_char_boundary(),
    }
}

/// On wasm32 a trap without a message: the panic handler traps anyway, and `panic!`
/// kept its message and a panic location in the data (101 B gz).
#[cold]
#[inline(never)]
fn not_a_char_boundary() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("string index out of range or not on a char boundary")
}

// Searching by byte. The separators the protocol looks for are all ASCII, and an ASCII
// byte of a `str` is always a whole char, so an index found this way is a char
// boundary. Why not `str::find(char)`, `split(char)`, `split_once(char)`,
// `trim_end_matches(char)`: the char searchers (`CharSearcher`, `memchr`,
// `MultiCharEq`, `Split`, reverse UTF-8 decoding) cost ~1.5 KB of wasm, and each
// pattern type is compiled anew.

/// The index of the first byte of `s` that is one of the ASCII bytes of `set`. Always
/// inlined: an out-of-line copy returned its `Option` through memory (23 B gz).
#[inline(always)]
pub fn find(s: &str, set: &[u8]) -> Option<usize> {
    let i = find_or_end(s, set);
    (i < s.len()).then_some(i)
}

/// [`find`], with `s.len()` for "not found": a plain number is returned in a register,
/// where an `Option<usize>` went through memory at every call (28 B gz).
/// (`set.contains(&b)` would be `[u8]`'s memchr, ~350 bytes of wasm for sets of 1-3.)
#[inline(never)]
pub fn find_or_end(s: &str, set: &[u8]) -> usize {
    // Indexed loops: `position` over `any` was unrolled into ~270 bytes of wasm.
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if in_set(set, b) {
            break;
        }
        i += 1;
    }
    i
}

/// `set.contains(&b)` without memchr.
pub(crate) fn in_set(set: &[u8], b: u8) -> bool {
    let mut j = 0;
    while let Some(&c) = set.get(j) {
        if c == b {
            return true;
        }
        j += 1;
    }
    false
}

/// Whether `s` holds one of the ASCII bytes of `set`.
pub fn contains(s: &str, set: &[u8]) -> bool {
    find_or_end(s, set) < s.len()
}

/// `s.split_once(sep)` for an ASCII `sep`.
#[inline(never)]
pub fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    // An ASCII byte is a whole char, so both cuts are on char boundaries: `get`'s
    // fallible checks were dead code.
    let (head, tail) = split_at(s, find(s, &[sep])?);
    Some((head, sub(tail, 1..)))
}

/// `s.split(sep)` for an ASCII `sep`: every part, empty ones included.
pub fn split(s: &str, sep: u8) -> Split<'_> {
    Split { rest: Some(s), sep }
}

/// The iterator of [`split`].
#[derive(Clone, Debug)]
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        Some(match split_once(rest, self.sep) {
            Some((part, tail)) => {
                self.rest = Some(tail);
                part
            }
            None => {
                self.rest = None;
                rest
            }
        })
    }
}

/// `s.starts_with(b)` for an ASCII `b`: `str::starts_with(char)` encodes its char as
/// UTF-8 first, on the stack, at every call.
pub fn starts_with(s: &str, b: u8) -> bool {
    matches!(s.as_bytes(), [first, ..] if *first == b)
}

/// `s.ends_with(b)` for an ASCII `b` (see [`starts_with`]).
pub fn ends_with(s: &str, b: u8) -> bool {
    matches!(s.as_bytes(), [.., last] if *last == b)
}

/// `s.strip_prefix(b)` for an ASCII `b` (see [`starts_with`]). It pays only with every
/// `strip_prefix(char)` of the wasm moved here (url alone was 27 B gz more: core's stayed).
pub fn strip_prefix(s: &str, b: u8) -> Option<&str> {
    if starts_with(s, b) {
        Some(sub(s, 1..))
    } else {
        None
    }
}

/// `s.trim_end_matches(b)` for an ASCII `b`.
pub fn trim_end(s: &str, b: u8) -> &str {
    let mut bytes = s.as_bytes();
    while let [rest @ .., last] = bytes {
        if *last != b {
            break;
        }
        bytes = rest;
    }
    sub(s, ..bytes.len())
}

/// `s.rfind(b)` for an ASCII `b`.
#[inline]
pub fn rfind(s: &str, b: u8) -> Option<usize> {
    upto_last(s, b).checked_sub(1)
}

/// The length of `s` up to and including its last `b`, 0 without one (`rfind(b) + 1`):
/// a plain number, returned in a register, where an `Option<usize>` went through memory
/// (23 B gz, with the callers in `url`).
#[inline(never)]
pub fn upto_last(s: &str, b: u8) -> usize {
    // A slice pattern, like `trim_end`: `rposition` brought its own `try_rfold`.
    let mut bytes = s.as_bytes();
    while let [rest @ .., last] = bytes {
        if *last == b {
            break;
        }
        bytes = rest;
    }
    bytes.len()
}

/// Whether every byte of `s` is an ASCII letter, an ASCII digit or one of `extra` (true
/// for ""). One out-of-line loop for the many charset rules (FHIR ids, PKCE verifiers,
/// hosts, schemes, scope types), each of which was its own inlined loop.
#[inline(never)]
pub fn all_word(s: &str, extra: &[u8]) -> bool {
    // `[u8]::contains` is memchr, and `all` over `any` unrolled: see `find`.
    for b in s.bytes() {
        if !b.is_ascii_alphanumeric() && !in_set(extra, b) {
            return false;
        }
    }
    true
}

/// An RFC 3986 §3.1 scheme: a letter, then letters, digits, `+`, `-` or `.`.
pub fn is_scheme(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && all_word(s, b"+-.")
}

/// The value of `digits` (0 for ""), or `u32::MAX` when a byte of it is not an ASCII
/// digit or it has more than 9, so it cannot overflow (and no 9 digits make `u32::MAX`:
/// every range check of a value refuses it). A number, not an `Option<u32>`, which went
/// through memory (19 B gz). Why not `str::parse`: it brings the generic integer parser,
/// with signs and radix handling, into the wasm. The check is here, not an `all` at each
/// caller: each `all` brought its own `Copied::try_fold`.
pub fn digits_value(digits: &str) -> u32 {
    if digits.len() > 9 {
        return u32::MAX;
    }
    let mut n = 0u32;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return u32::MAX;
        }
        n = n * 10 + u32::from(b - b'0');
    }
    n
}

/// The value of the hex digit `bytes[at]`, or 16 when it is not one (or `at` is past
/// the end). One out-of-line copy for the percent-escapes of forms and the `\u` escapes
/// of JSON, each of which inlined its own. A number, not an `Option<u32>`, which went
/// through memory (13 B gz).
#[inline(never)]
pub fn hex_digit(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at) {
        Some(&b) => (b as char).to_digit(16).unwrap_or(16),
        None => 16,
    }
}

/// The parts joined without a separator.
pub fn concat(parts: &[&str]) -> String {
    // No capacity summed up front: the few short parts grow the string in a realloc or
    // two, and the sum (a `map`-`sum` loop) was 36 B gz.
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}

/// The text of UTF-8 `bytes`. With `lossy`, each ill-formed sequence (its maximal
/// subpart, as Unicode §3.9 and `String::from_utf8_lossy` count them) becomes U+FFFD;
/// without, the first one gives `None`.
///
/// Why not `str::from_utf8` / `from_utf8_lossy`: core's validator (word-at-a-time ASCII
/// fast path) and its `Utf8Chunks` iterator cost ~1.2 KB of wasm for the few short
/// strings decoded here (form values, JWS segments). Safe code can only build a
/// `String` from validated bytes, so this decodes to chars and pushes them.
pub fn utf8(bytes: &[u8], lossy: bool) -> Option<String> {
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&lead) = bytes.get(i) {
        i += 1;
        if lead < 0x80 {
            out.push(lead as char);
            continue;
        }
        // The continuation bytes to follow (0: not a lead byte), the range of the first
        // (which excludes overlong forms, surrogates and values past U+10FFFF), and the
        // lead's bits. Two small matches, not one of tuples (19 B gz).
        let more = match lead {
            0xc2..=0xdf => 1,
            0xe0..=0xef => 2,
            0xf0..=0xf4 => 3,
            _ => 0,
        };
        let (mut min, mut max) = match lead {
            0xe0 => (0xa0, 0xbf),
            0xed => (0x80, 0x9f),
            0xf0 => (0x90, 0xbf),
            0xf4 => (0x80, 0x8f),
            _ => (0x80, 0xbf),
        };
        let mut code = u32::from(lead & (0x3f >> more));
        // The continuation bytes still missing when the sequence ends.
        let mut missing = more;
        while missing > 0 {
            match bytes.get(i) {
                Some(&b) if (min..=max).contains(&b) => {
                    code = code << 6 | u32::from(b & 0x3f);
                    i += 1;
                    missing -= 1;
                }
                _ => break,
            }
            (min, max) = (0x80, 0xbf);
        }
        // One `push` of the char or U+FFFD, not one in each arm (8 B gz).
        out.push(match char::from_u32(code) {
            Some(c) if more > 0 && missing == 0 => c,
            _ if lossy => '\u{fffd}',
            _ => return None,
        });
    }
    Some(out)
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
    fn sub_and_split_at_match_indexing() {
        let s = "a\u{e9}b";
        assert_eq!(sub(s, ..1), &s[..1]);
        assert_eq!(sub(s, 3..), &s[3..]);
        assert_eq!(sub(s, 1..3), "\u{e9}");
        assert_eq!(split_at(s, 3), s.split_at(3));
        assert!(std::panic::catch_unwind(|| sub(s, ..2)).is_err());
        assert!(std::panic::catch_unwind(|| split_at(s, 9)).is_err());
    }

    #[test]
    fn digits_value_matches_parse() {
        for s in [
            "0",
            "7",
            "080",
            "255",
            "65535",
            "65536",
            "99999",
            "999999999",
        ] {
            assert_eq!(digits_value(s), s.parse::<u32>().unwrap());
        }
        assert_eq!(digits_value(""), 0);
        for s in [
            "1a",
            "-1",
            "+1",
            " 1",
            "1.0",
            "\u{664}",
            "0000000000",
            "99999999999",
        ] {
            assert_eq!(digits_value(s), u32::MAX, "{s:?}");
        }
    }

    #[test]
    fn hex_digit_reads_one_digit_of_either_case() {
        let all: Vec<u8> = (0..=255).collect();
        for (i, &b) in all.iter().enumerate() {
            let want = (b as char).to_digit(16).unwrap_or(16);
            assert_eq!(hex_digit(&all, i), want, "{b}");
        }
        assert_eq!(hex_digit(b"fF", 0), 15);
        assert_eq!(hex_digit(b"fF", 1), 15);
        assert_eq!(hex_digit(b"f", 1), 16);
    }

    #[test]
    fn concat_joins() {
        assert_eq!(concat(&["a", "", "bc"]), "abc");
        assert_eq!(concat(&[]), "");
    }

    #[test]
    fn utf8_matches_the_standard_decoders() {
        let samples: [&[u8]; 14] = [
            b"",
            b"plain ascii",
            "\u{e9}\u{20ac}\u{1f600}".as_bytes(),
            b"\xff",
            b"a\x80b",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
            b"\xf0\x9f\x98",
            b"\xe2\x82",
            b"\xe2\x82x\xe2",
            b"\xf5\x80",
            b"\xc3",
        ];
        for bytes in samples {
            let lossy = String::from_utf8_lossy(bytes);
            assert_eq!(utf8(bytes, true).as_deref(), Some(&*lossy), "{bytes:?}");
            let strict = core::str::from_utf8(bytes).ok();
            assert_eq!(utf8(bytes, false).as_deref(), strict, "{bytes:?}");
        }
    }

    #[test]
    fn byte_searches_match_the_char_searches() {
        for s in [
            "",
            "a",
            "/",
            "a/b",
            "//a//",
            "\u{e9}/x?y#z",
            "a&&b&",
            "x y  z ",
        ] {
            assert_eq!(find(s, b"/"), s.find('/'), "{s:?}");
            assert_eq!(find(s, b"?#"), s.find(['?', '#']), "{s:?}");
            assert_eq!(find_or_end(s, b"?#"), s.find(['?', '#']).unwrap_or(s.len()));
            assert_eq!(contains(s, b"&"), s.contains('&'), "{s:?}");
            assert_eq!(split_once(s, b'/'), s.split_once('/'), "{s:?}");
            assert_eq!(
                split(s, b'&').collect::<Vec<_>>(),
                s.split('&').collect::<Vec<_>>()
            );
            assert_eq!(
                split(s, b' ').collect::<Vec<_>>(),
                s.split(' ').collect::<Vec<_>>()
            );
            assert_eq!(trim_end(s, b'/'), s.trim_end_matches('/'), "{s:?}");
            assert_eq!(starts_with(s, b'/'), s.starts_with('/'), "{s:?}");
            assert_eq!(strip_prefix(s, b'/'), s.strip_prefix('/'), "{s:?}");
            assert_eq!(strip_prefix(s, b'a'), s.strip_prefix('a'), "{s:?}");
            assert_eq!(ends_with(s, b'/'), s.ends_with('/'), "{s:?}");
            assert_eq!(ends_with(s, b' '), s.ends_with(' '), "{s:?}");
            assert_eq!(rfind(s, b'/'), s.rfind('/'), "{s:?}");
            assert_eq!(
                upto_last(s, b'/'),
                s.rfind('/').map_or(0, |i| i + 1),
                "{s:?}"
            );
        }
    }

    #[test]
    fn word_and_scheme_charsets() {
        assert!(all_word("", b""));
        assert!(all_word("aZ09-._~", b"-._~"));
        assert!(!all_word("a b", b"-"));
        assert!(!all_word("\u{e9}", b""));
        for (s, ok) in [
            ("https", true),
            ("a+b-c.d", true),
            ("1a", false),
            ("", false),
            ("a_b", false),
        ] {
            assert_eq!(is_scheme(s), ok, "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn utf8_matches_on_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let lossy = String::from_utf8_lossy(&bytes);
            let (ours_lossy, ours_strict) = (utf8(&bytes, true), utf8(&bytes, false));
            proptest::prop_assert_eq!(ours_lossy.as_deref(), Some(&*lossy));
            proptest::prop_assert_eq!(ours_strict.as_deref(), core::str::from_utf8(&bytes).ok());
        }

        #[test]
        fn utf8_matches_on_mostly_valid_text(text in "\\PC{0,12}", cut in 0usize..40, junk in 0x80u8..=0xff) {
            let mut bytes = text.into_bytes();
            let at = cut.min(bytes.len());
            bytes.insert(at, junk);
            let lossy = String::from_utf8_lossy(&bytes);
            let (ours_lossy, ours_strict) = (utf8(&bytes, true), utf8(&bytes, false));
            proptest::prop_assert_eq!(ours_lossy.as_deref(), Some(&*lossy));
            proptest::prop_assert_eq!(ours_strict.as_deref(), core::str::from_utf8(&bytes).ok());
        }
    }
}
