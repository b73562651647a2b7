//! SMART scopes as the server reads them: v1 (`.read`/`.write`/`.*`) and v2
//! (`.cruds`, `?param=value`) resource scopes, and which requested scopes it grants.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Patient,
    User,
    System,
}

/// Permission letters as bits: c r u d s.
pub const C: u8 = 1;
pub const R: u8 = 2;
pub const U: u8 = 4;
pub const D: u8 = 8;
pub const S: u8 = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceScope {
    pub context: Context,
    /// A resource type or `*`.
    pub rtype: String,
    pub perms: u8,
    /// v2 granular constraints, kept literally.
    pub query: Option<Vec<(String, String)>>,
}

fn is_resource_type(s: &str) -> bool {
    s == "*"
        || (s.starts_with(|c: char| c.is_ascii_uppercase())
            && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn v2_perms(suffix: &str) -> Option<u8> {
    if suffix.is_empty() {
        return None;
    }
    let mut bits = 0u8;
    let mut last = 0usize;
    for ch in suffix.chars() {
        let pos = "cruds".find(ch)? + 1;
        // Canonical order only, no repeats (SC: build only canonical suffixes).
        if pos <= last {
            return None;
        }
        last = pos;
        bits |= 1 << (pos - 1);
    }
    Some(bits)
}

/// Parse a `patient/`, `user/` or `system/` resource scope; `None` if malformed.
pub fn parse_resource(token: &str) -> Option<ResourceScope> {
    let (ctx, rest) = token.split_once('/')?;
    let context = match ctx {
        "patient" => Context::Patient,
        "user" => Context::User,
        "system" => Context::System,
        _ => return None,
    };
    let (body, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (rtype, suffix) = body.rsplit_once('.')?;
    if !is_resource_type(rtype) {
        return None;
    }
    let (perms, v1) = match suffix {
        "read" => (R | S, true),
        "write" => (C | U | D, true),
        "*" => (C | R | U | D | S, true),
        other => (v2_perms(other)?, false),
    };
    let query = match query {
        None => None,
        Some(_) if v1 => return None,
        Some(q) => {
            let mut pairs = Vec::new();
            for part in q.split('&') {
                let (k, v) = part.split_once('=')?;
                if k.is_empty() || v.is_empty() {
                    return None;
                }
                pairs.push((k.to_string(), v.to_string()));
            }
            pairs.sort();
            Some(pairs)
        }
    };
    Some(ResourceScope {
        context,
        rtype: rtype.to_string(),
        perms,
        query,
    })
}

/// Scope token syntax (RFC 6749 §3.3): `%x21 / %x23-5B / %x5D-7E`, non-empty.
pub fn valid_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// Split a scope string on spaces, dropping empty tokens and duplicates.
pub fn split(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in scope.split(' ').filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

/// Which requested scopes this server grants to a public client.
///
/// Dropped: unknown or malformed tokens, `system/` scopes (backend services only),
/// `launch` outside an EHR launch, `online_access` outside an EHR launch (2.2), and
/// `patient/` scopes when there is no patient in context.
pub fn grantable(token: &str, ehr_launch: bool, has_patient: bool) -> bool {
    match token {
        "openid" | "fhirUser" | "profile" | "offline_access" | "launch/patient"
        | "launch/encounter" => true,
        "launch" | "online_access" => ehr_launch,
        t => match parse_resource(t) {
            Some(r) => match r.context {
                Context::Patient => has_patient,
                Context::User => true,
                Context::System => false,
            },
            None => false,
        },
    }
}

/// Does the set `granted` cover the requested `token` (spec §5.2: per-letter union,
/// same context, same type or `*`, unconstrained or identical query)?
pub fn covers(granted: &[String], token: &str) -> bool {
    let Some(req) = parse_resource(token) else {
        return granted.iter().any(|g| g == token);
    };
    let parsed: Vec<ResourceScope> = granted.iter().filter_map(|g| parse_resource(g)).collect();
    (0..5)
        .map(|i| 1u8 << i)
        .filter(|bit| req.perms & bit != 0)
        .all(|bit| {
            parsed.iter().any(|g| {
                g.context == req.context
                    && (g.rtype == "*" || g.rtype == req.rtype)
                    && g.perms & bit != 0
                    && (g.query.is_none() || g.query == req.query)
            })
        })
}

/// True when the refresh token grants offline or online access.
pub fn grants_refresh(scopes: &[String]) -> bool {
    scopes
        .iter()
        .any(|s| s == "offline_access" || s == "online_access")
}

fn codings_match(concept: Option<&Value>, wanted: &str) -> bool {
    let (system, code) = match wanted.split_once('|') {
        Some((s, c)) => (Some(s), c),
        None => (None, wanted),
    };
    let Some(codings) = concept
        .and_then(|c| c.get("coding"))
        .and_then(|c| c.as_array())
    else {
        return false;
    };
    codings.iter().any(|c| {
        c.get("code").and_then(|v| v.as_str()) == Some(code)
            && system
                .is_none_or(|s| s.is_empty() || c.get("system").and_then(|v| v.as_str()) == Some(s))
    })
}

/// Does a resource satisfy a granular scope's `param=value` constraints? Only the
/// parameters this server understands (`category`, `code`) can match; any other
/// constraint matches nothing, which errs towards refusing.
fn query_matches(query: &[(String, String)], resource: &Value) -> bool {
    query.iter().all(|(k, v)| {
        let values: Vec<&str> = v.split(',').collect();
        match k.as_str() {
            "category" => {
                let cats = resource.get("category").and_then(|c| c.as_array());
                values.iter().any(|val| {
                    cats.is_some_and(|cs| cs.iter().any(|c| codings_match(Some(c), val)))
                })
            }
            "code" => values
                .iter()
                .any(|val| codings_match(resource.get("code"), val)),
            _ => false,
        }
    })
}

/// May a token with `scopes` (and `patient` in context) do `perm` on `resource`?
pub fn permits(scopes: &[String], perm: u8, resource: &Value, patient: Option<&str>) -> bool {
    let rtype = resource
        .get("resourceType")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let owner = crate::fhir::fixtures::compartment_patient(resource);
    scopes.iter().filter_map(|s| parse_resource(s)).any(|s| {
        let context_ok = match s.context {
            Context::User => true,
            // Patient compartment: only the patient in context; resources outside
            // any patient compartment (Practitioner) are shared reference data.
            Context::Patient => match (&owner, patient) {
                (Some(owner), Some(ctx)) => owner == ctx,
                (Some(_), None) => false,
                (None, _) => true,
            },
            Context::System => false,
        };
        context_ok
            && (s.rtype == "*" || s.rtype == rtype)
            && s.perms & perm != 0
            && s.query.as_ref().is_none_or(|q| query_matches(q, resource))
    })
}

/// Is there any scope giving `perm` on resources of `rtype` at all?
pub fn any_for_type(scopes: &[String], perm: u8, rtype: &str) -> bool {
    scopes.iter().filter_map(|s| parse_resource(s)).any(|s| {
        s.context != Context::System && (s.rtype == "*" || s.rtype == rtype) && s.perms & perm != 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_v1_and_v2() {
        let r = parse_resource("patient/Observation.read").unwrap();
        assert_eq!((r.context, r.perms), (Context::Patient, R | S));
        assert_eq!(parse_resource("user/*.cruds").unwrap().perms, 31);
        assert!(parse_resource("patient/Observation.sr").is_none());
        assert!(parse_resource("patient/Observation.rr").is_none());
        assert!(parse_resource("patient/observation.rs").is_none());
        assert!(parse_resource("patient/Observation.read?code=1").is_none());
        let q = parse_resource("patient/Observation.rs?category=x|laboratory").unwrap();
        assert_eq!(
            q.query,
            Some(vec![("category".into(), "x|laboratory".into())])
        );
    }

    #[test]
    fn coverage() {
        let g = v(&[
            "patient/Observation.rs",
            "patient/Observation.cud",
            "openid",
        ]);
        assert!(covers(&g, "patient/Observation.cruds"));
        assert!(covers(&g, "patient/Observation.r"));
        assert!(!covers(&g, "user/Observation.r"));
        assert!(!covers(&g, "patient/Patient.r"));
        assert!(covers(&g, "openid"));
        assert!(!covers(&g, "fhirUser"));
        assert!(covers(&v(&["patient/*.read"]), "patient/Patient.rs"));
    }

    #[test]
    fn granular_and_compartment() {
        let lab = json!({"resourceType": "Observation", "subject": {"reference": "Patient/p1"},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]});
        let s = v(&["patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"]);
        assert!(permits(&s, R, &lab, Some("p1")));
        assert!(!permits(&s, R, &lab, Some("p2")));
        assert!(!permits(&s, R, &lab, None));
        let s2 = v(&["patient/Observation.rs?category=vital-signs"]);
        assert!(!permits(&s2, R, &lab, Some("p1")));
        assert!(permits(&v(&["user/*.r"]), R, &lab, None));
        assert!(!permits(&v(&["user/*.s"]), R, &lab, None));
    }
}
