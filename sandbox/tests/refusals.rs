//! Every refusal a strict server makes, with its exact status, error code and body:
//! authorize, token, refresh, FHIR, CORS and framing.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use smart_sandbox::config::Config;

/// Assert an OAuth error redirect and return its parameters.
fn redirected_error(r: &Resp, error: &str) -> std::collections::HashMap<String, String> {
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(r.header("location").unwrap().starts_with(REDIRECT));
    let p = r.location_params();
    assert_eq!(p.get("error").map(String::as_str), Some(error), "{p:?}");
    assert!(!p.contains_key("code"));
    assert!(p.contains_key("error_description"));
    p
}

fn error_page(r: &Resp, needle: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.header("location").is_none(), "never redirected");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains(needle), "{needle:?} not in {}", r.text);
}

fn oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.json()["error"], error, "{}", r.text);
    assert!(r.json()["error_description"].is_string());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("pragma").as_deref(), Some("no-cache"));
}

#[tokio::test]
async fn authorize_errors_that_cannot_be_redirected_are_pages() {
    let sb = start_default().await;
    error_page(
        &sb.authorize(&[("client_id", "ghost")]).await,
        "Unknown client_id",
    );
    error_page(
        &sb.authorize(&[("client_id", "")]).await,
        "Missing client_id",
    );
    error_page(
        &sb.authorize(&[("redirect_uri", "http://127.0.0.1:9401/evil.html")])
            .await,
        "not registered",
    );
    // Exact match: no prefix, no trailing-slash or case tolerance.
    error_page(
        &sb.authorize(&[("redirect_uri", "http://127.0.0.1:9401/callback.html?x=1")])
            .await,
        "not registered",
    );
    // Another client's redirect URI.
    error_page(
        &sb.authorize(&[("redirect_uri", OTHER_REDIRECT)]).await,
        "not registered",
    );
    error_page(
        &sb.authorize(&[("redirect_uri", "")]).await,
        "Missing redirect_uri",
    );
    // A parameter sent twice (RFC 6749 §3.1).
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(sb.authorize_params(&[]).iter())
        .append_pair("state", "again")
        .finish();
    error_page(&sb.get(&format!("/authorize?{q}"), &[]).await, "repeated");
}

#[tokio::test]
async fn authorize_errors_go_back_to_the_redirect_uri_with_state() {
    let sb = start_default().await;
    let p = redirected_error(
        &sb.authorize(&[("aud", &format!("{}/", sb.fhir))]).await,
        "invalid_request",
    );
    assert_eq!(p["state"], "state-123");
    assert!(p["error_description"].contains("aud"));
    assert_eq!(p["iss"], sb.base, "RFC 9207 iss on errors too");
    redirected_error(
        &sb.authorize(&[("aud", "http://evil.example/fhir")]).await,
        "invalid_request",
    );
    redirected_error(&sb.authorize(&[("aud", "")]).await, "invalid_request");

    // PKCE: required, S256 only.
    let p = redirected_error(
        &sb.authorize(&[("code_challenge_method", "plain")]).await,
        "invalid_request",
    );
    assert!(p["error_description"].contains("S256"));
    redirected_error(
        &sb.authorize(&[("code_challenge_method", "")]).await,
        "invalid_request",
    );
    redirected_error(
        &sb.authorize(&[("code_challenge", "")]).await,
        "invalid_request",
    );
    redirected_error(
        &sb.authorize(&[
            ("code_challenge", "too-short"),
            ("code_challenge_method", "S256"),
        ])
        .await,
        "invalid_request",
    );

    redirected_error(
        &sb.authorize(&[("response_type", "token")]).await,
        "unsupported_response_type",
    );
    redirected_error(
        &sb.authorize(&[("response_type", "")]).await,
        "invalid_request",
    );
    redirected_error(&sb.authorize(&[("scope", "")]).await, "invalid_scope");
    // No state: refused, and no state in the error.
    let p = redirected_error(&sb.authorize(&[("state", "")]).await, "invalid_request");
    assert!(!p.contains_key("state"));

    // EHR launch: the launch scope and parameter go together; handles are real.
    redirected_error(
        &sb.authorize(&[("scope", "launch patient/*.rs")]).await,
        "invalid_request",
    );
    redirected_error(
        &sb.authorize(&[("launch", "made-up")]).await,
        "invalid_scope",
    );
    let p = redirected_error(
        &sb.authorize(&[("launch", "made-up"), ("scope", "launch patient/*.rs")])
            .await,
        "invalid_request",
    );
    assert!(p["error_description"].contains("unknown launch"));
}

