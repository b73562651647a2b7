//! Scopes: syntax checks, v1/v2 parsing, and granted-vs-requested comparison
//! (smart-spec.md §5; RFC 6749 §3.3; SMART *Scopes and Launch Context*).
//!
//! The granted `scope` of a token response is authoritative and may differ from the
//! request in any way: a different factoring (`.rs` + `.cud` for `.cruds`), narrower,
//! broader, entirely different, or empty (spec #46). So scopes are compared *parsed*,
//! never as strings: [`parse_scopes`] classifies every token into a [`Scope`], and
//! [`covers`] implements the per-letter coverage rule of §5.2 step 4.
//!
//! Parsing never fails: a token this module does not understand (an out-of-order
//! `.dus`, a v1 suffix with a query, a bare word) becomes [`Scope::Unknown`] and is kept
//! opaque, compared by exact equality (§5.2 step 5).

use crate::prelude::*;
use core::fmt::{self, Write as _};

use super::error::{Error, ErrorCode, Result};
use super::text;

/// Splits a scope string on ASCII spaces, dropping empty tokens, and checks each token
/// against the RFC 6749 §3.3 charset (`%x21 / %x23-5B / %x5D-7E`) (spec #20).
pub fn scope_tokens(scope: &str) -> Result<Vec<&str>> {
    let invalid = || Error::at(ErrorCode::InvalidOptions, "scope");
    // A plain loop: the filter-collect chain cost more wasm.
    let mut tokens = Vec::new();
    for token in text::split(scope, b' ') {
        if token.is_empty() {
            continue;
        }
        // A plain loop, not `bytes().all`: that brought its own `Copied::try_fold`.
        for b in token.bytes() {
            if !matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e) {
                return Err(invalid());
            }
        }
        tokens.push(token);
    }
    if tokens.is_empty() {
        return Err(invalid());
    }
    Ok(tokens)
}

/// Who the data of a resource scope is about (§5.1): the patient in context, what the
/// user may see, or a backend system. Coverage never crosses contexts (§5.2 step 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScopeContext {
    Patient,
    User,
    System,
}

impl ScopeContext {
    pub const fn as_str(self) -> &'static str {
        match self {
            ScopeContext::Patient => "patient",
            ScopeContext::User => "user",
            ScopeContext::System => "system",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "patient" => Some(ScopeContext::Patient),
            "user" => Some(ScopeContext::User),
            "system" => Some(ScopeContext::System),
            _ => None,
        }
    }
}

/// A set of the v2 permission letters `c r u d s` (§5.1), one bit each.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms(u8);

impl Perms {
    pub const NONE: Perms = Perms(0);
    pub const C: Perms = Perms(1);
    pub const R: Perms = Perms(2);
    pub const U: Perms = Perms(4);
    pub const D: Perms = Perms(8);
    pub const S: Perms = Perms(16);
    /// v1 `.read` = v2 `.rs`.
    pub const READ: Perms = Perms(2 | 16);
    /// v1 `.write` = v2 `.cud`.
    pub const WRITE: Perms = Perms(1 | 4 | 8);
    /// v1 `.*` = v2 `.cruds`.
    pub const ALL: Perms = Perms(31);

    const LETTERS: [(u8, u8); 5] = [(1, b'c'), (2, b'r'), (4, b'u'), (8, b'd'), (16, b's')];

    /// Parses a v2 suffix: at least one letter, in `cruds` order, each at most once.
    /// Anything else (`.dus`, `.rr`, `.x`, empty) is `None` (§5.1).
    pub fn parse_v2(suffix: &str) -> Option<Perms> {
        let mut bits = 0u8;
        // The search goes on from past the letter it found, so each later letter must
        // come later in `cruds`; the letter at position `i` is bit `1 << i`. (`get`, not
        // indexing, which kept two panic paths in the wasm; 16 B gz less than a `find`
        // over `LETTERS`.)
        let mut next = 0;
        for ch in suffix.bytes() {
            loop {
                let &letter = b"cruds".get(next)?;
                next += 1;
                if letter == ch {
                    bits |= 1 << (next - 1);
                    break;
                }
            }
        }
        (bits != 0).then_some(Perms(bits))
    }

    pub const fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Each single letter of the set, in `cruds` order.
    pub fn letters(self) -> impl Iterator<Item = Perms> {
        Self::LETTERS
            .into_iter()
            .filter(move |&(b, _)| self.0 & b != 0)
            .map(|(b, _)| Perms(b))
    }
}

/// Writes the canonical v2 suffix, e.g. `rs`.
impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (b, l) in Self::LETTERS {
            if self.0 & b != 0 {
                f.write_char(l.into())?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Perms({self})")
    }
}

