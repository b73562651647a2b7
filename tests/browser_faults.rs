//! Browser tests of faults and attacks (issue: hardening): each server misbehaviour the
//! sandbox can produce on demand ends in a typed error, leaves the session as it was,
//! and sends nothing it should not. Same harness as tests/browser_launch.rs.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn every_oauth_error_on_the_redirect_is_typed() {
    // spec #35: the RFC 6749 §4.1.2.1 codes, and an unknown one, each typed; no exchange.
    let codes = [
        ("access_denied", "authorization_denied"),
        ("invalid_request", "authorization_failed"),
        ("unauthorized_client", "authorization_failed"),
        ("unsupported_response_type", "authorization_failed"),
        ("invalid_scope", "authorization_failed"),
        ("server_error", "authorization_failed"),
        ("temporarily_unavailable", "authorization_failed"),
        ("some_future_code", "authorization_failed"),
    ];
    for (oauth, code) in codes {
        fresh_start().await;
        let (_, state) = authorize_url(standalone_options(SCOPE)).await.unwrap();
        set_page_url(&format!("/callback?error={oauth}&state={state}"));
        let err = ready(JsValue::UNDEFINED).await.expect_err(oauth);
        assert_eq!(code_of(&err), code, "{oauth}");
        assert_eq!(prop_str(&err, "oauthError").as_deref(), Some(oauth));
        assert!(requests_to("/token").await.is_empty(), "{oauth}");
    }
}

#[wasm_bindgen_test]
async fn a_foreign_iss_on_the_callback_is_a_mix_up() {
    // spec #38, #14: RFC 9207. The sandbox sends its issuer as `iss`; another value
    // means the response came from another authorization server: no exchange.
    fresh_start().await;
    let (url, _) = authorize_url(standalone_options(SCOPE)).await.unwrap();
    let callback = callback_path(&sandbox_redirect(&url).await);
    assert!(
        callback.contains("iss="),
        "the sandbox sends RFC 9207 iss: {callback}"
    );
    let params = smart_launch::protocol::url::parse_query(callback.split_once('?').unwrap().1);
    let forged: Vec<String> = params
        .iter()
        .map(|(k, v)| {
            let v = if k == "iss" {
                "https://evil.example"
            } else {
                v.as_str()
            };
            format!("{k}={}", String::from(js_sys::encode_uri_component(v)))
        })
        .collect();
    set_page_url(&format!("/callback?{}", forged.join("&")));
    let err = ready(JsValue::UNDEFINED).await.expect_err("mix-up");
    assert_eq!(code_of(&err), "issuer_mismatch");
    assert!(requests_to("/token").await.is_empty());
}

