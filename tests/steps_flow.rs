//! The wasm's exports (`src/steps/`) driven natively, as the JS API drives them in
//! the browser: a whole standalone launch, refresh, FHIR requests and logout, on plain
//! data. The browser tests run the same steps through the real package.
#![cfg(not(target_arch = "wasm32"))]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use smart_launch::protocol::callback::TransactionRecord;
use smart_launch::protocol::json::Json;
use smart_launch::steps::{self, Grant};

const FHIR: &str = "https://ehr.example/fhir";
const ISSUER: &str = "https://ehr.example/auth";
const PAGE: &str = "https://app.example/launch.html";
const NOW: f64 = 1_900_000_000_000.0;

/// A tiny JSON reader for the answers: the member `key` of `text` as raw JSON text.
fn member<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\":");
    let start = text.find(&needle)? + needle.len();
    let rest = &text[start..];
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_str => escaped = true,
            '"' => in_str = !in_str,
            '{' | '[' if !in_str => depth += 1,
            '}' | ']' if !in_str => {
                if depth == 0 {
                    return Some(&rest[..i]);
                }
                depth -= 1;
                if depth == 0 {
                    return Some(&rest[..=i]);
                }
            }
            ',' if !in_str && depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    Some(rest)
}

fn string(text: &str, key: &str) -> Option<String> {
    member(text, key).and_then(|v| v.strip_prefix('"')?.strip_suffix('"').map(String::from))
}

fn ok(answer: &str) -> String {
    assert!(answer.starts_with("{\"ok\":"), "not ok: {answer}");
    answer["{\"ok\":".len()..answer.len() - 1].to_string()
}

fn error_code(answer: &str) -> String {
    let error = member(answer, "error").unwrap_or_else(|| panic!("not an error: {answer}"));
    string(error, "code").expect("code")
}

fn discovery_document() -> String {
    format!(
        r#"{{"issuer":"{ISSUER}","jwks_uri":"{ISSUER}/jwks","authorization_endpoint":"{ISSUER}/authorize",
        "token_endpoint":"{ISSUER}/token","revocation_endpoint":"{ISSUER}/revoke",
        "capabilities":["launch-standalone","client-public","context-standalone-patient","permission-v2"],
        "code_challenge_methods_supported":["S256"],"grant_types_supported":["authorization_code","refresh_token"]}}"#
    )
}