/// A FHIR resource scope, v1 or v2 (§5.1, §5.2 step 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceScope {
    pub context: ScopeContext,
    /// A resource type, or `*` for every type, present and future.
    pub resource_type: String,
    /// v1 suffixes are normalised to v2 letters (`read` -> `rs`, `write` -> `cud`,
    /// `*` -> `cruds`).
    pub perms: Perms,
    /// Granular `param=value` pairs, kept literally: no percent-decoding; values may
    /// contain `|`, `:` and `/`.
    pub query: Option<Vec<(String, String)>>,
    /// Written in v1 syntax (kept for display: servers return v1 for v1 requests).
    pub v1: bool,
}

/// An OpenID Connect identity scope (§5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentityScope {
    OpenId,
    FhirUser,
    Profile,
}

/// A scope asking for a refresh token (§5.1, spec #30).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefreshScope {
    OfflineAccess,
    /// EHR launch only (2.2).
    OnlineAccess,
}

/// One classified scope token (§5.2 step 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Resource(ResourceScope),
    /// `launch` (`resource: None`), `launch/patient`, `launch/<type>`, and
    /// `launch/<type>?role=<uri>` (2.2).
    Launch {
        resource: Option<String>,
        role: Option<String>,
    },
    Identity(IdentityScope),
    Refresh(RefreshScope),
    /// A full URI or a name starting with `__` (SC `#extensibility`).
    Extension(String),
    /// Anything else, kept opaque.
    Unknown(String),
}

impl Scope {
    /// Classifies one token. Never fails: what is not understood is [`Scope::Unknown`].
    pub fn parse(token: &str) -> Scope {
        Token::parse(token).to_scope()
    }

    pub fn as_resource(&self) -> Option<&ResourceScope> {
        match self {
            Scope::Resource(r) => Some(r),
            _ => None,
        }
    }

    /// This scope, borrowed, in the form [`covers`] compares.
    fn token(&self) -> Token<'_, QueryList<'_>> {
        match self {
            Scope::Resource(r) => Token::Resource(ResourceToken {
                context: r.context,
                resource_type: &r.resource_type,
                perms: r.perms,
                query: r.query.as_deref().map(QueryList),
                v1: r.v1,
            }),
            Scope::Launch { resource, role } => Token::Launch {
                resource: resource.as_deref(),
                role: role.as_deref(),
            },
            Scope::Identity(i) => Token::Identity(*i),
            Scope::Refresh(r) => Token::Refresh(*r),
            Scope::Extension(s) => Token::Extension(s),
            Scope::Unknown(s) => Token::Unknown(s),
        }
    }
}

/// A scope token classified without copying it: the form in which this module
/// compares scopes. [`Scope`] is its owned, public form ([`Scope::parse`] copies a
/// `Token` out). Why two forms: the checks a launch runs on scope strings (the refresh
/// scope, the scope report, the launch context) need no owned scopes, and building,
/// copying and dropping those was 0.3 KB gz of wasm.
///
/// `Q` is the form of a granular query: [`QueryText`] for a token read from a string,
/// [`QueryList`] for an owned [`Scope`]. A type parameter, not an enum of the two: the
/// launch compares only tokens read from strings, so the wasm then holds no code for
/// owned queries (an enum kept both forms in every comparison: 112 B gz more).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token<'a, Q = QueryText<'a>> {
    Resource(ResourceToken<'a, Q>),
    Launch {
        resource: Option<&'a str>,
        role: Option<&'a str>,
    },
    Identity(IdentityScope),
    Refresh(RefreshScope),
    Extension(&'a str),
    Unknown(&'a str),
}

/// [`ResourceScope`], borrowed.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ResourceToken<'a, Q = QueryText<'a>> {
    context: ScopeContext,
    resource_type: &'a str,
    perms: Perms,
    query: Option<Q>,
    v1: bool,
}

/// The `param=value` pairs of a granular scope, in one of its two forms. An iterator
/// rather than a `dyn FnMut` visitor: the `dyn` calls were the wasm's only indirect
/// calls, and without them the function table goes too (34 B gz less, measured).
trait Query<'a>: Copy {
    fn pairs(self) -> impl Iterator<Item = (&'a str, &'a str)>;

    /// Whether every pair of `self` is one of `other`. One out-of-line function for both
    /// halves of [`same_pairs`], in plain loops: 15 B gz less than a `contains` per pair
    /// (as an `all` over `any`, it was 13 B gz more).
    #[inline(never)]
    fn within(self, other: Self) -> bool {
        'pairs: for pair in self.pairs() {
            for theirs in other.pairs() {
                if theirs == pair {
                    continue 'pairs;
                }
            }
            return false;
        }
        true
    }
}

/// Equal as sets: mutual inclusion rather than sort-and-compare, which would link the
/// standard library's sort routines (kilobytes of wasm) for lists of a few pairs.
fn same_pairs<'a, Q: Query<'a>>(a: Q, b: Q) -> bool {
    a.within(b) && b.within(a)
}

/// The pairs as written in a token: `p=v(&p=v)*`, checked by [`Token::parse`].
#[derive(Clone, Copy)]
struct QueryText<'a>(&'a str);

