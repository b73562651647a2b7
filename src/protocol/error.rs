//! The one error type of smart-launch, with stable snake_case codes.
//!
//! Every failure the library reports carries an [`ErrorCode`] whose string form is part
//! of the public API (the README has the table). The other members say *which* field or
//! parameter was at fault and what the server answered; they never carry a token, an
//! authorization code, a PKCE verifier or a `state` value (spec #75), so `Debug` and
//! `Display` are safe to log.

use crate::prelude::*;
use core::fmt;

/// Stable error codes. The string of each (see [`ErrorCode::as_str`]) never changes once
/// released; new codes may be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // --- configuration (the app's own options are wrong: a developer must fix them) ---
    /// An option is missing or malformed (client id, redirect URI, scope characters...).
    InvalidOptions,
    /// EHR launch: the launch `iss` is not on the app's allowlist (spec #12).
    IssuerNotAllowed,
    /// EHR launch: `iss` or `launch` is missing or empty in the launch URL (spec #11).
    LaunchParamsMissing,

    // --- discovery ---
    /// The discovery document could not be fetched or answered a non-2xx status.
    DiscoveryFailed,
    /// The discovery document is not JSON, or lacks a required member (spec #3).
    DiscoveryInvalid,
    /// The server does not advertise PKCE `S256` (spec #4).
    PkceNotSupported,
    /// An endpoint is not `https:` and the localhost exception is off (spec #6).
    InsecureEndpoint,
    /// The server does not support what this launch needs (launch mode, public client,
    /// the `authorization_code` grant).
    UnsupportedServer,

    // --- the redirect back to the app (callback) ---
    /// The callback URL has neither `code` nor `error`.
    CallbackInvalid,
    /// The callback has no `state` (spec #33).
    StateMissing,
    /// The callback's `state` matches no pending transaction of this tab (spec #33, #34).
    StateMismatch,
    /// The transaction record is gone: a reload, a replay, or another tab (spec #32).
    SessionLost,
    /// The transaction record is older than its time-to-live (spec #32).
    TransactionExpired,
    /// RFC 9207: the callback `iss` differs from the expected issuer (spec #38).
    IssuerMismatch,
    /// The user or the server refused authorization (`access_denied`, spec #35).
    AuthorizationDenied,
    /// Any other OAuth error on the redirect; `oauth_error` holds the server's code.
    AuthorizationFailed,

    // --- token endpoint ---
    /// `invalid_grant`: the code or refresh token is bad, used or expired (spec #55, #65).
    InvalidGrant,
    /// `invalid_client`: the server does not know this client id.
    InvalidClient,
    /// Any other OAuth error from the token endpoint; `oauth_error` holds the code.
    TokenRequestFailed,
    /// The token endpoint answered with a server error (5xx) without an OAuth error.
    TokenServerError,
    /// The token response is not usable: not JSON, no `access_token`, a bad
    /// `expires_in`, ... (spec #44).
    TokenResponseInvalid,
    /// `token_type` is not `Bearer` (spec #45).
    UnsupportedTokenType,
    /// A refresh was asked for a scope wider than the grant (spec #61).
    ScopeNotGranted,
    /// A refresh was asked but no refresh token is held (spec #59).
    NoRefreshToken,

    // --- identity ---
    /// The `id_token` is malformed or one of its claims fails validation (spec #67, #70).
    IdTokenInvalid,
    /// The `fhirUser` claim is not a reference to an allowed resource type (spec #69).
    FhirUserInvalid,

    // --- launch context ---
    /// Context that was asked for did not arrive, or arrived malformed (spec #53).
    ContextMissing,

    // --- transport and browser (set by the browser layer) ---
    /// The request never got an HTTP answer: offline, refused, or blocked by CORS.
    NetworkError,
    /// The request took longer than the configured timeout.
    Timeout,
    /// A FHIR request failed; `status` holds the HTTP status.
    FhirRequestFailed,
    /// A FHIR request was refused for lack of scope (403 `insufficient_scope`, spec #58).
    InsufficientScope,
    /// The access token was refused (401 `invalid_token`) and could not be renewed.
    InvalidToken,
    /// The session has ended (logout, failed refresh): relaunch to continue.
    SessionEnded,
    /// The browser offers no CSPRNG (`crypto.getRandomValues`) or no `crypto.subtle` (not a
    /// secure context); never falls back (spec #74).
    CryptoUnavailable,
    /// Session storage is unavailable, so the redirect flow cannot keep its record.
    StorageUnavailable,
    /// The authorization popup could not be opened.
    PopupBlocked,
    /// The user closed the authorization popup before it finished.
    PopupClosed,
}

