//! The token endpoint (`POST /token`: authorization_code and refresh_token grants
//! for public clients) and the revocation endpoint (`POST /revoke`, RFC 7009).
//!
//! Error statuses: 400 for every request error (invalid_request, invalid_grant,
//! invalid_scope, unsupported_grant_type), 401 for an unknown client
//! (invalid_client), 500 for an unexpected server error (server_error).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::authorize::{param, parse_params};
use crate::scope;
use crate::store::{unix_now, Grant};
use crate::testing::LifetimeOverride;
use crate::AppState;

/// An OAuth error response (RFC 6749 §5.2).
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

fn bad(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.into(),
    }
}

fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        no_store(
            (
                self.status,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response(),
        )
    }
}

fn ok_json(body: &Value) -> Response {
    no_store(
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
    )
}

/// Form-encoded body, no parameter twice; otherwise invalid_request.
fn form(headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mime = ct.split(';').next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(bad(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    parse_params(body).map_err(|e| bad("invalid_request", e))
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, OAuthError> {
    param(params, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad("invalid_request", format!("{name} is required")))
}

/// client_id is required in the body (public clients) and must be registered.
fn client<'a>(state: &AppState, params: &'a [(String, String)]) -> Result<&'a str, OAuthError> {
    let id = required(params, "client_id")?;
    if state.config.client(id).is_none() {
        return Err(OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: format!("unknown client_id {id:?}"),
        });
    }
    Ok(id)
}

/// RFC 7636 §4.1: 43-128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub fn s256(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

/// `POST /token`.
pub async fn token(
    State(state): State<Arc<AppState>>,
    lifetime: Option<Extension<LifetimeOverride>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lifetime = lifetime
        .map(|Extension(LifetimeOverride(s))| Duration::from_secs(s))
        .unwrap_or(state.config.access_token_lifetime);
    match token_inner(&state, lifetime, &headers, &body) {
        Ok(v) => ok_json(&v),
        Err(e) => e.into_response(),
    }
}

fn token_inner(
    state: &AppState,
    lifetime: Duration,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, OAuthError> {
    let params = form(headers, body)?;
    let grant_type = required(&params, "grant_type")?;
    let client_id = client(state, &params)?;
    state.store().sweep();
    match grant_type {
        "authorization_code" => code_grant(state, &params, client_id, lifetime),
        "refresh_token" => refresh_grant(state, &params, client_id, lifetime),
        other => Err(bad(
            "unsupported_grant_type",
            format!("grant_type {other:?} is not supported"),
        )),
    }
}

fn code_grant(
    state: &AppState,
    params: &[(String, String)],
    client_id: &str,
    lifetime: Duration,
) -> Result<Value, OAuthError> {
    let code = required(params, "code")?;
    let redirect_uri = required(params, "redirect_uri")?;
    let verifier = required(params, "code_verifier")?;
    let mut store = state.store();
    let Some(rec) = store.codes.get_mut(code) else {
        return Err(bad("invalid_grant", "unknown authorization code"));
    };
    if rec.used {
        // RFC 6749 §4.1.2: a reused code revokes what was issued from it.
        let grant = rec.grant;
        store.revoke_grant(grant);
        return Err(bad(
            "invalid_grant",
            "the authorization code was already used; its grant has been revoked",
        ));
    }
    // Any further failure burns the code: no second guess at the verifier.
    rec.used = true;
    let rec = rec.clone();
    if rec.expires <= Instant::now() {
        return Err(bad("invalid_grant", "the authorization code has expired"));
    }
    if rec.client_id != client_id {
        return Err(bad(
            "invalid_grant",
            "the authorization code was issued to another client",
        ));
    }
    if rec.redirect_uri != redirect_uri {
        return Err(bad(
            "invalid_grant",
            "redirect_uri does not match the one in the authorization request",
        ));
    }
    if !valid_verifier(verifier) {
        return Err(bad(
            "invalid_grant",
            "code_verifier is malformed (RFC 7636 §4.1: 43-128 unreserved characters)",
        ));
    }
    if s256(verifier) != rec.code_challenge {
        return Err(bad(
            "invalid_grant",
            "code_verifier does not match the code_challenge (S256)",
        ));
    }
    let Some(grant) = store.grants.get(&rec.grant).cloned() else {
        return Err(OAuthError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: "server_error",
            description: "the grant of this code is missing".into(),
        });
    };
    if grant.revoked {
        return Err(bad("invalid_grant", "the grant was revoked"));
    }
    let access = store.new_access(rec.grant, grant.scopes.clone(), lifetime);
    let refresh = scope::grants_refresh(&grant.scopes).then(|| {
        store.new_refresh(
            rec.grant,
            client_id,
            grant.scopes.clone(),
            state.config.refresh_token_lifetime,
        )
    });
    drop(store);
    Ok(token_response(
        state,
        &grant,
        &grant.scopes,
        access,
        lifetime,
        refresh,
        true,
    ))
}

