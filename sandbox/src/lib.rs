//! smart-sandbox: a strict local SMART App Launch authorization server, FHIR server
//! and EHR simulator, for the smart-launch library's tests and demo.
//!
//! Strict means it refuses what a real server refuses (PKCE `plain`, a missing
//! verifier, a reused code, a widened refresh scope, an `aud` that is not its FHIR
//! base, an unregistered redirect URI...), so a client bug fails a test here and not
//! in a hospital. Everything lives in memory; it listens on loopback only.
//!
//! Start it in-process with [`serve`] on a `127.0.0.1:0` listener, or run the
//! `smart-sandbox` binary (see `--help`).

pub mod authorize;
pub mod config;
pub mod cors;
pub mod discovery;
pub mod ehr;
pub mod fhir;
pub mod html;
pub mod jwt;
pub mod scope;
pub mod static_app;
pub mod store;
pub mod testing;
pub mod token;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{delete, get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use config::{Client, Config};

/// Shared server state: configuration, derived URLs, keys and the in-memory store.
pub struct AppState {
    pub config: Config,
    /// `http://127.0.0.1:PORT` (the authorization server and OpenID issuer).
    pub base: String,
    /// `http://127.0.0.1:PORT/fhir` (the FHIR base, the `iss` of EHR launches, the `aud`).
    pub fhir_base: String,
    pub registered_origins: Vec<String>,
    pub signer: jwt::Signer,
    store: Mutex<store::Store>,
    pub testing: testing::Testing,
}

impl AppState {
    /// State for a server bound at `addr`.
    pub fn new(config: Config, addr: SocketAddr) -> Result<AppState, String> {
        let base = format!("http://{}:{}", addr.ip(), addr.port());
        Ok(AppState {
            fhir_base: format!("{base}/fhir"),
            registered_origins: config.registered_origins(),
            signer: jwt::Signer::embedded()?,
            base,
            config,
            store: Mutex::new(store::Store::default()),
            testing: testing::Testing::default(),
        })
    }

    /// The OpenID Connect issuer (`iss` of id_tokens, RFC 9207 `iss`): the server's
    /// origin, deliberately not the FHIR base, as on many real servers.
    pub fn issuer(&self) -> &str {
        &self.base
    }

    /// The store (a poisoned lock is recovered: the data stays usable for tests).
    pub fn store(&self) -> MutexGuard<'_, store::Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The router of the main origin.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        // Discovery (CORS: any origin).
        .route(
            "/fhir/.well-known/smart-configuration",
            get(discovery::smart_configuration),
        )
        .route("/fhir/metadata", get(discovery::metadata))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/smart-style.json", get(discovery::smart_style))
        // Authorization server.
        .route("/authorize", get(authorize::authorize))
        .route("/authorize/consent", post(authorize::consent))
        .route("/token", post(token::token))
        .route("/revoke", post(token::revoke))
        // FHIR (CORS: registered origins).
        .route("/fhir/{rtype}", get(fhir::search))
        .route("/fhir/{rtype}/{id}", get(fhir::read))
        // EHR simulator.
        .route("/", get(|| async { Redirect::to("/ehr") }))
        .route("/ehr", get(ehr::home))
        .route("/ehr/launch", get(ehr::launch))
        // Test hooks (CORS: any origin).
        .route("/_log", get(testing::get_log).delete(testing::clear_log))
        .route(
            "/_faults",
            get(testing::list_faults)
                .post(testing::add_fault)
                .delete(testing::clear_faults),
        )
        .route("/_faults/{id}", delete(testing::remove_fault))
        .route("/_test/authorize", get(authorize::test_authorize))
        .route("/_test/launch", post(ehr::test_launch))
        .fallback(|uri: Uri| async move {
            if uri.path().starts_with("/fhir/") {
                fhir::unknown().await
            } else {
                (StatusCode::NOT_FOUND, "not found").into_response()
            }
        })
        .layer(middleware::from_fn_with_state(state.clone(), cors::layer))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            testing::middleware,
        ))
        .with_state(state)
}

/// Paths of the redirect URIs that live on `origin` (for `Referrer-Policy`).
fn redirect_paths_on(config: &Config, origin: &str) -> Vec<String> {
    config
        .clients
        .iter()
        .flat_map(|c| c.redirect_uris.iter())
        .filter_map(|u| {
            let rest = u.strip_prefix(origin)?;
            let path = rest.split(['?', '#']).next().unwrap_or_default();
            Some(if path.is_empty() {
                "/".to_string()
            } else {
                path.to_string()
            })
        })
        .collect()
}

/// Serve `config` on `listener` (and, with `serve_app`, the app folder on
/// `127.0.0.1:app_port`) until the task is dropped.
pub async fn serve(config: Config, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if let Some(dir) = config.serve_app.clone() {
        let app_listener = TcpListener::bind(("127.0.0.1", config.app_port)).await?;
        let app_addr = app_listener.local_addr()?;
        let origin = format!("http://127.0.0.1:{}", app_addr.port());
        // The app may be framed by this EHR only (spec #78).
        let ehr_origin = format!("http://127.0.0.1:{}", addr.port());
        let router = static_app::router(dir, redirect_paths_on(&config, &origin), ehr_origin);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(app_listener, router).await {
                eprintln!("smart-sandbox: app server stopped: {e}");
            }
        });
    }
    let state = AppState::new(config, addr).map_err(std::io::Error::other)?;
    axum::serve(listener, app(Arc::new(state))).await
}
