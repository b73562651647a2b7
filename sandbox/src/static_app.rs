//! `--serve-app DIR`: a static file server on a second loopback origin, so the demo
//! app and the EHR / authorization server are cross-origin, as in real life. The
//! callback page (any registered redirect URI's path on this origin, or any
//! `callback.html`) gets `Referrer-Policy: no-referrer`. Every HTML page gets the
//! Content-Security-Policy a SMART app should deploy with (spec #76, #78): framing by
//! the EHR's origin only, scripts from the app's own origin (plus wasm compilation),
//! no plugins, no `<base>` rewriting.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

struct AppFiles {
    root: PathBuf,
    no_referrer_paths: Vec<String>,
    content_security_policy: HeaderValue,
}

/// The router of the app origin: `root` as a static site.
pub fn router(root: PathBuf, no_referrer_paths: Vec<String>, ehr_origin: String) -> Router {
    let policy = format!(
        "frame-ancestors {ehr_origin}; script-src 'self' 'wasm-unsafe-eval'; \
         object-src 'none'; base-uri 'none'"
    );
    let content_security_policy = HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"));
    Router::new()
        .fallback(serve_file)
        .with_state(Arc::new(AppFiles {
            root,
            no_referrer_paths,
            content_security_policy,
        }))
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("html") | Some("htm") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") | Some("map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") | Some("md") => "text/plain; charset=utf-8",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Map a URL path to a file under `root`, refusing anything that leaves it.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(url_path)
        .decode_utf8()
        .ok()?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let rel = Path::new(decoded.trim_start_matches('/'));
    let mut out = root.to_path_buf();
    for c in rel.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

async fn serve_file(State(files): State<Arc<AppFiles>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let url_path = req.uri().path().to_string();
    let Some(mut path) = resolve(&files.root, &url_path) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    if path.is_dir() {
        path.push("index.html");
    }
    let read_path = path.clone();
    let bytes = match tokio::task::spawn_blocking(move || std::fs::read(read_path)).await {
        Ok(Ok(b)) => b,
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let mut resp = (
        [
            (header::CONTENT_TYPE, content_type(&path)),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response();
    if content_type(&path).starts_with("text/html") {
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            files.content_security_policy.clone(),
        );
    }
    let is_callback = files.no_referrer_paths.contains(&url_path)
        || path.file_name().and_then(|n| n.to_str()) == Some("callback.html");
    if is_callback {
        resp.headers_mut().insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    resp
}
