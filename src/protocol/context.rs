//! Launch context: what arrives beside the access token (smart-spec.md §3.2, §3.3;
//! SC `#launch-context-arrives-with-your-access_token`, `#fhir-context`,
//! `#launch-intent`, `#styling`).
//!
//! [`LaunchContext::from_token_response`] reads `patient`, `encounter`, `fhirContext`,
//! `need_patient_banner`, `smart_style_url`, `intent` and `tenant` (spec #49-#51).
//! Following the project's rule (a server's non-compliance warns unless it makes the
//! step unsafe), a malformed optional member is dropped with a warning, except
//! `patient` and `encounter`: an id that is not a plain FHIR id would build a reference
//! to some other resource, so it fails the response. Context the app asked for and did
//! not get is reported by [`missing_context`], never guessed (spec #53).

use super::error::{Error, ErrorCode, Result};
use super::json::Json;
use super::scopes::launch_types;
use super::warning::{self, Warning};
use crate::prelude::*;

/// One `fhirContext` item, whatever the version that produced it (spec #50):
/// 2.0 strings, 2.1 `{reference, role}`, 2.2 `{reference|canonical|identifier, type,
/// role}`. At least one of `reference`, `canonical` and `identifier` is set.
///
/// The members kept as JSON (`identifier`, members this version does not know) are
/// read in the item itself, at [`FhirContextItem::index`] of the response's
/// `fhirContext`: copying them here would link a deep JSON clone into the wasm.
#[derive(Clone, Debug, PartialEq)]
pub struct FhirContextItem {
    /// The item's position in the `fhirContext` array it was read from. After a
    /// refresh whose `fhirContext` had no valid item, the kept items index the earlier
    /// response's array, not the one in the merged `raw`.
    pub index: usize,
    /// A relative reference, `Type/id`.
    pub reference: Option<String>,
    /// A canonical URL, possibly with a `|version` suffix.
    pub canonical: Option<String>,
    /// The JSON member `type`: the resource type.
    pub resource_type: Option<String>,
    /// The role; an absent role means `"launch"`.
    pub role: String,
}

/// The role an item has when the server names none (SC `#fhir-context`).
pub const DEFAULT_ROLE: &str = "launch";

impl FhirContextItem {
    /// The resource type: the `type` member, else the type part of `reference`.
    pub fn effective_type(&self) -> Option<&str> {
        self.resource_type.as_deref().or_else(|| {
            self.reference
                .as_deref()
                .and_then(|r| super::text::split_once(r, b'/'))
                .map(|(t, _)| t)
        })
    }

    /// Parses the item at `index` and adds it to `items`; `Err(warning)` says why it is
    /// skipped. Pushed here, not returned: a returned item was copied into the push.
    // Out of line: inlined in the response's loop, each item was assembled in one
    // layout and copied byte by byte into another before its push.
    #[inline(never)]
    pub(crate) fn parse_into(
        index: usize,
        item: &Json,
        items: &mut Vec<Self>,
    ) -> core::result::Result<(), Warning> {
        // Read borrowed, copied out once at the end: an early return then has no
        // half-built item to drop.
        let invalid = Warning::FhirContextItemInvalid;
        let (mut reference, mut canonical, mut resource_type) = (None, None, None);
        let mut role = DEFAULT_ROLE;
        match item {
            Json::String(s) if !s.is_empty() => reference = Some(s.as_str()),
            Json::Object(members) => {
                let mut identifier = false;
                for (key, value) in members {
                    let slot = match key.as_str() {
                        "reference" => &mut reference,
                        "canonical" => &mut canonical,
                        "type" => &mut resource_type,
                        "identifier" if matches!(value, Json::Object(_)) => {
                            identifier = true;
                            continue;
                        }
                        "identifier" => return Err(invalid),
                        "role" => {
                            role = non_empty_str(value).ok_or(Warning::FhirContextRoleInvalid)?;
                            continue;
                        }
                        _ => continue,
                    };
                    *slot = Some(non_empty_str(value).ok_or(invalid)?);
                }
                if reference.is_none() && canonical.is_none() && !identifier {
                    return Err(invalid);
                }
            }
            _ => return Err(invalid),
        }
        items.push(FhirContextItem {
            index,
            reference: reference.map(String::from),
            canonical: canonical.map(String::from),
            resource_type: resource_type.map(String::from),
            role: role.into(),
        });
        Ok(())
    }
}

