//! RS256 id_token signing and the JWKS that publishes the public key.
//!
//! The key is a fixed, sandbox-only test key committed in `keys/` (see its README):
//! generating a 2048-bit key at every start would be slow and would change the
//! JWKS between runs for no benefit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const TEST_KEY_PEM: &str = include_str!("../keys/sandbox-test-key.pem");

pub struct Signer {
    key: SigningKey<Sha256>,
    /// base64url big-endian modulus and exponent.
    n: String,
    e: String,
    /// RFC 7638 JWK thumbprint.
    pub kid: String,
}

impl Signer {
    /// The embedded sandbox test key.
    pub fn embedded() -> Result<Signer, String> {
        let private = RsaPrivateKey::from_pkcs8_pem(TEST_KEY_PEM)
            .map_err(|e| format!("embedded test key: {e}"))?;
        let n = B64.encode(private.n().to_bytes_be());
        let e = B64.encode(private.e().to_bytes_be());
        let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = B64.encode(Sha256::digest(thumbprint_input.as_bytes()));
        Ok(Signer {
            key: SigningKey::<Sha256>::new(private),
            n,
            e,
            kid,
        })
    }

    /// The public key set served at `jwks_uri`.
    pub fn jwks(&self) -> Value {
        json!({
            "keys": [{
                "kty": "RSA",
                "use": "sig",
                "alg": "RS256",
                "kid": self.kid,
                "n": self.n,
                "e": self.e,
            }]
        })
    }

    /// A compact JWS (RS256) over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        let signing_input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(signature.to_bytes()))
    }
}