#[tokio::test]
async fn launch_handles_are_single_use_bound_and_expire() {
    let sb = start(Config {
        launch_lifetime: Duration::from_millis(1000),
        ..test_config()
    })
    .await;
    let launch = |client: &'static str| {
        let sb = &sb;
        async move {
            s(
                &sb.post_json(
                    "/_test/launch",
                    json!({"patient": "smart-1", "client_id": client}),
                )
                .await
                .json(),
                "launch",
            )
        }
    };
    let handle = launch(CLIENT).await;
    let ok = sb
        .authorize(&[("launch", &handle), ("scope", "launch")])
        .await;
    assert!(ok.location_params().contains_key("code"));
    let p = redirected_error(
        &sb.authorize(&[("launch", &handle), ("scope", "launch")])
            .await,
        "invalid_request",
    );
    assert!(p["error_description"].contains("already used"));

    // A handle made for another app.
    let other = launch(OTHER).await;
    let p = redirected_error(
        &sb.authorize(&[("launch", &other), ("scope", "launch")])
            .await,
        "invalid_request",
    );
    assert!(p["error_description"].contains("another client"));

    let late = launch(CLIENT).await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let p = redirected_error(
        &sb.authorize(&[("launch", &late), ("scope", "launch")])
            .await,
        "invalid_request",
    );
    assert!(p["error_description"].contains("expired"));

    let bad = sb
        .post_json("/_test/launch", json!({"patient": "nobody"}))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("unknown patient"));
}

#[tokio::test]
async fn code_exchange_refusals() {
    let sb = start_default().await;

    // Wrong verifier: invalid_grant, and the code is burnt.
    let code = sb.code(&[]).await;
    let wrong = "o28xyrYY7-lGYfnKwRjHEZWlFIPlzVnFPYMWbH-g_BsNnQNem-IAg9fDh92X0KtvHCPO5_C";
    let r = sb.exchange(&code, &[("code_verifier", wrong)]).await;
    oauth_error(&r, 400, "invalid_grant");
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("code_verifier"));
    oauth_error(&sb.exchange(&code, &[]).await, 400, "invalid_grant");

    // Missing verifier: invalid_request (and the code survives a malformed request).
    let code = sb.code(&[]).await;
    oauth_error(
        &sb.exchange(&code, &[("code_verifier", "")]).await,
        400,
        "invalid_request",
    );
    // Malformed verifier.
    let code = sb.code(&[]).await;
    oauth_error(
        &sb.exchange(&code, &[("code_verifier", "short")]).await,
        400,
        "invalid_grant",
    );

    // redirect_uri must equal the authorize request's.
    let code = sb.code(&[]).await;
    let r = sb
        .exchange(
            &code,
            &[("redirect_uri", "http://127.0.0.1:9401/callback.html/")],
        )
        .await;
    oauth_error(&r, 400, "invalid_grant");
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("redirect_uri"));
    let code = sb.code(&[]).await;
    oauth_error(
        &sb.exchange(&code, &[("redirect_uri", "")]).await,
        400,
        "invalid_request",
    );

    // Client: required in the body, registered, and the code's own.
    let code = sb.code(&[]).await;
    oauth_error(
        &sb.exchange(&code, &[("client_id", "")]).await,
        400,
        "invalid_request",
    );
    oauth_error(
        &sb.exchange(&code, &[("client_id", "ghost")]).await,
        401,
        "invalid_client",
    );
    oauth_error(
        &sb.exchange(&code, &[("client_id", OTHER)]).await,
        400,
        "invalid_grant",
    );

    // Grant type.
    let r = sb
        .post_form(
            "/token",
            &[("grant_type", "password"), ("client_id", CLIENT)],
            &[],
        )
        .await;
    oauth_error(&r, 400, "unsupported_grant_type");
    oauth_error(
        &sb.post_form("/token", &[("client_id", CLIENT)], &[]).await,
        400,
        "invalid_request",
    );
    oauth_error(
        &sb.exchange("no-such-code", &[]).await,
        400,
        "invalid_grant",
    );

    // Form encoding only.
    let code = sb.code(&[]).await;
    let r = sb
        .send(
            "POST",
            "/token",
            &[("content-type", "application/json")],
            json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                   "code_verifier": VERIFIER, "client_id": CLIENT})
            .to_string(),
        )
        .await;
    oauth_error(&r, 400, "invalid_request");
    // Repeated parameters.
    let body = format!(
        "{}&client_id={CLIENT}",
        enc(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", CLIENT)
        ])
    );
    let r = sb
        .send(
            "POST",
            "/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
        .await;
    oauth_error(&r, 400, "invalid_request");
}

