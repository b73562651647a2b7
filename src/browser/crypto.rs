//! Random bytes from the browser's CSPRNG, `crypto.getRandomValues` (spec #21, #23, #74).

use crate::protocol::{Error, ErrorCode, Result};

/// 32 bytes from `crypto.getRandomValues`. There is no fallback: without Web Crypto the
/// launch fails with `crypto_unavailable` (spec #74).
pub fn random_32() -> Result<[u8; 32]> {
    let unavailable = || Error::new(ErrorCode::CryptoUnavailable);
    let crypto = super::window()
        .and_then(|w| w.crypto().ok())
        .ok_or_else(unavailable)?;
    let mut bytes = [0u8; 32];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| unavailable())?;
    // A stubbed getRandomValues that returns without filling the array must not yield a
    // predictable state or verifier: 32 zero bytes from a real CSPRNG is not a thing.
    if bytes.iter().all(|&b| b == 0) {
        return Err(unavailable());
    }
    Ok(bytes)
}
