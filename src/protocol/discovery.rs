//! Discovery: `GET [fhir base]/.well-known/smart-configuration` (smart-spec.md §1,
//! checklist #1-#10), and the legacy SMART v1 CapabilityStatement route (§1.5, #10).
//!
//! One request builder ([`discovery_url`], [`capability_statement_url`]) and one
//! response processor ([`process_discovery_response`], [`process_capability_statement`])
//! per route. The processors fail closed (spec #3): a configuration that would make a
//! later step unsafe is an error; a server's harmless non-compliance is a warning in
//! [`SmartConfiguration::warnings`] (the Safire rule).
//!
//! Decisions written down:
//! - Endpoints the client uses (`authorization_endpoint`, `token_endpoint`,
//!   `revocation_endpoint`, `jwks_uri`) must be `https:` (spec #6), else
//!   `insecure_endpoint`; `http://localhost` passes only with
//!   [`DiscoveryOptions::allow_insecure_localhost`]. Endpoints it only displays or never
//!   calls (`management_endpoint`, `introspection_endpoint`) are dropped with a warning.
//! - Relative endpoint URLs are resolved against the FHIR base exactly as
//!   `new URL(rel, base)` does (spec #5): against `https://h/fhir` (no trailing slash)
//!   `auth/token` becomes `https://h/auth/token`.
//! - `issuer` is kept verbatim: it is compared by exact string (RFC 9207, spec #38).

use super::error::{Error, ErrorCode, Result};
use super::json::{strings, Json};
use super::jwks::member_is;
use super::url::{is_https_or_local, parse_url, resolve_url, strip_trailing_slash};
use super::warning::{self, Warning};
use crate::prelude::*;

/// Where the SMART configuration lives, relative to the FHIR base.
pub const WELL_KNOWN_PATH: &str = "/.well-known/smart-configuration";

/// Where the legacy CapabilityStatement lives, relative to the FHIR base (spec #10).
pub const METADATA_PATH: &str = "/metadata";

/// The `url` of the SMART v1 CapabilityStatement security extension (§1.5).
pub const OAUTH_URIS_EXTENSION: &str =
    "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

/// Options of the discovery step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// Development only: accept `http:` on `localhost`, `127.0.0.0/8` and `[::1]`.
    pub allow_insecure_localhost: bool,
}

/// Which scope syntax to request (spec #9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeSyntax {
    /// `patient/Observation.read`
    V1,
    /// `patient/Observation.rs`
    V2,
}

/// A validated SMART configuration. Endpoints are absolute and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmartConfiguration {
    /// The authorization server's issuer, verbatim (exact-match comparisons only).
    pub issuer: Option<String>,
    pub jwks_uri: Option<String>,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub management_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    /// Every capability string, unknown ones included (spec #7).
    pub capabilities: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub grant_types_supported: Option<Vec<String>>,
    pub scopes_supported: Option<Vec<String>>,
    pub response_types_supported: Option<Vec<String>>,
    /// The server's harmless deviations, for the app's console (never secrets).
    pub warnings: Vec<Warning>,
    /// Read from a v1 CapabilityStatement: no capabilities, PKCE support unknown (the
    /// client still sends S256, spec #10).
    pub legacy: bool,
}

impl SmartConfiguration {
    /// True when `capabilities` lists `name` (exact match).
    pub fn has_capability(&self, name: &str) -> bool {
        has_string(&self.capabilities, name)
    }

    /// Use the POST authorization variant only when `authorize-post` is advertised
    /// (spec #8, #27).
    pub fn supports_post_authorize(&self) -> bool {
        self.has_capability("authorize-post")
    }

    /// The scope syntax to request: v2 when `permission-v2` is advertised or neither is,
    /// v1 only for a server that lists `permission-v1` without `permission-v2` (spec #9).
    /// A legacy (v1 CapabilityStatement) server gets v1.
    pub fn preferred_scope_syntax(&self) -> ScopeSyntax {
        if self.legacy {
            return ScopeSyntax::V1;
        }
        if self.has_capability("permission-v1") && !self.has_capability("permission-v2") {
            ScopeSyntax::V1
        } else {
            ScopeSyntax::V2
        }
    }

    /// Whether the server advertises the launch mode (`launch-ehr` or
    /// `launch-standalone`). A legacy configuration has no capabilities, so it is
    /// assumed to support both.
    pub fn supports_launch(&self, ehr: bool) -> bool {
        self.legacy
            || self.has_capability(if ehr {
                "launch-ehr"
            } else {
                "launch-standalone"
            })
    }
}

/// Checks the FHIR base before any request: absolute, `https:` (or loopback with the
/// flag), no query or fragment. Errors: `invalid_options` (field `iss`) or
/// `insecure_endpoint` (field `iss`).
pub fn check_fhir_base(fhir_base: &str, opts: &DiscoveryOptions) -> Result<()> {
    parse_base(fhir_base)?;
    if !is_https_or_local(fhir_base, opts.allow_insecure_localhost) {
        return Err(Error::at(ErrorCode::InsecureEndpoint, "iss"));
    }
    Ok(())
}