#[tokio::test]
async fn code_reuse_revokes_the_tokens_it_gave() {
    let sb = start_default().await;
    let code = sb.code(&[]).await;
    let first = sb.exchange(&code, &[]).await;
    assert_eq!(first.status, 200);
    let t = first.json();
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&t, "access_token"))
            .await
            .status,
        200
    );
    let r = sb.exchange(&code, &[]).await;
    oauth_error(&r, 400, "invalid_grant");
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&t, "access_token"))
            .await
            .status,
        401
    );
    oauth_error(
        &sb.refresh(&s(&t, "refresh_token"), &[]).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn expired_code() {
    let sb = start(Config {
        code_lifetime: Duration::from_millis(500),
        ..test_config()
    })
    .await;
    let code = sb.code(&[]).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let r = sb.exchange(&code, &[]).await;
    oauth_error(&r, 400, "invalid_grant");
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn refresh_refusals() {
    let sb = start_default().await;
    let t = sb.tokens(&[]).await;
    let r1 = s(&t, "refresh_token");

    // Widening: invalid_scope, and the token is still good.
    let r = sb
        .refresh(&r1, &[("scope", "patient/*.rs user/*.rs")])
        .await;
    oauth_error(&r, 400, "invalid_scope");
    oauth_error(
        &sb.refresh(&r1, &[("scope", "patient/*.cruds")]).await,
        400,
        "invalid_scope",
    );
    let as_client = |client: &'static str| {
        let (sb, r1) = (&sb, r1.clone());
        async move {
            sb.post_form(
                "/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &r1),
                    ("client_id", client),
                ],
                &[],
            )
            .await
        }
    };
    oauth_error(&as_client(OTHER).await, 400, "invalid_grant");
    oauth_error(&as_client("ghost").await, 401, "invalid_client");
    oauth_error(
        &sb.refresh(&r1, &[("client_id", CLIENT)]).await,
        400,
        "invalid_request",
    );
    oauth_error(
        &sb.post_form(
            "/token",
            &[("grant_type", "refresh_token"), ("client_id", CLIENT)],
            &[],
        )
        .await,
        400,
        "invalid_request",
    );

    let ok = sb
        .post_form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &r1),
                ("client_id", CLIENT),
            ],
            &[],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let t2 = ok.json();
    let r2 = s(&t2, "refresh_token");

    // Replaying the rotated-out token revokes the whole grant.
    let r = sb.refresh(&r1, &[]).await;
    oauth_error(&r, 400, "invalid_grant");
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    oauth_error(&sb.refresh(&r2, &[]).await, 400, "invalid_grant");
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&t2, "access_token"))
            .await
            .status,
        401
    );
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&t, "access_token"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn refresh_without_rotation_and_expired_refresh_token() {
    let sb = start(Config {
        rotate_refresh_tokens: false,
        refresh_token_lifetime: Duration::from_secs(2),
        ..test_config()
    })
    .await;
    let t = sb.tokens(&[]).await;
    let r1 = s(&t, "refresh_token");
    let a = sb.refresh(&r1, &[]).await;
    assert_eq!(a.status, 200);
    assert!(a.json().get("refresh_token").is_none());
    assert_eq!(sb.refresh(&r1, &[]).await.status, 200, "same token again");
    tokio::time::sleep(Duration::from_millis(2300)).await;
    oauth_error(&sb.refresh(&r1, &[]).await, 400, "invalid_grant");
}

