//! The test hooks: the request log, every fault switch, /_test/authorize and
//! /_test/launch, the static app origin, and the command line.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

type Check = Box<dyn Fn(&Resp)>;

const DISCOVERY: &str = "/fhir/.well-known/smart-configuration";

#[tokio::test]
async fn request_log_records_and_clears() {
    let sb = start_default().await;
    let t = sb.tokens(&[]).await;
    let a = s(&t, "access_token");
    sb.get(
        "/fhir/Patient/smart-1",
        &[
            ("authorization", &format!("Bearer {a}")),
            ("origin", APP_ORIGIN),
            ("cookie", "c=1"),
        ],
    )
    .await;
    let log = sb
        .get("/_log", &[("origin", "http://anywhere.example")])
        .await;
    assert_eq!(log.status, 200);
    assert_eq!(
        log.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let log = log.json();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{log}");
    assert_eq!(entries[0]["method"], "GET");
    assert_eq!(entries[0]["path"], "/authorize");
    assert_eq!(entries[0]["query"]["code_challenge_method"], "S256");
    assert_eq!(entries[0]["status"], 302);
    assert_eq!(entries[1]["path"], "/token");
    assert_eq!(entries[1]["form"]["grant_type"], "authorization_code");
    assert_eq!(entries[1]["form"]["code_verifier"], VERIFIER);
    assert_eq!(
        entries[1]["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        entries[2]["headers"]["authorization"],
        format!("Bearer {a}")
    );
    assert_eq!(entries[2]["headers"]["origin"], APP_ORIGIN);
    assert_eq!(entries[2]["headers"]["cookie"], "c=1");
    assert!(entries[2]["seq"].as_u64().unwrap() > entries[1]["seq"].as_u64().unwrap());

    let only = sb.get("/_log?path=/token", &[]).await.json();
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(
        sb.send("DELETE", "/_log", &[], String::new()).await.status,
        204
    );
    assert_eq!(sb.get("/_log", &[]).await.json(), json!([]));
}

#[tokio::test]
async fn discovery_faults() {
    let sb = start_default().await;
    let cases: Vec<(Value, Check)> = vec![
        (
            json!({"kind": "status", "status": 404}),
            Box::new(|r: &Resp| assert_eq!(r.status, 404)),
        ),
        (
            json!({"kind": "status"}),
            Box::new(|r: &Resp| assert_eq!(r.status, 500)),
        ),
        (
            json!({"kind": "html"}),
            Box::new(|r: &Resp| {
                assert_eq!(r.status, 200);
                assert!(r.header("content-type").unwrap().starts_with("text/html"));
                assert!(r.text.starts_with("<!doctype html>"));
            }),
        ),
        (
            json!({"kind": "not_json"}),
            Box::new(|r: &Resp| {
                assert_eq!(
                    r.header("content-type").as_deref(),
                    Some("application/json")
                );
                assert!(serde_json::from_str::<Value>(&r.text).is_err());
            }),
        ),
        (
            json!({"kind": "drop_field", "field": "token_endpoint"}),
            Box::new(|r: &Resp| {
                assert!(r.json().get("token_endpoint").is_none());
                assert!(r.json()["authorization_endpoint"].is_string());
            }),
        ),
        (
            json!({"kind": "set_field", "field": "code_challenge_methods_supported", "value": ["plain"]}),
            Box::new(|r: &Resp| {
                assert_eq!(
                    r.json()["code_challenge_methods_supported"],
                    json!(["plain"])
                )
            }),
        ),
        (
            json!({"kind": "set_field", "field": "token_endpoint", "value": "http://evil.example/token"}),
            Box::new(|r: &Resp| {
                assert_eq!(r.json()["token_endpoint"], "http://evil.example/token")
            }),
        ),
        (
            json!({"kind": "no_cors"}),
            Box::new(|r: &Resp| assert!(r.header("access-control-allow-origin").is_none())),
        ),
    ];
    for (mut spec, check) in cases {
        spec["target"] = json!("discovery");
        sb.fault(spec.clone()).await;
        let r = sb.get(DISCOVERY, &[("origin", APP_ORIGIN)]).await;
        check(&r);
        if spec["kind"] != "no_cors" {
            assert_eq!(
                r.header("access-control-allow-origin").as_deref(),
                Some("*"),
                "{spec}: faults keep CORS"
            );
        }
        // Switch off without restarting.
        assert_eq!(
            sb.send("DELETE", "/_faults", &[], String::new())
                .await
                .status,
            204
        );
        let ok = sb.get(DISCOVERY, &[]).await;
        assert_eq!(ok.status, 200);
        assert!(ok.json()["token_endpoint"].is_string());
    }

    // Delay.
    sb.fault(json!({"target": "discovery", "kind": "delay", "ms": 400}))
        .await;
    let started = Instant::now();
    assert_eq!(sb.get(DISCOVERY, &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
    sb.send("DELETE", "/_faults", &[], String::new()).await;

    // `times`, listing, and removing one fault.
    let id = sb
        .fault(json!({"target": "discovery", "kind": "status", "status": 503, "times": 2}))
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    let listed = sb.get("/_faults", &[]).await.json();
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["remaining"], 2);
    assert_eq!(sb.get(DISCOVERY, &[]).await.status, 503);
    assert_eq!(sb.get(DISCOVERY, &[]).await.status, 503);
    assert_eq!(sb.get(DISCOVERY, &[]).await.status, 200);
    assert_eq!(sb.get("/_faults", &[]).await.json(), json!([]));
    let id = sb
        .fault(json!({"target": "metadata", "kind": "status", "status": 500}))
        .await
        .json()["id"]
        .as_u64()
        .unwrap();
    assert_eq!(sb.get("/fhir/metadata", &[]).await.status, 500);
    assert_eq!(
        sb.get(DISCOVERY, &[]).await.status,
        200,
        "other targets untouched"
    );
    assert_eq!(
        sb.send("DELETE", &format!("/_faults/{id}"), &[], String::new())
            .await
            .status,
        204
    );
    assert_eq!(sb.get("/fhir/metadata", &[]).await.status, 200);

    // The log names the fault that applied.
    sb.send("DELETE", "/_log", &[], String::new()).await;
    let id = sb
        .fault(json!({"target": "discovery", "kind": "status", "times": 1}))
        .await
        .json()["id"]
        .clone();
    sb.get(DISCOVERY, &[]).await;
    assert_eq!(sb.get("/_log", &[]).await.json()[0]["faults"], json!([id]));

    // Bad specs are refused.
    for bad in [
        json!({"target": "nowhere", "kind": "status"}),
        json!({"target": "discovery", "kind": "explode"}),
        json!({"target": "discovery", "kind": "delay"}),
        json!({"target": "discovery", "kind": "token_lifetime", "seconds": 1}),
        json!({"target": "discovery", "kind": "status", "bogus": 1}),
    ] {
        let r = sb.post_json("/_faults", bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["error"].is_string());
    }
}

#[tokio::test]
async fn token_faults() {
    let sb = start_default().await;
    let exchange_with = |spec: Value| {
        let sb = &sb;
        async move {
            sb.send("DELETE", "/_faults", &[], String::new()).await;
            let mut spec = spec;
            if spec.get("target").is_none() {
                spec["target"] = json!("token");
            }
            sb.fault(spec).await;
            let code = sb.code(&[]).await;
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", CLIENT),
            ];
            sb.post_form("/token", &form, &[("origin", APP_ORIGIN)])
                .await
        }
    };
    let r = exchange_with(json!({"kind": "oauth_error", "error": "invalid_grant"})).await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    let r = exchange_with(json!({"kind": "oauth_error", "error": "invalid_client"})).await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (401, json!("invalid_client"))
    );
    let r = exchange_with(json!({"kind": "status", "status": 500})).await;
    assert_eq!(r.status, 500);
    let r = exchange_with(json!({"kind": "html"})).await;
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let r = exchange_with(json!({"kind": "no_cors"})).await;
    assert_eq!(r.status, 200);
    assert!(r.header("access-control-allow-origin").is_none());
    let r = exchange_with(json!({"kind": "drop_field", "field": "access_token"})).await;
    assert!(r.json().get("access_token").is_none());
    assert!(r.json()["token_type"].is_string());
    let r =
        exchange_with(json!({"kind": "set_field", "field": "token_type", "value": "mac"})).await;
    assert_eq!(r.json()["token_type"], "mac");
    let r = exchange_with(json!({"kind": "drop_field", "field": "expires_in"})).await;
    assert!(r.json().get("expires_in").is_none());
    let r =
        exchange_with(json!({"kind": "set_field", "field": "expires_in", "value": "3600"})).await;
    assert_eq!(r.json()["expires_in"], "3600");
    let r = exchange_with(json!({"kind": "no_refresh_token"})).await;
    assert!(r.json().get("refresh_token").is_none());
    assert!(r.json()["access_token"].is_string());
    let r = exchange_with(json!({"kind": "not_json"})).await;
    assert!(serde_json::from_str::<Value>(&r.text).is_err());

    // An unexpected failure inside the token handler: 500 server_error, with CORS.
    let r = exchange_with(json!({"kind": "panic"})).await;
    assert_eq!(
        (r.status, r.json()["error"].clone()),
        (500, json!("server_error"))
    );
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );

    // A fault for another client does not apply; one for this client does.
    let r = exchange_with(json!({"kind": "status", "client_id": OTHER})).await;
    assert_eq!(r.status, 200);
    let r = exchange_with(json!({"kind": "status", "client_id": CLIENT})).await;
    assert_eq!(r.status, 500);

    // A "refresh" fault leaves the code exchange alone, and hits the refresh.
    let r = exchange_with(
        json!({"target": "refresh", "kind": "oauth_error", "error": "invalid_grant"}),
    )
    .await;
    assert_eq!(r.status, 200);
    let rr = sb.refresh(&s(&r.json(), "refresh_token"), &[]).await;
    assert_eq!(
        (rr.status, rr.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );

    // token_lifetime: the token says so and really expires.
    let r = exchange_with(json!({"kind": "token_lifetime", "seconds": 1})).await;
    let t = r.json();
    assert_eq!(t["expires_in"], 1);
    let a = s(&t, "access_token");
    assert_eq!(sb.fhir_get("Patient/smart-1", &a).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(sb.fhir_get("Patient/smart-1", &a).await.status, 401);
    sb.send("DELETE", "/_faults", &[], String::new()).await;
    sb.fault(json!({"target": "refresh", "kind": "token_lifetime", "seconds": 0, "times": 1}))
        .await;
    let rr = sb.refresh(&s(&t, "refresh_token"), &[]).await.json();
    assert_eq!(rr["expires_in"], 0);
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&rr, "access_token"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn fhir_and_authorize_faults() {
    let sb = start_default().await;
    let t = sb.tokens(&[]).await;
    let a = s(&t, "access_token");
    sb.fault(
        json!({"target": "fhir", "kind": "oauth_error", "error": "invalid_token", "times": 1}),
    )
    .await;
    let r = sb.fhir_get("Patient/smart-1", &a).await;
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .contains("error=\"invalid_token\""));
    assert_eq!(sb.fhir_get("Patient/smart-1", &a).await.status, 200);
    sb.fault(json!({"target": "fhir", "kind": "status", "status": 503, "times": 1}))
        .await;
    assert_eq!(sb.fhir_get("Patient/smart-1", &a).await.status, 503);
    // no_cors on FHIR also breaks the preflight.
    sb.fault(json!({"target": "fhir", "kind": "no_cors", "times": 1}))
        .await;
    let p = sb
        .send(
            "OPTIONS",
            "/fhir/Patient/smart-1",
            &[
                ("origin", APP_ORIGIN),
                ("access-control-request-method", "GET"),
            ],
            String::new(),
        )
        .await;
    assert!(p.header("access-control-allow-origin").is_none());

    sb.fault(
        json!({"target": "authorize", "kind": "oauth_error", "error": "access_denied", "times": 2}),
    )
    .await;
    let r = sb.authorize(&[]).await;
    assert_eq!(r.status, 302);
    let p = r.location_params();
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "state-123");
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(sb.authorize_params(&[]).iter())
        .finish();
    let j = sb.get(&format!("/_test/authorize?{q}"), &[]).await.json();
    assert!(s(&j, "location").contains("error=access_denied"));
    assert!(sb
        .authorize(&[])
        .await
        .location_params()
        .contains_key("code"));
}

#[tokio::test]
async fn test_authorize_hook() {
    let sb = start_default().await;
    let q = |overrides: &[(&str, &str)]| {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(sb.authorize_params(overrides).iter())
            .finish()
    };
    let r = sb
        .get(
            &format!("/_test/authorize?{}", q(&[])),
            &[("origin", "http://browser-tests.example")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let loc = s(&r.json(), "location");
    assert!(loc.starts_with(&format!("{REDIRECT}?code=")));
    let p = query_of(&loc);
    assert_eq!(p["state"], "state-123");
    assert_eq!(p["iss"], sb.base);
    // The code is real.
    assert_eq!(sb.exchange(&p["code"], &[]).await.status, 200);

    let r = sb
        .get(
            &format!(
                "/_test/authorize?{}",
                q(&[("code_challenge_method", "plain")])
            ),
            &[],
        )
        .await
        .json();
    assert!(s(&r, "location").contains("error=invalid_request"));
    let r = sb
        .get(
            &format!("/_test/authorize?{}", q(&[("client_id", "ghost")])),
            &[],
        )
        .await
        .json();
    assert!(s(&r, "error_page").contains("Unknown client_id"));
    assert!(r.get("location").is_none());
}

#[tokio::test]
async fn static_app_origin() {
    let dir = std::env::temp_dir().join(format!("smart-sandbox-app-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>app</h1>").unwrap();
    std::fs::write(dir.join("callback.html"), "<h1>callback</h1>").unwrap();
    std::fs::write(dir.join("pkg/lib.wasm"), b"\0asm").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = smart_sandbox::static_app::router(
        dir.clone(),
        vec!["/cb".into()],
        "http://127.0.0.1:9400".into(),
    );
    tokio::spawn(async move { axum_serve(listener, router).await });
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |p: &str| http.get(format!("{base}{p}")).send();
    let r = get("/").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("referrer-policy").is_none());
    // spec #78: only the EHR may frame the app; spec #76: a script policy of 'self'.
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors http://127.0.0.1:9400;"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert_eq!(r.text().await.unwrap(), "<h1>app</h1>");
    let r = get("/callback.html").await.unwrap();
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    assert!(r.headers().contains_key("content-security-policy"));
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let r = get("/pkg/lib.wasm").await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/wasm");
    assert!(!r.headers().contains_key("content-security-policy"));
    assert_eq!(get("/missing.js").await.unwrap().status(), 404);
    assert_eq!(
        get("/pkg/..%2f..%2f..%2fetc/passwd")
            .await
            .unwrap()
            .status(),
        400
    );
    std::fs::remove_dir_all(&dir).ok();
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    axum::serve(listener, router).await.unwrap();
}

#[test]
fn command_line_help_and_errors() {
    let bin = env!("CARGO_BIN_EXE_smart-sandbox");
    let out = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--port",
        "--client ",
        "--client-launch-url",
        "--no-demo-client",
        "--access-token-lifetime",
        "--refresh-token-lifetime",
        "--code-lifetime",
        "--launch-lifetime",
        "--no-refresh-rotation",
        "--interactive",
        "--default-patient",
        "--allow-framing",
        "--serve-app",
        "--app-port",
        "--ehr-name",
    ] {
        assert!(help.contains(flag), "{flag} undocumented");
    }
    let out = std::process::Command::new(bin)
        .arg("--nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
}
