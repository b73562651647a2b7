//! The transaction record in `sessionStorage`: the only thing that crosses the redirect
//! (spec #32, #73). One key per pending authorization, named by its `state`, so several
//! launches (several clients, several servers) never collide.

use crate::prelude::*;
use crate::protocol::{Error, ErrorCode, Result};
use web_sys::Storage;

const PREFIX: &str = "smart-launch:tx:";

fn session_storage() -> Result<Storage> {
    super::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .ok_or_else(|| Error::new(ErrorCode::StorageUnavailable))
}

/// The storage key of a record (`concat`, not `format!`: see `protocol::text`).
fn key(state: &str) -> String {
    crate::protocol::text::concat(&[PREFIX, state])
}

fn failed() -> Error {
    Error::new(ErrorCode::StorageUnavailable)
}

/// Stores a record under its state.
pub fn save(state: &str, record_json: &str) -> Result<()> {
    session_storage()?
        .set_item(&key(state), record_json)
        .map_err(|_| failed())
}

/// Reads the record of `state` (the caller removes it: a record is single-use, spec #32).
pub fn get(state: &str) -> Result<Option<String>> {
    session_storage()?
        .get_item(&key(state))
        .map_err(|_| failed())
}

/// Every pending record as `(state, record_json)`.
pub fn pending() -> Result<Vec<(String, String)>> {
    let storage = session_storage()?;
    let len = storage.length().map_err(|_| failed())?;
    let mut out = Vec::new();
    for i in 0..len {
        let Some(key) = storage.key(i).map_err(|_| failed())? else {
            continue;
        };
        if let Some(state) = key.strip_prefix(PREFIX) {
            if let Some(value) = storage.get_item(&key).map_err(|_| failed())? {
                out.push((state.to_string(), value));
            }
        }
    }
    Ok(out)
}

/// Deletes the record of `state`, if any.
pub fn remove(state: &str) -> Result<()> {
    session_storage()?
        .remove_item(&key(state))
        .map_err(|_| failed())
}