fn non_empty_str(value: &Json) -> Option<&str> {
    value.as_str().filter(|s| !s.is_empty())
}

/// The launch context of a token response (spec #49-#51).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaunchContext {
    /// The patient's id (not a reference): it means `{aud}/Patient/{id}`.
    pub patient: Option<String>,
    /// The encounter's id.
    pub encounter: Option<String>,
    pub fhir_context: Vec<FhirContextItem>,
    pub need_patient_banner: Option<bool>,
    pub smart_style_url: Option<String>,
    pub intent: Option<String>,
    pub tenant: Option<String>,
}

/// A FHIR id (FHIR R4 `id` datatype charset: `[A-Za-z0-9\-\.]`). The R4 length cap of
/// 64 is relaxed to 256 for servers with long ids; the charset is what keeps
/// `{aud}/Patient/{id}` pointing at a Patient.
fn is_fhir_id(id: &str) -> bool {
    // `matches!`: `RangeInclusive::contains` was an out-of-line call, and `!= "."` a
    // string comparison call each (22 B gz).
    matches!(id.len(), 1..=256)
        && super::text::all_word(id, b"-.")
        && !matches!(id.as_bytes(), [b'.'] | [b'.', b'.'])
}

pub(crate) fn id_member<'a>(obj: &'a Json, name: &'static str) -> Result<Option<&'a str>> {
    match obj.get(name) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(id)) if is_fhir_id(id) => Ok(Some(id)),
        Some(_) => Err(Error::at(ErrorCode::TokenResponseInvalid, name)),
    }
}

fn string_member<const WARN: bool>(
    obj: &Json,
    name: &str,
    warnings: &mut Vec<Warning>,
) -> Option<String> {
    match obj.opt_str(name) {
        Ok(s) => s.map(String::from),
        Err(_) => {
            warning::push::<WARN>(warnings, Warning::ContextMemberNotString);
            None
        }
    }
}

impl LaunchContext {
    /// Reads the context members of a token response object (SC
    /// `#launch-context-arrives-with-your-access_token`, spec #49-#51). A `patient` or
    /// `encounter` that is not a string FHIR id fails with `TokenResponseInvalid`
    /// (field `patient` / `encounter`); other malformed members are dropped and a
    /// warning is pushed.
    pub fn from_token_response(obj: &Json, warnings: &mut Vec<Warning>) -> Result<Self> {
        Self::read::<true>(obj, warnings)
    }

    /// [`LaunchContext::from_token_response`], pushing its warnings only with `WARN`.
    pub(crate) fn read<const WARN: bool>(obj: &Json, warnings: &mut Vec<Warning>) -> Result<Self> {
        let patient = id_member(obj, "patient")?;
        let encounter = id_member(obj, "encounter")?;
        Ok(Self::read_checked::<WARN>(
            obj, patient, encounter, warnings,
        ))
    }

