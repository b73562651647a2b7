//! URL pieces the protocol needs: `application/x-www-form-urlencoded` encoding and
//! decoding (WHATWG URL Standard §5, as browsers and OAuth servers use it), a parser for
//! absolute `http(s)` URLs, RFC 3986 §5.2 reference resolution, and the comparisons the
//! launch needs (TLS check, "is this URL under the FHIR base", query editing).
//!
//! Why not the `url` crate: it brings IDNA tables worth tens of KB in wasm, and SMART
//! needs only form encoding, query parsing and RFC 3986 reference resolution. Why not the
//! browser's `new URL` through a wasm import: tried and measured, it saved 0.55 KB gz of
//! the package but made `request()` 0.22 ms slower in Chromium (it parses four URLs; the
//! URL object's property reads and the string copies across the boundary are ~55 µs a
//! parse), against 0.3 ms of library work per request in all.
//!
//! The parser follows the browser's `new URL(input, base)` for the `http`/`https` inputs
//! SMART servers publish: scheme and host are lower-cased, a default port is dropped, an
//! empty path becomes `/`, dot segments (also `%2e`) are removed, and characters outside
//! the URL code points are percent-encoded as the WHATWG path, query and fragment
//! percent-encode sets say. Where the browser would silently repair an ambiguous input
//! (a backslash for a slash, tabs or newlines inside, credentials in the authority,
//! a non-ASCII host that needs IDNA, the odd `http:host` form), this parser refuses it
//! with a typed error instead: a protocol endpoint that needs repair is not trusted.

use crate::prelude::*;
use core::fmt;

use super::error::{Error, ErrorCode, Result};
use super::text;

/// Encodes `name=value` pairs joined by `&`, every byte outside `*-._` and ASCII
/// alphanumerics percent-encoded and spaces as `+` (spec #26, #41).
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    form_encode_pairs_into(&mut out, pairs);
    out
}

/// Appends one form-encoded component to `out`.
pub fn form_encode_into(out: &mut String, text: &str) {
    escape_into(out, text, None);
}

