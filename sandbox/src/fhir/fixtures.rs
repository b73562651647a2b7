//! Embedded synthetic FHIR R4 data: three patients, an encounter each, a few vital
//! signs and lab results each, and one practitioner. All names and numbers are made up.

use serde_json::{json, Value};

pub const DEFAULT_PATIENT: &str = "smart-1";
pub const PRACTITIONER: &str = "practitioner-1";

pub struct PatientRow {
    pub id: &'static str,
    pub family: &'static str,
    pub given: &'static str,
    pub gender: &'static str,
    pub birth_date: &'static str,
    pub mrn: &'static str,
    pub encounter: &'static str,
    pub encounter_class: (&'static str, &'static str),
    pub encounter_reason: &'static str,
    pub encounter_start: &'static str,
}

pub const PATIENTS: &[PatientRow] = &[
    PatientRow {
        id: "smart-1",
        family: "Rivera",
        given: "Amy",
        gender: "female",
        birth_date: "1987-02-20",
        mrn: "MRN-100001",
        encounter: "enc-1",
        encounter_class: ("AMB", "ambulatory"),
        encounter_reason: "Annual check-up",
        encounter_start: "2025-03-04T09:30:00Z",
    },
    PatientRow {
        id: "smart-2",
        family: "Okafor",
        given: "Daniel",
        gender: "male",
        birth_date: "1954-11-08",
        mrn: "MRN-100002",
        encounter: "enc-2",
        encounter_class: ("IMP", "inpatient encounter"),
        encounter_reason: "Community-acquired pneumonia",
        encounter_start: "2025-02-11T22:15:00Z",
    },
    PatientRow {
        id: "smart-3",
        family: "Lindqvist",
        given: "Maja",
        gender: "female",
        birth_date: "2016-06-30",
        mrn: "MRN-100003",
        encounter: "enc-3",
        encounter_class: ("EMER", "emergency"),
        encounter_reason: "Wheezing",
        encounter_start: "2025-04-19T14:05:00Z",
    },
];

/// `(id, patient, category, loinc, display, value, unit, ucum, effective)`
type ObsRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    f64,
    &'static str,
    &'static str,
    &'static str,
);

pub const OBSERVATIONS: &[ObsRow] = &[
    (
        "obs-1-1",
        "smart-1",
        "vital-signs",
        "8867-4",
        "Heart rate",
        68.0,
        "beats/minute",
        "/min",
        "2025-03-04T09:40:00Z",
    ),
    (
        "obs-1-2",
        "smart-1",
        "vital-signs",
        "29463-7",
        "Body weight",
        61.2,
        "kg",
        "kg",
        "2025-03-04T09:41:00Z",
    ),
    (
        "obs-1-3",
        "smart-1",
        "laboratory",
        "4548-4",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        5.4,
        "%",
        "%",
        "2025-03-04T10:20:00Z",
    ),
    (
        "obs-2-1",
        "smart-2",
        "vital-signs",
        "8310-5",
        "Body temperature",
        38.6,
        "Cel",
        "Cel",
        "2025-02-11T22:30:00Z",
    ),
    (
        "obs-2-2",
        "smart-2",
        "vital-signs",
        "9279-1",
        "Respiratory rate",
        24.0,
        "breaths/minute",
        "/min",
        "2025-02-11T22:31:00Z",
    ),
    (
        "obs-2-3",
        "smart-2",
        "vital-signs",
        "59408-5",
        "Oxygen saturation in Arterial blood by Pulse oximetry",
        91.0,
        "%",
        "%",
        "2025-02-11T22:32:00Z",
    ),
    (
        "obs-2-4",
        "smart-2",
        "laboratory",
        "6690-2",
        "Leukocytes [#/volume] in Blood by Automated count",
        14.2,
        "10*3/uL",
        "10*3/uL",
        "2025-02-11T23:10:00Z",
    ),
    (
        "obs-2-5",
        "smart-2",
        "laboratory",
        "1988-5",
        "C reactive protein [Mass/volume] in Serum or Plasma",
        96.0,
        "mg/L",
        "mg/L",
        "2025-02-11T23:10:00Z",
    ),
    (
        "obs-3-1",
        "smart-3",
        "vital-signs",
        "8867-4",
        "Heart rate",
        122.0,
        "beats/minute",
        "/min",
        "2025-04-19T14:10:00Z",
    ),
    (
        "obs-3-2",
        "smart-3",
        "vital-signs",
        "59408-5",
        "Oxygen saturation in Arterial blood by Pulse oximetry",
        94.0,
        "%",
        "%",
        "2025-04-19T14:11:00Z",
    ),
    (
        "obs-3-3",
        "smart-3",
        "laboratory",
        "2339-0",
        "Glucose [Mass/volume] in Blood",
        98.0,
        "mg/dL",
        "mg/dL",
        "2025-04-19T14:40:00Z",
    ),
    (
        "obs-3-4",
        "smart-3",
        "vital-signs",
        "8310-5",
        "Body temperature",
        37.4,
        "Cel",
        "Cel",
        "2025-04-19T14:12:00Z",
    ),
];

