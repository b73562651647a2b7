//! The exports of the wasm module: each SMART step as one synchronous function of
//! strings and numbers, called by the JS API (`src/api/*.js`) between the browser
//! effects it carries out (`src/browser/*.js`).
//!
//! The split is the one of `protocol`: this module decides, the JS side does. Nothing
//! here does I/O, reads a clock or draws randomness; the JS side passes page URLs,
//! HTTP answers, random bytes, digests and "now" in, and gets back what to send, what
//! to store and what to tell the app. So every decision of a launch is natively
//! testable, and the wasm needs no browser binding at all.
//!
//! The wasm exports two entry points only, [`step`] and [`Grant::call`] (as C
//! functions over the wasm's memory: `abi`): each runs a step by name, with its
//! arguments as a JSON array, and answers JSON text. One export per step cost 3 KB gz of
//! the package when wasm-bindgen wrote a wrapper for each, measured; one string in and
//! one out is the least there is to pass, and the browser's `JSON.parse` reads the
//! answer. Every answer is an envelope,
//! `{"ok":<value>}` or `{"error":{...}}` (the members of a `SmartError`), which the JS
//! side unwraps in one place (`src/api/core.js`). Instants are epoch milliseconds (JS
//! numbers). The steps are plain functions too, which the native tests call.
//!
//! [`launch`] has the launch page's steps, [`redirect`] those of the redirect back,
//! [`grant`] the launched session, `options` the reading of the app's options.

use crate::prelude::*;
use crate::protocol::json::{push_json_string, Json};
use crate::protocol::text::push_u64;
use crate::protocol::{Error, ErrorCode, Result};

#[cfg(target_arch = "wasm32")]
mod abi;
pub mod grant;
pub mod launch;
mod options;
pub mod redirect;

pub use grant::Grant;
pub use launch::*;
pub use redirect::*;

/// Default limit for one HTTP request (`timeoutMs`).
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

// --- the JSON answers -------------------------------------------------------------

/// A JSON object written member by member (no `core::fmt`: see `protocol::text`).
// The members take `&mut self`: moved by value, the `String` went through memory at
// each of the hundred calls (135 B gz).
pub(super) struct Obj(String);

impl Obj {
    pub(super) fn new() -> Obj {
        Obj(String::from("{"))
    }

    fn key(&mut self, key: &str) -> &mut String {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        push_json_string(&mut self.0, key);
        self.0.push(':');
        &mut self.0
    }

    /// A member whose value is JSON text already.
    pub(super) fn raw(&mut self, key: &str, json: &str) -> &mut Obj {
        self.key(key).push_str(json);
        self
    }

    pub(super) fn str(&mut self, key: &str, value: &str) -> &mut Obj {
        push_json_string(self.key(key), value);
        self
    }

    /// Leaves the member out when `value` is `None` (JS reads it as `undefined`).
    pub(super) fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Obj {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    /// [`Obj::opt_str`] of a held `Option<String>`: one pointer to pass, not an
    /// `as_deref` at each call site.
    pub(super) fn opt_string(&mut self, key: &str, value: &Option<String>) -> &mut Obj {
        match value {
            Some(v) => self.str(key, v),
            None => self,
        }
    }

    pub(super) fn num(&mut self, key: &str, value: u64) -> &mut Obj {
        push_u64(self.key(key), value);
        self
    }

    pub(super) fn opt_num(&mut self, key: &str, value: Option<u64>) -> &mut Obj {
        match value {
            Some(v) => self.num(key, v),
            None => self,
        }
    }

    pub(super) fn bool(&mut self, key: &str, value: bool) -> &mut Obj {
        self.raw(key, if value { "true" } else { "false" })
    }

    /// The object's text; the builder is left empty (it is the chain's temporary).
    pub(super) fn end(&mut self) -> String {
        self.0.push('}');
        core::mem::take(&mut self.0)
    }
}

pub(super) fn json_str(value: &str) -> String {
    let mut out = String::new();
    push_json_string(&mut out, value);
    out
}

/// The members of a `SmartError` (README "Error codes"). No value of a token, code,
/// verifier or state is in an `Error`, so none can be here (spec #75).
fn error_json(e: &Error) -> String {
    Obj::new()
        .str("code", e.code.as_str())
        .opt_str("field", e.field)
        .opt_num("status", e.status.map(u64::from))
        .opt_string("oauthError", &e.oauth_error)
        .opt_string("description", &e.description)
        .end()
}

/// The envelope of every answer: `{"ok":value}` or `{"error":{...}}`.
pub(super) fn answer(result: Result<String>) -> String {
    // One builder for both arms (7 B gz).
    let mut envelope = Obj::new();
    match result {
        Ok(value) => envelope.raw("ok", &value),
        Err(e) => envelope.raw("error", &error_json(&e)),
    };
    envelope.end()
}

pub(super) fn ms(value: f64) -> u64 {
    // `as` saturates: a negative or NaN clock reads as 0.
    value as u64
}

pub(super) fn invalid(field: &'static str) -> Error {
    Error::at(ErrorCode::InvalidOptions, field)
}

// --- the entry point --------------------------------------------------------------

/// The arguments of a step: a JSON array from the JS side (`src/api/core.js`). The JS
/// side is this crate's own code, so a missing or mistyped argument is a bug there; it
/// reads as empty, which every step refuses.
pub(super) struct Args(Vec<Json>);

impl Args {
    pub(super) fn parse(text: &str) -> Args {
        match Json::parse(text) {
            Ok(Json::Array(items)) => Args(items),
            _ => Args(Vec::new()),
        }
    }

