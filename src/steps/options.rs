//! Reading the app's options (`AuthorizeOptions`, `ReadyOptions`): their types checked in
//! one pass, then read borrowed.

use super::{invalid, DEFAULT_TIMEOUT_MS};
use crate::protocol::json::Json;
use crate::protocol::Result;

/// The app's options object, as `JSON.stringify` gave it (functions and `undefined`
/// members are gone; the JS side checks `onTokenEvent` itself).
pub(super) fn options_object(text: &str) -> Result<Json> {
    match Json::parse(text) {
        Ok(obj @ Json::Object(_)) => Ok(obj),
        _ => Err(invalid("options")),
    }
}

/// The JSON type an option must have when present (`null` counts as absent).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Bool,
    /// A non-negative number (`NaN` arrives as `null`: absent).
    Num,
    List,
}

/// Checks the type of every option of `kinds` that is present, in order: the first
/// one of the wrong type is `invalid_options` naming it. Checked in one loop, then read
/// borrowed with [`text_of`] and friends: with a fallible read per option, each early
/// return dropped what had been read so far, and those drop ladders were most of the
/// code of reading the options.
pub(super) fn check_kinds(obj: &Json, kinds: &[(&'static str, Kind)]) -> Result<()> {
    for &(key, kind) in kinds {
        let ok = match obj.get(key) {
            None | Some(Json::Null) => true,
            Some(Json::String(_)) => kind == Kind::Str,
            Some(Json::Bool(_)) => kind == Kind::Bool,
            Some(Json::Number(n)) => kind == Kind::Num && *n >= 0.0,
            Some(Json::Array(_)) => kind == Kind::List,
            Some(Json::Object(_)) => false,
        };
        if !ok {
            return Err(invalid(key));
        }
    }
    Ok(())
}

pub(super) fn text_of<'a>(obj: &'a Json, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Json::as_str)
}

/// The flag `key`, `default` when absent. The defaults are passed in, not applied to
/// an `Option` at each call: a `u64` in an `Option` went through memory (50 B gz).
pub(super) fn flag_of(obj: &Json, key: &str, default: bool) -> bool {
    obj.get(key).and_then(Json::as_bool).unwrap_or(default)
}

/// The number `key` (checked non-negative by [`check_kinds`]), `default` when absent.
pub(super) fn number_of(obj: &Json, key: &str, default: u64) -> u64 {
    obj.get(key)
        .and_then(Json::as_f64)
        .map_or(default, |n| n as u64)
}

pub(super) fn timeout_ms(obj: &Json) -> u64 {
    // The default is below the cap, so capping it too changes nothing.
    number_of(obj, "timeoutMs", DEFAULT_TIMEOUT_MS).min(u32::MAX.into())
}

/// `AuthorizeOptions`, in the order of the README.
pub(super) const AUTHORIZE_OPTIONS: [(&str, Kind); 13] = [
    ("target", Kind::Str),
    ("issuers", Kind::List),
    ("clientId", Kind::Str),
    ("scope", Kind::Str),
    ("redirectUri", Kind::Str),
    ("iss", Kind::Str),
    ("launch", Kind::Str),
    ("aud", Kind::Str),
    ("allowInsecureLocalhost", Kind::Bool),
    ("legacyCapabilityStatement", Kind::Bool),
    ("timeoutMs", Kind::Num),
    ("width", Kind::Num),
    ("height", Kind::Num),
];

/// One entry of the EHR-launch allowlist (spec #12, #17); `iss` is required.
pub(super) const ISSUER_OPTIONS: [(&str, Kind); 4] = [
    ("iss", Kind::Str),
    ("clientId", Kind::Str),
    ("scope", Kind::Str),
    ("redirectUri", Kind::Str),
];

/// `ReadyOptions` but `onTokenEvent`.
pub(super) const READY_OPTIONS: [(&str, Kind); 4] = [
    ("expiringLeadSeconds", Kind::Num),
    ("autoRefresh", Kind::Bool),
    ("timeoutMs", Kind::Num),
    ("verifyIdToken", Kind::Bool),
];
