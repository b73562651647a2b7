//! The browser's WebCrypto (`crypto.subtle`): SHA-256 for the PKCE challenge (spec #24)
//! and id_token signature verification (spec #68), so no hash, RSA or ECDSA code ships
//! in the wasm. Called through `Reflect`: three calls do not justify the web-sys
//! SubtleCrypto bindings.

use crate::protocol::jwks::SignatureAlg;
use crate::protocol::{Error, ErrorCode, Result};
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn invalid(field: &'static str) -> Error {
    Error::new(ErrorCode::IdTokenInvalid).field(field)
}

fn object(pairs: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o.into()
}

/// Calls `subtle[method](...args)`; its promise.
fn start(subtle: &JsValue, method: &str, args: &[JsValue]) -> Result<js_sys::Promise> {
    let f: Function = Reflect::get(subtle, &JsValue::from_str(method))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| Error::new(ErrorCode::CryptoUnavailable))?;
    let promise = f
        .apply(subtle, &args.iter().collect::<Array>())
        .map_err(|_| invalid("signature"))?;
    Ok(js_sys::Promise::resolve(&promise))
}

async fn call(subtle: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue> {
    JsFuture::from(start(subtle, method, args)?)
        .await
        .map_err(|_| invalid("signature"))
}

/// `crypto.subtle`, or `crypto_unavailable` (no Web Crypto, or not a secure context).
fn subtle() -> Result<JsValue> {
    let window = super::window().ok_or_else(|| Error::new(ErrorCode::CryptoUnavailable))?;
    Reflect::get(&window, &"crypto".into())
        .and_then(|c| Reflect::get(&c, &"subtle".into()))
        .ok()
        .filter(|s| s.is_object())
        .ok_or_else(|| Error::new(ErrorCode::CryptoUnavailable))
}

/// Starts the SHA-256 of `data` (`crypto.subtle.digest`), which runs off the main
/// thread; [`finish_sha256`] reads it. Fails closed with `crypto_unavailable`: there is
/// no `plain` fallback (spec #25, #74).
pub fn start_sha256(data: &[u8]) -> Result<js_sys::Promise> {
    start(
        &subtle()?,
        "digest",
        &["SHA-256".into(), Uint8Array::from(data).into()],
    )
    .map_err(|_| Error::new(ErrorCode::CryptoUnavailable))
}

/// The digest [`start_sha256`] started.
pub async fn finish_sha256(digest: js_sys::Promise) -> Result<[u8; 32]> {
    let unavailable = || Error::new(ErrorCode::CryptoUnavailable);
    let digest = JsFuture::from(digest).await.map_err(|_| unavailable())?;
    let bytes = Uint8Array::new(&digest);
    let mut out = [0u8; 32];
    if bytes.length() != 32 {
        return Err(unavailable());
    }
    bytes.copy_to(&mut out);
    Ok(out)
}

/// True when `signature` over `signing_input` verifies with the public `jwk` (the key
/// `protocol::jwks::select_key` chose, as a JS object).
pub async fn verify(
    alg: SignatureAlg,
    jwk: JsValue,
    signing_input: &str,
    signature: &[u8],
) -> Result<bool> {
    let subtle = subtle()?;
    let (import_alg, verify_alg) = match alg {
        SignatureAlg::Rs256 => (
            object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
            object(&[("name", "RSASSA-PKCS1-v1_5")]),
        ),
        SignatureAlg::Es256 => (
            object(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
            object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
        ),
    };
    let usages = Array::of1(&"verify".into());
    let key = call(
        &subtle,
        "importKey",
        &["jwk".into(), jwk, import_alg, false.into(), usages.into()],
    )
    .await
    .map_err(|_| invalid("jwks"))?;
    let verdict = call(
        &subtle,
        "verify",
        &[
            verify_alg,
            key,
            Uint8Array::from(signature).into(),
            Uint8Array::from(signing_input.as_bytes()).into(),
        ],
    )
    .await?;
    Ok(verdict.as_bool() == Some(true))
}