fn bearer_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let www = r.header("www-authenticate").expect("WWW-Authenticate");
    assert!(www.starts_with("Bearer "), "{www}");
    assert!(www.contains(&format!("error=\"{error}\"")), "{www}");
    assert_eq!(r.json()["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn fhir_refusals() {
    let sb = start_default().await;
    bearer_error(
        &sb.get("/fhir/Patient/smart-1", &[]).await,
        401,
        "invalid_token",
    );
    bearer_error(
        &sb.fhir_get("Patient/smart-1", "made-up").await,
        401,
        "invalid_token",
    );
    bearer_error(
        &sb.get(
            "/fhir/Patient/smart-1",
            &[("authorization", "Basic Zm9vOmJhcg==")],
        )
        .await,
        401,
        "invalid_token",
    );

    let t = sb
        .tokens(&[(
            "scope",
            "launch/patient patient/Observation.rs offline_access",
        )])
        .await;
    let a = s(&t, "access_token");
    // Outside the granted resource types.
    bearer_error(
        &sb.fhir_get("Patient/smart-1", &a).await,
        403,
        "insufficient_scope",
    );
    bearer_error(
        &sb.fhir_get("Encounter?patient=smart-1", &a).await,
        403,
        "insufficient_scope",
    );
    // Outside the patient compartment.
    bearer_error(
        &sb.fhir_get("Observation/obs-2-1", &a).await,
        403,
        "insufficient_scope",
    );
    bearer_error(
        &sb.fhir_get("Observation?patient=smart-2", &a).await,
        403,
        "insufficient_scope",
    );
    assert_eq!(sb.fhir_get("Observation/obs-1-1", &a).await.status, 200);
    // Read-only scope cannot search, search-only cannot read.
    let t2 = sb
        .tokens(&[("scope", "launch/patient patient/Observation.s")])
        .await;
    bearer_error(
        &sb.fhir_get("Observation/obs-1-1", &s(&t2, "access_token"))
            .await,
        403,
        "insufficient_scope",
    );
    assert_eq!(
        sb.fhir_get("Observation?patient=smart-1", &s(&t2, "access_token"))
            .await
            .status,
        200
    );
    // Unknown ids and types.
    let u = sb.fhir_get("Observation/nope", &a).await;
    assert_eq!(u.status, 404);
    assert_eq!(u.json()["resourceType"], "OperationOutcome");
}

#[tokio::test]
async fn expired_access_token() {
    let sb = start(Config {
        access_token_lifetime: Duration::from_secs(1),
        ..test_config()
    })
    .await;
    let t = sb
        .tokens(&[(
            "scope",
            "launch/patient patient/Observation.rs offline_access",
        )])
        .await;
    assert_eq!(t["expires_in"], 1);
    let a = s(&t, "access_token");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = sb.fhir_get("Observation/obs-1-1", &a).await;
    bearer_error(&r, 401, "invalid_token");
    assert!(r.header("www-authenticate").unwrap().contains("expired"));
    // And the refresh token brings it back.
    let n = sb.refresh(&s(&t, "refresh_token"), &[]).await.json();
    assert_eq!(
        sb.fhir_get("Observation/obs-1-1", &s(&n, "access_token"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn cors_only_for_registered_origins_on_token_and_fhir() {
    let sb = start_default().await;
    let evil = "http://evil.example";
    let preflight = |path: &'static str, origin: &'static str, headers: &'static str| {
        let sb = &sb;
        async move {
            sb.send(
                "OPTIONS",
                path,
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", headers),
                ],
                String::new(),
            )
            .await
        }
    };
    let p = preflight("/token", APP_ORIGIN, "content-type").await;
    assert_eq!(p.status, 204);
    assert_eq!(
        p.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    assert!(p
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(
        p.header("access-control-allow-headers").as_deref(),
        Some("content-type")
    );
    assert!(p.header("access-control-allow-credentials").is_none());
    let p = preflight("/token", evil, "content-type").await;
    assert!(p.header("access-control-allow-origin").is_none());
    // The other client's origin is registered too.
    let p = preflight(
        "/fhir/Patient/smart-1",
        "http://localhost:5555",
        "authorization",
    )
    .await;
    assert_eq!(
        p.header("access-control-allow-origin").as_deref(),
        Some("http://localhost:5555")
    );
    let p = preflight("/fhir/Patient/smart-1", evil, "authorization").await;
    assert!(p.header("access-control-allow-origin").is_none());

    // Actual responses.
    let code = sb.code(&[]).await;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", CLIENT),
    ];
    let r = sb.post_form("/token", &form, &[("origin", evil)]).await;
    assert_eq!(
        r.status, 200,
        "the server answers; the browser would block it"
    );
    assert!(r.header("access-control-allow-origin").is_none());
    let code = sb.code(&[]).await;
    form[1].1 = code.as_str();
    let r = sb
        .post_form("/token", &form, &[("origin", APP_ORIGIN)])
        .await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    let a = s(&r.json(), "access_token");
    // Errors carry CORS too, so the app can read them.
    let e = sb
        .post_form(
            "/token",
            &[("client_id", CLIENT)],
            &[("origin", APP_ORIGIN)],
        )
        .await;
    assert_eq!(
        e.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );

    let f = sb
        .get(
            "/fhir/Patient/smart-1",
            &[
                ("authorization", &format!("Bearer {a}")),
                ("origin", APP_ORIGIN),
            ],
        )
        .await;
    assert_eq!(
        f.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    assert!(f
        .header("access-control-expose-headers")
        .unwrap()
        .contains("WWW-Authenticate"));
    let f = sb
        .get("/fhir/Patient/smart-1", &[("origin", APP_ORIGIN)])
        .await;
    assert_eq!(f.status, 401);
    assert_eq!(
        f.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    let f = sb
        .get(
            "/fhir/Patient/smart-1",
            &[("authorization", &format!("Bearer {a}")), ("origin", evil)],
        )
        .await;
    assert!(f.header("access-control-allow-origin").is_none());

    // Discovery, metadata and JWKS: any origin.
    for path in [
        "/fhir/.well-known/smart-configuration",
        "/fhir/metadata",
        "/.well-known/jwks.json",
    ] {
        let r = sb.get(path, &[("origin", evil)]).await;
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("*"),
            "{path}"
        );
    }
    // The authorize page is a navigation target, not an API: no CORS.
    let r = sb.get("/authorize", &[("origin", APP_ORIGIN)]).await;
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn authorize_is_not_framable_unless_allowed() {
    let sb = start_default().await;
    for r in [
        sb.authorize(&[]).await,
        sb.authorize(&[("client_id", "ghost")]).await,
    ] {
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            r.header("content-security-policy").as_deref(),
            Some("frame-ancestors 'none'")
        );
    }
    let sb = start(Config {
        allow_framing: true,
        ..test_config()
    })
    .await;
    let r = sb.authorize(&[]).await;
    assert!(r.header("x-frame-options").is_none());
    assert!(r.header("content-security-policy").is_none());
}
