// The launch flow: from the launch page to the authorization request, and from the
// redirect back to the token response. Every decision is a wasm step (src/steps/);
// this module carries out the browser effects between them.
import { optionsText, step, stepWithBytes } from "./core.js";
import * as crypto from "../browser/crypto.js";
import * as http from "../browser/fetch.js";
import * as location from "../browser/location.js";
import * as storage from "../browser/storage.js";

// Discovery answers by FHIR base, for the life of the page; never persisted.
const discovered = new Map();

/** Decides the launch (EHR or standalone) and the registration, before any request
 *  (spec #11-#19). */
export const plan = (options) =>
  step("plan", optionsText(options), location.href(), location.query());

/** Removes transaction records past their time-to-live (spec #32) and tells whether
 *  any live record remains, in one pass over sessionStorage. */
function purgeStaleRecords(now) {
  let live = false;
  try {
    for (const [state, record] of storage.pending()) {
      if (step("record_is_live", record, now)) live = true;
      else storage.remove(state);
    }
  } catch {}
  return live;
}

/** Reads the discovery answer (spec #1-#10) and caches it for the page. */
async function discover(plan, request) {
  let config;
  try {
    const r = await request.answer;
    config = step("discover", r.status, r.body, plan.fhirBase, plan.allowInsecureLocalhost, false);
  } catch (e) {
    // spec #10: the CapabilityStatement route only as an explicit opt-in.
    if (!plan.legacyCapabilityStatement || e.code === "insecure_endpoint") throw e;
    const r = await http.send({ url: plan.metadataUrl, timeoutMs: plan.timeoutMs });
    config = step("discover", r.status, r.body, plan.fhirBase, plan.allowInsecureLocalhost, true);
  }
  discovered.set(plan.fhirBase, config);
  return config;
}

/**
 * Discovers and builds the authorization request of a plan, leaving its transaction
 * record in sessionStorage; answers `{ url, state }`. What does not depend on discovery
 * happens while its request is in flight: the SHA-256 runs off the main thread, and
 * the stale-record purge pays for the page's first sessionStorage access.
 */
export async function prepare(plan) {
  const cached = discovered.get(plan.fhirBase);
  const request = cached ? undefined : http.start({ url: plan.discoveryUrl, timeoutMs: plan.timeoutMs });
  const verifier = stepWithBytes("code_verifier", crypto.randomBytes(32));
  const digest = crypto.sha256(verifier);
  digest.catch(() => {}); // awaited below, once discovery is done
  purgeStaleRecords(Date.now());
  const config = cached ?? (await discover(plan, request));
  // The digest, then 64 random bytes: the state and the nonce. (96 random bytes with
  // the digest over the first 32: 12 B gz less than a zeroed array and two copies.)
  const bytes = crypto.randomBytes(96);
  bytes.set(await digest);
  const authorization = stepWithBytes("authorization", bytes, plan, config, verifier, Date.now());
  storage.save(authorization.state, authorization.record);
  return authorization;
}

/**
 * Validates an authorization response against its record and sends the code exchange
 * (spec #32-#41, #55): one POST, never retried, to the token endpoint stored in the
 * record. The request leaves as soon as the record checks out; consuming the record and
 * purging stale ones follow while it is in flight, in the same task: no other code runs
 * in between, so the record is as single-use as if it had been removed first.
 */
export function begin(query, state, timeoutMs) {
  const now = Date.now();
  let exchange;
  try {
    const record = state ? storage.get(state) : undefined;
    // Other live records tell state_mismatch from session_lost when this one is missing.
    // (No record is null or undefined: the wasm reads both as JSON null.)
    const pending = record == null && purgeStaleRecords(now);
    const request = http.post(step("code_exchange", query, record, pending, now), timeoutMs);
    exchange = { record, requestedAt: now, request };
  } finally {
    // Single use (spec #32): the record is gone whatever the outcome. A storage failure
    // here is the error, in place of any of the exchange.
    if (state) {
      try {
        storage.remove(state);
      } catch (e) {
        exchange?.request.abort();
        throw e;
      }
    }
    purgeStaleRecords(now);
  }
  return exchange;
}

/** Takes the authorization response out of the address bar (spec #39), keeping the
 *  rest of the URL. */
export function cleanAddressBar() {
  const href = location.href();
  const clean = step("clean_url", href);
  if (clean !== href) location.replaceUrl(clean);
}

/**
 * spec #68: checks the id_token's signature with WebCrypto and a key from the JWKS at
 * the *discovered* jwks_uri. The token's `iss` is compared with the discovered issuer
 * before anything is fetched, and nothing the token names is ever fetched.
 */
export async function verifySignature(answer, record, timeoutMs) {
  const check = step("signature_check", answer.status, answer.body, record);
  if (!check) return;
  const jwks = await http.send({ url: check.jwksUri, timeoutMs });
  const key = step("jwks_key", jwks.status, jwks.body, check.alg, check.kid);
  await crypto.verify(check.alg, key, check.input, check.signature);
}
