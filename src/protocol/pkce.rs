//! PKCE (RFC 7636) and the `state` value: the two secrets of one authorization request.
//!
//! Both are made from random bytes the caller draws from the browser's CSPRNG
//! (`crypto.getRandomValues`, spec #74); this module only encodes them, so it stays
//! deterministic and testable. S256 is the only method: `plain` is never produced
//! (spec #4, #25).

use crate::prelude::*;

use super::base64url;
use super::error::{Error, ErrorCode, Result};

/// The only `code_challenge_method` this client sends (spec #25, RFC 7636 §4.3).
pub const CODE_CHALLENGE_METHOD: &str = "S256";

/// A fresh PKCE `code_verifier` from 32 random octets: base64url without padding, 43
/// characters of `[A-Za-z0-9-_]` (RFC 7636 §4.1 and §7.1 recommendation; spec #23).
pub fn code_verifier(random: &[u8; 32]) -> String {
    base64url::encode(random)
}

/// A fresh `state` from 32 random octets (256 bits, above the IG's 122-bit floor):
/// base64url without padding, 43 characters (spec #21, smart-spec.md §7.3).
pub fn new_state(random: &[u8; 32]) -> String {
    base64url::encode(random)
}

/// `code_challenge = BASE64URL-nopad(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2;
/// spec #24), from the digest.
///
/// The hash itself is the browser's `crypto.subtle.digest` (`src/browser/crypto.js`): the
/// `sha2` crate cost 2.6 KB gz of wasm (8% of the size budget) for one hash per launch
/// that the browser already has. The price: the challenge needs a secure context, which
/// SMART's TLS requirement (and the loopback exception) already implies. The tests hash
/// with `sha2` (`code_challenge_s256`).
pub fn code_challenge_from_digest(sha256: &[u8; 32]) -> String {
    base64url::encode(sha256)
}

/// [`code_challenge_from_digest`] with the hash computed here, by `sha2` (tests only).
#[cfg(test)]
pub fn code_challenge_s256(verifier: &str) -> String {
    use sha2::{Digest, Sha256};
    code_challenge_from_digest(&Sha256::digest(verifier.as_bytes()).into())
}

/// Checks a verifier against RFC 7636 §4.1: 43 to 128 characters of
/// `[A-Za-z0-9-._~]` (spec #23). Error: `invalid_options`, field `code_verifier`.
pub fn check_verifier(verifier: &str) -> Result<()> {
    // `matches!`: `RangeInclusive::contains` was an out-of-line call.
    let ok = matches!(verifier.len(), 43..=128) && super::text::all_word(verifier, b"-._~");
    if ok {
        Ok(())
    } else {
        Err(Error::at(ErrorCode::InvalidOptions, "code_verifier"))
    }
}

/// True for a well-formed S256 challenge: 43 base64url characters (32 octets).
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && super::text::all_word(challenge, b"-_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        // spec #24: RFC 7636 Appendix B
        let random: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = code_verifier(&random);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            code_challenge_s256(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(check_verifier(&verifier).is_ok());
    }

    #[test]
    fn ig_example_128_char_vector() {
        // spec #24, #23: the IG public-client example, a verifier of maximum length
        let verifier = "o28xyrYY7-lGYfnKwRjHEZWlFIPlzVnFPYMWbH-g_BsNnQNem-IAg9fDh92X0KtvHCPO5_C-RJd2QhApKQ-2cRp-S_W3qmTidTEPkeWyniKQSF9Q_k10Q5wMc8fGzoyF";
        assert_eq!(verifier.len(), 128);
        assert!(check_verifier(verifier).is_ok());
        assert_eq!(
            code_challenge_s256(verifier),
            "YPXe7B8ghKrj8PsT4L6ltupgI12NQJ5vblB07F4rGaw"
        );
    }

    #[test]
    fn check_verifier_bounds_and_charset() {
        // spec #23
        let ok43 = "a".repeat(43);
        assert!(check_verifier(&ok43).is_ok());
        assert!(check_verifier(&"~._-Az09".repeat(16)).is_ok());
        for bad in [
            "a".repeat(42),
            "a".repeat(129),
            format!("{}+", "a".repeat(42)),
            format!("{}/", "a".repeat(42)),
            format!("{}=", "a".repeat(42)),
            format!("{} ", "a".repeat(42)),
            format!("{}é", "a".repeat(41)),
            String::new(),
        ] {
            let e = check_verifier(&bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidOptions);
            assert_eq!(e.field, Some("code_verifier"));
        }
    }

    #[test]
    fn state_has_256_bits() {
        // spec #21: decoded length >= 16 bytes (here 32)
        let s = new_state(&[7u8; 32]);
        assert_eq!(s.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&s).unwrap().len(), 32);
    }

    #[test]
    fn distinct_random_gives_distinct_states() {
        // spec #21: 10k different inputs, 10k different states
        let mut seen = std::collections::HashSet::new();
        for i in 0u32..10_000 {
            let mut r = [0u8; 32];
            r[..4].copy_from_slice(&i.to_le_bytes());
            r[31] = (i % 251) as u8;
            assert!(seen.insert(new_state(&r)));
        }
    }

    #[test]
    fn challenge_is_never_plain() {
        // spec #4, #25
        let v = code_verifier(&[1u8; 32]);
        let c = code_challenge_s256(&v);
        assert_ne!(c, v);
        assert!(is_s256_challenge(&c));
        assert!(!is_s256_challenge(&format!("{c}=")));
        assert!(!is_s256_challenge("plain"));
        assert_eq!(CODE_CHALLENGE_METHOD, "S256");
    }

    proptest! {
        #[test]
        fn verifier_length_and_charset(random in proptest::array::uniform32(any::<u8>())) {
            // spec #23
            let v = code_verifier(&random);
            prop_assert_eq!(v.len(), 43);
            prop_assert!(check_verifier(&v).is_ok());
            prop_assert!(v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert!(is_s256_challenge(&code_challenge_s256(&v)));
            let s = new_state(&random);
            prop_assert_eq!(URL_SAFE_NO_PAD.decode(&s).unwrap(), random.to_vec());
        }

        #[test]
        fn distinct_bytes_distinct_verifiers(a in proptest::array::uniform32(any::<u8>()),
                                             b in proptest::array::uniform32(any::<u8>())) {
            // spec #21, #23: encoding is injective
            prop_assume!(a != b);
            prop_assert_ne!(code_verifier(&a), code_verifier(&b));
            prop_assert_ne!(new_state(&a), new_state(&b));
        }
    }
}
