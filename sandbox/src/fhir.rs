//! The FHIR server: reads and searches over the embedded fixtures, guarded by
//! bearer tokens (RFC 6750) and SMART scopes (v1 and v2; patient compartment for
//! `patient/` scopes).
//!
//! - no, unknown, expired or revoked token: 401, `WWW-Authenticate: Bearer
//!   error="invalid_token"`;
//! - a resource or search outside the granted scopes: 403, `WWW-Authenticate:
//!   Bearer error="insufficient_scope"`, OperationOutcome body.

pub mod fixtures;

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::scope::{self, R, S};
use crate::AppState;

const FHIR_JSON: &str = "application/fhir+json";

fn outcome(status: StatusCode, code: &str, text: &str) -> Response {
    let body = json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}]
    });
    (
        status,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        body.to_string(),
    )
        .into_response()
}

fn www_authenticate(resp: &mut Response, error: &str, text: &str) {
    let clean: String = text.chars().filter(|c| *c != '"' && *c != '\\').collect();
    let value =
        format!(r#"Bearer realm="smart-sandbox", error="{error}", error_description="{clean}""#);
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
}

fn unauthorized(text: &str) -> Response {
    let mut resp = outcome(StatusCode::UNAUTHORIZED, "login", text);
    www_authenticate(&mut resp, "invalid_token", text);
    resp
}

fn forbidden(text: &str) -> Response {
    let mut resp = outcome(StatusCode::FORBIDDEN, "forbidden", text);
    www_authenticate(&mut resp, "insufficient_scope", text);
    resp
}

fn ok(body: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        body.to_string(),
    )
        .into_response()
}

/// The scopes and patient context of the request's bearer token.
pub struct Access {
    pub scopes: Vec<String>,
    pub patient: Option<String>,
}

fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Access, Box<Response>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Box::new(unauthorized("a bearer token is required")));
    };
    let value = value.to_str().unwrap_or_default();
    let token = match value.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ => {
            return Err(Box::new(unauthorized(
                "the Authorization header must be Bearer <token>",
            )))
        }
    };
    let store = state.store();
    match store.access_token(token) {
        Ok((rec, grant)) => Ok(Access {
            scopes: rec.scopes.clone(),
            patient: grant.patient.clone(),
        }),
        Err(why) => Err(Box::new(unauthorized(why))),
    }
}

fn lookup(rtype: &str, id: &str) -> Option<Value> {
    match rtype {
        "Patient" => fixtures::patient(id),
        "Encounter" => fixtures::encounter(id),
        "Observation" => fixtures::observation(id),
        "Practitioner" => fixtures::practitioner(id),
        _ => None,
    }
}

const TYPES: &[&str] = &["Patient", "Encounter", "Observation", "Practitioner"];

