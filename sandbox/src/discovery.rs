//! Discovery: `.well-known/smart-configuration`, the CapabilityStatement with the
//! legacy `oauth-uris` extension, the OpenID configuration, the JWKS and the style
//! JSON behind `smart_style_url`. CORS is open to any origin on all of them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::AppState;

pub const CAPABILITIES: &[&str] = &[
    "launch-ehr",
    "launch-standalone",
    "client-public",
    "context-banner",
    "context-style",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "context-standalone-encounter",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
    "sso-openid-connect",
];

pub const SCOPES_SUPPORTED: &[&str] = &[
    "openid",
    "fhirUser",
    "profile",
    "launch",
    "launch/patient",
    "launch/encounter",
    "offline_access",
    "online_access",
    "patient/*.rs",
    "patient/*.read",
    "patient/Patient.rs",
    "patient/Encounter.rs",
    "patient/Observation.rs",
    "user/*.rs",
    "user/*.read",
    "user/Patient.rs",
    "user/Encounter.rs",
    "user/Observation.rs",
    "user/Practitioner.rs",
];

pub fn json_response(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

pub fn smart_configuration_json(state: &AppState) -> Value {
    let base = &state.base;
    json!({
        "issuer": state.issuer(),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "revocation_endpoint": format!("{base}/revoke"),
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "capabilities": CAPABILITIES,
    })
}

pub async fn smart_configuration(State(state): State<Arc<AppState>>) -> Response {
    json_response(&smart_configuration_json(&state))
}

pub async fn openid_configuration(State(state): State<Arc<AppState>>) -> Response {
    let base = &state.base;
    json_response(&json!({
        "issuer": state.issuer(),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "fhirUser", "profile"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser", "name"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

pub async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    json_response(&state.signer.jwks())
}

pub async fn metadata(State(state): State<Arc<AppState>>) -> Response {
    let base = &state.base;
    let resources: Vec<Value> = ["Patient", "Encounter", "Observation", "Practitioner"]
        .iter()
        .map(|t| {
            let mut interactions = vec![json!({"code": "read"})];
            if *t == "Observation" || *t == "Encounter" {
                interactions.push(json!({"code": "search-type"}));
            }
            json!({"type": t, "interaction": interactions})
        })
        .collect();
    let body = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2025-01-01",
        "kind": "instance",
        "software": {"name": "smart-sandbox", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "smart-sandbox (local test server)", "url": state.fhir_base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {
                "cors": true,
                "service": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                    "code": "SMART-on-FHIR"
                }]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "authorize", "valueUri": format!("{base}/authorize")},
                        {"url": "token", "valueUri": format!("{base}/token")},
                        {"url": "revoke", "valueUri": format!("{base}/revoke")}
                    ]
                }]
            },
            "resource": resources
        }]
    });
    (
        [(header::CONTENT_TYPE, "application/fhir+json")],
        body.to_string(),
    )
        .into_response()
}

/// The styling JSON behind `smart_style_url` (SMART "context-style").
pub async fn smart_style() -> Response {
    json_response(&json!({
        "color_background": "#edeae3",
        "color_error": "#9e2d2d",
        "color_highlight": "#69b5ce",
        "color_modal_backdrop": "",
        "color_success": "#498e49",
        "color_text": "#303030",
        "dim_border_radius": "6px",
        "dim_font_size": "13px",
        "dim_spacing_size": "20px",
        "font_family_body": "Georgia, Times, 'Times New Roman', serif",
        "font_family_heading": "'HelveticaNeue-Light', Helvetica, Arial, 'Lucida Grande', sans-serif"
    }))
}