    /// A JSON value argument (an object the JS side got from an earlier step).
    // One reader for every accessor: inlined, each argument read cost its own copy of
    // the bounds check and variant match at every call site (195 B gz).
    #[inline(never)]
    pub(super) fn value(&self, i: usize) -> &Json {
        self.0.get(i).unwrap_or(&Json::Null)
    }

    pub(super) fn str(&self, i: usize) -> &str {
        self.value(i).as_str().unwrap_or("")
    }

    pub(super) fn opt_str(&self, i: usize) -> Option<&str> {
        self.value(i).as_str()
    }

    pub(super) fn num(&self, i: usize) -> f64 {
        self.value(i).as_f64().unwrap_or(0.0)
    }

    pub(super) fn status(&self, i: usize) -> u16 {
        self.num(i) as u16
    }

    pub(super) fn flag(&self, i: usize) -> bool {
        self.value(i).as_bool().unwrap_or(false)
    }
}

pub(super) fn bool_json(value: bool) -> String {
    String::from(if value { "true" } else { "false" })
}

/// Runs the step `name` (one of the functions below) with `args`, a JSON array of its
/// arguments, and `bytes`: the random bytes of `code_verifier`, the digest and random
/// bytes of `authorization`.
pub fn step(name: &str, args: &str, bytes: &[u8]) -> String {
    let a = Args::parse(args);
    // One `answer` for every step, not one in each step's wrapper: 77 B gz. The
    // wrappers (`plan`, ...) stay for the native API and its tests.
    answer(match name {
        "plan" => launch::make_plan(a.str(0), a.str(1), a.str(2)),
        "discover" => launch::make_discover(a.status(0), a.str(1), a.str(2), a.flag(3), a.flag(4)),
        "code_verifier" => launch::make_code_verifier(bytes),
        "authorization" => {
            let (digest, random) = launch::split_32(bytes);
            launch::make_authorization(
                a.value(0),
                a.value(1),
                a.str(2),
                digest,
                random,
                ms(a.num(3)),
            )
        }
        "record_is_live" => Ok(bool_json(record_is_live(a.str(0), a.num(1)))),
        "callback_state" => redirect::make_callback_state(a.str(0)),
        "code_exchange" => {
            redirect::make_code_exchange(a.str(0), a.opt_str(1), a.flag(2), ms(a.num(3)))
        }
        "clean_url" => Ok(json_str(&clean_url(a.str(0)))),
        "ready_options" => redirect::make_ready_options(a.str(0)),
        "signature_check" => redirect::make_signature_check(a.status(0), a.str(1), a.str(2)),
        "jwks_key" => redirect::make_jwks_key(a.status(0), a.str(1), a.str(2), a.opt_str(3)),
        "error_codes" => Ok(error_codes()),
        _ => Err(invalid("step")),
    })
}

/// The stable error codes (README "Error codes"), as a JSON array.
pub fn error_codes() -> String {
    let mut out = String::from("[");
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, code.as_str());
    }
    out.push(']');
    out
}
