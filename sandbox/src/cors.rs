//! CORS, as a SMART server for browser apps must do it (AL, CORS section):
//! discovery, metadata and the test endpoints are open to any origin; token,
//! revocation and FHIR answer only the origins of registered redirect URIs.
//! No credentials are ever allowed (a public client fetches with
//! `credentials: "omit"`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

const METHODS: &str = "GET, POST, DELETE, OPTIONS";
const EXPOSE: &str = "WWW-Authenticate, Location, Content-Location, ETag";

fn is_preflight(req: &Request) -> bool {
    req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

fn preflight(allow_origin: Option<HeaderValue>, req_headers: &HeaderMap) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let h = resp.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allow_origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        );
        if let Some(asked) = req_headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    resp
}

fn decorate(resp: &mut Response, allow_origin: Option<HeaderValue>) {
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allow_origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE),
        );
    }
}

/// Which CORS rule a path falls under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Any origin: discovery, metadata, JWKS, style, the test endpoints.
    Open,
    /// Registered client origins only: token, revocation, FHIR.
    Registered,
    /// No CORS: pages (authorize, EHR).
    None,
}

pub fn policy(path: &str) -> Policy {
    if path.starts_with("/fhir/.well-known/")
        || path == "/fhir/metadata"
        || path.starts_with("/.well-known/")
        || path == "/smart-style.json"
        || path == "/_log"
        || path == "/_faults"
        || path.starts_with("/_faults/")
        || path.starts_with("/_test/")
    {
        Policy::Open
    } else if path == "/token" || path == "/revoke" || path.starts_with("/fhir/") {
        Policy::Registered
    } else {
        Policy::None
    }
}

/// The request's Origin if it is one of the registered client origins.
fn allowed_origin(state: &AppState, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    if state.registered_origins.iter().any(|o| o == text) {
        Some(origin.clone())
    } else {
        None
    }
}

fn allow_for(state: &AppState, path: &str, headers: &HeaderMap) -> Option<Option<HeaderValue>> {
    match policy(path) {
        Policy::Open => Some(Some(HeaderValue::from_static("*"))),
        Policy::Registered => Some(allowed_origin(state, headers)),
        Policy::None => None,
    }
}

/// Add the CORS headers a response on `path` gets (used for injected faults too).
pub fn apply(state: &AppState, path: &str, req_headers: &HeaderMap, resp: &mut Response) {
    if let Some(allow) = allow_for(state, path, req_headers) {
        decorate(resp, allow);
    }
}

/// The global CORS middleware: answers preflights, decorates responses.
pub async fn layer(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let Some(allow) = allow_for(&state, &path, req.headers()) else {
        return next.run(req).await;
    };
    if is_preflight(&req) {
        return preflight(allow, req.headers());
    }
    let mut resp = next.run(req).await;
    decorate(&mut resp, allow);
    resp
}

/// Remove every CORS header (the `no_cors` fault).
pub fn strip(resp: &mut Response) {
    let h = resp.headers_mut();
    h.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    h.remove(header::ACCESS_CONTROL_ALLOW_METHODS);
    h.remove(header::ACCESS_CONTROL_ALLOW_HEADERS);
    h.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    h.remove(header::ACCESS_CONTROL_MAX_AGE);
}