/// `GET /fhir/{type}/{id}`.
pub async fn read(
    State(state): State<Arc<AppState>>,
    Path((rtype, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let access = match authenticate(&state, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if !TYPES.contains(&rtype.as_str()) {
        return outcome(
            StatusCode::NOT_FOUND,
            "not-supported",
            &format!("resource type {rtype} is not supported here"),
        );
    }
    if !scope::any_for_type(&access.scopes, R, &rtype) {
        return forbidden(&format!("no granted scope allows reading {rtype}"));
    }
    let Some(resource) = lookup(&rtype, &id) else {
        return outcome(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("{rtype}/{id} is not known"),
        );
    };
    if !scope::permits(&access.scopes, R, &resource, access.patient.as_deref()) {
        return forbidden(&format!(
            "the granted scopes do not cover {rtype}/{id} (patient compartment or granular scope)"
        ));
    }
    ok(resource)
}

/// `GET /fhir/{type}?...` for Observation and Encounter: `patient`, `subject`,
/// `category`, `code` (token: `code` or `system|code`), `_count`; other parameters
/// are ignored (FHIR lenient handling).
pub async fn search(
    State(state): State<Arc<AppState>>,
    Path(rtype): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let access = match authenticate(&state, &headers) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if rtype != "Observation" && rtype != "Encounter" {
        return outcome(
            StatusCode::NOT_FOUND,
            "not-supported",
            &format!("search on {rtype} is not supported here"),
        );
    }
    if !scope::any_for_type(&access.scopes, S, &rtype) {
        return forbidden(&format!("no granted scope allows searching {rtype}"));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let mut patient_filter: Option<String> = None;
    for (k, v) in &params {
        if k == "patient" || k == "subject" {
            let id = v.strip_prefix("Patient/").unwrap_or(v).to_string();
            let id = id
                .strip_prefix(&format!("{}/Patient/", state.fhir_base))
                .map(str::to_string)
                .unwrap_or(id);
            patient_filter = Some(id);
        }
    }
    // A patient/ token may not even ask about another patient.
    if let (Some(wanted), Some(ctx)) = (&patient_filter, &access.patient) {
        let user_scoped = access
            .scopes
            .iter()
            .filter_map(|s| scope::parse_resource(s))
            .any(|s| s.context == scope::Context::User && s.perms & S != 0);
        if wanted != ctx && !user_scoped {
            return forbidden("patient/ scopes reach only the patient in context");
        }
    }
    let candidates: Vec<Value> = if rtype == "Observation" {
        fixtures::observations()
            .into_iter()
            .map(|(_, o)| o)
            .collect()
    } else {
        fixtures::PATIENTS
            .iter()
            .filter_map(|p| fixtures::encounter(p.encounter))
            .collect()
    };
    let count = params
        .iter()
        .find(|(k, _)| k == "_count")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let matches: Vec<Value> = candidates
        .into_iter()
        .filter(|r| {
            patient_filter
                .as_ref()
                .is_none_or(|p| fixtures::compartment_patient(r).as_ref() == Some(p))
        })
        .filter(|r| {
            params.iter().all(|(k, v)| match k.as_str() {
                "category" => r
                    .get("category")
                    .and_then(|c| c.as_array())
                    .is_some_and(|cs| cs.iter().any(|c| token_match(c, v))),
                "code" => r.get("code").is_some_and(|c| token_match(c, v)),
                _ => true,
            })
        })
        .filter(|r| scope::permits(&access.scopes, S, r, access.patient.as_deref()))
        .collect();
    let total = matches.len();
    let shown: Vec<Value> = matches
        .into_iter()
        .take(count.unwrap_or(usize::MAX))
        .collect();
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let self_url = if query.is_empty() {
        format!("{}/{rtype}", state.fhir_base)
    } else {
        format!("{}/{rtype}?{query}", state.fhir_base)
    };
    let entries: Vec<Value> = shown
        .into_iter()
        .map(|r| {
            let full = format!(
                "{}/{}/{}",
                state.fhir_base,
                r.get("resourceType")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default(),
                r.get("id").and_then(|v| v.as_str()).unwrap_or_default()
            );
            json!({"fullUrl": full, "resource": r, "search": {"mode": "match"}})
        })
        .collect();
    ok(json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries
    }))
}

/// FHIR token search: `code` or `system|code` against a CodeableConcept;
/// comma-separated values are alternatives.
fn token_match(concept: &Value, wanted: &str) -> bool {
    let Some(codings) = concept.get("coding").and_then(|c| c.as_array()) else {
        return false;
    };
    wanted.split(',').any(|w| {
        let (system, code) = match w.split_once('|') {
            Some((s, c)) => (Some(s), c),
            None => (None, w),
        };
        codings.iter().any(|c| {
            c.get("code").and_then(|v| v.as_str()) == Some(code)
                && system.is_none_or(|s| {
                    s.is_empty() || c.get("system").and_then(|v| v.as_str()) == Some(s)
                })
        })
    })
}

/// Anything else under /fhir.
pub async fn unknown() -> Response {
    outcome(
        StatusCode::NOT_FOUND,
        "not-supported",
        "this FHIR interaction is not supported by smart-sandbox",
    )
}