impl ErrorCode {
    /// Every code, in the order of the README's table.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidOptions,
        ErrorCode::IssuerNotAllowed,
        ErrorCode::LaunchParamsMissing,
        ErrorCode::DiscoveryFailed,
        ErrorCode::DiscoveryInvalid,
        ErrorCode::PkceNotSupported,
        ErrorCode::InsecureEndpoint,
        ErrorCode::UnsupportedServer,
        ErrorCode::CallbackInvalid,
        ErrorCode::StateMissing,
        ErrorCode::StateMismatch,
        ErrorCode::SessionLost,
        ErrorCode::TransactionExpired,
        ErrorCode::IssuerMismatch,
        ErrorCode::AuthorizationDenied,
        ErrorCode::AuthorizationFailed,
        ErrorCode::InvalidGrant,
        ErrorCode::InvalidClient,
        ErrorCode::TokenRequestFailed,
        ErrorCode::TokenServerError,
        ErrorCode::TokenResponseInvalid,
        ErrorCode::UnsupportedTokenType,
        ErrorCode::ScopeNotGranted,
        ErrorCode::NoRefreshToken,
        ErrorCode::IdTokenInvalid,
        ErrorCode::FhirUserInvalid,
        ErrorCode::ContextMissing,
        ErrorCode::NetworkError,
        ErrorCode::Timeout,
        ErrorCode::FhirRequestFailed,
        ErrorCode::InsufficientScope,
        ErrorCode::InvalidToken,
        ErrorCode::SessionEnded,
        ErrorCode::CryptoUnavailable,
        ErrorCode::StorageUnavailable,
        ErrorCode::PopupBlocked,
        ErrorCode::PopupClosed,
    ];

    /// The codes' strings, in the order of the variants, separated by spaces.
    /// [`ErrorCode::as_str`] finds its own by counting: a `match` compiled to a table of
    /// 37 pointers and one of 37 lengths (82 B gz).
    const CODES: &'static str = "\
        invalid_options issuer_not_allowed launch_params_missing discovery_failed \
        discovery_invalid pkce_not_supported insecure_endpoint unsupported_server \
        callback_invalid state_missing state_mismatch session_lost transaction_expired \
        issuer_mismatch authorization_denied authorization_failed invalid_grant \
        invalid_client token_request_failed token_server_error token_response_invalid \
        unsupported_token_type scope_not_granted no_refresh_token id_token_invalid \
        fhir_user_invalid context_missing network_error timeout fhir_request_failed \
        insufficient_scope invalid_token session_ended crypto_unavailable \
        storage_unavailable popup_blocked popup_closed";

    /// The stable snake_case string of this code.
    pub fn as_str(self) -> &'static str {
        super::text::split(Self::CODES, b' ')
            .nth(self as usize)
            .unwrap_or_default()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure with its stable code and safe, value-free details.
///
/// One pointer wide: the details live in a box (errors are rare, `Result`s are not), so
/// every `Result<T, Error>` on the success path moves a word, not ~40 bytes. The
/// members are read through `Deref` (`e.code`, `e.status`, ...).
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<ErrorDetails>);

/// The members of an [`Error`].
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorDetails {
    pub code: ErrorCode,
    /// The field, parameter or option at fault, by name (never its value).
    pub field: Option<&'static str>,
    /// The HTTP status, when a server answered.
    pub status: Option<u16>,
    /// The server's OAuth `error` code, sanitised to the RFC 6749 error charset.
    pub oauth_error: Option<String>,
    /// The server's `error_description` (or OperationOutcome text): untrusted plain text,
    /// to be shown only as text (spec #36).
    pub description: Option<String>,
}

/// Server-supplied strings are capped so a hostile server cannot balloon an error.
const MAX_SERVER_TEXT: usize = 500;

impl core::ops::Deref for Error {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl core::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl Error {
    /// Out of line and cold: hundreds of error paths call it, and inlined each would
    /// carry its own allocation and field stores.
    #[cold]
    #[inline(never)]
    pub fn new(code: ErrorCode) -> Self {
        Error::with_field(code, None)
    }