    /// The rest of [`LaunchContext::read`], given its two members that can fail (read
    /// with [`id_member`]): the token response checks those among its own checks, and
    /// this then returns the context itself, not a `Result` of it to unpack and copy
    /// (52 B gz).
    // Out of line: inlined into the token response's checks it cost 13 B gz more (18 B
    // gz, measured again with this split).
    #[inline(never)]
    pub(crate) fn read_checked<const WARN: bool>(
        obj: &Json,
        patient: Option<&str>,
        encounter: Option<&str>,
        warnings: &mut Vec<Warning>,
    ) -> Self {
        let mut fhir_context = Vec::new();
        match obj.get("fhirContext") {
            None | Some(Json::Null) => {}
            Some(Json::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Err(w) = FhirContextItem::parse_into(i, item, &mut fhir_context) {
                        warning::push::<WARN>(warnings, w);
                    }
                }
            }
            Some(_) => warning::push::<WARN>(warnings, Warning::FhirContextNotArray),
        }
        let need_patient_banner = match obj.get("need_patient_banner") {
            None | Some(Json::Null) => None,
            Some(Json::Bool(b)) => Some(*b),
            Some(_) => {
                warning::push::<WARN>(warnings, Warning::BannerNotBoolean);
                None
            }
        };
        LaunchContext {
            patient: patient.map(String::from),
            encounter: encounter.map(String::from),
            fhir_context,
            need_patient_banner,
            smart_style_url: string_member::<WARN>(obj, "smart_style_url", warnings),
            intent: string_member::<WARN>(obj, "intent", warnings),
            tenant: string_member::<WARN>(obj, "tenant", warnings),
        }
    }

    /// `{aud}/Patient/{patient}`, when a patient is in context (spec #49).
    pub fn patient_reference(&self, aud: &str) -> Option<String> {
        self.patient.as_deref().map(|id| join(aud, "Patient", id))
    }

    /// `{aud}/Encounter/{encounter}`, when an encounter is in context (spec #49).
    pub fn encounter_reference(&self, aud: &str) -> Option<String> {
        self.encounter
            .as_deref()
            .map(|id| join(aud, "Encounter", id))
    }

    /// The intent, only if it is one the app knows; `None` means "show the default UI"
    /// (SC `#launch-intent`, spec #51).
    pub fn known_intent<'a>(&self, known: &[&'a str]) -> Option<&'a str> {
        let intent = self.intent.as_deref()?;
        known.iter().copied().find(|k| *k == intent)
    }

    /// The items with a given role (`"launch"` for items sent without one).
    pub fn items_with_role<'a>(
        &'a self,
        role: &'a str,
    ) -> impl Iterator<Item = &'a FhirContextItem> + 'a {
        self.fhir_context.iter().filter(move |i| i.role == role)
    }
}

fn join(aud: &str, resource_type: &str, id: &str) -> String {
    super::text::concat(&[
        super::text::trim_end(aud, b'/'),
        "/",
        resource_type,
        "/",
        id,
    ])
}

fn checked_reference(
    aud: &str,
    resource_type: &str,
    field: &'static str,
    id: &str,
) -> Result<String> {
    if !is_fhir_id(id) {
        return Err(Error::at(ErrorCode::TokenResponseInvalid, field));
    }
    Ok(join(aud, resource_type, id))
}

/// `{aud}/Patient/{id}`, with no doubled slash whether `aud` ends in `/` or not
/// (SC, spec #49). An `id` that is not a FHIR id is `TokenResponseInvalid` (field
/// `patient`).
pub fn patient_reference(aud: &str, id: &str) -> Result<String> {
    checked_reference(aud, "Patient", "patient", id)
}

/// `{aud}/Encounter/{id}` (spec #49); see [`patient_reference`].
pub fn encounter_reference(aud: &str, id: &str) -> Result<String> {
    checked_reference(aud, "Encounter", "encounter", id)
}

/// What the request asked for and the response lacks (spec #53): `"patient"` for
/// `launch/patient` without `patient`, `"encounter"` for `launch/encounter` without
/// `encounter`, and `"fhirContext"` for another `launch/<type>` with no `fhirContext`
/// item of that type (compared case-insensitively, as the scope is lowercase).
pub fn missing_context(requested_scopes: &str, ctx: &LaunchContext) -> Vec<&'static str> {
    let mut missing = Vec::new();
    for (resource, role) in launch_types(requested_scopes) {
        let name = match resource {
            "patient" if role.is_none() && ctx.patient.is_none() => "patient",
            "encounter" if role.is_none() && ctx.encounter.is_none() => "encounter",
            "patient" | "encounter" if role.is_none() => continue,
            _ => {
                let found = ctx.fhir_context.iter().any(|item| {
                    item.effective_type()
                        .is_some_and(|t| t.eq_ignore_ascii_case(resource))
                        && role.is_none_or(|r| r == item.role)
                });
                if found {
                    continue;
                }
                "fhirContext"
            }
        };
        if !missing.contains(&name) {
            missing.push(name);
        }
    }
    missing
}

