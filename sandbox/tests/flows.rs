//! Happy paths over real loopback HTTP: discovery, standalone and EHR launch with
//! refresh, the id_token checked against the served JWKS, interactive consent,
//! revocation, and scope enforcement that lets the right things through.

mod common;

use common::*;
use serde_json::{json, Value};
use smart_sandbox::config::Config;

#[tokio::test]
async fn discovery_and_metadata() {
    let sb = start_default().await;
    let r = sb
        .get(
            "/fhir/.well-known/smart-configuration",
            &[("origin", "http://anything.example")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let d = r.json();
    assert_eq!(d["issuer"], sb.base);
    assert_eq!(
        d["authorization_endpoint"],
        format!("{}/authorize", sb.base)
    );
    assert_eq!(d["token_endpoint"], format!("{}/token", sb.base));
    assert_eq!(d["revocation_endpoint"], format!("{}/revoke", sb.base));
    assert_eq!(d["jwks_uri"], format!("{}/.well-known/jwks.json", sb.base));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(
        d["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    let caps: Vec<&str> = d["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in [
        "launch-ehr",
        "launch-standalone",
        "client-public",
        "context-banner",
        "context-style",
        "context-ehr-patient",
        "context-ehr-encounter",
        "context-standalone-patient",
        "permission-offline",
        "permission-online",
        "permission-patient",
        "permission-user",
        "permission-v1",
        "permission-v2",
        "sso-openid-connect",
    ] {
        assert!(caps.contains(&c), "{c} missing");
    }
    assert!(d["scopes_supported"].as_array().unwrap().len() > 5);

    let m = sb
        .get("/fhir/metadata", &[("origin", "http://anything.example")])
        .await;
    assert_eq!(m.status, 200);
    assert_eq!(
        m.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let m = m.json();
    assert_eq!(m["resourceType"], "CapabilityStatement");
    let ext = &m["rest"][0]["security"]["extension"][0];
    assert_eq!(
        ext["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    );
    let uris: Vec<(String, String)> = ext["extension"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (s(e, "url"), s(e, "valueUri")))
        .collect();
    assert!(uris.contains(&("authorize".into(), format!("{}/authorize", sb.base))));
    assert!(uris.contains(&("token".into(), format!("{}/token", sb.base))));

    // Preflight on discovery from any origin.
    let p = sb
        .send(
            "OPTIONS",
            "/fhir/.well-known/smart-configuration",
            &[
                ("origin", "http://anything.example"),
                ("access-control-request-method", "GET"),
            ],
            String::new(),
        )
        .await;
    assert_eq!(p.status, 204);
    assert_eq!(
        p.header("access-control-allow-origin").as_deref(),
        Some("*")
    );

    let oidc = sb
        .get("/.well-known/openid-configuration", &[])
        .await
        .json();
    assert_eq!(oidc["issuer"], sb.base);
}

#[tokio::test]
async fn standalone_launch_with_refresh_and_id_token() {
    let sb = start_default().await;
    let code = sb.code(&[]).await;
    let r = sb.exchange(&code, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("pragma").as_deref(), Some("no-cache"));
    let t = r.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(
        t["scope"],
        "launch/patient patient/*.rs openid fhirUser offline_access"
    );
    assert_eq!(t["patient"], "smart-1");
    assert!(t.get("encounter").is_none(), "launch/encounter not asked");
    assert!(t.get("need_patient_banner").is_none(), "EHR launch only");
    let access = s(&t, "access_token");
    let refresh = s(&t, "refresh_token");

    // id_token: signature with the served JWKS, then the claims.
    let jwks = sb.get("/.well-known/jwks.json", &[]).await.json();
    let claims = verify_jwt(&s(&t, "id_token"), &jwks);
    let issuer = sb
        .get("/fhir/.well-known/smart-configuration", &[])
        .await
        .json()["issuer"]
        .clone();
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], CLIENT);
    assert_eq!(claims["sub"], "practitioner-1");
    assert_eq!(claims["nonce"], "nonce-456");
    assert_eq!(
        claims["fhirUser"],
        format!("{}/Practitioner/practitioner-1", sb.fhir)
    );
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(iat <= now() + 1 && exp > now());

    // FHIR with the access token.
    let p = sb.fhir_get("Patient/smart-1", &access).await;
    assert_eq!(p.status, 200);
    assert_eq!(
        p.header("content-type").as_deref(),
        Some("application/fhir+json")
    );
    assert_eq!(p.json()["name"][0]["family"], "Rivera");
    let b = sb
        .fhir_get("Observation?patient=smart-1", &access)
        .await
        .json();
    assert_eq!(b["resourceType"], "Bundle");
    assert_eq!(b["type"], "searchset");
    assert_eq!(b["total"], 3);
    // Without the patient parameter a patient/ token still sees only its patient.
    let b = sb.fhir_get("Observation", &access).await.json();
    assert_eq!(b["total"], 3);
    let b = sb
        .fhir_get(
            "Observation?patient=Patient/smart-1&category=laboratory",
            &access,
        )
        .await
        .json();
    assert_eq!(b["total"], 1);
    assert_eq!(
        b["entry"][0]["resource"]["code"]["coding"][0]["code"],
        "4548-4"
    );
    let e = sb.fhir_get("Encounter/enc-1", &access).await;
    assert_eq!(e.status, 200);

    // Refresh: rotation, same scope, new tokens, id_token without nonce.
    let r = sb.refresh(&refresh, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let t2 = r.json();
    assert_eq!(t2["scope"], t["scope"]);
    assert_eq!(t2["token_type"], "Bearer");
    assert_eq!(t2["expires_in"], 3600);
    assert_eq!(t2["patient"], "smart-1");
    let refresh2 = s(&t2, "refresh_token");
    assert_ne!(refresh2, refresh, "rotated");
    assert_ne!(s(&t2, "access_token"), access);
    let c2 = verify_jwt(&s(&t2, "id_token"), &jwks);
    assert_eq!(
        (&c2["iss"], &c2["sub"], &c2["aud"]),
        (&claims["iss"], &claims["sub"], &claims["aud"])
    );
    assert!(c2.get("nonce").is_none());
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&t2, "access_token"))
            .await
            .status,
        200
    );
    // The rotated token keeps working for the next refresh.
    let r = sb.refresh(&refresh2, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn ehr_launch_via_test_hook_with_online_access() {
    let sb = start_default().await;
    let l = sb
        .post_json(
            "/_test/launch",
            json!({"patient": "smart-2", "client_id": CLIENT}),
        )
        .await;
    assert_eq!(l.status, 200, "{}", l.text);
    assert_eq!(
        l.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let l = l.json();
    assert_eq!(l["iss"], sb.fhir);
    let launch = s(&l, "launch");
    assert!(s(&l, "launch_url").starts_with("http://127.0.0.1:9401/launch.html?iss="));

    let t = sb
        .tokens(&[
            ("launch", &launch),
            ("scope", "launch openid fhirUser patient/*.rs online_access"),
            ("state", "ehr-state"),
        ])
        .await;
    assert_eq!(t["patient"], "smart-2");
    assert_eq!(t["encounter"], "enc-2");
    assert_eq!(
        t["fhirContext"],
        json!([{"reference": "Observation/obs-2-1"}])
    );
    assert_eq!(t["need_patient_banner"], true);
    assert_eq!(
        t["smart_style_url"],
        format!("{}/smart-style.json", sb.base)
    );
    assert_eq!(
        t["scope"],
        "launch openid fhirUser patient/*.rs online_access"
    );
    assert!(
        t["refresh_token"].is_string(),
        "online_access gives a refresh token"
    );
    let style = sb.get("/smart-style.json", &[]).await;
    assert_eq!(style.status, 200);
    assert!(style.json()["color_background"].is_string());

    let access = s(&t, "access_token");
    assert_eq!(sb.fhir_get("Encounter/enc-2", &access).await.status, 200);
    let b = sb
        .fhir_get("Observation?patient=smart-2", &access)
        .await
        .json();
    assert_eq!(b["total"], 5);
    let r = sb.refresh(&s(&t, "refresh_token"), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["encounter"], "enc-2");
}

#[tokio::test]
async fn ehr_simulator_pages_launch_embedded_and_in_a_window() {
    let sb = start_default().await;
    let home = sb.get("/ehr", &[]).await;
    assert_eq!(home.status, 200);
    for name in [
        "Amy Rivera",
        "Daniel Okafor",
        "Maja Lindqvist",
        "Sandbox EHR",
    ] {
        assert!(home.text.contains(name), "{name}");
    }
    assert!(home.text.contains("mode=window"));
    assert!(home.text.contains("target=\"_blank\""));

    // Embedded: the EHR page frames the app's launch URL with iss and launch.
    let page = sb
        .get(
            &format!("/ehr/launch?patient=smart-3&client_id={CLIENT}&mode=embedded"),
            &[],
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<iframe"));
    assert!(page.text.contains("Maja Lindqvist"));
    let src_start = page.text.find("src=\"").unwrap() + 5;
    let src_end = page.text[src_start..].find('"').unwrap() + src_start;
    let src = page.text[src_start..src_end].replace("&amp;", "&");
    assert!(src.starts_with("http://127.0.0.1:9401/launch.html?"));
    let q = query_of(&src);
    assert_eq!(q["iss"], sb.fhir);
    let t = sb
        .tokens(&[("launch", &q["launch"]), ("scope", "launch patient/*.rs")])
        .await;
    assert_eq!(t["patient"], "smart-3");
    assert_eq!(t["encounter"], "enc-3");
    assert_eq!(t["need_patient_banner"], false, "the EHR shows the banner");
    assert!(
        t.get("refresh_token").is_none(),
        "no offline/online access asked"
    );

    // New window: a redirect to the launch URL.
    let w = sb
        .get(
            &format!("/ehr/launch?patient=smart-1&client_id={CLIENT}&mode=window"),
            &[],
        )
        .await;
    assert_eq!(w.status, 302);
    let loc = w.header("location").unwrap();
    assert!(loc.starts_with("http://127.0.0.1:9401/launch.html?"));
    let t = sb
        .tokens(&[
            ("launch", &query_of(&loc)["launch"]),
            ("scope", "launch patient/*.rs"),
        ])
        .await;
    assert_eq!(t["patient"], "smart-1");
    assert_eq!(t["need_patient_banner"], true);

    assert_eq!(sb.get("/ehr/launch?patient=nobody", &[]).await.status, 404);
}

#[tokio::test]
async fn interactive_consent_approve_and_deny() {
    let sb = start(Config {
        interactive: true,
        ..test_config()
    })
    .await;
    let page = sb.authorize(&[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(page.text.contains("Choose a patient"));
    let id_of = |text: &str| {
        let i = text.find("name=\"request\" value=\"").unwrap() + 22;
        text[i..i + text[i..].find('"').unwrap()].to_string()
    };
    let req = id_of(&page.text);
    let r = sb
        .post_form(
            "/authorize/consent",
            &[
                ("request", &req),
                ("patient", "smart-3"),
                ("decision", "approve"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 303);
    let p = r.location_params();
    assert_eq!(p["state"], "state-123");
    let t = sb.exchange(&p["code"], &[]).await.json();
    assert_eq!(t["patient"], "smart-3");
    // The request is answered once only.
    let again = sb
        .post_form(
            "/authorize/consent",
            &[("request", &req), ("decision", "approve")],
            &[],
        )
        .await;
    assert_eq!(again.status, 400);

    let page = sb.authorize(&[("state", "s2")]).await;
    let r = sb
        .post_form(
            "/authorize/consent",
            &[("request", &id_of(&page.text)), ("decision", "deny")],
            &[],
        )
        .await;
    assert_eq!(r.status, 303);
    let p = r.location_params();
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "s2");
    assert!(!p.contains_key("code"));
}

#[tokio::test]
async fn revocation() {
    let sb = start_default().await;
    // Revoking the refresh token ends the grant and its access tokens.
    let t = sb.tokens(&[]).await;
    let r = sb
        .post_form(
            "/revoke",
            &[
                ("token", &s(&t, "refresh_token")),
                ("token_type_hint", "refresh_token"),
                ("client_id", CLIENT),
            ],
            &[("origin", APP_ORIGIN)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&t, "access_token"))
            .await
            .status,
        401
    );
    let rr = sb.refresh(&s(&t, "refresh_token"), &[]).await;
    assert_eq!(rr.status, 400);
    assert_eq!(rr.json()["error"], "invalid_grant");

    // Revoking an access token ends only that token.
    let t = sb.tokens(&[]).await;
    let r = sb
        .post_form(
            "/revoke",
            &[("token", &s(&t, "access_token")), ("client_id", CLIENT)],
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        sb.fhir_get("Patient/smart-1", &s(&t, "access_token"))
            .await
            .status,
        401
    );
    assert_eq!(sb.refresh(&s(&t, "refresh_token"), &[]).await.status, 200);

    // Unknown tokens: 200 (RFC 7009 §2.2); unknown client: 401.
    let r = sb
        .post_form("/revoke", &[("token", "nope"), ("client_id", CLIENT)], &[])
        .await;
    assert_eq!(r.status, 200);
    let r = sb
        .post_form("/revoke", &[("token", "nope"), ("client_id", "ghost")], &[])
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    let r = sb.post_form("/revoke", &[("client_id", CLIENT)], &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[tokio::test]
async fn narrowing_on_refresh_v1_user_and_granular_scopes() {
    let sb = start_default().await;
    let t = sb.tokens(&[]).await;
    let r = sb
        .refresh(
            &s(&t, "refresh_token"),
            &[("scope", "patient/Patient.rs offline_access")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let n = r.json();
    assert_eq!(n["scope"], "patient/Patient.rs offline_access");
    assert!(
        n.get("id_token").is_none(),
        "openid not in the narrowed scope"
    );
    let a = s(&n, "access_token");
    assert_eq!(sb.fhir_get("Patient/smart-1", &a).await.status, 200);
    assert_eq!(sb.fhir_get("Observation/obs-1-1", &a).await.status, 403);
    // The new refresh token keeps the original grant's scope (RFC 6749 §6).
    let r = sb.refresh(&s(&n, "refresh_token"), &[]).await.json();
    assert_eq!(r["scope"], t["scope"]);

    // v1 syntax.
    let t = sb
        .tokens(&[("scope", "launch/patient patient/Observation.read")])
        .await;
    assert_eq!(t["scope"], "launch/patient patient/Observation.read");
    let a = s(&t, "access_token");
    assert_eq!(sb.fhir_get("Observation/obs-1-2", &a).await.status, 200);
    assert_eq!(sb.fhir_get("Patient/smart-1", &a).await.status, 403);

    // user/ scopes reach every patient the user can see, without patient context.
    let t = sb.tokens(&[("scope", "openid fhirUser user/*.read")]).await;
    assert!(t.get("patient").is_none());
    let a = s(&t, "access_token");
    assert_eq!(sb.fhir_get("Patient/smart-2", &a).await.status, 200);
    assert_eq!(
        sb.fhir_get("Practitioner/practitioner-1", &a).await.status,
        200
    );
    assert_eq!(sb.fhir_get("Observation", &a).await.json()["total"], 12);

    // Granular v2 scope: only laboratory observations.
    let lab = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
    let t = sb
        .tokens(&[("scope", &format!("launch/patient {lab}"))])
        .await;
    let a = s(&t, "access_token");
    let b: Value = sb.fhir_get("Observation?patient=smart-1", &a).await.json();
    assert_eq!(b["total"], 1);
    assert_eq!(sb.fhir_get("Observation/obs-1-3", &a).await.status, 200);
    assert_eq!(sb.fhir_get("Observation/obs-1-1", &a).await.status, 403);

    // What the server does not grant is dropped from the granted scope.
    let t = sb
        .tokens(&[(
            "scope",
            "patient/*.rs system/*.rs online_access openid nonsense",
        )])
        .await;
    assert_eq!(t["scope"], "openid");
    assert!(t.get("refresh_token").is_none());
}