#[wasm_bindgen_test]
async fn a_slow_discovery_times_out() {
    // Requests are bounded (AbortController): a server that never answers in time
    // gives `timeout`, and no transaction is left behind.
    fresh_start().await;
    fault(r#"{"target":"discovery","kind":"delay","ms":3000}"#).await;
    let options = standalone_options(SCOPE);
    js_sys::Reflect::set(&options, &"timeoutMs".into(), &500.into()).unwrap();
    let err = authorize_url(options).await.expect_err("timeout");
    assert_eq!(code_of(&err), "timeout");
    let storage = window().session_storage().unwrap().unwrap();
    assert_eq!(storage.length().unwrap(), 0);
}

#[wasm_bindgen_test]
async fn fhir_server_errors_and_slowness_are_typed() {
    fresh_start().await;
    let (client, _) = launch_with(SCOPE, obj(&[("timeoutMs", 1000.into())])).await;
    let patient = prop_str(&client, "patientId").unwrap();
    let path: JsValue = format!("Patient/{patient}").into();

    fault(r#"{"target":"fhir","kind":"status","status":500,"times":1}"#).await;
    let err = call(&client, "request", std::slice::from_ref(&path))
        .await
        .expect_err("500");
    assert_eq!(code_of(&err), "fhir_request_failed");
    assert_eq!(prop(&err, "status").as_f64(), Some(500.0));

    fault(r#"{"target":"fhir","kind":"delay","ms":3000,"times":1}"#).await;
    let err = call(&client, "request", std::slice::from_ref(&path))
        .await
        .expect_err("slow");
    assert_eq!(code_of(&err), "timeout");

    // Neither failure touched the session: the next request works, with no refresh.
    call(&client, "request", &[path])
        .await
        .expect("healthy again");
    assert_eq!(token_requests("refresh_token").await, 0);
}

#[wasm_bindgen_test]
async fn a_transient_refresh_failure_keeps_the_session() {
    // spec #63, #65: five waiting callers share the one failing request; a 5xx is not
    // the end of the session, and the next refresh uses the same, unspent token.
    fresh_start().await;
    let client = launch(SCOPE).await;
    let events = record_events(&client);
    fault(r#"{"target":"refresh","kind":"status","status":503,"times":1}"#).await;
    let waiting: Vec<js_sys::Promise> = (0..5).map(|_| start(&client, "refresh", &[])).collect();
    for promise in waiting {
        let err = JsFuture::from(promise).await.expect_err("503");
        assert_eq!(code_of(&err), "token_server_error");
    }
    assert_eq!(token_requests("refresh_token").await, 1);
    assert_eq!(event_types(&events), ["refreshFailed"]);
    assert!(!prop_str(&client, "accessToken").unwrap().is_empty());

    call(&client, "refresh", &[]).await.expect("recovered");
    let sent: Vec<String> = requests_to("/token")
        .await
        .iter()
        .filter_map(|e| form_field(e, "refresh_token"))
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0], sent[1],
        "the refused request did not spend the token"
    );
}

#[wasm_bindgen_test]
async fn a_refresh_without_cors_is_a_network_error() {
    // The browser hides a CORS failure: it is a network error, not an ended session.
    fresh_start().await;
    let client = launch(SCOPE).await;
    fault(r#"{"target":"refresh","kind":"no_cors","times":1}"#).await;
    let err = call(&client, "refresh", &[]).await.expect_err("no cors");
    assert_eq!(code_of(&err), "network_error");
    assert_eq!(prop(&client, "hasRefreshToken").as_bool(), Some(true));
}

#[wasm_bindgen_test]
async fn a_paging_link_off_the_base_gets_no_token() {
    // spec #57: an absolute link on the same host but outside the FHIR base (a
    // `Bundle.link` a server could hand out) is fetched without the bearer token.
    fresh_start().await;
    let client = launch(SCOPE).await;
    let link = format!("{SANDBOX}/fhir2/Observation?page=2");
    let _ = call(&client, "request", &[link.into()]).await;
    let entries: Vec<JsValue> = log()
        .await
        .into_iter()
        .filter(|e| prop_str(e, "path").as_deref() == Some("/fhir2/Observation"))
        .collect();
    assert!(!entries.is_empty(), "the request was not sent at all");
    for e in entries {
        assert_eq!(header(&e, "authorization"), None);
    }
}

#[wasm_bindgen_test]
async fn unknown_options_fail_as_configuration_errors() {
    // Configuration errors refuse, naming the option, before any request.
    fresh_start().await;
    let cases: [(&str, JsValue, &str); 3] = [
        ("target", "_blank".into(), "target"),
        ("scope", "patient/Obs \"x\"".into(), "scope"),
        ("issuers", "not a list".into(), "issuers"),
    ];
    for (key, value, field) in cases {
        let options = standalone_options(SCOPE);
        js_sys::Reflect::set(&options, &key.into(), &value).unwrap();
        let err = authorize_url(options).await.expect_err(key);
        assert_eq!(code_of(&err), "invalid_options", "{key}");
        assert_eq!(prop_str(&err, "field").as_deref(), Some(field), "{key}");
    }
    let err = authorize_url(JsValue::UNDEFINED)
        .await
        .expect_err("no options");
    assert_eq!(code_of(&err), "invalid_options");
    let requests: Array = log().await.into_iter().collect();
    // The scope case is refused after discovery (the builder checks it); the others
    // before any request.
    assert!(requests.length() <= 1, "{} requests", requests.length());
}

#[wasm_bindgen_test]
async fn every_token_fault_during_a_refresh_reaches_every_waiter() {
    // spec #63, #65: three callers wait on the one refresh; each fault gives all of
    // them the same typed error from one request. A terminal answer ends the session
    // (tokens wiped); a transient one keeps it.
    let cases = [
        (
            r#"{"target":"refresh","kind":"oauth_error","status":401,"error":"invalid_client"}"#,
            "invalid_client",
            true,
        ),
        (
            r#"{"target":"refresh","kind":"status","status":500}"#,
            "token_server_error",
            false,
        ),
        (
            r#"{"target":"refresh","kind":"html"}"#,
            "token_response_invalid",
            true,
        ),
        (
            r#"{"target":"refresh","kind":"drop_field","field":"access_token"}"#,
            "token_response_invalid",
            true,
        ),
        (
            r#"{"target":"refresh","kind":"set_field","field":"token_type","value":"mac"}"#,
            "unsupported_token_type",
            true,
        ),
        (
            r#"{"target":"refresh","kind":"set_field","field":"expires_in","value":"3600"}"#,
            "token_response_invalid",
            true,
        ),
        (
            r#"{"target":"refresh","kind":"no_cors"}"#,
            "network_error",
            false,
        ),
    ];
    for (spec, code, ends) in cases {
        fresh_start().await;
        let client = launch(SCOPE).await;
        fault(spec).await;
        let waiting: Vec<js_sys::Promise> =
            (0..3).map(|_| start(&client, "refresh", &[])).collect();
        for promise in waiting {
            let err = JsFuture::from(promise).await.expect_err(spec);
            assert_eq!(code_of(&err), code, "{spec}");
        }
        assert_eq!(token_requests("refresh_token").await, 1, "{spec}");
        let token = prop_str(&client, "accessToken").unwrap();
        assert_eq!(
            token.is_empty(),
            ends,
            "{spec}: session ended = {}",
            token.is_empty()
        );
    }
}
