//! Browser tests: the JS API in headless Chromium against the real sandbox over loopback
//! (`make test-browser` starts it). The test page lives on a fixed origin registered
//! with the sandbox as client `smart-launch-test`.
//!
//! The authorization step itself is a cross-origin redirect that a test page cannot
//! follow without unloading, so it is asked of the sandbox's `/_test/authorize`, which
//! runs the same checks and answers with the redirect URL; the test then puts that URL
//! in the address bar (same origin) and calls `ready()`, as the callback page would.
//! Real navigations are covered by the end-to-end tests.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use js_sys::{Array, Function, Object, Reflect};
use smart_launch::api;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn standalone_launch_reaches_the_patient() {
    fresh_start().await;
    let (client, _) = launch_with(SCOPE, JsValue::UNDEFINED).await;
    // spec #39: code and state are gone from the address bar.
    let href = window().location().href().unwrap();
    assert!(
        !href.contains("code=") && !href.contains("state="),
        "{href}"
    );
    assert!(!prop_str(&client, "accessToken").unwrap().is_empty());
    assert_eq!(prop_str(&client, "serverUrl"), Some(fhir_base()));
    assert_eq!(prop(&client, "hasRefreshToken").as_bool(), Some(true));
    let patient = prop_str(&client, "patientId").expect("patient in context");
    let granted: Vec<String> = Array::from(&prop(&client, "grantedScopes"))
        .iter()
        .filter_map(|s| s.as_string())
        .collect();
    assert!(granted.iter().any(|s| s == "patient/*.rs"), "{granted:?}");
    // spec #69: fhirUser from the validated id_token, absolute under the base.
    let user = prop_str(&client, "fhirUser").expect("fhirUser");
    assert!(user.starts_with(&format!("{}/", fhir_base())), "{user}");

    let resource = call(&client, "request", &[format!("Patient/{patient}").into()])
        .await
        .expect("FHIR read");
    assert_eq!(
        prop_str(&resource, "resourceType").as_deref(),
        Some("Patient")
    );
    assert_eq!(prop_str(&resource, "id"), Some(patient));

    // spec #40, #41, #42, #43: one form POST with the public-client parameters, no
    // Authorization header and no cookie.
    let posts = requests_to("/token").await;
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(
        form_field(post, "grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(form_field(post, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(form_field(post, "redirect_uri"), Some(redirect_uri()));
    assert!(form_field(post, "code_verifier").is_some_and(|v| v.len() == 43));
    assert_eq!(header(post, "authorization"), None);
    assert_eq!(header(post, "cookie"), None);
    // spec #39: the token request leaves before the address bar is cleaned, so it must
    // not carry the page's address (with the code in it) as a Referer.
    assert_eq!(header(post, "referer"), None);

    // spec #2: discovery is a GET asking for JSON.
    let discovery = requests_to("/fhir/.well-known/smart-configuration").await;
    assert_eq!(discovery.len(), 1);
    assert_eq!(prop_str(&discovery[0], "method").as_deref(), Some("GET"));
    assert!(header(&discovery[0], "accept").is_some_and(|a| a.contains("application/json")));

    // spec #56: the access token travels in the Authorization header, never the URL.
    let token = prop_str(&client, "accessToken").unwrap();
    // (The Authorization header makes the browser send a CORS preflight first.)
    let read: Vec<JsValue> = requests_to(&format!(
        "/fhir/Patient/{}",
        prop_str(&resource, "id").unwrap()
    ))
    .await
    .into_iter()
    .filter(|e| prop_str(e, "method").as_deref() == Some("GET"))
    .collect();
    assert_eq!(read.len(), 1);
    assert_eq!(
        header(&read[0], "authorization"),
        Some(format!("Bearer {token}"))
    );
    for entry in log().await {
        let query = js_sys::JSON::stringify(&prop(&entry, "query")).unwrap();
        assert!(!String::from(query).contains(&token), "token in a URL");
    }

    // spec #72, #73: only memory holds the tokens; the transaction record is gone.
    assert_eq!(
        window()
            .session_storage()
            .unwrap()
            .unwrap()
            .length()
            .unwrap(),
        0
    );
    assert_no_token_stored(&secrets_of(&client)).await;
}

#[wasm_bindgen_test]
async fn token_requests_never_carry_cookies() {
    // spec #43: a cookie of this host (cookies ignore ports) must not reach the server.
    fresh_start().await;
    let document = window().document().unwrap();
    Reflect::set(&document, &"cookie".into(), &"tracker=1; path=/".into()).unwrap();
    let _client = launch(SCOPE).await;
    Reflect::set(
        &document,
        &"cookie".into(),
        &"tracker=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/".into(),
    )
    .unwrap();
    for entry in log().await {
        assert_eq!(
            header(&entry, "cookie"),
            None,
            "{:?}",
            prop_str(&entry, "path")
        );
    }
}

#[wasm_bindgen_test]
async fn ehr_launch_uses_the_allowlist_entry() {
    fresh_start().await;
    let handle = http_json(
        "POST",
        &format!("{SANDBOX}/_test/launch"),
        Some(&format!(
            r#"{{"patient":"smart-2","client_id":"{CLIENT_ID}"}}"#
        )),
    )
    .await;
    let iss = prop_str(&handle, "iss").expect("iss");
    let launch = prop_str(&handle, "launch").expect("launch");
    let query = format!(
        "?iss={}&launch={}",
        String::from(js_sys::encode_uri_component(&iss)),
        String::from(js_sys::encode_uri_component(&launch))
    );
    set_page_url(&format!("/launch{query}"));
    let entry = obj(&[
        ("iss", iss.clone().into()),
        ("clientId", CLIENT_ID.into()),
        ("scope", "launch openid fhirUser patient/*.rs".into()),
    ]);
    let options = obj(&[
        ("issuers", Array::of1(&entry).into()),
        ("redirectUri", redirect_uri().into()),
        ("allowInsecureLocalhost", true.into()),
    ]);
    let (url, _) = authorize_url(options).await.expect("authorize");
    // spec #13, #19, #22: launch verbatim, the launch scope, aud = iss.
    let params: Vec<(String, String)> =
        smart_launch::protocol::url::parse_query(url.split_once('?').unwrap().1);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("launch"), Some(launch));
    assert_eq!(get("aud"), Some(iss.clone()));
    assert!(get("scope").unwrap().split(' ').any(|s| s == "launch"));
    set_page_url(&callback_path(&sandbox_redirect(&url).await));
    let client = ready(JsValue::UNDEFINED).await.expect("ready");
    assert_eq!(prop_str(&client, "patientId").as_deref(), Some("smart-2"));
    assert!(prop_str(&client, "encounterId").is_some());
    // spec #72
    assert_no_token_stored(&secrets_of(&client)).await;
}

#[wasm_bindgen_test]
async fn forged_ehr_launch_is_refused_before_any_request() {
    // spec #12: an iss off the allowlist is refused with no network call at all.
    fresh_start().await;
    set_page_url("/launch?iss=https%3A%2F%2Fevil.example%2Ffhir&launch=abc");
    let entry = obj(&[("iss", fhir_base().into()), ("clientId", CLIENT_ID.into())]);
    let options = obj(&[
        ("issuers", Array::of1(&entry).into()),
        ("scope", "launch patient/*.rs".into()),
        ("redirectUri", redirect_uri().into()),
    ]);
    let err = authorize_url(options).await.expect_err("refused");
    assert_eq!(code_of(&err), "issuer_not_allowed");
    assert_eq!(prop_str(&err, "name").as_deref(), Some("SmartError"));
    assert!(log().await.is_empty(), "a request was made");
}

#[wasm_bindgen_test]
async fn ready_twice_exchanges_the_code_once() {
    // spec #40: the same page asking twice gets the same client.
    fresh_start().await;
    let (url, _) = authorize_url(standalone_options(SCOPE)).await.unwrap();
    set_page_url(&callback_path(&sandbox_redirect(&url).await));
    let first = api::ready(JsValue::UNDEFINED);
    let second = api::ready(JsValue::UNDEFINED);
    let a = JsFuture::from(first).await.expect("first");
    let b = JsFuture::from(second).await.expect("second");
    assert_eq!(prop_str(&a, "accessToken"), prop_str(&b, "accessToken"));
    assert_eq!(requests_to("/token").await.len(), 1);
}

#[wasm_bindgen_test]
async fn replayed_callback_sends_no_token_request() {
    // spec #32, #33: the record is single-use; a reload or replay is session_lost.
    fresh_start().await;
    let (_client, callback) = launch_with(SCOPE, JsValue::UNDEFINED).await;
    api::reset_page_state_for_tests();
    set_page_url(&callback);
    let err = ready(JsValue::UNDEFINED).await.expect_err("replay refused");
    assert_eq!(code_of(&err), "session_lost");
    assert_eq!(requests_to("/token").await.len(), 1);
}

#[wasm_bindgen_test]
async fn wrong_or_missing_state_sends_no_token_request() {
    fresh_start().await;
    let (url, state) = authorize_url(standalone_options(SCOPE)).await.unwrap();
    let callback = callback_path(&sandbox_redirect(&url).await);

    // spec #34: a case variant of the state is another state.
    let tampered = callback.replace(&state, &state.to_uppercase());
    set_page_url(&tampered);
    let err = ready(JsValue::UNDEFINED).await.expect_err("tampered");
    assert_eq!(code_of(&err), "state_mismatch");

    // spec #33: a code without state.
    api::reset_page_state_for_tests();
    set_page_url("/callback?code=abc");
    let err = ready(JsValue::UNDEFINED).await.expect_err("no state");
    assert_eq!(code_of(&err), "state_missing");
    assert!(requests_to("/token").await.is_empty());

    // The genuine callback still works afterwards: nothing was consumed.
    api::reset_page_state_for_tests();
    set_page_url(&callback);
    ready(JsValue::UNDEFINED).await.expect("genuine callback");
}

#[wasm_bindgen_test]
async fn error_redirect_is_typed_and_kept_as_text() {
    // spec #35, #36
    fresh_start().await;
    let (_, state) = authorize_url(standalone_options(SCOPE)).await.unwrap();
    set_page_url(&format!(
        "/callback?error=access_denied&error_description=%3Cimg%20src%3Dx%3E%20denied&state={state}"
    ));
    let err = ready(JsValue::UNDEFINED).await.expect_err("denied");
    assert_eq!(code_of(&err), "authorization_denied");
    assert_eq!(
        prop_str(&err, "oauthError").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        prop_str(&err, "description").as_deref(),
        Some("<img src=x> denied")
    );
    assert!(requests_to("/token").await.is_empty());
}

#[wasm_bindgen_test]
async fn discovery_faults_fail_closed() {
    // spec #3, #4, #6: each defect is a typed error and no authorization URL.
    let cases = [
        (
            r#"{"target":"discovery","kind":"status","status":500}"#,
            "discovery_failed",
        ),
        (
            r#"{"target":"discovery","kind":"status","status":404}"#,
            "discovery_failed",
        ),
        (
            r#"{"target":"discovery","kind":"html"}"#,
            "discovery_invalid",
        ),
        (
            r#"{"target":"discovery","kind":"drop_field","field":"token_endpoint"}"#,
            "discovery_invalid",
        ),
        (
            r#"{"target":"discovery","kind":"set_field","field":"code_challenge_methods_supported","value":["plain"]}"#,
            "pkce_not_supported",
        ),
        (
            r#"{"target":"discovery","kind":"set_field","field":"token_endpoint","value":"http://evil.example/token"}"#,
            "insecure_endpoint",
        ),
    ];
    for (spec, code) in cases {
        fresh_start().await;
        fault(spec).await;
        let err = authorize_url(standalone_options(SCOPE))
            .await
            .expect_err(spec);
        assert_eq!(code_of(&err), code, "{spec}");
        let storage = window().session_storage().unwrap().unwrap();
        assert_eq!(storage.length().unwrap(), 0, "a record was left for {spec}");
    }
}

#[wasm_bindgen_test]
async fn token_endpoint_errors_are_typed() {
    // spec #44, #45, #55: each answer maps to its code; the code is never retried.
    let cases = [
        (
            r#"{"target":"token","kind":"oauth_error","status":400,"error":"invalid_grant"}"#,
            "invalid_grant",
            Some(400),
        ),
        (
            r#"{"target":"token","kind":"oauth_error","status":401,"error":"invalid_client"}"#,
            "invalid_client",
            Some(401),
        ),
        (
            r#"{"target":"token","kind":"oauth_error","status":400,"error":"invalid_request"}"#,
            "token_request_failed",
            Some(400),
        ),
        (
            r#"{"target":"token","kind":"status","status":500}"#,
            "token_server_error",
            Some(500),
        ),
        (
            r#"{"target":"token","kind":"html"}"#,
            "token_response_invalid",
            None,
        ),
        (
            r#"{"target":"token","kind":"drop_field","field":"access_token"}"#,
            "token_response_invalid",
            None,
        ),
        (
            r#"{"target":"token","kind":"set_field","field":"token_type","value":"mac"}"#,
            "unsupported_token_type",
            None,
        ),
        (
            r#"{"target":"token","kind":"set_field","field":"expires_in","value":"3600"}"#,
            "token_response_invalid",
            None,
        ),
        (
            r#"{"target":"token","kind":"no_cors"}"#,
            "network_error",
            None,
        ),
    ];
    for (spec, code, status) in cases {
        fresh_start().await;
        let (url, _) = authorize_url(standalone_options(SCOPE)).await.unwrap();
        set_page_url(&callback_path(&sandbox_redirect(&url).await));
        fault(spec).await;
        let err = ready(JsValue::UNDEFINED).await.expect_err(spec);
        assert_eq!(code_of(&err), code, "{spec}");
        if let Some(status) = status {
            assert_eq!(prop(&err, "status").as_f64(), Some(status as f64), "{spec}");
        }
        assert_eq!(requests_to("/token").await.len(), 1, "{spec}");
    }
}

#[wasm_bindgen_test]
async fn unreachable_token_endpoint_is_a_network_error() {
    fresh_start().await;
    fault(r#"{"target":"discovery","kind":"set_field","field":"token_endpoint","value":"http://127.0.0.1:9/token"}"#).await;
    let (url, _) = authorize_url(standalone_options(SCOPE)).await.unwrap();
    set_page_url(&callback_path(&sandbox_redirect(&url).await));
    let err = ready(JsValue::UNDEFINED)
        .await
        .expect_err("refused connection");
    assert_eq!(code_of(&err), "network_error");
}

#[wasm_bindgen_test]
async fn bearer_goes_only_under_the_server_url() {
    // spec #57: same host, but outside the base at a segment boundary.
    fresh_start().await;
    let client = launch(SCOPE).await;
    let _ = call(
        &client,
        "request",
        &[format!("{SANDBOX}/fhir-other/Patient/1").into()],
    )
    .await;
    let _ = call(&client, "request", &[format!("{SANDBOX}/_log").into()]).await;
    for entry in log().await {
        let path = prop_str(&entry, "path").unwrap_or_default();
        if !path.starts_with("/fhir/") {
            assert_eq!(
                header(&entry, "authorization"),
                None,
                "bearer sent to {path}"
            );
        }
    }
}

#[wasm_bindgen_test]
async fn concurrent_refreshes_share_one_request() {
    // spec #62, #63: ten callers, one refresh POST; the rotated token is used next.
    fresh_start().await;
    let client = launch(SCOPE).await;
    // All ten are in flight before the first answer comes back.
    let calls: Vec<js_sys::Promise> = (0..10).map(|_| start(&client, "refresh", &[])).collect();
    for promise in calls {
        JsFuture::from(promise).await.expect("refresh");
    }
    let refreshes: Vec<JsValue> = requests_to("/token")
        .await
        .into_iter()
        .filter(|e| form_field(e, "grant_type").as_deref() == Some("refresh_token"))
        .collect();
    assert_eq!(refreshes.len(), 1);
    call(&client, "refresh", &[]).await.expect("second refresh");
    let refreshes: Vec<String> = requests_to("/token")
        .await
        .iter()
        .filter_map(|e| form_field(e, "refresh_token"))
        .collect();
    assert_eq!(refreshes.len(), 2);
    assert_ne!(
        refreshes[0], refreshes[1],
        "the rotated refresh token was not used"
    );
    // spec #60: client_id on a public refresh.
    let last = requests_to("/token").await.pop().unwrap();
    assert_eq!(form_field(&last, "client_id").as_deref(), Some(CLIENT_ID));
}

#[wasm_bindgen_test]
async fn rejected_refresh_ends_the_session() {
    // spec #65: invalid_grant ends the session, one event, no retry.
    fresh_start().await;
    let client = launch(SCOPE).await;
    let events = record_events(&client);
    fault(r#"{"target":"refresh","kind":"oauth_error","status":400,"error":"invalid_grant"}"#)
        .await;
    let err = call(&client, "refresh", &[]).await.expect_err("rejected");
    assert_eq!(code_of(&err), "invalid_grant");
    assert_eq!(event_types(&events), ["refreshFailed", "ended"]);
    assert_eq!(prop_str(&client, "accessToken").as_deref(), Some(""));
    let err = call(&client, "refresh", &[]).await.expect_err("ended");
    assert_eq!(code_of(&err), "session_ended");
    let refreshes = token_requests("refresh_token").await;
    assert_eq!(refreshes, 1);
}

#[wasm_bindgen_test]
async fn expired_token_on_fhir_refreshes_once_and_retries() {
    // spec #58: 401 invalid_token -> one refresh, one retry.
    fresh_start().await;
    let client = launch(SCOPE).await;
    let patient = prop_str(&client, "patientId").unwrap();
    fault(r#"{"target":"fhir","kind":"status","status":401,"times":1}"#).await;
    let resource = call(&client, "request", &[format!("Patient/{patient}").into()])
        .await
        .expect("retried after refresh");
    assert_eq!(
        prop_str(&resource, "resourceType").as_deref(),
        Some("Patient")
    );
    let refreshes = token_requests("refresh_token").await;
    assert_eq!(refreshes, 1);
}

#[wasm_bindgen_test]
async fn out_of_scope_read_reports_insufficient_scope_without_refresh() {
    // spec #58: 403 leads to no refresh.
    fresh_start().await;
    let client = launch("launch/patient patient/Patient.rs offline_access").await;
    let patient = prop_str(&client, "patientId").unwrap();
    let err = call(
        &client,
        "request",
        &[format!("Observation?patient={patient}").into()],
    )
    .await
    .expect_err("out of scope");
    assert_eq!(code_of(&err), "insufficient_scope");
    assert_eq!(prop(&err, "status").as_f64(), Some(403.0));
    assert_eq!(requests_to("/token").await.len(), 1);
}

#[wasm_bindgen_test]
async fn logout_revokes_and_wipes() {
    // spec #80
    fresh_start().await;
    let client = launch(SCOPE).await;
    let events = record_events(&client);
    call(&client, "logout", &[]).await.expect("logout");
    let revokes = requests_to("/revoke").await;
    assert_eq!(revokes.len(), 1);
    assert_eq!(
        form_field(&revokes[0], "token_type_hint").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(prop_str(&client, "accessToken").as_deref(), Some(""));
    assert_eq!(prop(&client, "hasRefreshToken").as_bool(), Some(false));
    let types = event_types(&events);
    assert_eq!(types, ["ended"]);
    assert_eq!(
        prop_str(&events.get(0), "reason").as_deref(),
        Some("logout")
    );
}

#[wasm_bindgen_test]
async fn short_lived_token_warns_and_refreshes_itself() {
    // spec #66: expiring fires before expiry, auto-refresh follows, once per token.
    fresh_start().await;
    fault(r#"{"target":"token","kind":"token_lifetime","seconds":4}"#).await;
    let events = Array::new();
    let sink = events.clone();
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        sink.push(&e);
    });
    let options = obj(&[
        ("onTokenEvent", listener.as_ref().clone()),
        ("expiringLeadSeconds", 2.into()),
    ]);
    listener.forget();
    let (client, _) = launch_with(SCOPE, options).await;
    let first_token = prop_str(&client, "accessToken").unwrap();
    // expiring is due at 2 s; the refresh follows at once. Poll (up to 10 s) rather
    // than sleep a fixed time, so a loaded machine does not fail the test.
    for _ in 0..40 {
        if event_types(&events).iter().any(|t| t == "refreshed") {
            break;
        }
        sleep_ms(250).await;
    }
    let types = event_types(&events);
    assert_eq!(
        types.first().map(String::as_str),
        Some("expiring"),
        "{types:?}"
    );
    assert!(types.iter().any(|t| t == "refreshed"), "{types:?}");
    assert_eq!(
        types.iter().filter(|t| *t == "expiring").count(),
        1,
        "{types:?}"
    );
    assert_ne!(prop_str(&client, "accessToken").unwrap(), first_token);
    // spec #72
    assert_no_token_stored(&secrets_of(&client)).await;
}

#[wasm_bindgen_test]
async fn no_csprng_no_launch() {
    // spec #74: a stubbed getRandomValues gives a hard error, never a fallback.
    fresh_start().await;
    let crypto = prop(&window(), "crypto");
    let proto = js_sys::Object::get_prototype_of(&crypto);
    let original = prop(&proto, "getRandomValues");
    let noop = Function::new_with_args("a", "return a");
    Reflect::set(&crypto, &"getRandomValues".into(), &noop).unwrap();
    let result = authorize_url(standalone_options(SCOPE)).await;
    Reflect::delete_property(crypto.unchecked_ref::<Object>(), &"getRandomValues".into()).unwrap();
    assert!(Reflect::get(&crypto, &"getRandomValues".into()).unwrap() == original);
    let err = result.expect_err("no randomness");
    assert_eq!(code_of(&err), "crypto_unavailable");
}

#[wasm_bindgen_test]
async fn no_subtle_crypto_no_launch() {
    // spec #24, #25, #74: the S256 challenge needs crypto.subtle (absent outside a
    // secure context); without it the launch fails, never falling back to `plain`, and
    // leaves no transaction record behind.
    fresh_start().await;
    let crypto = prop(&window(), "crypto");
    let hide = js_sys::eval(
        "(c) => Object.defineProperty(c, 'subtle', { value: undefined, configurable: true })",
    )
    .unwrap();
    hide.unchecked_ref::<Function>()
        .call1(&JsValue::NULL, &crypto)
        .unwrap();
    let result = authorize_url(standalone_options(SCOPE)).await;
    Reflect::delete_property(crypto.unchecked_ref::<Object>(), &"subtle".into()).unwrap();
    assert!(prop(&crypto, "subtle").is_object());
    let err = result.expect_err("no SHA-256");
    assert_eq!(code_of(&err), "crypto_unavailable");
    let storage = window().session_storage().unwrap().unwrap();
    assert_eq!(storage.length().unwrap(), 0);
}

#[wasm_bindgen_test]
async fn verified_id_token_uses_the_discovered_jwks() {
    // spec #68: with verifyIdToken the signature is checked with the discovered JWKS.
    fresh_start().await;
    let (client, _) = launch_with(SCOPE, obj(&[("verifyIdToken", true.into())])).await;
    assert!(prop_str(&client, "fhirUser").is_some());
    let fetched = requests_to("/.well-known/jwks.json")
        .await
        .into_iter()
        .filter(|e| prop_str(e, "method").as_deref() == Some("GET"))
        .count();
    assert_eq!(fetched, 1);
}

#[wasm_bindgen_test]
async fn forged_id_token_signature_is_refused() {
    // spec #68: a genuine id_token with a changed signature does not pass.
    fresh_start().await;
    let genuine = prop_str(&launch(SCOPE).await, "idToken").expect("an id_token");
    let (head, signature) = genuine.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { "B" } else { "A" };
    let forged = format!("{head}.{first}{}", &signature[1..]);

    fresh_start().await;
    let (url, _) = authorize_url(standalone_options(SCOPE)).await.unwrap();
    set_page_url(&callback_path(&sandbox_redirect(&url).await));
    fault(&format!(
        r#"{{"target":"token","kind":"set_field","field":"id_token","value":"{forged}"}}"#
    ))
    .await;
    let err = ready(obj(&[("verifyIdToken", true.into())]))
        .await
        .expect_err("forged signature");
    assert_eq!(code_of(&err), "id_token_invalid");
    assert_eq!(prop_str(&err, "field").as_deref(), Some("signature"));
}
