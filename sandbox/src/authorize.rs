//! The authorization endpoint (`GET /authorize`), its interactive consent page and
//! the `/_test/authorize` hook, which share one validation and grant path.
//!
//! Checks, in order (RFC 6749 §4.1.2.1: errors about the client or the redirect URI
//! are shown as a page, all others go back to the redirect URI):
//! 1. no parameter twice (RFC 6749 §3.1); `client_id` registered; `redirect_uri`
//!    registered for it, exact string match;
//! 2. `response_type=code`; `state` present; `aud` equal to the FHIR base;
//!    `code_challenge` present and well formed; `code_challenge_method=S256`
//!    (`plain` or absent is refused, RFC 7636 §4.4.1 and SMART 2.0);
//! 3. `scope` present and well formed; `launch` scope with `launch`, and back;
//! 4. for EHR launch, a known, unexpired, unused `launch` handle for this client.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::fhir::fixtures;
use crate::html::{escape, page};
use crate::scope;
use crate::store::{unix_now, CodeRecord, Grant, Pending};
use crate::AppState;

/// A validated authorization request.
#[derive(Clone, Debug)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub requested: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub launch: Option<LaunchContext>,
}

/// Context carried by an EHR launch handle.
#[derive(Clone, Debug)]
pub struct LaunchContext {
    pub patient: String,
    pub encounter: Option<String>,
    pub need_patient_banner: bool,
}

/// Why an authorization request failed.
#[derive(Debug)]
pub enum AuthError {
    /// Cannot be redirected: shown to the user as a page.
    Page(String),
    /// Goes back to the (validated) redirect URI.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

/// Parse a query or form body, refusing repeated parameters.
pub fn parse_params(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(raw) {
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(format!("parameter {k} is repeated"));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// base64url alphabet, `[A-Za-z0-9-_]`; an S256 challenge is exactly 43 of them.
fn is_s256_challenge(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Validate an authorization request. For EHR launch this consumes the launch handle.
pub fn validate(state: &AppState, raw_query: &str) -> Result<AuthRequest, AuthError> {
    let params = parse_params(raw_query.as_bytes()).map_err(|e| {
        AuthError::Page(format!(
            "Invalid authorization request: {e} (RFC 6749 §3.1)."
        ))
    })?;
    let client_id = param(&params, "client_id")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthError::Page("Missing client_id.".into()))?;
    let client = state
        .config
        .client(client_id)
        .ok_or_else(|| AuthError::Page(format!("Unknown client_id {client_id:?}.")))?;
    let redirect_uri = param(&params, "redirect_uri")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthError::Page("Missing redirect_uri.".into()))?;
    if !client.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(AuthError::Page(format!(
            "The redirect_uri {redirect_uri:?} is not registered for client {client_id:?} (exact match required)."
        )));
    }
    let app_state = param(&params, "state").map(str::to_string);
    let fail = |error: &'static str, description: &str| AuthError::Redirect {
        redirect_uri: redirect_uri.to_string(),
        error,
        description: description.to_string(),
        state: app_state.clone().filter(|s| !s.is_empty()),
    };