    /// The one builder of the box, for [`Error::new`] and [`Error::at`] (`at` as `new`
    /// and a store of the field was 5 B gz more).
    #[cold]
    #[inline(never)]
    fn with_field(code: ErrorCode, field: Option<&'static str>) -> Self {
        Error(Box::new(ErrorDetails {
            code,
            field,
            status: None,
            oauth_error: None,
            description: None,
        }))
    }

    /// `Error::new(code).field(name)` in one call: most errors name their field, and a
    /// call at each of those sites instead of two is smaller.
    #[cold]
    #[inline(never)]
    pub fn at(code: ErrorCode, name: &'static str) -> Self {
        Error::with_field(code, Some(name))
    }

    /// Names the field at fault.
    #[cold]
    #[inline(never)]
    pub fn field(mut self, name: &'static str) -> Self {
        self.0.field = Some(name);
        self
    }

    #[cold]
    #[inline(never)]
    pub fn status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }

    /// Keeps the server's OAuth error code, dropping characters RFC 6749 §5.2 forbids.
    #[cold]
    #[inline(never)]
    pub fn oauth_error(mut self, error: &str) -> Self {
        // By byte: every allowed character is ASCII, and no byte of a multi-byte char is.
        let mut clean = String::new();
        for b in error.bytes() {
            if clean.len() == MAX_SERVER_TEXT {
                break;
            }
            if matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e) {
                clean.push(b as char);
            }
        }
        self.0.oauth_error = Some(clean);
        self
    }

    /// Keeps the server's description as plain text, without control characters.
    #[cold]
    #[inline(never)]
    pub fn description(mut self, text: &str) -> Self {
        // By byte, into bytes decoded once at the end: `text::utf8` is in the wasm
        // anyway, and whole chars dropped from UTF-8 leave UTF-8 (copying the kept runs
        // with `push_str` was 24 B gz more). The control characters (`char::is_control`)
        // are C0 and DEL, one byte each, and C1, U+0080-U+009F: 0xC2 then 0x80-0x9F.
        let bytes = text.as_bytes();
        let mut kept = Vec::new();
        let (mut chars, mut i) = (0, 0);
        while let Some(&b) = bytes.get(i) {
            let control = match b {
                0x00..=0x1f | 0x7f => 1,
                0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => 2,
                _ => 0,
            };
            if control > 0 {
                i += control;
                continue;
            }
            // A continuation byte belongs to the char before.
            if !(0x80..=0xbf).contains(&b) {
                if chars == MAX_SERVER_TEXT {
                    break;
                }
                chars += 1;
            }
            kept.push(b);
            i += 1;
        }
        let clean = super::text::utf8(&kept, true).unwrap_or_default();
        self.0.description = Some(clean);
        self
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Self {
        Error::new(code)
    }
}

impl Error {
    /// The message: the code, then the field, status, OAuth error and description; the
    /// JS `SmartError` builds the same one from the members the wasm answers
    /// (`src/js/smart_error.js`), so this is not on the wasm path.
    pub fn message(&self) -> String {
        let mut m = String::from(self.code.as_str());
        if let Some(field) = self.field {
            m.push_str(" (field `");
            m.push_str(field);
            m.push_str("`)");
        }
        if let Some(status) = self.status {
            m.push_str(" HTTP ");
            super::text::push_u64(&mut m, status.into());
        }
        if let Some(e) = &self.oauth_error {
            m.push_str(" error=");
            m.push_str(e);
        }
        if let Some(d) = &self.description {
            m.push_str(": ");
            m.push_str(d);
        }
        m
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({self})")
    }
}