/// Appends `text` to `out`, percent-encoding (`%XX`) every byte but those kept: with
/// `set`, the URL code points (`!`..`~`) not in `set` (a WHATWG percent-encode set);
/// without, the form-urlencoded rule (ASCII letters, digits and `*-._` kept, a space
/// written `+`). One loop for both encoders (two were 230 bytes more of wasm).
fn escape_into(out: &mut String, text: &str, set: Option<&[u8]>) {
    const HEX: &[u8; 16] = text::HEX_DIGITS;
    for &b in text.as_bytes() {
        let keep = match set {
            Some(set) => b > 0x20 && b < 0x7f && !text::in_set(set, b),
            None => b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'),
        };
        if keep {
            out.push(b as char);
        } else if b == b' ' && set.is_none() {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
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
                // Two hex digits by hand: `u8::from_str_radix` brings the generic
                // integer parser (and accepts a sign, which a percent-escape has not).
                let (hi, lo) = (text::hex_digit(bytes, i + 1), text::hex_digit(bytes, i + 2));
                if hi < 16 && lo < 16 {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    text::utf8(&out, true).unwrap_or_default()
}

/// Splits a query string (without the leading `?`) into decoded `(name, value)` pairs,
/// in order, repeats kept.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    // A plain loop: the filter-map-collect chain cost more wasm.
    let mut pairs = Vec::new();
    for part in text::split(query, b'&') {
        if part.is_empty() {
            continue;
        }
        let (name, value) = text::split_once(part, b'=').unwrap_or((part, ""));
        pairs.push((form_decode(name), form_decode(value)));
    }
    pairs
}

// ---------------------------------------------------------------------------------------
// Absolute URLs
// ---------------------------------------------------------------------------------------

/// An absolute `http:` or `https:` URL, normalised the way `new URL(..)` does it.
///
/// Held as its serialisation (the browser's `href`) and where each part of it starts:
/// the parser writes the parts straight into it, and the origin, the path and the
/// `href` are slices of it. A `String` for each of host, path, query and fragment, and
/// the `href` and origin joined from them again, were more allocations and more wasm.
///
/// `Display` writes the serialisation. `Debug` hides the query and the fragment, which
/// may hold a `code` or `state` (spec #75).
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`, lower case. Static: an owned copy was an allocation, a copy
    /// and a drop more in every parse.
    pub scheme: &'static str,
    /// The port, `None` when absent or the scheme's default (80, 443).
    pub port: Option<u16>,
    /// `scheme://host[:port]/path[?query][#fragment]`, every part normalised.
    href: String,
    /// The end of the host in `href` (the port's `:` or the path's `/`).
    host_end: usize,
    /// The start of the path in `href`: the origin ends here.
    path_start: usize,
    /// The start of the `?query` in `href`, or of what follows the path without one.
    query_start: usize,
    /// The start of the `#fragment` in `href`, or its end without one.
    fragment_start: usize,
}

fn invalid_url() -> Error {
    Error::at(ErrorCode::InvalidOptions, "url")
}

/// [`Url::parse`] without its error. Every refusal in this module is the same
/// `invalid_options` (field `url`), so the parser works in `Option` and the public
/// functions build that one error at the end: an error built at each refusal was more
/// wasm, and [`is_under`] and [`is_https_or_local`] want no error at all.
pub(crate) fn parse_url(input: &str) -> Option<Url> {
    let (scheme, rest) = split_http(input, "")?;
    if scheme.is_empty() {
        return None;
    }
    Url::from_parts(scheme, rest.strip_prefix("//")?)
}

impl Url {
    /// Parses an absolute `http(s)` URL (RFC 3986 §3, WHATWG URL "special" schemes).
    ///
    /// Errors (`invalid_options`, field `url`): another scheme, no `//authority`,
    /// credentials in the authority, a bad host or port, control characters, a
    /// backslash, or surrounding spaces.
    pub fn parse(input: &str) -> Result<Url> {
        parse_url(input).ok_or_else(invalid_url)
    }

    /// `scheme` is lower case already; `rest` is what follows `scheme://`.
    fn from_parts(scheme: &'static str, rest: &str) -> Option<Url> {
        let end = text::find_or_end(rest, b"/?#");
        let (authority, tail) = text::split_at(rest, end);
        let (host, port) = parse_authority(scheme, authority)?;
        // `path?query#fragment`: the query and the fragment keep their `?` and `#`,
        // which neither set escapes (no `Option` for each, no mark pushed apart).
        let (before_fragment, fragment) = text::split_at(tail, text::find_or_end(tail, b"#"));
        let query_mark = text::find_or_end(before_fragment, b"?");
        let (path, query) = text::split_at(before_fragment, query_mark);
        let mut href = String::with_capacity(scheme.len() + 4 + rest.len());
        href.push_str(scheme);
        href.push_str("://");
        // The host is ASCII (checked): byte by byte, each a char. `to_ascii_lowercase`
        // was inlined word at a time (9 B gz).
        for b in host.bytes() {
            href.push(b.to_ascii_lowercase() as char);
        }
        let host_end = href.len();
        if let Some(port) = port {
            href.push(':');
            text::push_u64(&mut href, port.into());
        }
        let path_start = href.len();
        push_normalized_path(&mut href, path);
        let query_start = href.len();
        escape_into(&mut href, query, Some(QUERY_SET));
        let fragment_start = href.len();
        escape_into(&mut href, fragment, Some(FRAGMENT_SET));
        Some(Url {
            scheme,
            port,
            href,
            host_end,
            path_start,
            query_start,
            fragment_start,
        })
    }

    /// The host, lower case; an IPv6 literal keeps its brackets (`[::1]`).
    // Always inlined: out of line the slice came back through memory (18 B gz).
    #[inline(always)]
    pub fn host(&self) -> &str {
        text::sub(&self.href, self.scheme.len() + 3..self.host_end)
    }

    /// `host[:port]`, as it appears in the serialisation.
    pub fn authority(&self) -> &str {
        text::sub(&self.href, self.scheme.len() + 3..self.path_start)
    }

    /// `scheme://authority`, the origin as `postMessage` and `location.origin` spell it.
    pub fn origin(&self) -> &str {
        text::sub(&self.href, ..self.path_start)
    }

    /// The path, never empty, starting with `/`, without dot segments.
    pub fn path(&self) -> &str {
        text::sub(&self.href, self.path_start..self.query_start)
    }

    /// Whether there is a query, a bare `?` included.
    pub fn has_query(&self) -> bool {
        self.fragment_start > self.query_start
    }

    /// Whether there is a fragment, a bare `#` included.
    pub fn has_fragment(&self) -> bool {
        self.href.len() > self.fragment_start
    }

    /// The query without `?`; `Some("")` for a bare `?`.
    pub fn query(&self) -> Option<&str> {
        let query = text::sub(&self.href, self.query_start..self.fragment_start);
        query.strip_prefix('?')
    }

    /// The fragment without `#`.
    pub fn fragment(&self) -> Option<&str> {
        text::sub(&self.href, self.fragment_start..).strip_prefix('#')
    }

    /// The serialisation (the browser's `href`); `Display` writes the same.
    pub fn href(&self) -> &str {
        &self.href
    }

    /// [`Url::href`], owned: the parser's own string, no copy.
    pub fn into_href(self) -> String {
        self.href
    }

    /// True for `localhost`, `127.0.0.0/8` in dotted-decimal form, and `[::1]`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.href)
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({}{}", self.origin(), self.path())?;
        if self.has_query() {
            f.write_str("?<redacted>")?;
        }
        if self.has_fragment() {
            f.write_str("#<redacted>")?;
        }
        f.write_str(")")
    }
}

/// Refuses what the browser would silently repair: controls, a backslash (read as `/`
/// in special URLs), and leading or trailing spaces. Then splits off the scheme, if
/// any, as `http` or `https`, `default` without one; any other scheme is refused too.
/// A `default`, not an `Option` of the scheme: that went through memory (17 B gz).
fn split_http<'a>(input: &'a str, default: &'static str) -> Option<(&'static str, &'a str)> {
    // A loop, not `any`: that brought its own `Copied::try_fold`.
    for b in input.bytes() {
        if b < 0x20 || b == 0x7f || b == b'\\' {
            return None;
        }
    }
    if text::starts_with(input, b' ') || text::ends_with(input, b' ') {
        return None;
    }
    Some(match split_any_scheme(input) {
        Some((scheme, rest)) => (http_scheme(scheme)?, rest),
        None => (default, input),
    })
}