impl<'a> Query<'a> for QueryText<'a> {
    fn pairs(self) -> impl Iterator<Item = (&'a str, &'a str)> {
        text::split(self.0, b'&').map(|part| text::split_once(part, b'=').unwrap_or((part, "")))
    }
}

impl PartialEq for QueryText<'_> {
    fn eq(&self, other: &Self) -> bool {
        same_pairs(*self, *other)
    }
}

impl Eq for QueryText<'_> {}

/// The pairs of an owned [`ResourceScope`].
#[derive(Clone, Copy)]
struct QueryList<'a>(&'a [(String, String)]);

impl<'a> Query<'a> for QueryList<'a> {
    fn pairs(self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0.iter().map(|(p, v)| (p.as_str(), v.as_str()))
    }
}

impl PartialEq for QueryList<'_> {
    fn eq(&self, other: &Self) -> bool {
        same_pairs(*self, *other)
    }
}

impl Eq for QueryList<'_> {}

impl<'a> Token<'a> {
    /// Classifies one token (see [`Scope::parse`]).
    fn parse(token: &'a str) -> Token<'a> {
        match token {
            "openid" => return Token::Identity(IdentityScope::OpenId),
            "fhirUser" => return Token::Identity(IdentityScope::FhirUser),
            "profile" => return Token::Identity(IdentityScope::Profile),
            "offline_access" => return Token::Refresh(RefreshScope::OfflineAccess),
            "online_access" => return Token::Refresh(RefreshScope::OnlineAccess),
            "launch" => {
                return Token::Launch {
                    resource: None,
                    role: None,
                }
            }
            _ => {}
        }
        if let Some(rest) = token.strip_prefix("launch/") {
            if let Some(scope) = parse_launch(rest) {
                return scope;
            }
        } else if let Some(scope) = parse_resource(token) {
            return Token::Resource(scope);
        }
        if token.starts_with("__") || is_uri(token) {
            return Token::Extension(token);
        }
        Token::Unknown(token)
    }

    /// The owned form.
    fn to_scope(self) -> Scope {
        match self {
            Token::Resource(r) => Scope::Resource(ResourceScope {
                context: r.context,
                resource_type: r.resource_type.into(),
                perms: r.perms,
                query: r
                    .query
                    .map(|q| q.pairs().map(|(p, v)| (p.into(), v.into())).collect()),
                v1: r.v1,
            }),
            Token::Launch { resource, role } => Scope::Launch {
                resource: resource.map(String::from),
                role: role.map(String::from),
            },
            Token::Identity(i) => Scope::Identity(i),
            Token::Refresh(r) => Scope::Refresh(r),
            Token::Extension(s) => Scope::Extension(s.into()),
            Token::Unknown(s) => Scope::Unknown(s.into()),
        }
    }
}

/// `launch/<type>` or `launch/<type>?role=<uri>`: a type of ASCII letters and digits,
/// and at most one role (§5.1).
fn parse_launch(rest: &str) -> Option<Token<'_>> {
    let (resource, query) = match text::split_once(rest, b'?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    if resource.is_empty() || !text::all_word(resource, b"") {
        return None;
    }
    let role = match query {
        None => None,
        Some(q) => {
            let role = q.strip_prefix("role=")?;
            if role.is_empty() || text::contains(role, b"&") {
                return None;
            }
            Some(role)
        }
    };
    Some(Token::Launch {
        resource: Some(resource),
        role,
    })
}

/// `(patient|user|system)/(Type|*).(suffix)[?p=v(&p=v)*]` (§5.1).
fn parse_resource(token: &str) -> Option<ResourceToken<'_>> {
    let (head, query) = match text::split_once(token, b'?') {
        Some((h, q)) => (h, Some(q)),
        None => (token, None),
    };
    let (context, rest) = text::split_once(head, b'/')?;
    let context = ScopeContext::parse(context)?;
    let (resource_type, suffix) = text::split_once(rest, b'.')?;
    let type_ok = is_any_type(resource_type)
        || (!resource_type.is_empty() && text::all_word(resource_type, b""));
    if !type_ok {
        return None;
    }
    let (perms, v1) = match suffix {
        "read" => (Perms::READ, true),
        "write" => (Perms::WRITE, true),
        "*" => (Perms::ALL, true),
        other => (Perms::parse_v2(other)?, false),
    };
    let query = match query {
        None => None,
        // v1 has no granular scopes.
        Some(_) if v1 => return None,
        Some(q) => {
            for part in text::split(q, b'&') {
                let (p, v) = text::split_once(part, b'=')?;
                if p.is_empty() || v.is_empty() {
                    return None;
                }
            }
            Some(QueryText(q))
        }
    };
    Some(ResourceToken {
        context,
        resource_type,
        perms,
        query,
        v1,
    })
}

/// Whether a resource type is `*`, every type. A slice pattern: `== "*"` was a call
/// to the string comparison at each use (8 B gz).
fn is_any_type(resource_type: &str) -> bool {
    matches!(resource_type.as_bytes(), [b'*'])
}