    match param(&params, "response_type") {
        None | Some("") => return Err(fail("invalid_request", "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        }
    }
    let app_state = match param(&params, "state") {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => return Err(fail("invalid_request", "state is required")),
    };
    match param(&params, "aud") {
        None | Some("") => {
            return Err(fail(
                "invalid_request",
                "aud is required (the FHIR base URL)",
            ))
        }
        Some(aud) if aud == state.fhir_base => {}
        Some(_) => {
            return Err(fail(
                "invalid_request",
                &format!(
                    "aud does not match this server's FHIR base URL {}",
                    state.fhir_base
                ),
            ))
        }
    }
    let code_challenge = match param(&params, "code_challenge") {
        None | Some("") => {
            return Err(fail(
                "invalid_request",
                "code_challenge is required (PKCE, RFC 7636)",
            ))
        }
        Some(c) => c,
    };
    match param(&params, "code_challenge_method") {
        Some("S256") => {}
        None | Some("") => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method is required and must be S256",
            ))
        }
        Some(_) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method not supported: only S256 is allowed",
            ))
        }
    }
    if !is_s256_challenge(code_challenge) {
        return Err(fail(
            "invalid_request",
            "code_challenge is not a base64url SHA-256 value (43 characters)",
        ));
    }
    let scope_text = match param(&params, "scope") {
        Some(s) if !s.trim().is_empty() => s,
        _ => return Err(fail("invalid_scope", "scope is required")),
    };
    if scope_text
        .split(' ')
        .any(|t| !t.is_empty() && !scope::valid_token(t))
    {
        return Err(fail("invalid_scope", "scope contains an invalid character"));
    }
    let requested = scope::split(scope_text);
    let wants_launch_scope = requested.iter().any(|s| s == "launch");
    let launch_param = param(&params, "launch").filter(|l| !l.is_empty());
    let launch = match (launch_param, wants_launch_scope) {
        (None, false) => None,
        (None, true) => {
            return Err(fail(
                "invalid_request",
                "the launch scope requires the launch parameter (EHR launch)",
            ))
        }
        (Some(_), false) => {
            return Err(fail(
                "invalid_scope",
                "a launch parameter was sent without the launch scope",
            ))
        }
        (Some(handle), true) => {
            let mut store = state.store();
            let now = Instant::now();
            let Some(rec) = store.launches.get_mut(handle) else {
                return Err(fail("invalid_request", "unknown launch handle"));
            };
            if rec.used {
                return Err(fail(
                    "invalid_request",
                    "the launch handle was already used",
                ));
            }
            if rec.expires <= now {
                return Err(fail("invalid_request", "the launch handle has expired"));
            }
            if rec.client_id.as_deref().is_some_and(|c| c != client_id) {
                return Err(fail(
                    "invalid_request",
                    "the launch handle was issued for another client",
                ));
            }
            rec.used = true;
            Some(LaunchContext {
                patient: rec.patient.clone(),
                encounter: rec.encounter.clone(),
                need_patient_banner: rec.need_patient_banner,
            })
        }
    };
    Ok(AuthRequest {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        state: app_state,
        requested,
        nonce: param(&params, "nonce")
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        code_challenge: code_challenge.to_string(),
        launch,
    })
}

/// `redirect_uri` with `params` appended to its query.
pub fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{}", ser.finish())
}

fn error_location(state: &AppState, err: &AuthError) -> Option<String> {
    match err {
        AuthError::Page(_) => None,
        AuthError::Redirect {
            redirect_uri,
            error,
            description,
            state: app_state,
        } => {
            let mut p = vec![
                ("error", *error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = app_state {
                p.push(("state", s.as_str()));
            }
            p.push(("iss", state.issuer()));
            Some(with_query(redirect_uri, &p))
        }
    }
}

/// Grant what was asked (minus what this server does not grant) for `patient` and
/// return the success redirect with a fresh code.
pub fn approve(state: &AppState, req: &AuthRequest, chosen_patient: Option<&str>) -> String {
    let wants = |s: &str| req.requested.iter().any(|r| r == s);
    let (patient, encounter, need_patient_banner, ehr) = match &req.launch {
        Some(l) => (
            Some(l.patient.clone()),
            l.encounter.clone(),
            Some(l.need_patient_banner),
            true,
        ),
        None => {
            let patient = wants("launch/patient").then(|| {
                chosen_patient
                    .unwrap_or(&state.config.default_patient)
                    .to_string()
            });
            let encounter = match (&patient, wants("launch/encounter")) {
                (Some(p), true) => fixtures::encounter_of(p).map(str::to_string),
                _ => None,
            };
            (patient, encounter, None, false)
        }
    };
    let scopes: Vec<String> = req
        .requested
        .iter()
        .filter(|s| scope::grantable(s, ehr, patient.is_some()))
        .cloned()
        .collect();
    let fhir_context = match (&patient, ehr) {
        (Some(p), true) => fixtures::first_observation_of(p)
            .map(|o| json!([{ "reference": format!("Observation/{o}") }])),
        _ => None,
    };
    let grant = Grant {
        client_id: req.client_id.clone(),
        scopes,
        patient,
        encounter,
        fhir_context,
        need_patient_banner,
        smart_style: ehr,
        user: fixtures::PRACTITIONER.to_string(),
        nonce: req.nonce.clone(),
        auth_time: unix_now(),
        revoked: false,
    };
    let mut store = state.store();
    let grant_id = store.add_grant(grant);
    let code = store.new_code(CodeRecord {
        grant: grant_id,
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.code_challenge.clone(),
        expires: Instant::now() + state.config.code_lifetime,
        used: false,
    });
    with_query(
        &req.redirect_uri,
        &[
            ("code", code.as_str()),
            ("state", req.state.as_str()),
            ("iss", state.issuer()),
        ],
    )
}

/// Anti-framing headers (RFC 9700 §4.16) unless `--allow-framing`.
fn protect(state: &AppState, mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !state.config.allow_framing {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    resp
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => error_page("The redirect URL could not be built."),
    }
}

fn error_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(page(
            "Authorization error",
            &format!(
                "<h1>Authorization error</h1><p class=\"error\">{}</p>\
                 <p>The app cannot be told about this error: its client_id or redirect_uri is not trusted.</p>",
                escape(message)
            ),
        )),
    )
        .into_response()
}