/// Splits `scheme:rest` when the text before the first `:` is a valid RFC 3986 scheme
/// (so no `/`, `?` or `#` comes first). The scheme keeps its case.
fn split_any_scheme(input: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text::split_once(input, b':')?;
    text::is_scheme(scheme).then_some((scheme, rest))
}

/// `http` or `https` (lower case) for either scheme in any case. Only these are
/// accepted: `javascript:` or `data:` never pass.
fn http_scheme(scheme: &str) -> Option<&'static str> {
    // The one candidate of the same length: one comparison, not a search of both.
    let lower = if scheme.len() == 4 { "http" } else { "https" };
    scheme.eq_ignore_ascii_case(lower).then_some(lower)
}

/// Whether the scheme, one of [`http_scheme`]'s answers, is `https`: told by its length,
/// as are two of them apart (`same_scheme`), which is shorter than comparing the text
/// (32 B gz).
fn is_https(scheme: &str) -> bool {
    scheme.len() == 5
}

fn same_scheme(a: &str, b: &str) -> bool {
    a.len() == b.len()
}

fn default_port(scheme: &str) -> u16 {
    if is_https(scheme) {
        443
    } else {
        80
    }
}

/// The host (as written: [`Url::from_parts`] lower-cases it) and the port of an
/// authority.
fn parse_authority<'a>(scheme: &str, authority: &'a str) -> Option<(&'a str, Option<u16>)> {
    if text::contains(authority, b"@") {
        return None;
    }
    // The host ends at the first `]` of an IPv6 literal (kept with its brackets), else
    // at the port's `:`.
    let end = match text::strip_prefix(authority, b'[') {
        Some(v6) => text::find(v6, b"]")? + 2,
        None => text::find_or_end(authority, b":"),
    };
    let (host, after) = text::split_at(authority, end);
    let ok = match text::strip_prefix(host, b'[') {
        // `]` only as the last byte, after at least one other.
        Some(v6) => v6.len() > 1 && is_v6_body(v6),
        None => !host.is_empty() && text::all_word(host, b"-._~"),
    };
    if !ok {
        return None;
    }
    // `after` is empty or starts with `:`, but after an IPv6 literal it may be anything.
    // No match on `"" | ":"`: two text compares.
    let port = match text::strip_prefix(after, b':') {
        Some(port) => port,
        None if after.is_empty() => after,
        None => return None,
    };
    if port.len() > 5 {
        return None;
    }
    let n = u16::try_from(text::digits_value(port)).ok()?;
    // An empty port (`h` or `h:`) reads as 0 above, and is no port.
    Some((
        host,
        (!port.is_empty() && n != default_port(scheme)).then_some(n),
    ))
}

/// Whether `v6` holds only hex digits, `:`, `.` and `]`. A loop, not `all`: that
/// brought its own `Copied::try_fold`.
fn is_v6_body(v6: &str) -> bool {
    for b in v6.bytes() {
        if !b.is_ascii_hexdigit() && !text::in_set(b":.]", b) {
            return false;
        }
    }
    true
}

/// 1 for a `.` segment, 2 for `..`, each dot also spelt `%2e` (any case); else 0.
fn dot_segment(seg: &str) -> usize {
    let mut rest = seg.as_bytes();
    let mut dots = 0;
    while let [first, tail @ ..] = rest {
        rest = match tail {
            _ if *first == b'.' => tail,
            [a, b, tail @ ..] if *first == b'%' && [*a, *b].eq_ignore_ascii_case(b"2e") => tail,
            _ => return 0,
        };
        dots += 1;
    }
    if dots > 2 {
        0
    } else {
        dots
    }
}

/// Removes `.` and `..` segments (RFC 3986 §5.2.4, with the WHATWG spellings `%2e`),
/// percent-encoding the others with the path set, and appends the result to `out`.
/// `path` is empty (read as `/`) or starts with `/`.
fn push_normalized_path(out: &mut String, path: &str) {
    // Written segment by segment into the answer: a `..` cuts back to the last `/` after
    // `start`, which an escape never writes.
    let start = out.len();
    // A dot segment at the end leaves the path ending in `/`.
    let mut ends_in_dot = false;
    for seg in text::split(text::strip_prefix(path, b'/').unwrap_or(path), b'/') {
        ends_in_dot = true;
        match dot_segment(seg) {
            1 => {}
            2 => {
                let parent = text::upto_last(text::sub(out, start..), b'/').saturating_sub(1);
                // A copy of the part kept, not `truncate`: its char-boundary assertion
                // brought a message and a panic location (69 B gz).
                *out = text::sub(out, ..start + parent).to_owned();
            }
            _ => {
                out.push('/');
                escape_into(out, seg, Some(PATH_SET));
                ends_in_dot = false;
            }
        }
    }
    if ends_in_dot {
        out.push('/');
    }
}