/// RFC 3986 §3.1: `scheme ":" ...` with something after the colon.
fn is_uri(token: &str) -> bool {
    let Some((scheme, rest)) = text::split_once(token, b':') else {
        return false;
    };
    text::is_scheme(scheme) && !rest.is_empty()
}

/// Writes the token back. A parsed token writes back exactly as it was read.
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Resource(r) => write!(f, "{r}"),
            Scope::Launch { resource, role } => {
                f.write_str("launch")?;
                if let Some(resource) = resource {
                    write!(f, "/{resource}")?;
                }
                if let Some(role) = role {
                    write!(f, "?role={role}")?;
                }
                Ok(())
            }
            Scope::Identity(IdentityScope::OpenId) => f.write_str("openid"),
            Scope::Identity(IdentityScope::FhirUser) => f.write_str("fhirUser"),
            Scope::Identity(IdentityScope::Profile) => f.write_str("profile"),
            Scope::Refresh(RefreshScope::OfflineAccess) => f.write_str("offline_access"),
            Scope::Refresh(RefreshScope::OnlineAccess) => f.write_str("online_access"),
            Scope::Extension(s) | Scope::Unknown(s) => f.write_str(s),
        }
    }
}

impl fmt::Display for ResourceScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}.", self.context.as_str(), self.resource_type)?;
        match (self.v1, self.perms) {
            (true, Perms::READ) => f.write_str("read")?,
            (true, Perms::WRITE) => f.write_str("write")?,
            (true, Perms::ALL) => f.write_str("*")?,
            (_, perms) => write!(f, "{perms}")?,
        }
        if let Some(query) = &self.query {
            for (i, (p, v)) in query.iter().enumerate() {
                let sep = if i == 0 { '?' } else { '&' };
                write!(f, "{sep}{p}={v}")?;
            }
        }
        Ok(())
    }
}

/// Tokenizes on ASCII space (dropping empty tokens) and classifies each token
/// (§5.2 steps 1-2). Lenient: a server's odd token becomes [`Scope::Unknown`].
pub fn parse_scopes(scope: &str) -> Vec<Scope> {
    text::split(scope, b' ')
        .filter(|t| !t.is_empty())
        .map(Scope::parse)
        .collect()
}

/// The tokens of a scope string, classified and borrowed (see [`parse_scopes`]).
fn tokens(scope: &str) -> Vec<Token<'_>> {
    // A plain loop: the filter-map-collect chain cost more wasm.
    let mut tokens = Vec::new();
    for token in text::split(scope, b' ') {
        if !token.is_empty() {
            tokens.push(Token::parse(token));
        }
    }
    tokens
}

/// The `launch/<type>` scopes of a scope string: each type, with its role if any.
pub(crate) fn launch_types(scope: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    text::split(scope, b' ').filter_map(|t| match Token::parse(t) {
        Token::Launch {
            resource: Some(resource),
            role,
        } => Some((resource, role)),
        _ => None,
    })
}

/// Whether the granted scopes cover `requested` (§5.2 step 4).
///
/// A resource scope is covered when each of its letters is granted by some scope of the
/// same context, the same type or `*`, and either no query or the same query as a set:
/// so `rs` + `cud` cover `cruds`, and a granted query scope never covers an
/// unconstrained request. Every other kind is covered by an equal token (step 5).
pub fn covers(granted: &[Scope], requested: &Scope) -> bool {
    let granted: Vec<Token<QueryList>> = granted.iter().map(Scope::token).collect();
    covers_token(&granted, requested.token())
}

fn covers_token<'a, Q: Query<'a> + Eq>(granted: &[Token<'a, Q>], requested: Token<'a, Q>) -> bool {
    let Token::Resource(req) = requested else {
        return granted.contains(&requested);
    };
    let resources = granted.iter().filter_map(|g| match g {
        Token::Resource(g) => Some(*g),
        _ => None,
    });
    covers_resource(resources, req)
}

/// The letter rule of [`covers`]: whether the `granted` resource scopes cover `req`.
fn covers_resource<'a, Q: Query<'a> + Eq>(
    granted: impl Iterator<Item = ResourceToken<'a, Q>>,
    req: ResourceToken<'a, Q>,
) -> bool {
    // Each letter of the request must be granted by some scope that applies to it
    // (same context, type and query): that is, the letters of all the scopes that
    // apply, together, hold the request's. One pass over the grant, not one a letter
    // (39 B gz).
    let mut letters = Perms::NONE;
    for g in granted {
        let applies = g.context == req.context
            && (g.resource_type == req.resource_type || is_any_type(g.resource_type))
            // No granted query, or the same one (as a set); the `Option` comparison
            // is 14 B gz less than a match on both queries.
            && (g.query.is_none() || g.query == req.query);
        if applies {
            letters = letters.union(g.perms);
        }
    }
    letters.contains(req.perms)
}

/// Whether every scope of `requested` is covered by `granted`.
pub fn covers_all(granted: &[Scope], requested: &[Scope]) -> bool {
    requested.iter().all(|r| covers(granted, r))
}

/// The three groups of §5.2 step 6, as the original token strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeReport {
    /// Requested tokens the grant covers.
    pub granted_and_requested: Vec<String>,
    /// Requested tokens the grant does not (fully) cover.
    pub missing: Vec<String>,
    /// Granted tokens beyond the request (not covered by the requested set).
    pub extra: Vec<String>,
}