/// [`missing_context`] as a result: the first missing member as `ContextMissing`
/// with its name in `field` (spec #53).
pub fn require_context(requested_scopes: &str, ctx: &LaunchContext) -> Result<()> {
    match missing_context(requested_scopes, ctx).first() {
        Some(field) => Err(Error::at(ErrorCode::ContextMissing, field)),
        None => Ok(()),
    }
}

/// Merges the context of a refresh response into the session's (AL step 7, spec #64):
/// every member the refresh sent replaces the old one; the rest is kept.
pub fn merge(ctx: &mut LaunchContext, fresh: LaunchContext) {
    replace_if_some(&mut ctx.patient, fresh.patient);
    replace_if_some(&mut ctx.encounter, fresh.encounter);
    if !fresh.fhir_context.is_empty() {
        ctx.fhir_context = fresh.fhir_context;
    }
    // An `if`, not `fresh.need_patient_banner.or(..)` (7 B gz).
    if fresh.need_patient_banner.is_some() {
        ctx.need_patient_banner = fresh.need_patient_banner;
    }
    replace_if_some(&mut ctx.smart_style_url, fresh.smart_style_url);
    replace_if_some(&mut ctx.intent, fresh.intent);
    replace_if_some(&mut ctx.tenant, fresh.tenant);
}

