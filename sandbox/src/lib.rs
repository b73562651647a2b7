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

pub mod config;
pub mod cors;
pub mod discovery;
pub mod fhir;
pub mod jwt;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::middleware;
use axum::routing::get;
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
        })
    }

    /// The OpenID Connect issuer (`iss` of id_tokens): the server's origin, which is
    /// deliberately not the FHIR base, as on many real servers.
    pub fn issuer(&self) -> &str {
        &self.base
    }
}

/// The router of the main origin.
pub fn app(state: Arc<AppState>) -> Router {
    let open = Router::new()
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
        .layer(middleware::from_fn(cors::open));
    Router::new().merge(open).with_state(state)
}

/// Serve `config` on `listener` until the task is dropped.
pub async fn serve(config: Config, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let state = AppState::new(config, addr).map_err(std::io::Error::other)?;
    axum::serve(listener, app(Arc::new(state))).await
}