/// Compares a request with a grant, parsed (§5.2, spec #46). Gate features on
/// [`ScopeReport::missing`], never on string presence.
pub fn compare(requested: &str, granted: &str) -> ScopeReport {
    let req = tokens(requested);
    let got = tokens(granted);
    let mut report = ScopeReport::default();
    for (token, scope) in text::split(requested, b' ')
        .filter(|t| !t.is_empty())
        .zip(&req)
    {
        if covers_token(&got, *scope) {
            report.granted_and_requested.push(token.to_owned());
        } else {
            report.missing.push(token.to_owned());
        }
    }
    for (token, scope) in text::split(granted, b' ')
        .filter(|t| !t.is_empty())
        .zip(&got)
    {
        if !covers_token(&req, *scope) {
            report.extra.push(token.to_owned());
        }
    }
    report
}

/// Checks the `scope` of a refresh request against the current grant (AL step 7,
/// RFC 6749 §6, spec #61): every requested token must be covered by the grant, so a
/// refresh can narrow but never widen. Bad characters give `InvalidOptions`; a scope
/// beyond the grant gives `ScopeNotGranted` (field `scope`).
pub fn check_refresh_scope(requested: &str, granted: &str) -> Result<()> {
    // On the strings, only resource scopes parsed: any other token is covered by an
    // equal token (two tokens classify alike exactly when they are equal), so the
    // launch never links the classification of the other kinds. An equal token is
    // looked for first, whatever the kind: it covers a resource scope too (an equal
    // scope grants every letter, with the same query), and one path for both kinds is
    // 11 B gz less than a match on the kind.
    let resources = text::split(granted, b' ').filter_map(parse_resource);
    let covered = |token: &&str| {
        text::split(granted, b' ').any(|g| g == *token)
            || parse_resource(token).is_some_and(|req| covers_resource(resources.clone(), req))
    };
    if scope_tokens(requested)?.iter().all(covered) {
        Ok(())
    } else {
        Err(Error::at(ErrorCode::ScopeNotGranted, "scope"))
    }
}

