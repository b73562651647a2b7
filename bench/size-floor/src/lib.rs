//! One export per protocol step, each taking and returning plain values, so that every
//! step the package runs is linked (and nothing of the browser layer is). The answers are
//! only there to keep the code alive; nothing calls these.
#![no_std]

extern crate alloc;

use alloc::string::String;
use smart_launch::protocol::{
    authorize, callback, context, discovery, id_token, pkce, scopes, token, Error,
};
use smart_launch::session::{Session, SessionOptions};
use wasm_bindgen::prelude::*;

fn code(e: Error) -> String {
    String::from(e.code.as_str())
}

#[wasm_bindgen]
pub fn discover(status: u16, body: &str, fhir_base: &str, legacy: bool) -> String {
    let opts = discovery::DiscoveryOptions {
        allow_insecure_localhost: true,
    };
    let config = if legacy {
        discovery::process_capability_statement(status, body, fhir_base, &opts)
    } else {
        discovery::process_discovery_response(status, body, fhir_base, &opts)
    };
    config
        .map(|c| c.authorization_endpoint)
        .unwrap_or_else(code)
}

// The parameters a launch has by then, each as the browser layer would pass it.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn authorize_url(
    endpoint: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    random: &[u8],
    digest: &[u8],
    aud: String,
    launch: Option<String>,
    page_query: &str,
) -> String {
    let (Ok(random), Ok(digest)) = (<[u8; 32]>::try_from(random), <[u8; 32]>::try_from(digest))
    else {
        return String::new();
    };
    if let Err(e) = authorize::ehr_launch_params(page_query) {
        return code(e);
    }
    let params = authorize::AuthorizeParams {
        authorization_endpoint: endpoint,
        client_id,
        redirect_uri,
        scope,
        state: pkce::new_state(&random),
        aud,
        code_challenge: pkce::code_challenge_from_digest(&digest),
        launch,
        nonce: Some(pkce::new_state(&random)),
        allow_insecure_localhost: true,
    };
    let _ = pkce::code_verifier(&random);
    authorize::authorize_url(&params).unwrap_or_else(code)
}

#[wasm_bindgen]
pub fn check_callback(query: &str, record_json: &str, now_ms: u64) -> String {
    let params = match callback::parse_callback(query) {
        Ok(p) => p,
        Err(e) => return code(e),
    };
    let record = callback::TransactionRecord::from_json(record_json).ok();
    let body = record.as_ref().map(|r| r.to_json()).unwrap_or_default();
    callback::check_callback(&params, record.as_ref(), true, now_ms)
        .map(|c| token::code_exchange_body(&c, &body, "v", "c"))
        .unwrap_or_else(code)
}

#[wasm_bindgen]
pub fn token_response(status: u16, body: &str, requested: &str, refresh: bool) -> String {
    let answer = if refresh {
        token::process_refresh_response(status, body)
    } else {
        token::process_token_response(status, body)
    };
    match answer {
        Ok(t) => {
            let granted = t.scope.as_deref().unwrap_or("");
            if let Err(e) = context::require_context(requested, &t.context) {
                return code(e);
            }
            if let Err(e) = scopes::check_refresh_scope(requested, granted) {
                return code(e);
            }
            let _ = scopes::compare(requested, granted);
            let mut out = token::refresh_body(&t.access_token, "c", Some(granted));
            out.push_str(&token::revocation_body(&t.access_token, "c"));
            out
        }
        Err(e) => code(e),
    }
}

#[wasm_bindgen]
pub fn check_id_token(jwt: &str, issuer: &str, client_id: &str, now_ms: u64) -> String {
    let t = match id_token::decode_id_token(jwt) {
        Ok(t) => t,
        Err(e) => return code(e),
    };
    if let Err(e) = id_token::validate_claims(&t.claims, issuer, client_id, None, now_ms, 300) {
        return code(e);
    }
    match id_token::fhir_user_claim(&t.claims, false) {
        Some(claim) => id_token::parse_fhir_user(claim, issuer)
            .map(|_| String::new())
            .unwrap_or_else(code),
        None => String::new(),
    }
}

#[wasm_bindgen]
pub fn session_wake(expires_at_ms: u64, now_ms: u64) -> u64 {
    let mut session = Session::new(Some(expires_at_ms), true, SessionOptions::default(), now_ms);
    let _ = session.tick(now_ms);
    session.next_wake_ms().unwrap_or(0)
}