/// An absolute `http(s)` FHIR base without query or fragment (field `iss`). Checked
/// only: both callers dropped the parsed `Url`, which came back through memory (a
/// `Result<Url>` with `filter`/`ok_or_else` cost 61 B gz).
fn parse_base(fhir_base: &str) -> Result<()> {
    match parse_url(fhir_base) {
        Some(url) if !url.has_query() && !url.has_fragment() => Ok(()),
        _ => Err(Error::at(ErrorCode::InvalidOptions, "iss")),
    }
}

/// The FHIR base without its trailing `/`, checked as [`discovery_url`] checks it: what
/// both request URLs start with. The launch plan checks the base once for both (a check
/// in each URL's builder cost 37 B gz).
pub fn request_base(fhir_base: &str) -> Result<&str> {
    parse_base(fhir_base)?;
    Ok(strip_trailing_slash(fhir_base))
}

fn base_url(fhir_base: &str, suffix: &str) -> Result<String> {
    Ok(super::text::concat(&[request_base(fhir_base)?, suffix]))
}

/// The discovery URL: the FHIR base without trailing `/`, plus
/// `/.well-known/smart-configuration` (spec #1; CF `#using-well-known`). The request is
/// a GET with `Accept: application/json` (spec #2, made by the browser layer).
///
/// Error: `invalid_options` (field `iss`) for a base that is not an absolute `http(s)`
/// URL or carries a query or fragment. Call [`check_fhir_base`] first for the TLS rule.
pub fn discovery_url(fhir_base: &str) -> Result<String> {
    base_url(fhir_base, WELL_KNOWN_PATH)
}

/// Legacy (spec #10): the CapabilityStatement URL, `[base]/metadata`.
pub fn capability_statement_url(fhir_base: &str) -> Result<String> {
    base_url(fhir_base, METADATA_PATH)
}

fn invalid(field: &'static str) -> Error {
    Error::at(ErrorCode::DiscoveryInvalid, field)
}

/// Resolves an endpoint against the FHIR base and applies the TLS rule (spec #5, #6).
#[inline(always)] // see `process`
fn endpoint(
    value: &str,
    field: &'static str,
    fhir_base: &str,
    opts: &DiscoveryOptions,
) -> Result<String> {
    if value.is_empty() {
        return Err(invalid(field));
    }
    let abs = resolve_url(value, fhir_base).ok_or_else(|| invalid(field))?;
    if !is_https_or_local(&abs, opts.allow_insecure_localhost) {
        return Err(Error::at(ErrorCode::InsecureEndpoint, field));
    }
    Ok(abs)
}

/// A member that must be a string when present; `null` counts as absent.
fn opt_str<'a>(doc: &'a Json, field: &'static str) -> Result<Option<&'a str>> {
    doc.opt_str(field).map_err(|_| invalid(field))
}

/// A member that must be an array when present: its string items. Other items are
/// skipped (a harmless deviation) and reported in `warnings` (with `WARN`).
fn opt_strings<const WARN: bool>(
    doc: &Json,
    field: &'static str,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Vec<String>>> {
    match doc.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => {
            let items = v.as_array().ok_or_else(|| invalid(field))?;
            let kept = strings(items);
            // Fewer strings than items: some were not strings (a second loop over the
            // items, `all(is_string)`, cost 11 bytes of wasm gzip).
            if kept.len() != items.len() {
                warning::push_once::<WARN>(warnings, Warning::NonStringItems);
            }
            Ok(Some(kept))
        }
    }
}

/// Whether an [`opt_strings`] list includes `name`.
fn has_string(items: &[String], name: &str) -> bool {
    items.iter().any(|i| i.as_str() == name)
}

/// An endpoint member of [`ENDPOINTS`].
type Endpoint = (&'static str, &'static str, Option<Warning>);

/// The endpoint members, in the order they are checked: the discovery member, the
/// `oauth-uris` extension's name for it (`""`: none), and for an endpoint the client
/// only displays, the warning it is dropped with when it does not resolve to a usable
/// URL (one the client calls makes that an error). The first two are required.
const ENDPOINTS: [Endpoint; 6] = [
    ("authorization_endpoint", "authorize", None),
    ("token_endpoint", "token", None),
    ("revocation_endpoint", "revoke", None),
    ("jwks_uri", "", None),
    (
        "management_endpoint",
        "manage",
        Some(Warning::ManagementEndpointUnusable),
    ),
    (
        "introspection_endpoint",
        "",
        Some(Warning::IntrospectionEndpointUnusable),
    ),
];