/// [`push_normalized_path`] on its own (tests).
#[cfg(test)]
fn normalize_path(path: &str) -> String {
    let mut out = String::new();
    push_normalized_path(&mut out, path);
    out
}

/// WHATWG percent-encode sets, beyond C0 controls, space and non-ASCII.
const PATH_SET: &[u8] = b"\"#<>?`{}";
const QUERY_SET: &[u8] = b"\"#<>'";
const FRAGMENT_SET: &[u8] = b"\"<>`";

#[cfg(test)]
fn percent_encode(text: &str, set: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text, Some(set));
    out
}

/// Resolves `reference` against the absolute `base` (RFC 3986 §5.2.2), giving what the
/// browser's `new URL(reference, base).href` gives for `http(s)` URLs (spec #5).
///
/// Against a base without a trailing slash the last segment is replaced:
/// `resolve("auth/token", "https://h/fhir")` is `https://h/auth/token`, and against
/// `https://h/fhir/` it is `https://h/fhir/auth/token`.
///
/// Errors (`invalid_options`, field `url`): a bad base, a reference with another scheme
/// (`javascript:`, `data:`, ...), or characters refused by [`Url::parse`].
pub fn resolve(reference: &str, base: &str) -> Result<String> {
    resolve_url(reference, base).ok_or_else(invalid_url)
}

/// [`resolve`] without its error, for callers that name their own field: the error it
/// built was only dropped (the launch plan, discovery's endpoints, FHIR requests).
pub fn resolve_url(reference: &str, base: &str) -> Option<String> {
    let base = parse_url(base)?;
    // Without a scheme, the reference has the base's.
    let (scheme, relative) = split_http(reference, base.scheme)?;
    let network_path = relative.starts_with("//");
    if !same_scheme(scheme, base.scheme) && !network_path {
        // `new URL("http:h", "https://b/")` reads `h` as a host: too surprising.
        return None;
    }
    // The reference made absolute as text, then parsed: a network-path reference
    // (`//host/..`) takes the scheme, a relative one is joined with the base's parts,
    // which are normalised already (normalising them again changes nothing). One parser,
    // not a second path through a `Url` (116 B gz in all).
    let absolute = if network_path {
        text::concat(&[scheme, ":", relative])
    } else {
        with_relative(&base, relative)
    };
    parse_url(&absolute).map(Url::into_href)
}

/// `base`'s origin with the authority-less reference `relative` applied
/// (RFC 3986 §5.2.2): `scheme://host[:port]/path[?query][#fragment]`. What the
/// reference keeps of the base is always a prefix of the base's `href`.
fn with_relative(base: &Url, relative: &str) -> String {
    let (path, after) = text::split_at(relative, text::find_or_end(relative, b"?#"));
    let kept = if text::starts_with(path, b'/') {
        // The origin.
        base.path_start
    } else if !path.is_empty() {
        // Up to the last `/` of the base's path.
        base.path_start + text::upto_last(base.path(), b'/')
    } else if text::starts_with(after, b'?') {
        // An empty path keeps the base's path, and its query unless one is given.
        base.query_start
    } else {
        base.fragment_start
    };
    text::concat(&[text::sub(&base.href, ..kept), path, after])
}

fn is_loopback_host(host: &str) -> bool {
    // One `matches!`, not two `==`: a switch on the length first (15 B gz).
    if matches!(host, "localhost" | "[::1]") {
        return true;
    }
    // `127.` and three more decimal octets.
    let Some(rest) = host.strip_prefix("127.") else {
        return false;
    };
    let mut count = 0;
    for o in text::split(rest, b'.') {
        let ok = !o.is_empty() && o.len() <= 3 && text::digits_value(o) <= 255;
        if !ok {
            return false;
        }
        count += 1;
    }
    count == 3
}

/// True when `url` is an absolute `https:` URL, or, only with
/// `allow_insecure_localhost`, an `http:` URL on `localhost`, `127.0.0.0/8` or `[::1]`
/// (spec #6, smart-spec.md §1.4 rule 2). Unparseable input is `false`.
pub fn is_https_or_local(url: &str, allow_insecure_localhost: bool) -> bool {
    match parse_url(url) {
        Some(u) if is_https(u.scheme) => true,
        Some(u) => allow_insecure_localhost && u.is_loopback(),
        None => false,
    }
}

/// `url` without trailing `/` characters (spec #1: `.../fhir` and `.../fhir/` give the
/// same discovery URL).
// Always inlined: out of line it was a wrapper copying `trim_end`'s answer (14 B gz).
#[inline(always)]
pub fn strip_trailing_slash(url: &str) -> &str {
    text::trim_end(url, b'/')
}