/// `*old = new.or(old.take())`, as one call: inlined at each member of a merge, the
/// `or` and the drop of the old value were repeated for every member.
#[inline(never)]
pub(crate) fn replace_if_some(old: &mut Option<String>, new: Option<String>) {
    if new.is_some() {
        *old = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(json: &str) -> (Result<LaunchContext>, Vec<Warning>) {
        let mut warnings = Vec::new();
        let r = LaunchContext::from_token_response(&Json::parse(json).unwrap(), &mut warnings);
        (r, warnings)
    }

    #[test]
    fn ig_example_context_members() {
        // spec #49, #51: Appendix A, IG public example token response
        let (c, w) = ctx(
            r#"{"need_patient_banner":true,"smart_style_url":"https://smart.argo.run/smart-style.json",
                "patient":"87a339d0-8cae-418e-89c7-8651e6aab3c6","token_type":"Bearer"}"#,
        );
        let c = c.unwrap();
        assert!(w.is_empty());
        assert_eq!(
            c.patient.as_deref(),
            Some("87a339d0-8cae-418e-89c7-8651e6aab3c6")
        );
        assert_eq!(c.need_patient_banner, Some(true));
        assert_eq!(
            c.smart_style_url.as_deref(),
            Some("https://smart.argo.run/smart-style.json")
        );
        assert_eq!(c.encounter, None);
        assert_eq!(
            c.patient_reference("https://h/fhir/").as_deref(),
            Some("https://h/fhir/Patient/87a339d0-8cae-418e-89c7-8651e6aab3c6")
        );
    }

    #[test]
    fn references_have_no_doubled_slash() {
        // spec #49
        assert_eq!(
            patient_reference("https://h/a/fhir", "123").unwrap(),
            "https://h/a/fhir/Patient/123"
        );
        assert_eq!(
            patient_reference("https://h/a/fhir/", "123").unwrap(),
            "https://h/a/fhir/Patient/123"
        );
        assert_eq!(
            encounter_reference("https://h/fhir/", "e.1-x").unwrap(),
            "https://h/fhir/Encounter/e.1-x"
        );
        for bad in ["", "1/../../Group", "a?b", ".", "..", "a b"] {
            let e = patient_reference("https://h/fhir", bad).unwrap_err();
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::TokenResponseInvalid, Some("patient"))
            );
        }
        // Only the dot segments themselves are refused: dots are id characters.
        for good in ["...", ".a", "a."] {
            assert!(patient_reference("https://h/fhir", good).is_ok(), "{good}");
        }
    }

    #[test]
    fn non_string_or_unsafe_patient_is_invalid() {
        // spec #49, #44: patient is a string id
        for body in [
            r#"{"patient":123}"#,
            r#"{"patient":"Patient/123"}"#,
            r#"{"patient":""}"#,
        ] {
            let e = ctx(body).0.unwrap_err();
            assert_eq!(
                (e.code, e.field),
                (ErrorCode::TokenResponseInvalid, Some("patient")),
                "{body}"
            );
        }
        let e = ctx(r#"{"encounter":{"id":"1"}}"#).0.unwrap_err();
        assert_eq!(e.field, Some("encounter"));
        assert_eq!(ctx(r#"{"patient":null}"#).0.unwrap().patient, None);
    }

    #[test]
    fn fhir_context_2_0_strings() {
        // spec #50: 2.0 shape
        let (c, w) = ctx(r#"{"fhirContext":["DiagnosticReport/123","ImagingStudy/7"]}"#);
        let c = c.unwrap();
        assert!(w.is_empty());
        assert_eq!(c.fhir_context.len(), 2);
        assert_eq!(
            c.fhir_context[0].reference.as_deref(),
            Some("DiagnosticReport/123")
        );
        assert_eq!(c.fhir_context[0].role, "launch");
        assert_eq!(c.fhir_context[1].effective_type(), Some("ImagingStudy"));
    }

    #[test]
    fn fhir_context_2_1_objects_with_role() {
        // spec #50: 2.1 shape; absent role means launch
        let (c, _) = ctx(
            r#"{"fhirContext":[{"reference":"Patient/9","role":"https://example.org/role/sibling"},
                               {"reference":"Observation/1"}]}"#,
        );
        let c = c.unwrap();
        assert_eq!(c.fhir_context[0].role, "https://example.org/role/sibling");
        assert_eq!(c.fhir_context[1].role, DEFAULT_ROLE);
        assert_eq!(c.items_with_role("launch").count(), 1);
    }

    #[test]
    fn fhir_context_2_2_canonical_identifier_type_and_extras() {
        // spec #50: 2.2 shape, unknown members kept
        let json = Json::parse(
            r#"{"fhirContext":[
                {"canonical":"http://example.org/Questionnaire/q|1.0","type":"Questionnaire"},
                {"identifier":{"system":"urn:x","value":"42"},"type":"ServiceRequest","__note":"n"}]}"#,
        )
        .unwrap();
        let mut w = Vec::new();
        let c = LaunchContext::from_token_response(&json, &mut w).unwrap();
        assert!(w.is_empty());
        let q = &c.fhir_context[0];
        assert_eq!(
            q.canonical.as_deref(),
            Some("http://example.org/Questionnaire/q|1.0")
        );
        assert_eq!(q.effective_type(), Some("Questionnaire"));
        let s = &c.fhir_context[1];
        assert_eq!(s.resource_type.as_deref(), Some("ServiceRequest"));
        // The identifier and the unknown members stay in the item as sent.
        let raw = &json.get("fhirContext").and_then(Json::as_array).unwrap()[s.index];
        assert_eq!(
            raw.get("identifier")
                .and_then(|i| i.get("value"))
                .and_then(Json::as_str),
            Some("42")
        );
        assert_eq!(raw.get("__note").and_then(Json::as_str), Some("n"));
    }

    #[test]
    fn invalid_fhir_context_items_are_skipped_with_a_warning() {
        // spec #50: none of the three keys -> skip; role "" -> invalid
        let (c, w) = ctx(
            r#"{"fhirContext":[{"type":"Observation"},{"reference":"Observation/1","role":""},
                               42,"",{"reference":7},{"identifier":"x"},{"reference":"Encounter/2"}]}"#,
        );
        let c = c.unwrap();
        assert_eq!(c.fhir_context.len(), 1);
        assert_eq!(c.fhir_context[0].reference.as_deref(), Some("Encounter/2"));
        assert_eq!(c.fhir_context[0].index, 6);
        assert_eq!(
            w.iter()
                .filter(|x| **x == Warning::FhirContextRoleInvalid)
                .count(),
            1
        );
        assert_eq!(
            w.iter()
                .filter(|x| **x == Warning::FhirContextItemInvalid)
                .count(),
            5
        );
        let (c, w) = ctx(r#"{"fhirContext":"Observation/1"}"#);
        assert!(c.unwrap().fhir_context.is_empty());
        assert_eq!(w, [Warning::FhirContextNotArray]);
    }

    #[test]
    fn typed_banner_style_intent_tenant() {
        // spec #51: typed members; unknown intent gives the default UI
        let (c, w) = ctx(r#"{"need_patient_banner":false,"intent":"zzz","tenant":"t1"}"#);
        let c = c.unwrap();
        assert!(w.is_empty());
        assert_eq!(c.need_patient_banner, Some(false));
        assert_eq!(c.tenant.as_deref(), Some("t1"));
        assert_eq!(c.known_intent(&["reconcile-medications"]), None);
        let (c, _) = ctx(r#"{"intent":"reconcile-medications"}"#);
        assert_eq!(
            c.unwrap().known_intent(&["reconcile-medications"]),
            Some("reconcile-medications")
        );
        assert_eq!(LaunchContext::default().known_intent(&["a"]), None);
        let (c, w) = ctx(r#"{"need_patient_banner":"yes","intent":1}"#);
        let c = c.unwrap();
        assert_eq!((c.need_patient_banner, c.intent), (None, None));
        assert_eq!(
            w,
            [Warning::BannerNotBoolean, Warning::ContextMemberNotString]
        );
    }

    #[test]
    fn missing_requested_context_is_reported() {
        // spec #53: launch/patient asked, no patient
        let empty = LaunchContext::default();
        assert_eq!(
            missing_context("launch/patient launch/encounter patient/*.rs", &empty),
            ["patient", "encounter"]
        );
        let e = require_context("openid launch/patient", &empty).unwrap_err();
        assert_eq!(
            (e.code, e.field),
            (ErrorCode::ContextMissing, Some("patient"))
        );
        let with = LaunchContext {
            patient: Some("1".into()),
            ..Default::default()
        };
        assert!(missing_context("launch launch/patient", &with).is_empty());
        assert!(require_context("launch/patient", &with).is_ok());
    }

    #[test]
    fn missing_typed_launch_context_checks_fhir_context() {
        // spec #53 with 2.2 launch/<type>?role= scopes
        let (c, _) = ctx(r#"{"fhirContext":[{"reference":"ImagingStudy/1"}]}"#);
        let c = c.unwrap();
        assert!(missing_context("launch/imagingstudy", &c).is_empty());
        assert_eq!(
            missing_context("launch/imagingstudy?role=https://r", &c),
            ["fhirContext"]
        );
        assert_eq!(missing_context("launch/questionnaire", &c), ["fhirContext"]);
    }

    #[test]
    fn refresh_merge_keeps_context_unless_new_values() {
        // spec #64: a refresh without patient keeps the old patient
        let (old, _) = ctx(
            r#"{"patient":"p1","encounter":"e1","fhirContext":["Observation/1"],"need_patient_banner":true}"#,
        );
        let old = old.unwrap();
        let (fresh, _) = ctx(r#"{"encounter":"e2"}"#);
        let mut merged = old.clone();
        merge(&mut merged, fresh.unwrap());
        assert_eq!(merged.patient.as_deref(), Some("p1"));
        assert_eq!(merged.encounter.as_deref(), Some("e2"));
        assert_eq!(merged.fhir_context, old.fhir_context);
        assert_eq!(merged.need_patient_banner, Some(true));
    }
}