/// Where the endpoint members are read: one loop ([`read_endpoints`]) for both
/// discovery routes, where each member had its own copy of the same code.
enum Source<'a> {
    /// The `.well-known/smart-configuration` document.
    Document(&'a Json),
    /// The members of a CapabilityStatement's `oauth-uris` extension.
    OauthUris(&'a [Json]),
}

impl<'a> Source<'a> {
    /// The value of an endpoint: a wrongly typed discovery member is an error, an
    /// extension member without a string `valueUri` is absent.
    fn value(&self, &(field, name, _): &Endpoint) -> Result<Option<&'a str>> {
        match self {
            Source::Document(doc) => opt_str(doc, field),
            Source::OauthUris(_) if name.is_empty() => Ok(None),
            Source::OauthUris(uris) => Ok(with_url(uris, name)
                .and_then(|e| e.get("valueUri"))
                .and_then(Json::as_str)),
        }
    }

    /// Fails unless the required endpoints are present (`discovery_invalid` naming
    /// the first missing).
    #[inline(always)] // see `process`
    fn require(&self) -> Result<()> {
        for e in &ENDPOINTS[..2] {
            self.value(e)?.ok_or_else(|| invalid(e.0))?;
        }
        Ok(())
    }
}

/// Resolves and checks every endpoint of `source` into `config` (see [`ENDPOINTS`]).
fn read_endpoints<const WARN: bool>(
    config: &mut SmartConfiguration,
    source: &Source,
    fhir_base: &str,
    opts: &DiscoveryOptions,
) -> Result<()> {
    for (i, e @ &(field, _, shown)) in ENDPOINTS.iter().enumerate() {
        let Some(value) = source.value(e)? else {
            continue;
        };
        // Nested, not a match on the (result, warning) pair: 38 B gz.
        let url = match endpoint(value, field, fhir_base, opts) {
            Ok(url) => url,
            Err(err) => {
                let Some(w) = shown else {
                    return Err(err);
                };
                warning::push_once::<WARN>(&mut config.warnings, w);
                continue;
            }
        };
        if i == 0 && super::text::contains(&url, b"#") {
            // RFC 6749 §3.1: the endpoint URI MUST NOT include a fragment.
            return Err(invalid(field));
        }
        match i {
            0 => config.authorization_endpoint = url,
            1 => config.token_endpoint = url,
            2 => config.revocation_endpoint = Some(url),
            3 => config.jwks_uri = Some(url),
            4 => config.management_endpoint = Some(url),
            _ => config.introspection_endpoint = Some(url),
        }
    }
    Ok(())
}

/// A configuration with nothing in it yet. The processors fill it member by member, so
/// that an early error drops one struct instead of each member built so far (those
/// drop ladders were a good part of the processors' wasm). Out of line: inlined, each
/// processor had its own stores of every member (and, inlined into the one [`process`],
/// it still costs 22 bytes gzip).
#[inline(never)]
fn empty_config(legacy: bool) -> SmartConfiguration {
    SmartConfiguration {
        issuer: None,
        jwks_uri: None,
        authorization_endpoint: String::new(),
        token_endpoint: String::new(),
        revocation_endpoint: None,
        management_endpoint: None,
        introspection_endpoint: None,
        capabilities: Vec::new(),
        code_challenge_methods_supported: Vec::new(),
        grant_types_supported: None,
        scopes_supported: None,
        response_types_supported: None,
        warnings: Vec::new(),
        legacy,
    }
}

/// Adds `w` once, with `WARN`: see [`process_without_warnings`].
fn check_status(status: u16) -> Result<()> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::DiscoveryFailed).status(status))
    }
}

/// The common first steps of both discovery answers: a usable FHIR base, a 2xx
/// status, a JSON object body.
#[inline(always)] // see `process`
fn read_document(
    status: u16,
    body: &str,
    fhir_base: &str,
    opts: &DiscoveryOptions,
) -> Result<Json> {
    check_fhir_base(fhir_base, opts)?;
    check_status(status)?;
    // One match and one error for both faults: 23 bytes of wasm gzip less than a
    // `map_err` and an `as_object` check with an error each.
    match Json::parse(body) {
        Ok(doc @ Json::Object(_)) => Ok(doc),
        _ => Err(invalid("body").status(status)),
    }
}

/// Processes the `.well-known/smart-configuration` response (spec #3-#7; smart-spec.md
/// §1.2, §1.4).
///
/// Errors, in order:
/// - `invalid_options` / `insecure_endpoint` (field `iss`): a bad FHIR base;
/// - `discovery_failed` with the HTTP status: a non-2xx answer;
/// - `discovery_invalid` naming the field: not JSON, not an object, a missing or
///   non-string `authorization_endpoint`/`token_endpoint`, a missing or non-array
///   `capabilities`, a wrongly typed optional member, an unresolvable URL;
/// - `insecure_endpoint` naming the field: a used endpoint that is not `https:`;
/// - `pkce_not_supported` (field `code_challenge_methods_supported`): `S256` not listed
///   (spec #4; `plain` is never used);
/// - `unsupported_server` (field `grant_types_supported`): the list lacks
///   `authorization_code`. An absent list is only a warning.
///
/// Unknown members and capability strings are ignored (spec #7).
// Inlined into the caller, which then calls `process` itself: 37 bytes of wasm gzip
// less than two wrapper functions.
#[inline]
pub fn process_discovery_response(
    status: u16,
    body: &str,
    fhir_base: &str,
    opts: &DiscoveryOptions,
) -> Result<SmartConfiguration> {
    process::<true>(false, status, body, fhir_base, opts)
}

