//! id_token signature verification with the browser's WebCrypto (`crypto.subtle`), so
//! no RSA or ECDSA code ships in the wasm (spec #68). Called through `Reflect`: the two
//! calls do not justify the web-sys SubtleCrypto bindings.

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

async fn call(subtle: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue> {
    let f: Function = Reflect::get(subtle, &JsValue::from_str(method))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| Error::new(ErrorCode::CryptoUnavailable))?;
    let promise = f
        .apply(subtle, &args.iter().collect::<Array>())
        .map_err(|_| invalid("signature"))?;
    JsFuture::from(js_sys::Promise::resolve(&promise))
        .await
        .map_err(|_| invalid("signature"))
}

/// True when `signature` over `signing_input` verifies with the public `jwk` (the key
/// `protocol::jwks::select_key` chose, as a JS object).
pub async fn verify(
    alg: SignatureAlg,
    jwk: JsValue,
    signing_input: &str,
    signature: &[u8],
) -> Result<bool> {
    let window = super::window().ok_or_else(|| Error::new(ErrorCode::CryptoUnavailable))?;
    let subtle = Reflect::get(&window, &"crypto".into())
        .and_then(|c| Reflect::get(&c, &"subtle".into()))
        .ok()
        .filter(|s| s.is_object())
        .ok_or_else(|| Error::new(ErrorCode::CryptoUnavailable))?;
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