/// True when `url` lies under `base`: same scheme, host and port (after normalisation,
/// so case-insensitive scheme and host), and a path equal to the base path or continuing
/// it after a `/` segment boundary; a trailing slash on the base is tolerated, and dot
/// segments in `url` are resolved first. Decides whether the bearer token may be sent
/// (spec #57): `https://h/fhir2` is not under `https://h/fhir`. Unparseable input is
/// `false`.
pub fn is_under(url: &str, base: &str) -> bool {
    // Two `let else`, not one on a tuple of both parses (20 B gz).
    let Some(u) = parse_url(url) else {
        return false;
    };
    let Some(b) = parse_url(base) else {
        return false;
    };
    // Same scheme, host and port, as the origins' text: the host holds no `:` outside
    // its brackets, so the text tells them apart. Three comparisons were 20 B gz more.
    if u.origin() != b.origin() {
        return false;
    }
    let base_path = text::trim_end(b.path(), b'/');
    u.path()
        .strip_prefix(base_path)
        .is_some_and(|rest| rest.is_empty() || text::starts_with(rest, b'/'))
}

/// `url` before its fragment, and the fragment with its `#` (or empty). Always inlined:
/// out of line its pair came back through memory (11 B gz).
#[inline(always)]
fn split_fragment(url: &str) -> (&str, &str) {
    text::split_at(url, text::find_or_end(url, b"#"))
}

/// Appends form-encoded `pairs` to `endpoint`'s query, keeping any query it already has
/// (RFC 6749 §3.1: "MUST be retained"; spec #26) and dropping nothing; a fragment, if
/// any, stays at the end. `https://h/auth?tenant=t` + `[("a","b")]` gives
/// `https://h/auth?tenant=t&a=b`.
pub fn append_query(endpoint: &str, pairs: &[(&str, &str)]) -> String {
    let (head, fragment) = split_fragment(endpoint);
    let mut out = String::with_capacity(endpoint.len() + 64 * pairs.len());
    out.push_str(head);
    if !pairs.is_empty() {
        // The end for "no `?`": an `Option` of the index went through memory (20 B gz).
        let query_mark = text::find_or_end(head, b"?");
        if query_mark == head.len() {
            out.push('?');
        } else if query_mark + 1 < head.len() && !text::ends_with(head, b'&') {
            out.push('&');
        }
        form_encode_pairs_into(&mut out, pairs);
    }
    out.push_str(fragment);
    out
}

/// Appends `name=value` pairs joined by `&` to `out`.
pub fn form_encode_pairs_into(out: &mut String, pairs: &[(&str, &str)]) {
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode_into(out, name);
        out.push('=');
        form_encode_into(out, value);
    }
}