/// Both routes: [`process_discovery_response`] and, with `legacy`,
/// [`process_capability_statement`]. One body for the steps they share (the document,
/// the empty configuration, the endpoints, the error return): 57 bytes of wasm gzip
/// less than a copy of each in both. Without `WARN`, no warning is gathered
/// ([`process_without_warnings`]).
///
/// Its one-caller helpers are `#[inline(always)]`: generic over `WARN`, it left them
/// out of line, and that cost more than the warnings saved (81 B gz).
fn process<const WARN: bool>(
    legacy: bool,
    status: u16,
    body: &str,
    fhir_base: &str,
    opts: &DiscoveryOptions,
) -> Result<SmartConfiguration> {
    let doc = read_document(status, body, fhir_base, opts)?;
    let mut config = empty_config(legacy);
    let source = if legacy {
        Source::OauthUris(oauth_uris(&doc))
    } else {
        Source::Document(&doc)
    };
    source.require()?;
    if legacy {
        warning::push_once::<WARN>(&mut config.warnings, Warning::LegacyPkceUnadvertised);
    } else {
        config.capabilities = opt_strings::<WARN>(&doc, "capabilities", &mut config.warnings)?
            .ok_or_else(|| invalid("capabilities"))?;
    }
    read_endpoints::<WARN>(&mut config, &source, fhir_base, opts)?;
    if !legacy {
        read_members::<WARN>(&mut config, &doc)?;
    }
    Ok(config)
}

/// [`process_discovery_response`], or with `legacy` [`process_capability_statement`],
/// without the warnings: the same checks and errors, the same configuration but an
/// empty [`SmartConfiguration::warnings`]. For the launch step, which does not report
/// them: the wasm then has no code for them (88 B gz).
pub fn process_without_warnings(
    legacy: bool,
    status: u16,
    body: &str,
    fhir_base: &str,
    opts: &DiscoveryOptions,
) -> Result<SmartConfiguration> {
    process::<false>(legacy, status, body, fhir_base, opts)
}

/// The members of a discovery document after its endpoints, with their checks, into
/// `config`.
#[inline(always)] // see `process`
fn read_members<const WARN: bool>(config: &mut SmartConfiguration, doc: &Json) -> Result<()> {
    let warnings = &mut config.warnings;
    config.issuer = opt_str(doc, "issuer")?.map(str::to_string);

    config.code_challenge_methods_supported =
        opt_strings::<WARN>(doc, "code_challenge_methods_supported", warnings)?.unwrap_or_default();
    let methods = &config.code_challenge_methods_supported;
    if !has_string(methods, "S256") {
        return Err(Error::at(
            ErrorCode::PkceNotSupported,
            "code_challenge_methods_supported",
        ));
    }
    if has_string(methods, "plain") {
        warning::push_once::<WARN>(warnings, Warning::PlainPkceListed);
    }

    config.grant_types_supported = opt_strings::<WARN>(doc, "grant_types_supported", warnings)?;
    match &config.grant_types_supported {
        Some(g) if !has_string(g, "authorization_code") => {
            return Err(Error::at(
                ErrorCode::UnsupportedServer,
                "grant_types_supported",
            ));
        }
        Some(_) => {}
        None => warning::push_once::<WARN>(warnings, Warning::GrantTypesAbsent),
    }
    config.scopes_supported = opt_strings::<WARN>(doc, "scopes_supported", warnings)?;
    config.response_types_supported =
        opt_strings::<WARN>(doc, "response_types_supported", warnings)?;
    if let Some(r) = &config.response_types_supported {
        if !has_string(r, "code") {
            warning::push_once::<WARN>(warnings, Warning::ResponseTypesLackCode);
        }
    }

    if !config.has_capability("client-public") {
        warning::push_once::<WARN>(&mut config.warnings, Warning::ClientPublicAbsent);
    }
    if config.has_capability("sso-openid-connect") && config.issuer.is_none() {
        warning::push_once::<WARN>(&mut config.warnings, Warning::SsoWithoutIssuer);
    }
    Ok(())
}

/// The first of `items` whose `url` member is `url` (FHIR extension lists).
fn with_url<'a>(items: &'a [Json], url: &str) -> Option<&'a Json> {
    items.iter().find(|e| member_is(e, "url", url))
}

/// Legacy fallback (spec #10; smart-spec.md §1.5, off by default): reads the SMART v1
/// `oauth-uris` extension of a CapabilityStatement (`GET [base]/metadata`):
/// `rest[*].security.extension[url = OAUTH_URIS_EXTENSION].extension[url = authorize |
/// token | revoke | manage].valueUri`.
///
/// The result has `legacy: true`, no capabilities and no advertised PKCE methods; the
/// authorize step still sends S256 (the IG requires apps to). Errors as for
/// [`process_discovery_response`]: `discovery_failed` (status), `discovery_invalid`
/// (`body`, `authorization_endpoint`, `token_endpoint`), `insecure_endpoint`.
// Inlined: see `process_discovery_response`.
#[inline]
pub fn process_capability_statement(
    status: u16,
    body: &str,
    fhir_base: &str,
    opts: &DiscoveryOptions,
) -> Result<SmartConfiguration> {
    process::<true>(true, status, body, fhir_base, opts)
}