impl core::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings as the variants name them, to check [`ErrorCode::CODES`] against.
    fn by_match(code: ErrorCode) -> &'static str {
        use ErrorCode::*;
        match code {
            InvalidOptions => "invalid_options",
            IssuerNotAllowed => "issuer_not_allowed",
            LaunchParamsMissing => "launch_params_missing",
            DiscoveryFailed => "discovery_failed",
            DiscoveryInvalid => "discovery_invalid",
            PkceNotSupported => "pkce_not_supported",
            InsecureEndpoint => "insecure_endpoint",
            UnsupportedServer => "unsupported_server",
            CallbackInvalid => "callback_invalid",
            StateMissing => "state_missing",
            StateMismatch => "state_mismatch",
            SessionLost => "session_lost",
            TransactionExpired => "transaction_expired",
            IssuerMismatch => "issuer_mismatch",
            AuthorizationDenied => "authorization_denied",
            AuthorizationFailed => "authorization_failed",
            InvalidGrant => "invalid_grant",
            InvalidClient => "invalid_client",
            TokenRequestFailed => "token_request_failed",
            TokenServerError => "token_server_error",
            TokenResponseInvalid => "token_response_invalid",
            UnsupportedTokenType => "unsupported_token_type",
            ScopeNotGranted => "scope_not_granted",
            NoRefreshToken => "no_refresh_token",
            IdTokenInvalid => "id_token_invalid",
            FhirUserInvalid => "fhir_user_invalid",
            ContextMissing => "context_missing",
            NetworkError => "network_error",
            Timeout => "timeout",
            FhirRequestFailed => "fhir_request_failed",
            InsufficientScope => "insufficient_scope",
            InvalidToken => "invalid_token",
            SessionEnded => "session_ended",
            CryptoUnavailable => "crypto_unavailable",
            StorageUnavailable => "storage_unavailable",
            PopupBlocked => "popup_blocked",
            PopupClosed => "popup_closed",
        }
    }

    #[test]
    fn codes_are_in_variant_order() {
        for &c in ErrorCode::ALL {
            assert_eq!(c.as_str(), by_match(c));
        }
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for &c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
        }
    }

    #[test]
    fn server_text_is_sanitised_and_capped() {
        let e = Error::new(ErrorCode::InvalidGrant)
            .oauth_error("invalid\"_grant\\")
            .description(&format!("line\none\u{7}{}", "x".repeat(2000)));
        assert_eq!(e.oauth_error.as_deref(), Some("invalid_grant"));
        let d = e.description.clone().unwrap();
        assert!(!d.contains('\n') && !d.contains('\u{7}'));
        assert_eq!(d.chars().count(), MAX_SERVER_TEXT);
    }

    fn by_chars(text: &str) -> String {
        text.chars()
            .filter(|c| !c.is_control())
            .take(MAX_SERVER_TEXT)
            .collect()
    }

    #[test]
    fn description_drops_c0_del_and_c1_and_caps_by_char() {
        for text in [
            "",
            "\u{0}a\u{1f}b\u{7f}c\u{80}d\u{9f}e\u{a0}f\u{85}",
            "\u{c2}\u{c3}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}\u{2028}",
            &"é\u{9b}".repeat(600),
            &"€".repeat(499),
            &format!("{}\n{}", "😀".repeat(499), "x".repeat(3)),
        ] {
            let e = Error::new(ErrorCode::InvalidGrant).description(text);
            assert_eq!(e.description.as_deref(), Some(&*by_chars(text)), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn description_matches_the_char_filter(text in "(\\PC|\\p{Cc}){0,40}", n in 0usize..3) {
            let text = text.repeat(n * 20 + 1);
            let e = Error::new(ErrorCode::InvalidGrant).description(&text);
            proptest::prop_assert_eq!(e.description.as_deref(), Some(&*by_chars(&text)));
        }
    }

    #[test]
    fn display_names_field_and_status() {
        let e = Error::new(ErrorCode::DiscoveryInvalid)
            .field("token_endpoint")
            .status(200);
        assert_eq!(
            e.to_string(),
            "discovery_invalid (field `token_endpoint`) HTTP 200"
        );
        assert_eq!(
            format!("{e:?}"),
            "Error(discovery_invalid (field `token_endpoint`) HTTP 200)"
        );
        // The JS SmartError builds the same message from the same members (test-types
        // checks it against this string).
        let all = Error::new(ErrorCode::TokenRequestFailed)
            .field("code")
            .status(400)
            .oauth_error("invalid_request")
            .description("bad code");
        assert_eq!(
            all.message(),
            "token_request_failed (field `code`) HTTP 400 error=invalid_request: bad code"
        );
    }
}

#[cfg(test)]
mod readme_tests {
    use super::ErrorCode;

    /// The README's table is the documentation of the codes: every code has a row.
    #[test]
    fn every_code_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        for code in ErrorCode::ALL {
            let row = format!("| `{}` |", code.as_str());
            assert!(readme.contains(&row), "README lacks a row for {code}");
        }
    }
}