/// `GET /authorize`.
pub async fn authorize(State(state): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let q = q.unwrap_or_default();
    let resp = match validate(&state, &q) {
        Err(AuthError::Page(msg)) => error_page(&msg),
        Err(err) => match error_location(&state, &err) {
            Some(loc) => redirect(&loc),
            None => error_page("invalid request"),
        },
        Ok(req) if state.config.interactive => consent_page(&state, req),
        Ok(req) => redirect(&approve(&state, &req, None)),
    };
    protect(&state, resp)
}

/// `GET /_test/authorize`: the same checks and grant, answered as JSON.
pub async fn test_authorize(State(state): State<Arc<AppState>>, RawQuery(q): RawQuery) -> Response {
    let q = q.unwrap_or_default();
    let body = match validate(&state, &q) {
        Err(AuthError::Page(msg)) => json!({"error_page": msg}),
        Err(err) => json!({"location": error_location(&state, &err)}),
        Ok(req) => json!({"location": approve(&state, &req, None)}),
    };
    crate::discovery::json_response(&body)
}

fn consent_page(state: &AppState, req: AuthRequest) -> Response {
    let id = crate::store::random_token();
    let patient_block = match &req.launch {
        Some(l) => {
            let name = fixtures::patient_row(&l.patient)
                .map(fixtures::display_name)
                .unwrap_or_else(|| l.patient.clone());
            format!(
                "<p>Patient in context (from the EHR): <strong>{}</strong></p>\
                 <input type=\"hidden\" name=\"patient\" value=\"{}\">",
                escape(&name),
                escape(&l.patient)
            )
        }
        None if req.requested.iter().any(|s| s == "launch/patient") => {
            let mut s = String::from("<fieldset><legend>Choose a patient</legend>");
            for p in fixtures::PATIENTS {
                let checked = if p.id == state.config.default_patient {
                    " checked"
                } else {
                    ""
                };
                s.push_str(&format!(
                    "<label><input type=\"radio\" name=\"patient\" value=\"{}\"{checked}> {} ({}, born {})</label><br>",
                    escape(p.id),
                    escape(&fixtures::display_name(p)),
                    escape(p.mrn),
                    escape(p.birth_date)
                ));
            }
            s.push_str("</fieldset>");
            s
        }
        None => "<p>No patient context was requested.</p>".to_string(),
    };
    let scopes: String = req
        .requested
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let body = format!(
        "<h1>{ehr}: sign in and authorize</h1>\
         <form method=\"post\" action=\"/authorize/consent\">\
         <input type=\"hidden\" name=\"request\" value=\"{id}\">\
         <p><label>User <input name=\"username\" value=\"dr.moreau\" readonly></label> \
         <label>Password <input name=\"password\" type=\"password\" value=\"sandbox\" readonly></label></p>\
         <p>The app <strong>{client}</strong> asks for:</p><ul>{scopes}</ul>\
         {patient_block}\
         <p><button name=\"decision\" value=\"approve\" id=\"approve\">Approve</button> \
         <button name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></p></form>",
        ehr = escape(&state.config.ehr_name),
        client = escape(&req.client_id),
    );
    state.store().pending.insert(
        id,
        Pending {
            request: req,
            expires: Instant::now() + Duration::from_secs(600),
        },
    );
    Html(page("Authorize app", &body)).into_response()
}

/// `POST /authorize/consent`: the interactive page's decision.
pub async fn consent(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let resp = (|| {
        let params = match parse_params(&body) {
            Ok(p) => p,
            Err(e) => return error_page(&e),
        };
        let id = param(&params, "request").unwrap_or_default();
        let pending = state.store().pending.remove(id);
        let Some(pending) = pending.filter(|p| p.expires > Instant::now()) else {
            return error_page(
                "This authorization request is unknown, expired or already answered.",
            );
        };
        let req = pending.request;
        if param(&params, "decision") != Some("approve") {
            let loc = with_query(
                &req.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "The user denied the request"),
                    ("state", req.state.as_str()),
                    ("iss", state.issuer()),
                ],
            );
            return redirect(&loc);
        }
        let patient = param(&params, "patient").filter(|p| fixtures::patient_row(p).is_some());
        redirect(&approve(&state, &req, patient))
    })();
    let mut resp = protect(&state, resp);
    if resp.status() == StatusCode::FOUND {
        *resp.status_mut() = StatusCode::SEE_OTHER;
    }
    resp
}
