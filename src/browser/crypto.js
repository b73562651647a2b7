// The browser's Web Crypto: random bytes from crypto.getRandomValues (spec #21, #23),
// SHA-256 for the PKCE challenge (spec #24) and id_token signature verification
// (spec #68), so no hash, RSA or ECDSA code ships in the wasm. There is no fallback:
// without Web Crypto (or outside a secure context, where crypto.subtle is missing) the
// launch fails with crypto_unavailable (spec #25, #74).
import { SmartError } from "../js/smart_error.js";
// The one TextEncoder of the package (the wasm input's): 5 B gz less than one per use.
import { encoder } from "../api/core.js";

const unavailable = () => new SmartError("crypto_unavailable");

/** `n` bytes from the browser's CSPRNG. */
export function randomBytes(n) {
  try {
    return crypto.getRandomValues(new Uint8Array(n));
  } catch {
    throw unavailable();
  }
}

/** The SHA-256 of `text` (UTF-8); it runs off the main thread. */
export async function sha256(text) {
  try {
    // Without crypto or crypto.subtle this throws, caught as the others (with verify's
    // own check, 2 B gz less than a shared subtle() helper).
    return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  } catch {
    throw unavailable();
  }
}

// One parameter object for importKey and verify: Web Crypto reads the members of the
// operation's own dictionary and ignores the others (importKey the RSA hash or the EC
// curve, verify ECDSA's hash). 9 B gz less than a pair each.
const ALGORITHMS = {
  RS256: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
  ES256: { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
};

const invalid = (field) => new SmartError("id_token_invalid", { field });

/**
 * Checks that `signature` (base64url) over `input` verifies with the public `jwk` for
 * `alg` (the key and algorithm the wasm chose); id_token_invalid (field `signature`)
 * when it does not, or cannot be checked.
 */
export async function verify(alg, jwk, input, signature) {
  const s = globalThis.crypto?.subtle;
  if (!s) throw unavailable();
  const algorithm = ALGORITHMS[alg];
  // A promise-returning Web Crypto method rejects, it never throws (WebIDL, bad
  // arguments included): .catch in place of try blocks, 10 B gz less.
  const key = await s.importKey("jwk", jwk, algorithm, false, ["verify"]).catch(() => {
    throw invalid("jwks");
  });
  const bytes = Uint8Array.from(atob(signature.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  if (!(await s.verify(algorithm, key, bytes, encoder.encode(input)).catch(() => false))) {
    throw invalid("signature");
  }
}