/// `url` without the query parameters whose decoded name is in `names`; the other
/// parameters (byte for byte) and the fragment are kept, and a query left empty loses
/// its `?`. Used to take `code` and `state` out of the address bar after the callback
/// (spec #39, [`super::callback::CALLBACK_PARAMS`]).
pub fn remove_query_params(url: &str, names: &[&str]) -> String {
    let (head, fragment) = split_fragment(url);
    let Some((before, query)) = text::split_once(head, b'?') else {
        return url.to_string();
    };
    // Written straight into the answer: a filtered, collected and joined list of
    // parts cost more wasm.
    let mut out = String::with_capacity(url.len());
    out.push_str(before);
    let mut separator = '?';
    for part in text::split(query, b'&') {
        let name = form_decode(text::split_once(part, b'=').map_or(part, |(n, _)| n));
        // `any` on `str == String`, not `contains(&name.as_str())`: its `&&str` compares
        // went through memory (8 B gz).
        if part.is_empty() || names.iter().any(|n| *n == name) {
            continue;
        }
        out.push(separator);
        separator = '&';
        out.push_str(part);
    }
    out.push_str(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn code(r: Result<String>) -> ErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn parse_normalises_like_the_browser() {
        let u = Url::parse("HTTPS://H.Example:443/a/./b/../c?x=1 2#f g").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host(), "h.example");
        assert_eq!(u.port, None);
        assert_eq!(u.path(), "/a/c");
        assert_eq!(u.origin(), "https://h.example");
        assert_eq!(u.authority(), "h.example");
        assert_eq!(u.query(), Some("x=1%202"));
        assert_eq!(u.fragment(), Some("f%20g"));
        assert!(u.has_query() && u.has_fragment());
        // The parser writes the `?` and `#` marks through the sets: neither may escape them.
        assert!(!QUERY_SET.contains(&b'?') && !FRAGMENT_SET.contains(&b'#'));
        let bare = Url::parse("http://h:8/?#").unwrap();
        assert_eq!((bare.query(), bare.fragment()), (Some(""), Some("")));
        assert!(bare.has_query() && bare.has_fragment());
        assert_eq!(
            (bare.host(), bare.authority(), bare.path()),
            ("h", "h:8", "/")
        );
        let plain = Url::parse("https://h/p").unwrap();
        assert_eq!((plain.query(), plain.fragment()), (None, None));
        assert!(!plain.has_query() && !plain.has_fragment());
        let only_fragment = Url::parse("https://h/p#").unwrap();
        assert_eq!(
            (only_fragment.query(), only_fragment.fragment()),
            (None, Some(""))
        );
        assert!(!only_fragment.has_query() && only_fragment.has_fragment());
        assert_eq!(u.to_string(), "https://h.example/a/c?x=1%202#f%20g");
        assert_eq!(Url::parse("http://h").unwrap().to_string(), "http://h/");
        assert_eq!(
            Url::parse("http://h:8080/%2e%2E/x").unwrap().to_string(),
            "http://h:8080/x"
        );
        assert_eq!(
            Url::parse("https://[::1]:9/").unwrap().authority(),
            "[::1]:9"
        );
        assert_eq!(Url::parse("https://h/é").unwrap().path(), "/%C3%A9");
        // A `..` never cuts into the origin.
        assert_eq!(Url::parse("https://h/..").unwrap().href(), "https://h/");
        assert_eq!(
            Url::parse("https://h/a/../../b/..").unwrap().href(),
            "https://h/"
        );
    }

    #[test]
    fn parse_refuses_ambiguous_input_with_a_typed_error() {
        for bad in [
            "",
            "h/fhir",
            "/fhir",
            "ftp://h/",
            "javascript:alert(1)",
            "https:h/fhir",
            "https://",
            "https://user:pw@h/",
            "https://h\\evil/",
            "https://h/\npath",
            " https://h/",
            "https://h:99999/",
            "https://h:8x/",
            "https://ex ample/",
            "https://[::1/",
            "https://[zz]/",
            "https://hé/",
        ] {
            let e = Url::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidOptions, "{bad}");
            assert_eq!(e.field, Some("url"), "{bad}");
        }
    }

    #[test]
    fn authority_edge_cases() {
        let ok = |url: &str| Url::parse(url).map(|u| (u.host().to_string(), u.port)).ok();
        let h = |host: &str, port| Some((host.to_string(), port));
        assert_eq!(ok("https://[::1]:/"), h("[::1]", None));
        assert_eq!(ok("https://[::1]:443/"), h("[::1]", None));
        assert_eq!(
            ok("https://[0:0::1.2.3.4]:8443/"),
            h("[0:0::1.2.3.4]", Some(8443))
        );
        assert_eq!(ok("https://[AB::cd]"), h("[ab::cd]", None));
        assert_eq!(ok("https://h:/"), h("h", None));
        assert_eq!(ok("https://h:0/"), h("h", Some(0)));
        assert_eq!(ok("https://h:080/"), h("h", Some(80)));
        assert_eq!(ok("http://h:080/"), h("h", None));
        assert_eq!(ok("https://h:65535"), h("h", Some(65535)));
        for bad in [
            "https://[::1]x/",
            "https://[::1]8/",
            "https://[::1]]/",
            "https://[]/",
            "https://[/",
            "https://:80/",
            "https://h:65536/",
            "https://h:000080/",
            "https://h::80/",
            "https://h:+80/",
            "https://h:8 0/",
            "https://[::1]::80/",
            "https://[::g]/",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_hides_query_and_fragment() {
        // spec #75: a callback URL holds the code and state
        let u = Url::parse("https://app/cb?code=SECRETCODE&state=SECRETSTATE#x").unwrap();
        let dbg = format!("{u:?}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert_eq!(dbg, "Url(https://app/cb?<redacted>#<redacted>)");
    }

    #[test]
    fn resolve_matches_new_url() {
        // spec #5: expected values are what `new URL(rel, base).href` gives in browsers
        let cases = [
            ("auth/token", "https://h/fhir", "https://h/auth/token"),
            ("auth/token", "https://h/fhir/", "https://h/fhir/auth/token"),
            ("/auth/token", "https://h/a/fhir/", "https://h/auth/token"),
            ("../auth", "https://h/a/fhir/", "https://h/a/auth"),
            ("../../../x", "https://h/a/b", "https://h/x"),
            ("..", "https://h/a/b/c", "https://h/a/"),
            (".", "https://h/a/b", "https://h/a/"),
            ("./t?x=1#f", "https://h/a/b?q", "https://h/a/t?x=1#f"),
            ("?x=1", "https://h/a/b?q#f", "https://h/a/b?x=1"),
            ("#frag", "https://h/a/b?q", "https://h/a/b?q#frag"),
            ("", "https://h/a/b?q#f", "https://h/a/b?q"),
            ("//other:8443/t", "https://h/fhir", "https://other:8443/t"),
            ("HTTPS://Other/T", "https://h/fhir", "https://other/T"),
            ("https:t", "https://h/fhir/", "https://h/fhir/t"),
            ("a b/ü", "https://h/", "https://h/a%20b/%C3%BC"),
            ("%2e%2e/x", "https://h/a/b/c", "https://h/a/x"),
            ("http://localhost:80/t", "https://h/", "http://localhost/t"),
            ("t#f", "http://[::1]:8080/a/b?q", "http://[::1]:8080/a/t#f"),
            ("x", "https://h/a%20b/c%2e", "https://h/a%20b/x"),
            ("#f", "https://h/a%20b/c/..?q'", "https://h/a%20b/?q%27#f"),
        ];
        for (rel, base, want) in cases {
            assert_eq!(resolve(rel, base).unwrap(), want, "{rel} against {base}");
        }
    }

    #[test]
    fn resolve_refuses_foreign_schemes_and_bad_bases() {
        // spec #5, #6: an endpoint is never javascript:, data: or the odd http:host form
        assert_eq!(
            code(resolve("javascript:alert(1)", "https://h/")),
            ErrorCode::InvalidOptions
        );
        assert_eq!(
            code(resolve("data:text/html,x", "https://h/")),
            ErrorCode::InvalidOptions
        );
        assert_eq!(
            code(resolve("http:evil/t", "https://h/")),
            ErrorCode::InvalidOptions
        );
        assert_eq!(code(resolve("t", "fhir")), ErrorCode::InvalidOptions);
        assert_eq!(
            code(resolve("a\\b", "https://h/")),
            ErrorCode::InvalidOptions
        );
    }

    #[test]
    fn https_or_local_needs_the_flag_for_loopback() {
        // spec #6
        assert!(is_https_or_local("https://h/t", false));
        assert!(!is_https_or_local("http://h/t", true));
        assert!(!is_https_or_local("http://localhost:8080/t", false));
        for local in [
            "http://localhost:8080/t",
            "http://LOCALHOST/t",
            "http://127.0.0.1/t",
            "http://127.8.9.10:1/t",
            "http://[::1]:3000/t",
        ] {
            assert!(is_https_or_local(local, true), "{local}");
        }
        for not_local in [
            "http://localhost.evil.com/t",
            "http://127.0.0.1.evil/t",
            "http://128.0.0.1/t",
            "http://127.0.0.256/t",
            "http://127.0.0.1a/t",
            "http://127.0x1.0.1/t",
            "http://127.0.0/t",
            "http://127..0.1/t",
            "http://0127.0.0.1/t",
            "http://127.0.0.1./t",
            "http://[::2]/t",
            "not a url",
        ] {
            assert!(!is_https_or_local(not_local, true), "{not_local}");
        }
    }

    #[test]
    fn trailing_slash_is_stripped() {
        // spec #1
        assert_eq!(
            strip_trailing_slash("https://h/a/fhir/"),
            "https://h/a/fhir"
        );
        assert_eq!(strip_trailing_slash("https://h/a/fhir"), "https://h/a/fhir");
    }

    #[test]
    fn is_under_compares_at_segment_boundaries() {
        // spec #57
        let base = "https://h/fhir";
        assert!(is_under("https://h/fhir", base));
        assert!(is_under("https://h/fhir/", base));
        assert!(is_under("https://h/fhir/Patient/1?x=y", base));
        assert!(is_under("HTTPS://H/fhir/Patient", base));
        assert!(is_under("https://h:443/fhir/Patient", base));
        assert!(is_under("https://h/fhir/Patient/1", "https://h/fhir/"));
        assert!(is_under("https://h/anything", "https://h/"));
        assert!(!is_under("https://h/fhir2/Patient", base));
        assert!(!is_under("https://h/fhirx", base));
        assert!(!is_under("https://h/fhir/../admin", base));
        assert!(!is_under("https://h/fhir/%2e%2e/admin", base));
        assert!(!is_under("http://h/fhir/Patient", base));
        assert!(!is_under("https://h:8443/fhir/Patient", base));
        assert!(!is_under("https://other/fhir/Patient/1", base));
        assert!(!is_under("https://h.evil/fhir", base));
        assert!(!is_under("https://h@evil/fhir", base));
        assert!(!is_under("/fhir/Patient", base));
        assert!(!is_under("https://h/FHIR/Patient", base));
    }

    #[test]
    fn append_query_keeps_the_existing_query() {
        // spec #26
        let pairs = [("response_type", "code"), ("scope", "a b")];
        assert_eq!(
            append_query("https://h/auth?tenant=t", &pairs),
            "https://h/auth?tenant=t&response_type=code&scope=a+b"
        );
        assert_eq!(
            append_query("https://h/auth", &pairs),
            "https://h/auth?response_type=code&scope=a+b"
        );
        assert_eq!(
            append_query("https://h/auth?", &pairs[..1]),
            "https://h/auth?response_type=code"
        );
        assert_eq!(
            append_query("https://h/auth?a=1&", &pairs[..1]),
            "https://h/auth?a=1&response_type=code"
        );
        assert_eq!(
            append_query("https://h/auth#f", &pairs[..1]),
            "https://h/auth?response_type=code#f"
        );
        assert_eq!(
            append_query("https://h/auth?a=1", &[]),
            "https://h/auth?a=1"
        );
    }

    #[test]
    fn remove_query_params_keeps_the_rest() {
        // spec #39
        let names = ["code", "state", "iss"];
        assert_eq!(
            remove_query_params(
                "https://app/cb?a=1&code=C&state=S&iss=I&b=%20x#/route?q",
                &names
            ),
            "https://app/cb?a=1&b=%20x#/route?q"
        );
        assert_eq!(
            remove_query_params("https://app/cb?code=C&state=S", &names),
            "https://app/cb"
        );
        assert_eq!(
            remove_query_params("https://app/cb?c%6Fde=C&x", &names),
            "https://app/cb?x"
        );
        assert_eq!(
            remove_query_params("https://app/cb#code=x", &names),
            "https://app/cb#code=x"
        );
        assert_eq!(
            remove_query_params("https://app/cb?codex=1", &names),
            "https://app/cb?codex=1"
        );
    }

    proptest! {
        #[test]
        fn form_pairs_round_trip(pairs in proptest::collection::vec((".*", ".*"), 0..6)) {
            // spec #26, #41: whatever the value, the server decodes what we meant
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let decoded = parse_query(&form_encode(&refs));
            let want: Vec<(String, String)> = pairs.clone();
            prop_assert_eq!(decoded, want);
        }

        #[test]
        fn append_query_round_trips(pairs in proptest::collection::vec(("[a-z_]{1,8}", ".*"), 1..6),
                                    existing in proptest::option::of("[a-z]{1,5}=[a-z0-9]{0,5}")) {
            // spec #26: every pair comes back, after the endpoint's own query
            let endpoint = match &existing {
                Some(q) => format!("https://h/auth?{q}"),
                None => "https://h/auth".to_string(),
            };
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            let url = append_query(&endpoint, &refs);
            let (_, query) = url.split_once('?').unwrap();
            let mut parsed = parse_query(query);
            if let Some(q) = &existing {
                let first = parsed.remove(0);
                let (n, v) = q.split_once('=').unwrap();
                prop_assert_eq!(first, (n.to_string(), v.to_string()));
            }
            prop_assert_eq!(parsed, pairs);
            let u = Url::parse(&url).unwrap();
            prop_assert_eq!(u.path(), "/auth");
        }

        #[test]
        fn resolve_is_stable(segs in proptest::collection::vec("[a-zA-Z0-9_.-]{1,6}", 1..5),
                             base_dir in proptest::collection::vec("[a-z]{1,4}", 0..4),
                             q in proptest::option::of("[a-z]=[a-z]{0,2}( [a-z]{1,2})?")) {
            // spec #5: the result is absolute, normalised, and resolving it again changes nothing
            let base = format!("https://h/{}", base_dir.join("/"));
            let mut rel = segs.join("/");
            if let Some(q) = &q {
                rel.push('?');
                rel.push_str(q);
            }
            let abs = resolve(&rel, &base).unwrap();
            prop_assert_eq!(Url::parse(&abs).unwrap().to_string(), abs.clone());
            prop_assert_eq!(resolve(&abs, "https://other/x").unwrap(), abs.clone());
            prop_assert!(is_under(&abs, "https://h/"));
            prop_assert!(!abs.contains("/./") && !abs.contains("/../"));
            if let Some(q) = &q {
                let (_, query) = abs.split_once('?').unwrap();
                let (n, v) = q.split_once('=').unwrap();
                let want = vec![(n.to_string(), v.to_string())];
                prop_assert_eq!(parse_query(query), want);
            }
        }

        #[test]
        fn normalize_path_matches_the_segment_list(segs in proptest::collection::vec(
            proptest::sample::select(vec![".", "..", "...", "%2e", "%2E", ".%2E", "%2e%2e", "..x", "%2", "%", "a", "", "é", "a b", "%2f"]),
            0..8,
        )) {
            // RFC 3986 §5.2.4 as a list of segments, joined and encoded at the end: the
            // one-pass writer must give the same path
            let path = format!("/{}", segs.join("/"));
            let mut out: Vec<&str> = Vec::new();
            let mut ends_in_dot = false;
            for seg in path[1..].split('/') {
                let dot = |s: &str| s == "." || s.eq_ignore_ascii_case("%2e");
                let double = |s: &str| {
                    ["..", ".%2e", "%2e.", "%2e%2e"].iter().any(|d| s.eq_ignore_ascii_case(d))
                };
                ends_in_dot = dot(seg) || double(seg);
                if double(seg) {
                    out.pop();
                } else if !ends_in_dot {
                    out.push(seg);
                }
            }
            if ends_in_dot {
                out.push("");
            }
            let joined = if out.is_empty() { "/".to_string() } else { format!("/{}", out.join("/")) };
            prop_assert_eq!(normalize_path(&path), percent_encode(&joined, PATH_SET));
        }

        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = Url::parse(&s);
            let _ = resolve(&s, "https://h/fhir");
            let _ = is_under(&s, "https://h/fhir");
            let _ = remove_query_params(&s, &["code"]);
        }
    }

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