pub const OBS_CATEGORY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const LOINC: &str = "http://loinc.org";

pub fn patient_row(id: &str) -> Option<&'static PatientRow> {
    PATIENTS.iter().find(|p| p.id == id)
}

pub fn display_name(p: &PatientRow) -> String {
    format!("{} {}", p.given, p.family)
}

pub fn patient(id: &str) -> Option<Value> {
    let p = patient_row(id)?;
    Some(json!({
        "resourceType": "Patient",
        "id": p.id,
        "meta": {"versionId": "1"},
        "identifier": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "system": "urn:oid:2.16.840.1.113883.19.5.99999.1",
            "value": p.mrn
        }],
        "active": true,
        "name": [{"use": "official", "family": p.family, "given": [p.given]}],
        "gender": p.gender,
        "birthDate": p.birth_date,
        "generalPractitioner": [{"reference": format!("Practitioner/{PRACTITIONER}")}]
    }))
}

/// The encounter of a patient (each fixture patient has exactly one).
pub fn encounter_of(patient: &str) -> Option<&'static str> {
    patient_row(patient).map(|p| p.encounter)
}

pub fn encounter(id: &str) -> Option<Value> {
    let p = PATIENTS.iter().find(|p| p.encounter == id)?;
    let status = if p.encounter_class.0 == "AMB" {
        "finished"
    } else {
        "in-progress"
    };
    Some(json!({
        "resourceType": "Encounter",
        "id": p.encounter,
        "meta": {"versionId": "1"},
        "status": status,
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": p.encounter_class.0,
            "display": p.encounter_class.1
        },
        "subject": {"reference": format!("Patient/{}", p.id)},
        "participant": [{"individual": {"reference": format!("Practitioner/{PRACTITIONER}")}}],
        "period": {"start": p.encounter_start},
        "reasonCode": [{"text": p.encounter_reason}]
    }))
}

fn observation_json(o: &ObsRow) -> Value {
    let (id, patient, category, code, display, value, unit, ucum, effective) = *o;
    let cat_display = if category == "laboratory" {
        "Laboratory"
    } else {
        "Vital Signs"
    };
    let encounter = encounter_of(patient).unwrap_or_default();
    json!({
        "resourceType": "Observation",
        "id": id,
        "meta": {"versionId": "1"},
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY_SYSTEM, "code": category, "display": cat_display}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": format!("Patient/{patient}")},
        "encounter": {"reference": format!("Encounter/{encounter}")},
        "effectiveDateTime": effective,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum}
    })
}

pub fn observation(id: &str) -> Option<Value> {
    OBSERVATIONS
        .iter()
        .find(|o| o.0 == id)
        .map(observation_json)
}

/// Every observation, as `(patient id, resource)`.
pub fn observations() -> Vec<(&'static str, Value)> {
    OBSERVATIONS
        .iter()
        .map(|o| (o.1, observation_json(o)))
        .collect()
}

/// The first observation of a patient (used as the EHR launch's fhirContext item).
pub fn first_observation_of(patient: &str) -> Option<&'static str> {
    OBSERVATIONS.iter().find(|o| o.1 == patient).map(|o| o.0)
}

pub fn practitioner(id: &str) -> Option<Value> {
    if id != PRACTITIONER {
        return None;
    }
    Some(json!({
        "resourceType": "Practitioner",
        "id": PRACTITIONER,
        "meta": {"versionId": "1"},
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "9999999999"}],
        "active": true,
        "name": [{"use": "official", "family": "Moreau", "given": ["Claire"], "prefix": ["Dr."]}],
        "qualification": [{"code": {"text": "Doctor of Medicine"}}]
    }))
}

/// The patient a resource belongs to (its patient compartment), if any.
pub fn compartment_patient(resource: &Value) -> Option<String> {
    match resource.get("resourceType")?.as_str()? {
        "Patient" => Some(resource.get("id")?.as_str()?.to_string()),
        "Encounter" | "Observation" => resource
            .get("subject")?
            .get("reference")?
            .as_str()?
            .strip_prefix("Patient/")
            .map(str::to_string),
        _ => None,
    }
}