fn refresh_grant(
    state: &AppState,
    params: &[(String, String)],
    client_id: &str,
    lifetime: Duration,
) -> Result<Value, OAuthError> {
    let token = required(params, "refresh_token")?;
    let mut store = state.store();
    let Some(rec) = store.refresh.get(token).cloned() else {
        return Err(bad("invalid_grant", "unknown or revoked refresh token"));
    };
    if rec.client_id != client_id {
        return Err(bad(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    if rec.retired {
        // RFC 9700 §4.14.2: a rotated-out token came back; end the whole grant.
        store.revoke_grant(rec.grant);
        return Err(bad(
            "invalid_grant",
            "the refresh token was already used (rotated out); the grant has been revoked",
        ));
    }
    if rec.expires <= Instant::now() {
        return Err(bad("invalid_grant", "the refresh token has expired"));
    }
    let Some(grant) = store.grants.get(&rec.grant).filter(|g| !g.revoked).cloned() else {
        return Err(bad("invalid_grant", "the grant was revoked"));
    };
    let scopes = match param(params, "scope") {
        None => rec.scopes.clone(),
        Some(s) => {
            let asked = scope::split(s);
            if asked.is_empty() {
                return Err(bad("invalid_scope", "scope is empty"));
            }
            if let Some(extra) = asked.iter().find(|a| !scope::covers(&rec.scopes, a)) {
                return Err(bad(
                    "invalid_scope",
                    format!("scope {extra:?} was not granted originally; refresh may only narrow"),
                ));
            }
            asked
        }
    };
    let refresh = if state.config.rotate_refresh_tokens {
        if let Some(old) = store.refresh.get_mut(token) {
            old.retired = true;
        }
        Some(store.new_refresh(
            rec.grant,
            client_id,
            rec.scopes.clone(),
            state.config.refresh_token_lifetime,
        ))
    } else {
        None
    };
    let access = store.new_access(rec.grant, scopes.clone(), lifetime);
    drop(store);
    Ok(token_response(
        state, &grant, &scopes, access, lifetime, refresh, false,
    ))
}

fn token_response(
    state: &AppState,
    grant: &Grant,
    scopes: &[String],
    access: String,
    lifetime: Duration,
    refresh: Option<String>,
    first: bool,
) -> Value {
    let mut m = Map::new();
    m.insert("access_token".into(), json!(access));
    m.insert("token_type".into(), json!("Bearer"));
    m.insert("expires_in".into(), json!(lifetime.as_secs()));
    m.insert("scope".into(), json!(scopes.join(" ")));
    if let Some(r) = refresh {
        m.insert("refresh_token".into(), json!(r));
    }
    if let Some(p) = &grant.patient {
        m.insert("patient".into(), json!(p));
    }
    if let Some(e) = &grant.encounter {
        m.insert("encounter".into(), json!(e));
    }
    if let Some(c) = &grant.fhir_context {
        m.insert("fhirContext".into(), c.clone());
    }
    if let Some(b) = grant.need_patient_banner {
        m.insert("need_patient_banner".into(), json!(b));
    }
    if grant.smart_style {
        m.insert(
            "smart_style_url".into(),
            json!(format!("{}/smart-style.json", state.base)),
        );
    }
    if scopes.iter().any(|s| s == "openid") {
        m.insert(
            "id_token".into(),
            json!(id_token(state, grant, scopes, first)),
        );
    }
    Value::Object(m)
}

/// OIDC id_token: iss, sub, aud, exp, iat, auth_time, nonce (first issue only,
/// OIDC §12.2), fhirUser (with the fhirUser scope), profile (legacy, with profile).
fn id_token(state: &AppState, grant: &Grant, scopes: &[String], first: bool) -> String {
    let now = unix_now();
    let user_url = format!("{}/Practitioner/{}", state.fhir_base, grant.user);
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(state.issuer()));
    claims.insert("sub".into(), json!(grant.user));
    claims.insert("aud".into(), json!(grant.client_id));
    claims.insert("exp".into(), json!(now + 3600));
    claims.insert("iat".into(), json!(now));
    claims.insert("auth_time".into(), json!(grant.auth_time));
    if first {
        if let Some(n) = &grant.nonce {
            claims.insert("nonce".into(), json!(n));
        }
    }
    if scopes.iter().any(|s| s == "fhirUser") {
        claims.insert("fhirUser".into(), json!(user_url));
    }
    if scopes.iter().any(|s| s == "profile") {
        claims.insert("profile".into(), json!(user_url));
        claims.insert("name".into(), json!("Dr. Claire Moreau"));
    }
    state.signer.sign(&Value::Object(claims))
}

/// `POST /revoke` (RFC 7009): `token`, optional `token_type_hint`, `client_id`.
/// A refresh token ends its grant and all its access tokens; an access token ends
/// itself. Unknown tokens answer 200, as the RFC says.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = (|| {
        let params = form(&headers, &body)?;
        let token = required(&params, "token")?;
        let client_id = client(&state, &params)?;
        let mut store = state.store();
        if let Some(rec) = store.refresh.get(token).cloned() {
            if rec.client_id != client_id {
                return Err(bad(
                    "invalid_request",
                    "the token was issued to another client",
                ));
            }
            store.revoke_grant(rec.grant);
        } else if let Some(rec) = store.access.get(token).cloned() {
            let owner = store.grants.get(&rec.grant).map(|g| g.client_id.clone());
            if owner.as_deref() != Some(client_id) {
                return Err(bad(
                    "invalid_request",
                    "the token was issued to another client",
                ));
            }
            store.access.remove(token);
        }
        Ok(())
    })();
    match result {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => e.into_response(),
    }
}