fn jwt(claims: &str) -> String {
    let part = |s: &str| URL_SAFE_NO_PAD.encode(s.as_bytes());
    format!(
        "{}.{}.{}",
        part(r#"{"alg":"RS256"}"#),
        part(claims),
        part("sig")
    )
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').expect("query").1;
    smart_launch::protocol::url::parse_query(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

struct Launched {
    grant: Grant,
    answer: String,
}

fn launch(scope: &str, token_extra: &str) -> Launched {
    let options = format!(
        r#"{{"clientId":"app","scope":"{scope}","redirectUri":"callback.html","iss":"{FHIR}"}}"#
    );
    let plan = ok(&steps::plan(&options, PAGE, ""));
    assert_eq!(
        string(&plan, "redirectUri").as_deref(),
        Some("https://app.example/callback.html")
    );
    assert_eq!(
        string(&plan, "discoveryUrl").as_deref(),
        Some("https://ehr.example/fhir/.well-known/smart-configuration")
    );
    let config = ok(&steps::discover(
        200,
        &discovery_document(),
        FHIR,
        false,
        false,
    ));
    let verifier: String = ok(&steps::code_verifier(&[7; 32]))
        .trim_matches('"')
        .to_string();
    let digest = [9u8; 32];
    let mut random = [1u8; 64];
    random[40] = 2;
    let (plan_value, config_value) = (Json::parse(&plan).unwrap(), Json::parse(&config).unwrap());
    let authorization = ok(&steps::authorization(
        &plan_value,
        &config_value,
        &verifier,
        &digest,
        &random,
        NOW,
    ));
    let url = string(&authorization, "url").expect("url");
    let state = string(&authorization, "state").expect("state");
    let record = string(&authorization, "record")
        .expect("record")
        .replace("\\\"", "\"");
    // spec #21, #24: a 256-bit state, and the challenge is the digest, base64url.
    assert_eq!(state.len(), 43);
    assert_eq!(query_param(&url, "state"), state);
    assert_eq!(
        query_param(&url, "code_challenge"),
        URL_SAFE_NO_PAD.encode(digest)
    );
    assert_eq!(query_param(&url, "code_challenge_method"), "S256");
    assert!(steps::record_is_live(&record, NOW + 1000.0));
    // spec #32: the record holds what the redirect back needs, each member in its own
    // place (the launch writes it member by member, in the order the reader expects).
    let kept = TransactionRecord::from_json(&record).expect("record");
    assert_eq!(
        (
            kept.state.as_str(),
            kept.code_verifier.as_str(),
            kept.client_id.as_str()
        ),
        (state.as_str(), verifier.as_str(), "app")
    );
    assert_eq!(kept.redirect_uri, "https://app.example/callback.html");
    assert_eq!(kept.fhir_base, FHIR);
    assert_eq!(kept.requested_scope, scope);
    let endpoint = |path: &str| Some(format!("{ISSUER}/{path}"));
    assert_eq!(
        (
            kept.issuer.as_deref(),
            Some(kept.token_endpoint.clone()),
            kept.revocation_endpoint.clone(),
            kept.jwks_uri.clone()
        ),
        (
            Some(ISSUER),
            endpoint("token"),
            endpoint("revoke"),
            endpoint("jwks")
        )
    );
    let nonce = scope
        .split(' ')
        .any(|s| s == "openid")
        .then(|| query_param(&url, "nonce"));
    assert_eq!(kept.nonce, nonce);
    assert_eq!(kept.launch, None);
    assert_eq!(kept.created_at_ms, NOW as u64);

    let query = format!("code=the-code&state={state}&iss={ISSUER}");
    let state_answer = ok(&steps::callback_state(&query));
    assert_eq!(state_answer, format!("\"{state}\""));
    let exchange = ok(&steps::code_exchange(
        &query,
        Some(&record),
        false,
        NOW + 2000.0,
    ));
    // spec #40: the token endpoint stored in the record.
    assert_eq!(
        string(&exchange, "url").as_deref(),
        Some("https://ehr.example/auth/token")
    );
    let body = string(&exchange, "body").expect("body");
    assert!(body.contains("grant_type=authorization_code") && body.contains("code=the-code"));

    let nonce = query_param(&url, "nonce");
    let id_token = jwt(&format!(
        r#"{{"iss":"{ISSUER}","sub":"u1","aud":"app","exp":1900003600,"iat":1900000000,"nonce":"{nonce}","fhirUser":"Practitioner/7"}}"#
    ));
    let token_body = format!(
        r#"{{"access_token":"AT1","token_type":"bearer","expires_in":3600,"scope":"{scope}","refresh_token":"RT1","id_token":"{id_token}","patient":"p1"{token_extra}}}"#
    );
    let mut grant = Grant::new();
    let answer = grant.launch(
        200,
        &token_body,
        &record,
        NOW + 2000.0,
        NOW + 2100.0,
        60_000.0,
        true,
    );
    Launched { grant, answer }
}

const SCOPE: &str = "launch/patient openid fhirUser patient/*.rs offline_access";

#[test]
fn a_standalone_launch_gives_a_client_with_context_and_user() {
    let Launched { grant, answer } = launch(SCOPE, "");
    let launched = ok(&answer);
    let client = member(&launched, "client").expect("client");
    assert_eq!(string(client, "accessToken").as_deref(), Some("AT1"));
    assert_eq!(string(client, "patientId").as_deref(), Some("p1"));
    // spec #47: expiry from expires_in and the instant the request was sent.
    assert_eq!(member(client, "expiresAt"), Some("1900003602000"));
    // spec #69: fhirUser resolved against the FHIR base.
    assert_eq!(
        string(client, "fhirUser").as_deref(),
        Some("https://ehr.example/fhir/Practitioner/7")
    );
    assert_eq!(member(client, "hasRefreshToken"), Some("true"));
    let claims = member(client, "idTokenClaims").expect("claims");
    assert!(claims.contains("\"sub\":\"u1\""), "{claims}");
    let step = member(&launched, "step").expect("step");
    assert_eq!(member(step, "events"), Some("[]"));
    // The first wake is the expiring point: expiry - 60 s.
    assert_eq!(member(step, "wake"), Some("1900003542000"));
    assert_eq!(grant.snapshot(), client);
}

#[test]
fn the_bearer_token_goes_only_under_the_fhir_base() {
    // spec #56, #57
    let Launched { grant, .. } = launch(SCOPE, "");
    let inside = ok(&grant.fhir_request("Patient/p1"));
    assert_eq!(
        string(&inside, "url").as_deref(),
        Some("https://ehr.example/fhir/Patient/p1")
    );
    assert_eq!(string(&inside, "bearer").as_deref(), Some("AT1"));
    for outside in [
        "https://ehr.example/fhir2/Patient/p1",
        "https://evil.example/fhir/Patient/p1",
        "/other/Patient",
    ] {
        let target = ok(&grant.fhir_request(outside));
        assert_eq!(member(&target, "bearer"), None, "{outside}");
    }
}

#[test]
fn unresolvable_urls_are_invalid_options_naming_their_field() {
    // spec #18, #57: a redirect URI or FHIR request path that does not resolve to an
    // http(s) URL is refused, and the step names its own field (`url::resolve_url`
    // gives no error of its own).
    for redirect in ["javascript:alert(1)", "http:evil/t", "a\\b"] {
        let options = format!(
            r#"{{"clientId":"app","scope":"openid","redirectUri":"{redirect}","iss":"{FHIR}"}}"#
        );
        let answer = steps::plan(&options, PAGE, "");
        assert_eq!(error_code(&answer), "invalid_options", "{redirect}");
        assert!(answer.contains(r#""field":"redirectUri""#), "{answer}");
    }
    let Launched { grant, .. } = launch(SCOPE, "");
    for path in ["javascript:alert(1)", "data:text/html,x", "a\\b"] {
        let answer = grant.fhir_request(path);
        assert_eq!(error_code(&answer), "invalid_options", "{path}");
        assert!(answer.contains(r#""field":"pathOrUrl""#), "{answer}");
    }
}

#[test]
fn fhir_answers_mean_done_retry_or_a_typed_error() {
    // spec #58: one refresh and retry for a 401 that carried the token; none for scope.
    let Launched { grant, .. } = launch(SCOPE, "");
    assert_eq!(
        ok(&grant.fhir_answer(200, None, "{}", true, false)),
        "\"done\""
    );
    assert_eq!(
        ok(&grant.fhir_answer(401, None, "", true, false)),
        "\"retry\""
    );
    assert_eq!(
        error_code(&grant.fhir_answer(401, None, "", true, true)),
        "invalid_token"
    );
    let scope_problem = Some("Bearer error=\"insufficient_scope\"".to_string());
    assert_eq!(
        error_code(&grant.fhir_answer(401, scope_problem, "", true, false)),
        "invalid_token"
    );
    let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"diagnostics":"no access"}]}"#;
    let forbidden = grant.fhir_answer(403, None, outcome, true, false);
    assert_eq!(error_code(&forbidden), "insufficient_scope");
    assert!(
        forbidden.contains("\"description\":\"no access\""),
        "{forbidden}"
    );
    assert!(forbidden.contains("\"status\":403"), "{forbidden}");
}

#[test]
fn a_refresh_rotates_the_refresh_token_and_keeps_the_context() {
    // spec #60, #62, #64
    let Launched { mut grant, .. } = launch(SCOPE, "");
    assert_eq!(ok(&grant.begin_refresh()), "\"start\"");
    // spec #63: a second caller joins the one in flight.
    assert_eq!(ok(&grant.begin_refresh()), "\"join\"");
    let request = ok(&grant.refresh_request(None));
    let body = string(&request, "body").expect("body");
    assert!(body.contains("refresh_token=RT1") && body.contains("client_id=app"));
    let fresh =
        r#"{"access_token":"AT2","token_type":"Bearer","expires_in":60,"refresh_token":"RT2"}"#;
    let refreshed = ok(&grant.refresh_response(200, fresh, NOW + 10_000.0));
    let client = member(&refreshed, "client").expect("client");
    assert_eq!(string(client, "accessToken").as_deref(), Some("AT2"));
    assert_eq!(string(client, "patientId").as_deref(), Some("p1"));
    let events = member(member(&refreshed, "step").unwrap(), "events").unwrap();
    assert!(events.contains("\"type\":\"refreshed\""), "{events}");
    assert_eq!(member(&refreshed, "fhirContext"), None);
    // The rotated token replaced the old one at once.
    assert_eq!(ok(&grant.begin_refresh()), "\"start\"");
    let request = ok(&grant.refresh_request(None));
    assert!(string(&request, "body")
        .unwrap()
        .contains("refresh_token=RT2"));
}

#[test]
fn a_refreshed_id_token_replaces_the_claims_and_keeps_the_user() {
    // spec #70: the new claims are the ones reported; the user named at launch stays.
    let Launched { mut grant, .. } = launch(SCOPE, "");
    assert_eq!(ok(&grant.begin_refresh()), "\"start\"");
    let id_token = jwt(&format!(
        r#"{{"iss":"{ISSUER}","sub":"u1","aud":"app","exp":1900007200,"iat":1900000010,"fhirUser":"Practitioner/8"}}"#
    ));
    let fresh = format!(
        r#"{{"access_token":"AT2","token_type":"Bearer","expires_in":60,"id_token":"{id_token}"}}"#
    );
    let refreshed = ok(&grant.refresh_response(200, &fresh, NOW + 10_000.0));
    let client = member(&refreshed, "client").expect("client");
    assert_eq!(
        string(client, "fhirUser").as_deref(),
        Some("https://ehr.example/fhir/Practitioner/7")
    );
    assert_eq!(
        string(client, "idToken").as_deref(),
        Some(id_token.as_str())
    );
    let claims = member(client, "idTokenClaims").expect("claims");
    assert!(claims.contains("\"iat\":1900000010"), "{claims}");
    // Another subject is refused and leaves the grant as it was.
    assert_eq!(ok(&grant.begin_refresh()), "\"start\"");
    let other = jwt(&format!(
        r#"{{"iss":"{ISSUER}","sub":"u2","aud":"app","exp":1900007200,"iat":1900000020}}"#
    ));
    let fresh = format!(r#"{{"access_token":"AT3","token_type":"Bearer","id_token":"{other}"}}"#);
    let refused = grant.refresh_response(200, &fresh, NOW + 20_000.0);
    assert_eq!(error_code(&refused), "id_token_invalid");
    assert!(grant.snapshot().contains("\"accessToken\":\"AT2\""));
}

#[test]
fn a_rejected_refresh_ends_the_session_and_wipes_the_tokens() {
    // spec #65
    let Launched { mut grant, .. } = launch(SCOPE, "");
    assert_eq!(ok(&grant.begin_refresh()), "\"start\"");
    let rejected = grant.refresh_response(400, r#"{"error":"invalid_grant"}"#, NOW);
    assert_eq!(error_code(&rejected), "invalid_grant");
    let step = grant.refresh_failed("invalid_grant", NOW);
    assert!(step.contains("\"type\":\"refreshFailed\""), "{step}");
    assert!(step.contains("\"reason\":\"refresh_rejected\""), "{step}");
    let snapshot = grant.snapshot();
    assert!(
        !snapshot.contains("AT1") && !snapshot.contains("RT1"),
        "{snapshot}"
    );
    assert_eq!(
        error_code(&grant.fhir_request("Patient/p1")),
        "session_ended"
    );
}

#[test]
fn logout_revokes_then_wipes() {
    // spec #80
    let Launched { mut grant, .. } = launch(SCOPE, "");
    let revocation = ok(&grant.revocation());
    assert_eq!(
        string(&revocation, "url").as_deref(),
        Some("https://ehr.example/auth/revoke")
    );
    assert!(string(&revocation, "body")
        .unwrap()
        .contains("token_type_hint=refresh_token"));
    let step = grant.logout();
    assert!(step.contains("\"reason\":\"logout\""), "{step}");
    assert_eq!(member(&step, "wake"), Some("null"));
    assert_eq!(ok(&grant.revocation()), "null");
    assert!(!grant.snapshot().contains("AT1"));
    // Only once.
    assert!(!grant.logout().contains("ended"));
}

#[test]
fn fhir_context_items_name_their_place_in_the_response() {
    // spec #50: a 2.0 string, a 2.2 object, and an invalid item that is skipped.
    let extra = r#","fhirContext":["Encounter/e1",{"bad":1},{"reference":"Observation/o1","role":"focus","x":2}]"#;
    let Launched { answer, .. } = launch(SCOPE, extra);
    let context = member(&ok(&answer), "fhirContext").unwrap().to_string();
    assert_eq!(
        context,
        r#"[{"i":0,"reference":"Encounter/e1","role":"launch"},{"i":2,"reference":"Observation/o1","role":"focus"}]"#
    );
}

#[test]
fn the_allowlist_refuses_an_unknown_ehr_before_anything() {
    // spec #12
    let options = r#"{"issuers":[{"iss":"https://ehr.example/fhir","clientId":"app"}],"scope":"launch openid fhirUser","redirectUri":"cb"}"#;
    let forged = steps::plan(
        options,
        PAGE,
        "iss=https%3A%2F%2Fevil.example%2Ffhir&launch=x",
    );
    assert_eq!(error_code(&forged), "issuer_not_allowed");
    // spec #17: the registration of the matching entry is used.
    let plan = ok(&steps::plan(
        options,
        PAGE,
        "iss=https%3A%2F%2Fehr.example%2Ffhir&launch=abc",
    ));
    assert_eq!(string(&plan, "clientId").as_deref(), Some("app"));
    assert_eq!(string(&plan, "launch").as_deref(), Some("abc"));
}

#[test]
fn options_of_the_wrong_type_name_their_field() {
    for (options, field) in [
        ("null", "options"),
        ("[1]", "options"),
        (r#"{"clientId":5,"iss":"https://h/fhir"}"#, "clientId"),
        (r#"{"iss":"https://h/fhir","target":"_blank"}"#, "target"),
        (r#"{"iss":"https://h/fhir","issuers":{}}"#, "issuers"),
        (r#"{"iss":"https://h/fhir","timeoutMs":-1}"#, "timeoutMs"),
    ] {
        let answer = steps::plan(options, PAGE, "");
        assert_eq!(error_code(&answer), "invalid_options", "{options}");
        assert!(
            answer.contains(&format!("\"field\":\"{field}\"")),
            "{options}: {answer}"
        );
    }
}

#[test]
fn random_bytes_that_are_all_zero_are_refused() {
    // spec #74: a stubbed getRandomValues must not give a predictable verifier.
    assert_eq!(
        error_code(&steps::code_verifier(&[0; 32])),
        "crypto_unavailable"
    );
    assert_eq!(
        error_code(&steps::code_verifier(&[1; 16])),
        "crypto_unavailable"
    );
}

#[test]
fn the_callback_parameters_leave_the_address_bar() {
    // spec #39
    assert_eq!(
        steps::clean_url("https://app.example/cb?x=1&code=c&state=s&iss=i#top"),
        "https://app.example/cb?x=1#top"
    );
}

#[test]
fn error_answers_never_carry_the_secret_values() {
    // spec #75: a replayed record is refused without echoing code or state.
    let answer = steps::code_exchange("code=SECRETCODE&state=SECRETSTATE", None, false, NOW);
    assert_eq!(error_code(&answer), "session_lost");
    assert!(!answer.contains("SECRET"), "{answer}");
}

#[test]
fn an_unreadable_record_is_plain_session_lost() {
    // spec #32: whatever member the record lacks, the answer names none.
    for record in ["{", "[]", r#"{"v":2}"#, r#"{"v":1,"created_at_ms":1}"#] {
        let answer = steps::code_exchange("code=c&state=s", Some(record), false, NOW);
        assert_eq!(answer, r#"{"error":{"code":"session_lost"}}"#, "{record}");
    }
}

#[test]
fn the_jwks_key_answer_holds_the_public_members_only() {
    // spec #68: the selected key, reduced to what WebCrypto imports, in this order
    let jwks = r#"{"keys":[{"kty":"RSA","kid":"a","n":"nA","e":"AQAB"},
        {"kty":"EC","kid":"e","use":"sig","crv":"P-256","x":"xx","y":"yy","d":"private!"}]}"#;
    assert_eq!(
        steps::jwks_key(200, jwks, "ES256", Some("e")),
        r#"{"ok":{"kty":"EC","crv":"P-256","x":"xx","y":"yy"}}"#
    );
    assert_eq!(
        steps::jwks_key(200, jwks, "RS256", None),
        r#"{"ok":{"kty":"RSA","n":"nA","e":"AQAB"}}"#
    );
    // A key that qualifies but lacks a public member: an error, no partial key.
    let partial = r#"{"keys":[{"kty":"RSA","kid":"a","n":"nA"}]}"#;
    assert_eq!(
        steps::jwks_key(200, partial, "RS256", Some("a")),
        r#"{"error":{"code":"id_token_invalid","field":"jwks"}}"#
    );
    assert_eq!(
        steps::jwks_key(404, jwks, "RS256", None),
        r#"{"error":{"code":"id_token_invalid","field":"jwks","status":404}}"#
    );
}
