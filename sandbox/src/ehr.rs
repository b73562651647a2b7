//! The EHR simulator: a clinician's patient list that launches registered apps with
//! `iss` and a fresh, single-use `launch` handle, embedded in an iframe (as Epic
//! and Cerner embed apps) or in a new window; and the `/_test/launch` hook.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::authorize::with_query;
use crate::fhir::fixtures;
use crate::html::{ehr_page, escape};
use crate::store::{random_token, LaunchRecord};
use crate::AppState;

/// Create a launch handle bound to `patient` (and its encounter).
pub fn create_launch(
    state: &AppState,
    patient: &str,
    client_id: Option<&str>,
    need_patient_banner: bool,
) -> String {
    let handle = random_token();
    state.store().launches.insert(
        handle.clone(),
        LaunchRecord {
            patient: patient.to_string(),
            encounter: fixtures::encounter_of(patient).map(str::to_string),
            client_id: client_id.map(str::to_string),
            need_patient_banner,
            expires: Instant::now() + state.config.launch_lifetime,
            used: false,
        },
    );
    handle
}

/// `GET /ehr`: the patient list.
pub async fn home(State(state): State<Arc<AppState>>) -> Response {
    let apps: Vec<_> = state
        .config
        .clients
        .iter()
        .filter(|c| c.launch_url.is_some())
        .collect();
    let mut rows = String::new();
    for p in fixtures::PATIENTS {
        let mut links = String::new();
        for app in &apps {
            let q = |mode: &str| {
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("patient", p.id)
                    .append_pair("client_id", &app.id)
                    .append_pair("mode", mode)
                    .finish()
            };
            links.push_str(&format!(
                "<a class=\"launch\" href=\"/ehr/launch?{}\">Open {}</a> \
                 (<a class=\"launch-window\" href=\"/ehr/launch?{}\" target=\"_blank\" rel=\"opener\">new window</a>)<br>",
                escape(&q("embedded")),
                escape(&app.id),
                escape(&q("window"))
            ));
        }
        if links.is_empty() {
            links.push_str("<em>no app has a launch URL (--client-launch-url)</em>");
        }
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&fixtures::display_name(p)),
            escape(p.mrn),
            escape(p.birth_date),
            escape(p.gender),
            escape(p.encounter_reason),
            links
        ));
    }
    let body = format!(
        "<h2>My patients</h2>\
         <table id=\"patients\"><tr><th>Name</th><th>MRN</th><th>Born</th><th>Sex</th>\
         <th>Current encounter</th><th>Apps</th></tr>{rows}</table>\
         <p>FHIR base (iss): <code>{}</code></p>",
        escape(&state.fhir_base)
    );
    Html(ehr_page(&state.config.ehr_name, "Patient list", &body)).into_response()
}

#[derive(Deserialize)]
pub struct LaunchQuery {
    patient: String,
    client_id: Option<String>,
    mode: Option<String>,
}

fn page_error(state: &AppState, status: StatusCode, msg: &str) -> Response {
    (
        status,
        Html(ehr_page(
            &state.config.ehr_name,
            "Error",
            &format!(
                "<p class=\"error\">{}</p><p><a href=\"/ehr\">Back to the patient list</a></p>",
                escape(msg)
            ),
        )),
    )
        .into_response()
}

/// `GET /ehr/launch?patient=&client_id=&mode=embedded|window`.
pub async fn launch(State(state): State<Arc<AppState>>, Query(q): Query<LaunchQuery>) -> Response {
    let Some(row) = fixtures::patient_row(&q.patient) else {
        return page_error(&state, StatusCode::NOT_FOUND, "Unknown patient.");
    };
    let client = match &q.client_id {
        Some(id) => state.config.client(id),
        None => state.config.clients.iter().find(|c| c.launch_url.is_some()),
    };
    let Some((client, launch_url)) = client.and_then(|c| c.launch_url.as_ref().map(|u| (c, u)))
    else {
        return page_error(
            &state,
            StatusCode::NOT_FOUND,
            "No registered app with a launch URL.",
        );
    };
    let embedded = q.mode.as_deref() != Some("window");
    // Embedded, the EHR shows its own banner; in a window the app must.
    let handle = create_launch(&state, row.id, Some(&client.id), !embedded);
    let url = with_query(
        launch_url,
        &[
            ("iss", state.fhir_base.as_str()),
            ("launch", handle.as_str()),
        ],
    );
    if !embedded {
        return (StatusCode::FOUND, [(header::LOCATION, url)]).into_response();
    }
    let body = format!(
        "<div class=\"banner\" id=\"patient-banner\"><strong>{}</strong> &middot; {} &middot; born {} &middot; {} \
         &middot; <a href=\"/ehr\">Patient list</a></div>\
         <div class=\"apparea\"><iframe id=\"app\" title=\"{}\" src=\"{}\"></iframe></div>",
        escape(&fixtures::display_name(row)),
        escape(row.mrn),
        escape(row.birth_date),
        escape(row.encounter_reason),
        escape(&client.id),
        escape(&url),
    );
    Html(ehr_page(
        &state.config.ehr_name,
        &fixtures::display_name(row),
        &body,
    ))
    .into_response()
}

/// `POST /_test/launch` `{"patient": "...", "client_id"?: "...", "need_patient_banner"?: bool}`
/// -> `{"iss", "launch", "launch_url"?}`.
pub async fn test_launch(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Req {
        patient: String,
        client_id: Option<String>,
        need_patient_banner: Option<bool>,
    }
    let bad = |msg: String| {
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"error": msg}).to_string(),
        )
            .into_response()
    };
    let req: Req = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad(format!("expected {{\"patient\", \"client_id\"?}}: {e}")),
    };
    if fixtures::patient_row(&req.patient).is_none() {
        return bad(format!("unknown patient {:?}", req.patient));
    }
    let client = match &req.client_id {
        Some(id) => match state.config.client(id) {
            Some(c) => Some(c),
            None => return bad(format!("unknown client_id {id:?}")),
        },
        None => None,
    };
    let handle = create_launch(
        &state,
        &req.patient,
        client.map(|c| c.id.as_str()),
        req.need_patient_banner.unwrap_or(true),
    );
    let launch_url = client.and_then(|c| c.launch_url.as_ref()).map(|u| {
        with_query(
            u,
            &[
                ("iss", state.fhir_base.as_str()),
                ("launch", handle.as_str()),
            ],
        )
    });
    crate::discovery::json_response(&json!({
        "iss": state.fhir_base,
        "launch": handle,
        "launch_url": launch_url,
    }))
}