/// The members of the first `oauth-uris` extension of any `rest[*].security` (none:
/// empty).
#[inline(always)] // see `process`
fn oauth_uris(doc: &Json) -> &[Json] {
    for rest in doc.get("rest").and_then(Json::as_array).unwrap_or_default() {
        let extensions = rest.get("security").and_then(|s| s.get("extension"));
        let extensions = extensions.and_then(Json::as_array).unwrap_or_default();
        if let Some(ext) = with_url(extensions, OAUTH_URIS_EXTENSION) {
            return ext
                .get("extension")
                .and_then(Json::as_array)
                .unwrap_or_default();
        }
    }
    &[]
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://h/a/fhir";
    const OPTS: DiscoveryOptions = DiscoveryOptions {
        allow_insecure_localhost: false,
    };

    /// The IG's public example, trimmed, with an extension field and capability.
    const GOOD: &str = r#"{
        "issuer": "https://h/auth/",
        "jwks_uri": "https://h/auth/jwks",
        "authorization_endpoint": "https://h/auth/authorize",
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint": "https://h/auth/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "scopes_supported": ["openid", "launch", "patient/*.rs"],
        "response_types_supported": ["code"],
        "management_endpoint": "https://h/manage",
        "introspection_endpoint": "https://h/introspect",
        "revocation_endpoint": "https://h/revoke",
        "capabilities": ["launch-ehr", "launch-standalone", "client-public",
            "context-passthrough-banner", "https://example.org/cap", "permission-v2",
            "sso-openid-connect", "authorize-post"],
        "code_challenge_methods_supported": ["S256"],
        "x-vendor": {"nested": [1, 2, {"a": null}]}
    }"#;

    fn process(body: &str) -> Result<SmartConfiguration> {
        process_discovery_response(200, body, BASE, &OPTS)
    }

    /// `GOOD` with member `key` replaced by raw JSON `value` (or removed when `None`).
    fn with(key: &str, value: Option<&str>) -> String {
        let doc = Json::parse(GOOD).unwrap();
        let mut members: Vec<(String, Json)> = doc.as_object().unwrap().to_vec();
        members.retain(|(k, _)| k != key);
        if let Some(v) = value {
            members.push((key.to_string(), Json::parse(v).unwrap()));
        }
        Json::Object(members).to_string()
    }

    fn err(body: &str) -> (ErrorCode, Option<&'static str>) {
        let e = process(body).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn discovery_url_has_no_doubled_slash() {
        // spec #1
        let want = "https://h/a/fhir/.well-known/smart-configuration";
        assert_eq!(discovery_url("https://h/a/fhir").unwrap(), want);
        assert_eq!(discovery_url("https://h/a/fhir/").unwrap(), want);
        assert_eq!(
            capability_statement_url("https://h/a/fhir/").unwrap(),
            "https://h/a/fhir/metadata"
        );
        let e = discovery_url("h/a/fhir").unwrap_err();
        assert_eq!((e.code, e.field), (ErrorCode::InvalidOptions, Some("iss")));
        let e = discovery_url("https://h/fhir?x=1").unwrap_err();
        assert_eq!((e.code, e.field), (ErrorCode::InvalidOptions, Some("iss")));
    }

    #[test]
    fn fhir_base_needs_tls() {
        // spec #6
        let e = check_fhir_base("http://h/fhir", &OPTS).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::InsecureEndpoint, Some("iss"))
        );
        let dev = DiscoveryOptions {
            allow_insecure_localhost: true,
        };
        assert!(check_fhir_base("http://localhost:8080/fhir", &dev).is_ok());
        assert!(check_fhir_base("http://localhost:8080/fhir", &OPTS).is_err());
    }

    #[test]
    fn good_document_is_read_fully() {
        // spec #7: unknown members and capability strings are ignored
        let c = process(GOOD).unwrap();
        assert_eq!(c.issuer.as_deref(), Some("https://h/auth/"));
        assert_eq!(c.authorization_endpoint, "https://h/auth/authorize");
        assert_eq!(c.token_endpoint, "https://h/auth/token");
        assert_eq!(c.revocation_endpoint.as_deref(), Some("https://h/revoke"));
        assert_eq!(c.jwks_uri.as_deref(), Some("https://h/auth/jwks"));
        assert_eq!(c.management_endpoint.as_deref(), Some("https://h/manage"));
        assert!(c.has_capability("context-passthrough-banner"));
        assert!(c.has_capability("https://example.org/cap"));
        assert!(!c.has_capability("launch"));
        assert_eq!(c.code_challenge_methods_supported, ["S256"]);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert!(!c.legacy);
        assert!(c.supports_launch(true) && c.supports_launch(false));
    }

    #[test]
    fn non_2xx_fails_with_status() {
        // spec #3
        for status in [404, 500, 301, 199] {
            let e = process_discovery_response(status, GOOD, BASE, &OPTS).unwrap_err();
            assert_eq!(e.code, ErrorCode::DiscoveryFailed);
            assert_eq!(e.status, Some(status));
        }
    }

    #[test]
    fn non_json_or_non_object_is_invalid() {
        // spec #3
        for body in ["", "<html>", "[]", "\"x\"", "null", "{\"a\":1", "{} x"] {
            assert_eq!(
                err(body),
                (ErrorCode::DiscoveryInvalid, Some("body")),
                "{body}"
            );
        }
    }

    #[test]
    fn required_members_are_named() {
        // spec #3
        for field in ["authorization_endpoint", "token_endpoint", "capabilities"] {
            assert_eq!(
                err(&with(field, None)),
                (ErrorCode::DiscoveryInvalid, Some(field))
            );
            assert_eq!(
                err(&with(field, Some("42"))),
                (ErrorCode::DiscoveryInvalid, Some(field))
            );
        }
        assert_eq!(
            err(&with("token_endpoint", Some("\"\""))),
            (ErrorCode::DiscoveryInvalid, Some("token_endpoint"))
        );
        assert_eq!(
            err(&with("capabilities", Some("\"launch-ehr\""))),
            (ErrorCode::DiscoveryInvalid, Some("capabilities"))
        );
        assert_eq!(
            err(&with("issuer", Some("{}"))),
            (ErrorCode::DiscoveryInvalid, Some("issuer"))
        );
        assert_eq!(
            err(&with(
                "authorization_endpoint",
                Some("\"javascript:alert(1)\"")
            )),
            (ErrorCode::DiscoveryInvalid, Some("authorization_endpoint"))
        );
    }

    #[test]
    fn pkce_s256_is_required() {
        // spec #4
        let want = (
            ErrorCode::PkceNotSupported,
            Some("code_challenge_methods_supported"),
        );
        assert_eq!(err(&with("code_challenge_methods_supported", None)), want);
        assert_eq!(
            err(&with(
                "code_challenge_methods_supported",
                Some("[\"plain\"]")
            )),
            want
        );
        assert_eq!(
            err(&with("code_challenge_methods_supported", Some("[]"))),
            want
        );
        assert_eq!(
            err(&with(
                "code_challenge_methods_supported",
                Some("[\"s256\"]")
            )),
            want
        );
        let c = process(&with(
            "code_challenge_methods_supported",
            Some("[\"plain\", \"S256\"]"),
        ))
        .unwrap();
        assert!(c.warnings.contains(&Warning::PlainPkceListed));
    }

    #[test]
    fn relative_endpoints_resolve_like_new_url() {
        // spec #5: against `https://h/a/fhir` (no slash) the last segment is replaced
        let body = with("token_endpoint", Some("\"auth/token\""));
        let c = process(&body).unwrap();
        assert_eq!(c.token_endpoint, "https://h/a/auth/token");
        let c = process_discovery_response(200, &body, "https://h/a/fhir/", &OPTS).unwrap();
        assert_eq!(c.token_endpoint, "https://h/a/fhir/auth/token");
        let c = process(&with(
            "authorization_endpoint",
            Some("\"/oauth/authorize?x=1\""),
        ))
        .unwrap();
        assert_eq!(c.authorization_endpoint, "https://h/oauth/authorize?x=1");
    }

    #[test]
    fn insecure_endpoints_are_refused() {
        // spec #6
        for field in [
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "jwks_uri",
        ] {
            let body = with(field, Some("\"http://h/x\""));
            assert_eq!(
                err(&body),
                (ErrorCode::InsecureEndpoint, Some(field)),
                "{field}"
            );
        }
        let body = with("token_endpoint", Some("\"http://localhost:9/token\""));
        assert_eq!(
            err(&body),
            (ErrorCode::InsecureEndpoint, Some("token_endpoint"))
        );
        let dev = DiscoveryOptions {
            allow_insecure_localhost: true,
        };
        let c = process_discovery_response(200, &body, BASE, &dev).unwrap();
        assert_eq!(c.token_endpoint, "http://localhost:9/token");
        // display-only endpoints are dropped with a warning, not fatal
        let c = process(&with("management_endpoint", Some("\"http://h/manage\""))).unwrap();
        assert_eq!(c.management_endpoint, None);
        assert_eq!(c.warnings, [Warning::ManagementEndpointUnusable]);
    }

    #[test]
    fn grant_types_gate_the_code_flow() {
        // smart-spec.md §1.2: abort without authorization_code, warn when absent
        assert_eq!(
            err(&with(
                "grant_types_supported",
                Some("[\"client_credentials\"]")
            )),
            (ErrorCode::UnsupportedServer, Some("grant_types_supported"))
        );
        let c = process(&with("grant_types_supported", None)).unwrap();
        assert_eq!(c.grant_types_supported, None);
        assert!(c.warnings.contains(&Warning::GrantTypesAbsent));
    }

    #[test]
    fn tolerant_of_odd_but_harmless_members() {
        // spec #7
        let c = process(&with("capabilities", Some("[\"launch-ehr\", 7, null]"))).unwrap();
        assert_eq!(c.capabilities, ["launch-ehr"]);
        assert!(c.warnings.contains(&Warning::NonStringItems));
        assert!(c.warnings.contains(&Warning::ClientPublicAbsent));
        let c = process(&with("issuer", Some("null"))).unwrap();
        assert_eq!(c.issuer, None);
        assert!(c.warnings.contains(&Warning::SsoWithoutIssuer));
    }

    #[test]
    fn post_authorize_only_when_advertised() {
        // spec #8
        assert!(process(GOOD).unwrap().supports_post_authorize());
        let body = with("capabilities", Some("[\"launch-ehr\", \"client-public\"]"));
        assert!(!process(&body).unwrap().supports_post_authorize());
    }

    #[test]
    fn scope_syntax_follows_permissions() {
        // spec #9
        let syntax = |caps: &str| {
            process(&with("capabilities", Some(caps)))
                .unwrap()
                .preferred_scope_syntax()
        };
        assert_eq!(syntax("[\"permission-v1\"]"), ScopeSyntax::V1);
        assert_eq!(syntax("[\"permission-v2\"]"), ScopeSyntax::V2);
        assert_eq!(
            syntax("[\"permission-v1\", \"permission-v2\"]"),
            ScopeSyntax::V2
        );
        assert_eq!(syntax("[]"), ScopeSyntax::V2);
    }

    fn capability_statement(authorize: &str, token: &str) -> String {
        format!(
            r#"{{"resourceType":"CapabilityStatement","rest":[{{"mode":"server"}},{{"security":{{
            "extension":[{{"url":"http://other/ext","valueString":"x"}},
            {{"url":"{OAUTH_URIS_EXTENSION}","extension":[
              {{"url":"authorize","valueUri":"{authorize}"}},
              {{"url":"token","valueUri":"{token}"}},
              {{"url":"revoke","valueUri":"https://h/revoke"}},
              {{"url":"manage","valueUri":"https://h/manage"}}]}}]}}}}]}}"#
        )
    }

    #[test]
    fn legacy_capability_statement_gives_endpoints() {
        // spec #10
        let body = capability_statement("https://h/auth/authorize", "token");
        let c = process_capability_statement(200, &body, BASE, &OPTS).unwrap();
        assert!(c.legacy);
        assert_eq!(c.authorization_endpoint, "https://h/auth/authorize");
        assert_eq!(c.token_endpoint, "https://h/a/token");
        assert_eq!(c.revocation_endpoint.as_deref(), Some("https://h/revoke"));
        assert_eq!(c.management_endpoint.as_deref(), Some("https://h/manage"));
        assert!(c.capabilities.is_empty());
        assert!(c.supports_launch(true));
        assert!(!c.supports_post_authorize());
        assert_eq!(c.preferred_scope_syntax(), ScopeSyntax::V1);
    }

    #[test]
    fn legacy_capability_statement_fails_closed() {
        // spec #10, #3, #6
        let e = process_capability_statement(404, "{}", BASE, &OPTS).unwrap_err();
        assert_eq!((e.code, e.status), (ErrorCode::DiscoveryFailed, Some(404)));
        let e = process_capability_statement(200, "nope", BASE, &OPTS).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::DiscoveryInvalid, Some("body"))
        );
        let e = process_capability_statement(200, "{\"rest\":[]}", BASE, &OPTS).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::DiscoveryInvalid, Some("authorization_endpoint"))
        );
        let body = capability_statement("https://h/authorize", "http://h/token");
        let e = process_capability_statement(200, &body, BASE, &OPTS).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::InsecureEndpoint, Some("token_endpoint"))
        );
    }

    /// Member edits: `(key, raw JSON or None to remove)`.
    type Edits<'a> = &'a [(&'a str, Option<&'a str>)];

    /// `GOOD` with each edit applied.
    fn with_all(edits: Edits) -> String {
        let mut members: Vec<(String, Json)> =
            Json::parse(GOOD).unwrap().as_object().unwrap().to_vec();
        for (key, value) in edits {
            members.retain(|(k, _)| k != key);
            if let Some(v) = value {
                members.push((key.to_string(), Json::parse(v).unwrap()));
            }
        }
        Json::Object(members).to_string()
    }

    #[test]
    fn the_first_failing_check_names_the_error() {
        // spec #3: with several faults, the error is always the same one
        let cases: [(Edits, (ErrorCode, &str)); 7] = [
            (
                &[("authorization_endpoint", None), ("capabilities", None)],
                (ErrorCode::DiscoveryInvalid, "authorization_endpoint"),
            ),
            (
                &[("token_endpoint", Some("1")), ("capabilities", None)],
                (ErrorCode::DiscoveryInvalid, "token_endpoint"),
            ),
            (
                &[
                    ("capabilities", Some("{}")),
                    ("authorization_endpoint", Some(r#""http://h/a""#)),
                ],
                (ErrorCode::DiscoveryInvalid, "capabilities"),
            ),
            (
                &[
                    ("authorization_endpoint", Some(r#""http://h/a""#)),
                    ("revocation_endpoint", Some("1")),
                ],
                (ErrorCode::InsecureEndpoint, "authorization_endpoint"),
            ),
            (
                &[
                    ("authorization_endpoint", Some(r#""https://h/a#f""#)),
                    ("token_endpoint", Some(r#""http://h/t""#)),
                ],
                (ErrorCode::DiscoveryInvalid, "authorization_endpoint"),
            ),
            (
                &[
                    ("jwks_uri", Some(r#""http://h/j""#)),
                    ("management_endpoint", Some("1")),
                ],
                (ErrorCode::InsecureEndpoint, "jwks_uri"),
            ),
            (
                &[
                    ("introspection_endpoint", Some("[]")),
                    ("issuer", Some("1")),
                ],
                (ErrorCode::DiscoveryInvalid, "introspection_endpoint"),
            ),
        ];
        for (edits, (code, field)) in cases {
            assert_eq!(err(&with_all(edits)), (code, Some(field)), "{edits:?}");
        }
    }

    #[test]
    fn unusable_display_endpoints_warn_in_order() {
        // spec #6: a non-https display-only endpoint is dropped, with a warning, in the
        // order of the members.
        let c = process(&with_all(&[
            ("introspection_endpoint", Some(r#""http://h/i""#)),
            ("management_endpoint", Some(r#""""#)),
            ("scopes_supported", Some(r#"["openid", 1]"#)),
        ]))
        .unwrap();
        assert_eq!(c.management_endpoint, None);
        assert_eq!(c.introspection_endpoint, None);
        assert_eq!(
            c.warnings,
            [
                Warning::ManagementEndpointUnusable,
                Warning::IntrospectionEndpointUnusable,
                Warning::NonStringItems,
            ]
        );
    }

    #[test]
    fn without_warnings_only_the_warnings_differ() {
        // The launch step's route: the same answer and the same first error.
        let statement = capability_statement("https://h/authorize", "token")
            .replace("https://h/manage", "http://h/manage");
        let cases = [
            (false, GOOD.to_string()),
            (false, with("grant_types_supported", None)),
            (
                false,
                with_all(&[
                    ("management_endpoint", Some(r#""http://h/m""#)),
                    ("scopes_supported", Some("[1]")),
                    (
                        "code_challenge_methods_supported",
                        Some(r#"["S256","plain"]"#),
                    ),
                ]),
            ),
            (false, with("code_challenge_methods_supported", Some("[]"))),
            (false, with("token_endpoint", Some(r#""http://h/t""#))),
            (true, statement),
            (true, "{}".to_string()),
        ];
        for (legacy, body) in cases {
            let full = if legacy {
                process_capability_statement(200, &body, BASE, &OPTS)
            } else {
                process_discovery_response(200, &body, BASE, &OPTS)
            };
            let quiet = process_without_warnings(legacy, 200, &body, BASE, &OPTS);
            match (full, quiet) {
                (Ok(mut full), Ok(quiet)) => {
                    assert!(quiet.warnings.is_empty(), "{body}");
                    full.warnings.clear();
                    assert_eq!(full, quiet, "{body}");
                }
                (Err(full), Err(quiet)) => {
                    assert_eq!((full.code, full.field), (quiet.code, quiet.field), "{body}")
                }
                (full, quiet) => panic!("{body}: {full:?} / {quiet:?}"),
            }
        }
    }

    #[test]
    fn legacy_endpoints_are_checked_like_discovered_ones() {
        // spec #10, #6: an unusable `manage` is dropped with a warning, the others fail
        let body = capability_statement("https://h/authorize", "token")
            .replace("https://h/manage", "http://h/manage")
            .replace(r#""url":"http://other/ext""#, r#""url":"""#);
        let c = process_capability_statement(200, &body, BASE, &OPTS).unwrap();
        assert_eq!(c.management_endpoint, None);
        assert_eq!(c.jwks_uri, None);
        assert_eq!(c.introspection_endpoint, None);
        assert_eq!(
            c.warnings,
            [
                Warning::LegacyPkceUnadvertised,
                Warning::ManagementEndpointUnusable
            ]
        );
        let body = capability_statement("https://h/authorize#f", "http://h/token");
        let e = process_capability_statement(200, &body, BASE, &OPTS).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::DiscoveryInvalid, Some("authorization_endpoint"))
        );
        let body = capability_statement("https://h/authorize", "token")
            .replace("https://h/revoke", "http://h/revoke");
        let e = process_capability_statement(200, &body, BASE, &OPTS).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::InsecureEndpoint, Some("revocation_endpoint"))
        );
        let body = capability_statement("https://h/authorize", "https://h/t")
            .replace(r#"{"url":"token","valueUri":"https://h/t"},"#, "");
        let e = process_capability_statement(200, &body, BASE, &OPTS).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::DiscoveryInvalid, Some("token_endpoint"))
        );
    }
}
