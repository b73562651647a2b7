//! A server's harmless non-compliance (the Safire rule: warn unless the deviation makes a
//! step unsafe, which is an [`Error`](super::Error) instead).
//!
//! A warning is a code, not a sentence: the browser path never shows warnings, so
//! English text for each would be wasm bytes nobody reads. The sentence lives on each
//! variant's doc comment; [`Warning::as_str`] gives a stable snake_case code for a
//! console or a log.

use crate::prelude::*;

/// A deviation of the server that the protocol steps tolerate. The string of each (see
/// [`Warning::as_str`]) never changes once released; new warnings may be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Warning {
    // --- discovery ---
    /// A discovery array holds non-string items; they were ignored.
    NonStringItems,
    /// `management_endpoint` is not a usable https URL; it was ignored.
    ManagementEndpointUnusable,
    /// `introspection_endpoint` is not a usable https URL; it was ignored.
    IntrospectionEndpointUnusable,
    /// `code_challenge_methods_supported` lists `plain` (servers SHALL NOT); S256 is
    /// used.
    PlainPkceListed,
    /// `grant_types_supported` is absent; `authorization_code` is assumed.
    GrantTypesAbsent,
    /// `response_types_supported` lacks `code`.
    ResponseTypesLackCode,
    /// `capabilities` lack `client-public`.
    ClientPublicAbsent,
    /// `sso-openid-connect` is advertised without an `issuer`; id_token checks will
    /// fail.
    SsoWithoutIssuer,
    /// Legacy CapabilityStatement discovery: PKCE support is not advertised.
    LegacyPkceUnadvertised,

    // --- token response ---
    /// The token response has no `scope`: the requested scopes are assumed granted
    /// (spec #46).
    ScopeAbsent,
    /// A refresh response has no `expires_in`, which AL step 7 requires (spec #64).
    RefreshExpiresInAbsent,
    /// `refresh_token` was an empty string and was ignored.
    RefreshTokenEmpty,
    /// `authorization_details` was not an array and was ignored.
    AuthorizationDetailsNotArray,

    // --- launch context ---
    /// A `fhirContext` item without a valid `reference`, `canonical` or `identifier`
    /// (or with a member of the wrong JSON type) was skipped.
    FhirContextItemInvalid,
    /// A `fhirContext` item with an empty or non-string `role` was skipped.
    FhirContextRoleInvalid,
    /// `fhirContext` is not an array and was ignored.
    FhirContextNotArray,
    /// `need_patient_banner` is not a boolean and was ignored.
    BannerNotBoolean,
    /// `smart_style_url`, `intent` or `tenant` is not a string and was ignored.
    ContextMemberNotString,
}

impl Warning {
    /// The stable snake_case code of this warning.
    pub const fn as_str(self) -> &'static str {
        use Warning::*;
        match self {
            NonStringItems => "non_string_items",
            ManagementEndpointUnusable => "management_endpoint_unusable",
            IntrospectionEndpointUnusable => "introspection_endpoint_unusable",
            PlainPkceListed => "plain_pkce_listed",
            GrantTypesAbsent => "grant_types_absent",
            ResponseTypesLackCode => "response_types_lack_code",
            ClientPublicAbsent => "client_public_absent",
            SsoWithoutIssuer => "sso_without_issuer",
            LegacyPkceUnadvertised => "legacy_pkce_unadvertised",
            ScopeAbsent => "scope_absent",
            RefreshExpiresInAbsent => "refresh_expires_in_absent",
            RefreshTokenEmpty => "refresh_token_empty",
            AuthorizationDetailsNotArray => "authorization_details_not_array",
            FhirContextItemInvalid => "fhir_context_item_invalid",
            FhirContextRoleInvalid => "fhir_context_role_invalid",
            FhirContextNotArray => "fhir_context_not_array",
            BannerNotBoolean => "banner_not_boolean",
            ContextMemberNotString => "context_member_not_string",
        }
    }
}

/// Adds `w` when `WARN`: the readers are generic over it so that the wasm, which
/// reports no warnings, compiles them without any (`token::process_without_warnings`,
/// `discovery::process_without_warnings`).
pub(crate) fn push<const WARN: bool>(warnings: &mut Vec<Warning>, w: Warning) {
    if WARN {
        warnings.push(w);
    }
}

/// [`push`], unless `warnings` holds `w` already.
pub(crate) fn push_once<const WARN: bool>(warnings: &mut Vec<Warning>, w: Warning) {
    // `iter().all`, not `contains`, which linked its own `SliceContains` copy: 16 B gz.
    if WARN && warnings.iter().all(|&seen| seen != w) {
        warnings.push(w);
    }
}

#[cfg(test)]
mod tests {
    use super::Warning::{self, *};

    const ALL: &[Warning] = &[
        NonStringItems,
        ManagementEndpointUnusable,
        IntrospectionEndpointUnusable,
        PlainPkceListed,
        GrantTypesAbsent,
        ResponseTypesLackCode,
        ClientPublicAbsent,
        SsoWithoutIssuer,
        LegacyPkceUnadvertised,
        ScopeAbsent,
        RefreshExpiresInAbsent,
        RefreshTokenEmpty,
        AuthorizationDetailsNotArray,
        FhirContextItemInvalid,
        FhirContextRoleInvalid,
        FhirContextNotArray,
        BannerNotBoolean,
        ContextMemberNotString,
    ];

    #[test]
    fn codes_are_distinct_snake_case() {
        for (i, w) in ALL.iter().enumerate() {
            let s = w.as_str();
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert!(ALL[..i].iter().all(|o| o.as_str() != s), "{s}");
        }
    }
}