/// Rewrites a scope string for a server that supports only `permission-v1` (spec #9):
/// each v2 resource scope becomes the smallest v1 suffix that holds its letters
/// (`rs` or a subset -> `read`, `cud` or a subset -> `write`, else `*`). v1 cannot
/// express granular query scopes, so one of those is an `InvalidOptions` error rather
/// than a silent widening (spec #31). Other tokens pass through unchanged.
pub fn to_v1(scope: &str) -> Result<String> {
    // Built in place: `Vec<String>::join` would bring its generic copy routine.
    let mut out = String::new();
    for token in scope_tokens(scope)? {
        if !out.is_empty() {
            out.push(' ');
        }
        match Scope::parse(token) {
            Scope::Resource(r) if r.query.is_some() => {
                return Err(Error::at(ErrorCode::InvalidOptions, "scope"))
            }
            Scope::Resource(mut r) => {
                r.perms = if Perms::READ.contains(r.perms) {
                    Perms::READ
                } else if Perms::WRITE.contains(r.perms) {
                    Perms::WRITE
                } else {
                    Perms::ALL
                };
                r.v1 = true;
                out.push_str(&r.to_string());
            }
            _ => out.push_str(token),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn res(scope: &str) -> ResourceScope {
        match Scope::parse(scope) {
            Scope::Resource(r) => r,
            other => panic!("{scope} parsed as {other:?}"),
        }
    }

    #[test]
    fn scope_tokens_refuse_forbidden_characters() {
        // spec #20
        assert!(scope_tokens("patient/Obs \"x\"").is_err());
        assert!(scope_tokens("a\\b").is_err());
        assert!(scope_tokens("café").is_err());
        assert!(scope_tokens("   ").is_err());
        assert_eq!(
            scope_tokens(" launch  openid ").unwrap(),
            ["launch", "openid"]
        );
    }

    #[test]
    fn v2_resource_scopes_parse_into_parts() {
        // spec #46, §5.1
        let r = res("patient/Observation.rs");
        assert_eq!(r.context, ScopeContext::Patient);
        assert_eq!(r.resource_type, "Observation");
        assert_eq!(r.perms, Perms::R.union(Perms::S));
        assert!(!r.v1 && r.query.is_none());
        let r = res("user/*.cruds");
        assert_eq!(
            (r.context, r.resource_type.as_str()),
            (ScopeContext::User, "*")
        );
        assert_eq!(r.perms, Perms::ALL);
        assert_eq!(res("system/Patient.d").perms, Perms::D);
    }

    #[test]
    fn v1_suffixes_normalise_to_v2_letters() {
        // spec #9, §5.1 v1 -> v2 mapping
        let r = res("patient/Observation.read");
        assert_eq!((r.perms, r.v1), (Perms::READ, true));
        assert_eq!(res("user/Patient.write").perms, Perms::WRITE);
        assert_eq!(res("user/*.*").perms, Perms::ALL);
        assert_eq!(Scope::parse("user/*.*").to_string(), "user/*.*");
        assert_eq!(Perms::WRITE.to_string(), "cud");
    }

    #[test]
    fn v2_suffixes_are_the_letters_of_cruds_in_order() {
        // spec #46, §5.1: every suffix of up to four letters of `crudsx`, against the rule: at
        // least one letter, each of `cruds`, each later than the one before.
        let alphabet = b"crudsx";
        let mut suffixes = vec![String::new()];
        for len in 1..=4 {
            let mut n = alphabet.len().pow(len);
            while n > 0 {
                n -= 1;
                let mut k = n;
                let s: String = (0..len)
                    .map(|_| {
                        let c = alphabet[k % alphabet.len()] as char;
                        k /= alphabet.len();
                        c
                    })
                    .collect();
                suffixes.push(s);
            }
        }
        for s in suffixes {
            let positions: Vec<Option<usize>> = s.chars().map(|c| "cruds".find(c)).collect();
            let valid = !positions.is_empty()
                && positions.iter().all(Option::is_some)
                && positions.windows(2).all(|w| w[0] < w[1]);
            let want = valid.then(|| Perms(positions.iter().map(|p| 1u8 << p.unwrap()).sum()));
            assert_eq!(Perms::parse_v2(&s), want, "{s}");
        }
    }

    #[test]
    fn out_of_order_or_repeated_letters_are_opaque() {
        // §5.1: `.dus` is not canonical; build only canonical suffixes
        for t in [
            "patient/Observation.dus",
            "patient/Observation.rr",
            "patient/Observation.",
            "patient/Observation.rx",
            "patient/Observation.read?code=1",
            "doctor/Observation.rs",
            "patient/Obs-x.rs",
            "patient/Observation.rs?",
            "patient/Observation.rs?code",
        ] {
            assert_eq!(Scope::parse(t), Scope::Unknown(t.into()), "{t}");
        }
    }

    #[test]
    fn query_is_kept_literally() {
        // §5.2 step 3: no decoding, values may hold | : /
        let t = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory&code%3Ain=x";
        let r = res(t);
        assert_eq!(
            r.query.as_deref().unwrap(),
            [
                (
                    "category".to_string(),
                    "http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
                        .to_string()
                ),
                ("code%3Ain".to_string(), "x".to_string())
            ]
        );
        assert_eq!(Scope::parse(t).to_string(), t);
    }

    #[test]
    fn launch_identity_refresh_extension_kinds() {
        // §5.1 context, identity, refresh and extension scopes
        assert_eq!(
            Scope::parse("launch"),
            Scope::Launch {
                resource: None,
                role: None
            }
        );
        assert_eq!(
            Scope::parse("launch/patient"),
            Scope::Launch {
                resource: Some("patient".into()),
                role: None
            }
        );
        assert_eq!(
            Scope::parse("launch/imagingstudy?role=https://example.org/role"),
            Scope::Launch {
                resource: Some("imagingstudy".into()),
                role: Some("https://example.org/role".into())
            }
        );
        assert!(matches!(
            Scope::parse("launch/x?role=a&role=b"),
            Scope::Unknown(_)
        ));
        assert_eq!(
            Scope::parse("openid"),
            Scope::Identity(IdentityScope::OpenId)
        );
        assert_eq!(
            Scope::parse("fhirUser"),
            Scope::Identity(IdentityScope::FhirUser)
        );
        assert_eq!(
            Scope::parse("online_access"),
            Scope::Refresh(RefreshScope::OnlineAccess)
        );
        assert!(matches!(
            Scope::parse("__profilePhoto.manage"),
            Scope::Extension(_)
        ));
        assert!(matches!(
            Scope::parse("https://example.org/scopes/x"),
            Scope::Extension(_)
        ));
        assert!(matches!(Scope::parse("Openid"), Scope::Unknown(_)));
    }

    #[test]
    fn different_factoring_covers_the_request() {
        // spec #46, §5.2 step 4: rs + cud cover cruds
        let granted = parse_scopes("patient/Observation.rs patient/Observation.cud");
        assert!(covers(&granted, &Scope::parse("patient/Observation.cruds")));
        let only_read = parse_scopes("patient/Observation.rs");
        assert!(!covers(
            &only_read,
            &Scope::parse("patient/Observation.cruds")
        ));
        // v1 grant covers a v2 request and the reverse
        assert!(covers(
            &parse_scopes("patient/Observation.read"),
            &Scope::parse("patient/Observation.rs")
        ));
        assert!(covers(
            &parse_scopes("patient/Observation.s patient/Observation.r"),
            &Scope::parse("patient/Observation.read")
        ));
    }

    #[test]
    fn wildcard_covers_any_type_but_not_the_reverse() {
        // §5.1 `*` covers all types; §5.2 step 4
        let star = parse_scopes("patient/*.rs");
        assert!(covers(&star, &Scope::parse("patient/Condition.r")));
        let obs = parse_scopes("patient/Observation.rs");
        assert!(!covers(&obs, &Scope::parse("patient/*.rs")));
    }

    #[test]
    fn contexts_never_cross() {
        // §5.2 step 4: no crossing between patient, user and system
        let user = parse_scopes("user/*.cruds");
        assert!(!covers(&user, &Scope::parse("patient/Observation.r")));
        assert!(!covers(
            &parse_scopes("system/*.cruds"),
            &Scope::parse("user/Observation.r")
        ));
    }

    #[test]
    fn granted_query_scope_never_covers_unconstrained_request() {
        // §5.2 step 4; spec #46
        let granted = parse_scopes("patient/Observation.rs?category=laboratory");
        assert!(!covers(&granted, &Scope::parse("patient/Observation.rs")));
        assert!(covers(
            &granted,
            &Scope::parse("patient/Observation.r?category=laboratory")
        ));
        // query compared as a set
        let two = parse_scopes("patient/Observation.rs?a=1&b=2");
        assert!(covers(
            &two,
            &Scope::parse("patient/Observation.rs?b=2&a=1")
        ));
        assert!(!covers(&two, &Scope::parse("patient/Observation.rs?a=1")));
        // an unconstrained grant covers a constrained request
        assert!(covers(
            &parse_scopes("patient/Observation.rs"),
            &Scope::parse("patient/Observation.rs?a=1")
        ));
    }

    #[test]
    fn compare_reports_three_groups() {
        // spec #46, §5.2 step 6; IG example: offline_access requested, not granted
        let report = compare(
            "launch/patient patient/Observation.rs patient/Patient.rs offline_access",
            "launch/patient patient/*.rs openid",
        );
        assert_eq!(
            report.granted_and_requested,
            [
                "launch/patient",
                "patient/Observation.rs",
                "patient/Patient.rs"
            ]
        );
        assert_eq!(report.missing, ["offline_access"]);
        assert_eq!(report.extra, ["patient/*.rs", "openid"]);
    }

    #[test]
    fn empty_grant_misses_everything() {
        // spec #46: the grant may be empty
        let report = compare("openid fhirUser patient/Patient.r", "");
        assert!(report.granted_and_requested.is_empty());
        assert_eq!(report.missing.len(), 3);
        assert!(report.extra.is_empty());
    }

    #[test]
    fn refresh_scope_must_be_a_subset() {
        // spec #61
        let granted = "patient/Observation.rs patient/Patient.rs launch/patient";
        assert!(check_refresh_scope("patient/Observation.r", granted).is_ok());
        assert!(check_refresh_scope("patient/Observation.rs launch/patient", granted).is_ok());
        let e = check_refresh_scope("patient/Observation.cruds", granted).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::ScopeNotGranted, Some("scope"))
        );
        let e = check_refresh_scope("patient/*.rs", granted).unwrap_err();
        assert_eq!(e.code, ErrorCode::ScopeNotGranted);
        let e = check_refresh_scope("a\"b", granted).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidOptions);
    }

    #[test]
    fn refresh_scope_kinds_are_covered_as_in_the_report() {
        // spec #61, §5.2 steps 4-5: each kind of token, covered or not
        let granted = "openid fhirUser launch launch/patient launch/Encounter?role=urn:r \
                       __ext urn:x:y odd patient/Observation.rs?b=2&a=1 user/*.cud \
                       patient/Patient.read";
        for (requested, ok) in [
            ("openid fhirUser launch __ext urn:x:y odd", true),
            ("launch/patient launch/Encounter?role=urn:r", true),
            ("profile", false),
            ("offline_access", false),
            ("launch/Encounter", false),
            ("launch/patient?role=urn:r", false),
            ("__ext2", false),
            ("patient/Observation.r?a=1&b=2", true),
            ("patient/Observation.r?a=1", false),
            ("patient/Observation.r", false),
            ("user/Device.c user/*.d", true),
            ("user/Device.r", false),
            ("patient/Patient.rs patient/Patient.read", true),
            ("system/Patient.r", false),
            ("patient/Observation.dus", false),
            ("user/*.write", true),
        ] {
            assert_eq!(
                check_refresh_scope(requested, granted).is_ok(),
                ok,
                "{requested}"
            );
            assert_eq!(
                compare(requested, granted).missing.is_empty(),
                ok,
                "{requested}"
            );
        }
    }

    #[test]
    fn v1_rewrite_for_v1_only_servers() {
        // spec #9: a v1-only server gets `.read` scopes; spec #31: no silent widening of
        // granular scopes
        assert_eq!(
            to_v1("launch patient/Observation.rs user/Patient.cu user/*.cruds openid").unwrap(),
            "launch patient/Observation.read user/Patient.write user/*.* openid"
        );
        assert_eq!(
            to_v1("patient/Observation.r").unwrap(),
            "patient/Observation.read"
        );
        let e = to_v1("patient/Observation.rs?category=laboratory").unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::InvalidOptions, Some("scope"))
        );
    }

    fn v2_scope() -> impl Strategy<Value = ResourceScope> {
        (
            prop_oneof![
                Just(ScopeContext::Patient),
                Just(ScopeContext::User),
                Just(ScopeContext::System)
            ],
            prop_oneof!["[A-Z][A-Za-z0-9]{0,20}", Just("*".to_string())],
            1u8..32,
            proptest::option::of(proptest::collection::vec(
                ("[a-z_:.%0-9-]{1,10}", "[A-Za-z0-9|:/._%=-]{1,20}"),
                1..4,
            )),
        )
            .prop_map(|(context, resource_type, p, query)| ResourceScope {
                context,
                resource_type,
                perms: Perms(p),
                query,
                v1: false,
            })
    }

    /// Tokens of every kind, few enough that a request and a grant share some.
    fn vocabulary() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "openid",
            "fhirUser",
            "launch",
            "launch/patient",
            "launch/Encounter?role=urn:r",
            "__ext",
            "odd",
            "patient/*.rs",
            "patient/Observation.r",
            "patient/Observation.cu",
            "patient/Observation.rs?a=1&b=2",
            "patient/Observation.s?b=2&a=1",
            "patient/Observation.read",
            "user/Observation.d",
            "user/*.cruds?a=1",
            "patient/Observation.dus",
        ])
    }

    proptest! {
        #[test]
        fn generated_v2_scopes_parse_back_to_their_parts(scope in v2_scope()) {
            // §5.1 grammar; spec #46
            let token = scope.to_string();
            let r = res(&token);
            prop_assert_eq!(r.context, scope.context);
            prop_assert_eq!(&r.resource_type, &scope.resource_type);
            prop_assert_eq!(r.perms, scope.perms);
            prop_assert_eq!(&r.query, &scope.query);
            prop_assert_eq!(r, scope);
            prop_assert_eq!(Scope::parse(&token).to_string(), token);
        }

        #[test]
        fn a_scope_covers_itself(token in "[!#-\\[\\]-~]{1,40}") {
            // §5.2 step 4 and 5
            let s = Scope::parse(&token);
            prop_assert!(covers(core::slice::from_ref(&s), &s));
            prop_assert_eq!(s.to_string(), token);
        }

        #[test]
        fn refresh_scope_check_agrees_with_owned_coverage(
            requested in proptest::collection::vec(vocabulary(), 1..4),
            granted in proptest::collection::vec(vocabulary(), 0..6),
        ) {
            // spec #61: the check on strings and `covers_all` on owned scopes agree
            let (requested, granted) = (requested.join(" "), granted.join(" "));
            prop_assert_eq!(
                check_refresh_scope(&requested, &granted).is_ok(),
                covers_all(&parse_scopes(&granted), &parse_scopes(&requested))
            );
        }

        #[test]
        fn letter_rule_agrees_with_a_letter_by_letter_search(
            requested in vocabulary(),
            granted in proptest::collection::vec(vocabulary(), 0..6),
        ) {
            // §5.2 step 4 as written: each letter of the request granted by some scope
            // of the same context, the same type or `*`, and no query or the same one.
            let granted = parse_scopes(&granted.join(" "));
            let requested = Scope::parse(requested);
            if let Scope::Resource(req) = &requested {
                let by_letter = req.perms.letters().all(|letter| {
                    granted.iter().filter_map(Scope::as_resource).any(|g| {
                        g.context == req.context
                            && (g.resource_type == req.resource_type || g.resource_type == "*")
                            && g.perms.contains(letter)
                            && g.query.as_ref().is_none_or(|gq| {
                                req.query.as_ref().is_some_and(|rq| {
                                    gq.iter().all(|p| rq.contains(p)) && rq.iter().all(|p| gq.contains(p))
                                })
                            })
                    })
                });
                prop_assert_eq!(covers(&granted, &requested), by_letter);
            }
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,80}") {
            // spec #20 / robustness: typed results, never a panic
            let parsed = parse_scopes(&text);
            let _ = compare(&text, &text);
            let _ = check_refresh_scope(&text, &text);
            let _ = to_v1(&text);
            let joined: Vec<String> = parsed.iter().map(|s| s.to_string()).collect();
            let original: Vec<&str> = text.split(' ').filter(|t| !t.is_empty()).collect();
            prop_assert_eq!(joined, original);
        }
    }
}
