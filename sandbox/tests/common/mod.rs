//! Shared helpers: start a sandbox in-process on 127.0.0.1:0 and talk to it over
//! real loopback HTTP (reqwest, no redirects followed, no proxy).
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use smart_sandbox::config::{demo_client, Client, Config, DEMO_CLIENT_ID, DEMO_REDIRECT_URI};

pub const CLIENT: &str = DEMO_CLIENT_ID;
pub const REDIRECT: &str = DEMO_REDIRECT_URI;
pub const APP_ORIGIN: &str = "http://127.0.0.1:9401";
pub const OTHER: &str = "other-app";
pub const OTHER_REDIRECT: &str = "http://localhost:5555/cb";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn test_config() -> Config {
    Config {
        port: 0,
        clients: vec![
            demo_client(),
            Client {
                id: OTHER.into(),
                redirect_uris: vec![OTHER_REDIRECT.into()],
                launch_url: Some("http://localhost:5555/launch".into()),
            },
        ],
        ..Config::default()
    }
}

pub struct Sandbox {
    pub base: String,
    pub fhir: String,
    pub http: reqwest::Client,
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    /// Query parameters of the Location header.
    pub fn location_params(&self) -> HashMap<String, String> {
        let loc = self.header("location").expect("a Location header");
        query_of(&loc)
    }
}

pub fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

pub fn enc(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub async fn start(config: Config) -> Sandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(smart_sandbox::serve(config, listener));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Sandbox {
        fhir: format!("{base}/fhir"),
        base,
        http,
    }
}

pub async fn start_default() -> Sandbox {
    start(test_config()).await
}

async fn finish(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Resp {
        status,
        headers,
        text,
    }
}

impl Sandbox {
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        finish(req.send().await.unwrap()).await
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        finish(req.send().await.unwrap()).await
    }

    pub async fn post_form(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.send("POST", path, &h, enc(pairs)).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> Resp {
        self.send(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    /// Standard standalone authorize parameters, with overrides (value "" removes).
    pub fn authorize_params(&self, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = vec![
            ("response_type", "code"),
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            (
                "scope",
                "launch/patient patient/*.rs openid fhirUser offline_access",
            ),
            ("state", "state-123"),
            ("aud", self.fhir.as_str()),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("nonce", "nonce-456"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in overrides {
            p.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                p.push((k.to_string(), v.to_string()));
            }
        }
        p
    }

    pub async fn authorize(&self, overrides: &[(&str, &str)]) -> Resp {
        let p = self.authorize_params(overrides);
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(p.iter())
            .finish();
        self.get(&format!("/authorize?{q}"), &[]).await
    }

    /// Authorize and return the code (asserting a success redirect).
    pub async fn code(&self, overrides: &[(&str, &str)]) -> String {
        let r = self.authorize(overrides).await;
        assert_eq!(r.status, 302, "{}", r.text);
        let p = r.location_params();
        assert!(!p.contains_key("error"), "authorize failed: {p:?}");
        p["code"].clone()
    }

    pub async fn exchange(&self, code: &str, overrides: &[(&str, &str)]) -> Resp {
        let mut p: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", CLIENT),
        ];
        for (k, v) in overrides {
            p.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                p.push((k, v));
            }
        }
        self.post_form("/token", &p, &[]).await
    }

    /// A standalone launch all the way to a token response.
    pub async fn tokens(&self, overrides: &[(&str, &str)]) -> Value {
        let code = self.code(overrides).await;
        let r = self.exchange(&code, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    pub async fn refresh(&self, refresh_token: &str, extra: &[(&str, &str)]) -> Resp {
        let mut p = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT),
        ];
        p.extend_from_slice(extra);
        self.post_form("/token", &p, &[]).await
    }

    pub async fn fhir_get(&self, path: &str, token: &str) -> Resp {
        self.get(
            &format!("/fhir/{path}"),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
    }

    pub async fn fault(&self, spec: Value) -> Resp {
        let r = self.post_json("/_faults", spec).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r
    }
}

pub fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
        .to_string()
}

/// Verify an RS256 JWT against a JWKS and return its claims.
pub fn verify_jwt(jwt: &str, jwks: &Value) -> Value {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    use rsa::{BigUint, RsaPublicKey};
    use sha2::Sha256;

    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    let kid = header["kid"].as_str().expect("kid");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("the kid is in the JWKS");
    assert_eq!(jwk["kty"], "RSA");
    let n = BigUint::from_bytes_be(&B64.decode(jwk["n"].as_str().unwrap()).unwrap());
    let e = BigUint::from_bytes_be(&B64.decode(jwk["e"].as_str().unwrap()).unwrap());
    let key = VerifyingKey::<Sha256>::new(RsaPublicKey::new(n, e).unwrap());
    let sig = Signature::try_from(B64.decode(parts[2]).unwrap().as_slice()).unwrap();
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .expect("signature verifies with the served JWKS");
    serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
