//! Test hooks: the request log (`GET`/`DELETE /_log`) and fault injection
//! (`GET`/`POST`/`DELETE /_faults`), both switchable while the server runs.
//!
//! The middleware here is the outermost layer: it buffers each request body, logs
//! the request (method, path, query, form, selected headers, final status), and
//! applies the faults whose target and client_id match.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::authorize::{param, with_query};
use crate::AppState;

const MAX_LOG: usize = 2000;
const MAX_BODY: usize = 1 << 20;

/// Set by a `token_lifetime` fault: the token handler issues access tokens that
/// really expire after this many seconds (and says so in `expires_in`).
#[derive(Clone, Copy, Debug)]
pub struct LifetimeOverride(pub u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Discovery,
    Metadata,
    Jwks,
    Authorize,
    Token,
    Refresh,
    Revoke,
    Fhir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Status,
    Html,
    NotJson,
    Delay,
    OauthError,
    NoCors,
    NoRefreshToken,
    TokenLifetime,
    DropField,
    SetField,
    /// The handler fails unexpectedly (panics); the server answers 500.
    Panic,
}

/// A fault as posted to `/_faults`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultSpec {
    fn check(&self) -> Result<(), String> {
        let need = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(format!("kind {:?} needs {what}", self.kind))
            }
        };
        if let Some(s) = self.status {
            if !(100..=599).contains(&s) {
                return Err("status must be 100-599".into());
            }
        }
        let token_like = matches!(self.target, Target::Token | Target::Refresh);
        match self.kind {
            Kind::Delay => need(self.ms.is_some(), "\"ms\""),
            Kind::OauthError => need(self.error.is_some(), "\"error\""),
            Kind::DropField => need(self.field.is_some(), "\"field\""),
            Kind::SetField => need(self.field.is_some(), "\"field\" (and \"value\")"),
            Kind::TokenLifetime => {
                need(token_like, "target \"token\" or \"refresh\"")?;
                need(self.seconds.is_some(), "\"seconds\"")
            }
            Kind::NoRefreshToken => need(token_like, "target \"token\" or \"refresh\""),
            Kind::Status | Kind::Html | Kind::NotJson | Kind::NoCors | Kind::Panic => Ok(()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
struct ActiveFault {
    id: u64,
    #[serde(flatten)]
    spec: FaultSpec,
    /// Requests it still applies to (`None`: unlimited).
    remaining: Option<u32>,
    applied: u64,
}

#[derive(Default)]
pub struct Testing {
    seq: AtomicU64,
    log: Mutex<Vec<Value>>,
    faults: Mutex<Vec<ActiveFault>>,
    next_fault: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Testing {
    /// Take the faults that apply to this request, counting them down.
    fn take(
        &self,
        targets: &[Target],
        client_id: Option<&str>,
        preflight: bool,
    ) -> Vec<(u64, FaultSpec)> {
        let mut faults = lock(&self.faults);
        let mut out = Vec::new();
        for f in faults.iter_mut() {
            if !targets.contains(&f.spec.target)
                || (preflight && f.spec.kind != Kind::NoCors)
                || f.spec
                    .client_id
                    .as_deref()
                    .is_some_and(|c| !preflight && client_id != Some(c))
                || f.remaining == Some(0)
            {
                continue;
            }
            if let Some(r) = f.remaining.as_mut() {
                *r -= 1;
            }
            f.applied += 1;
            out.push((f.id, f.spec.clone()));
        }
        faults.retain(|f| f.remaining != Some(0));
        out
    }
}

fn pairs_json(pairs: &[(String, String)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        match m.get_mut(k) {
            Some(Value::Array(a)) => a.push(json!(v)),
            Some(prev) => {
                let first = prev.take();
                *prev = json!([first, v]);
            }
            None => {
                m.insert(k.clone(), json!(v));
            }
        }
    }
    Value::Object(m)
}

const LOGGED_HEADERS: &[&str] = &[
    "authorization",
    "origin",
    "cookie",
    "content-type",
    "accept",
    "referer",
    "access-control-request-method",
    "access-control-request-headers",
];

fn targets_for(method: &Method, path: &str, form: Option<&[(String, String)]>) -> Vec<Target> {
    match path {
        "/fhir/.well-known/smart-configuration" => vec![Target::Discovery],
        "/fhir/metadata" => vec![Target::Metadata],
        "/.well-known/jwks.json" => vec![Target::Jwks],
        "/authorize" | "/_test/authorize" => vec![Target::Authorize],
        "/revoke" => vec![Target::Revoke],
        "/token" => match form.and_then(|f| param(f, "grant_type")) {
            _ if method == Method::OPTIONS => vec![Target::Token, Target::Refresh],
            Some("refresh_token") => vec![Target::Refresh],
            _ => vec![Target::Token],
        },
        p if p.starts_with("/fhir/") => vec![Target::Fhir],
        _ => vec![],
    }
}

fn text_response(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn status_of(spec: &FaultSpec, default: u16) -> StatusCode {
    StatusCode::from_u16(spec.status.unwrap_or(default))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The response of a fault that answers instead of the real handler.
fn short_circuit(
    state: &AppState,
    spec: &FaultSpec,
    path: &str,
    query: &[(String, String)],
) -> Option<Response> {
    match spec.kind {
        Kind::Status => {
            let status = status_of(spec, 500);
            Some(text_response(
                status,
                "text/plain; charset=utf-8",
                spec.body.clone().unwrap_or_else(|| {
                    format!("smart-sandbox injected fault: HTTP {}", status.as_u16())
                }),
            ))
        }
        Kind::Html => Some(text_response(
            status_of(spec, 200),
            "text/html; charset=utf-8",
            spec.body.clone().unwrap_or_else(|| {
                "<!doctype html><html><head><title>Sign in</title></head>\
                 <body><h1>Please sign in</h1><p>Injected HTML fault.</p></body></html>"
                    .to_string()
            }),
        )),
        Kind::NotJson => Some(text_response(
            status_of(spec, 200),
            "application/json",
            spec.body
                .clone()
                .unwrap_or_else(|| "{\"this is\": not JSON".to_string()),
        )),
        Kind::OauthError => {
            let error = spec.error.clone().unwrap_or_default();
            let description = spec
                .error_description
                .clone()
                .unwrap_or_else(|| "injected fault".to_string());
            match spec.target {
                Target::Authorize => {
                    let client = param(query, "client_id").and_then(|c| state.config.client(c))?;
                    let redirect_uri = param(query, "redirect_uri")
                        .filter(|r| client.redirect_uris.iter().any(|u| u == r))?;
                    let mut p = vec![
                        ("error", error.as_str()),
                        ("error_description", description.as_str()),
                    ];
                    if let Some(s) = param(query, "state") {
                        p.push(("state", s));
                    }
                    p.push(("iss", state.issuer()));
                    let loc = with_query(redirect_uri, &p);
                    if path == "/_test/authorize" {
                        Some(crate::discovery::json_response(&json!({"location": loc})))
                    } else {
                        let v = HeaderValue::from_str(&loc).ok()?;
                        Some((StatusCode::FOUND, [(header::LOCATION, v)]).into_response())
                    }
                }
                Target::Fhir => {
                    let mut resp = text_response(
                        status_of(spec, 401),
                        "application/fhir+json",
                        json!({"resourceType": "OperationOutcome",
                               "issue": [{"severity": "error", "code": "security", "diagnostics": description}]})
                        .to_string(),
                    );
                    let clean: String = error.chars().filter(|c| *c != '"' && *c != '\\').collect();
                    if let Ok(v) = HeaderValue::from_str(&format!(
                        "Bearer realm=\"smart-sandbox\", error=\"{clean}\""
                    )) {
                        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                    }
                    Some(resp)
                }
                _ => {
                    let default = if error == "invalid_client" { 401 } else { 400 };
                    let mut resp = text_response(
                        status_of(spec, default),
                        "application/json",
                        json!({"error": error, "error_description": description}).to_string(),
                    );
                    resp.headers_mut()
                        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    Some(resp)
                }
            }
        }
        _ => None,
    }
}

/// The answer to an unexpected failure: OAuth `server_error` on the token and
/// revocation endpoints, an OperationOutcome under /fhir, text elsewhere.
fn server_error(path: &str) -> Response {
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    if path == "/token" || path == "/revoke" {
        let mut r = text_response(
            status,
            "application/json",
            json!({"error": "server_error", "error_description": "unexpected server error"})
                .to_string(),
        );
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r.headers_mut()
            .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        r
    } else if path.starts_with("/fhir/") {
        text_response(
            status,
            "application/fhir+json",
            json!({"resourceType": "OperationOutcome",
                   "issue": [{"severity": "fatal", "code": "exception", "diagnostics": "unexpected server error"}]})
            .to_string(),
        )
    } else {
        text_response(
            status,
            "text/plain; charset=utf-8",
            "unexpected server error".into(),
        )
    }
}

/// Apply the JSON-editing faults to a response body.
async fn edit_json(resp: Response, edits: &[FaultSpec]) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY * 8).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "response body too large").into_response();
    };
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    for e in edits {
        match e.kind {
            Kind::NoRefreshToken => {
                obj.remove("refresh_token");
            }
            Kind::DropField => {
                if let Some(f) = &e.field {
                    obj.remove(f);
                }
            }
            Kind::SetField => {
                if let Some(f) = &e.field {
                    obj.insert(f.clone(), e.value.clone().unwrap_or(Value::Null));
                }
            }
            _ => {}
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(Value::Object(obj).to_string()))
}

/// The outermost middleware: log, then faults.
pub async fn middleware(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let path = parts.uri.path().to_string();
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let form: Option<Vec<(String, String)>> = content_type
        .starts_with("application/x-www-form-urlencoded")
        .then(|| form_urlencoded::parse(&bytes).into_owned().collect());
    let method = parts.method.clone();
    let headers: HeaderMap = parts.headers.clone();
    let internal = path == "/_log" || path == "/_faults" || path.starts_with("/_faults/");

    let targets = targets_for(&method, &path, form.as_deref());
    let client_id = form
        .as_deref()
        .and_then(|f| param(f, "client_id"))
        .or_else(|| param(&query, "client_id"))
        .map(str::to_string);
    let applied = if targets.is_empty() {
        Vec::new()
    } else {
        state
            .testing
            .take(&targets, client_id.as_deref(), method == Method::OPTIONS)
    };

    let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
    for (_, f) in &applied {
        if f.kind == Kind::Delay {
            tokio::time::sleep(Duration::from_millis(f.ms.unwrap_or(0))).await;
        }
        if f.kind == Kind::TokenLifetime {
            req.extensions_mut()
                .insert(LifetimeOverride(f.seconds.unwrap_or(0)));
        }
    }
    let shorted = applied
        .iter()
        .find_map(|(_, f)| short_circuit(&state, f, &path, &query));
    let mut resp = match shorted {
        Some(mut r) => {
            crate::cors::apply(&state, &path, &headers, &mut r);
            r
        }
        None => {
            let crash = applied.iter().any(|(_, f)| f.kind == Kind::Panic);
            // The handler runs in its own task so that an unexpected failure
            // becomes a 500 instead of a dropped connection.
            let run = tokio::spawn(async move {
                if crash {
                    panic!("smart-sandbox: injected handler failure");
                }
                next.run(req).await
            });
            match run.await {
                Ok(r) => r,
                Err(_) => {
                    let mut r = server_error(&path);
                    crate::cors::apply(&state, &path, &headers, &mut r);
                    r
                }
            }
        }
    };
    let edits: Vec<FaultSpec> = applied
        .iter()
        .map(|(_, f)| f.clone())
        .filter(|f| {
            matches!(
                f.kind,
                Kind::DropField | Kind::SetField | Kind::NoRefreshToken
            )
        })
        .collect();
    if !edits.is_empty() {
        resp = edit_json(resp, &edits).await;
    }
    if applied.iter().any(|(_, f)| f.kind == Kind::NoCors) {
        crate::cors::strip(&mut resp);
    }

    if !internal {
        let mut logged = Map::new();
        for name in LOGGED_HEADERS {
            if let Some(v) = headers.get(*name) {
                logged.insert(
                    (*name).to_string(),
                    json!(String::from_utf8_lossy(v.as_bytes())),
                );
            }
        }
        let body_text = (form.is_none() && !bytes.is_empty())
            .then(|| String::from_utf8_lossy(&bytes[..bytes.len().min(8192)]).into_owned());
        let entry = json!({
            "seq": state.testing.seq.fetch_add(1, Ordering::Relaxed) + 1,
            "time": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            "method": method.as_str(),
            "path": path,
            "query": pairs_json(&query),
            "form": form.as_deref().map(pairs_json),
            "body": body_text,
            "headers": Value::Object(logged),
            "status": resp.status().as_u16(),
            "faults": applied.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        });
        let mut log = lock(&state.testing.log);
        if log.len() >= MAX_LOG {
            log.remove(0);
        }
        log.push(entry);
    }
    resp
}

fn json_status(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LogQuery {
    path: Option<String>,
}

/// `GET /_log[?path=/token]`: the logged requests, oldest first, as a JSON array.
pub async fn get_log(State(state): State<Arc<AppState>>, Query(q): Query<LogQuery>) -> Response {
    let log = lock(&state.testing.log);
    let entries: Vec<&Value> = log
        .iter()
        .filter(|e| {
            q.path
                .as_deref()
                .is_none_or(|p| e.get("path").and_then(|v| v.as_str()) == Some(p))
        })
        .collect();
    json_status(StatusCode::OK, json!(entries))
}

/// `DELETE /_log`.
pub async fn clear_log(State(state): State<Arc<AppState>>) -> Response {
    lock(&state.testing.log).clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /_faults` with a [`FaultSpec`] (or an array of them).
pub async fn add_fault(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let specs: Vec<FaultSpec> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => {
            match items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<Vec<FaultSpec>, _>>()
            {
                Ok(v) => v,
                Err(e) => {
                    return json_status(StatusCode::BAD_REQUEST, json!({"error": e.to_string()}))
                }
            }
        }
        Ok(v) => match serde_json::from_value(v) {
            Ok(s) => vec![s],
            Err(e) => return json_status(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
        },
        Err(e) => return json_status(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
    };
    for s in &specs {
        if let Err(e) = s.check() {
            return json_status(StatusCode::BAD_REQUEST, json!({"error": e}));
        }
    }
    let mut faults = lock(&state.testing.faults);
    let mut ids = Vec::new();
    for spec in specs {
        let id = state.testing.next_fault.fetch_add(1, Ordering::Relaxed) + 1;
        ids.push(id);
        faults.push(ActiveFault {
            id,
            remaining: spec.times,
            spec,
            applied: 0,
        });
    }
    if ids.len() == 1 {
        json_status(StatusCode::CREATED, json!({"id": ids[0]}))
    } else {
        json_status(StatusCode::CREATED, json!({"ids": ids}))
    }
}

/// `GET /_faults`: the active faults.
pub async fn list_faults(State(state): State<Arc<AppState>>) -> Response {
    let faults = lock(&state.testing.faults);
    json_status(StatusCode::OK, json!(*faults))
}

/// `DELETE /_faults`: clear all.
pub async fn clear_faults(State(state): State<Arc<AppState>>) -> Response {
    lock(&state.testing.faults).clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /_faults/{id}`: clear one.
pub async fn remove_fault(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Response {
    let mut faults = lock(&state.testing.faults);
    let before = faults.len();
    faults.retain(|f| f.id != id);
    if faults.len() == before {
        StatusCode::NOT_FOUND.into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}
