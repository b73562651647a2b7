// Browser tests of faults and attacks: each server misbehaviour the sandbox can produce
// on demand ends in a typed error, leaves the session as it was, and sends nothing it
// should not. Same harness as launch.test.mjs.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  APP,
  SANDBOX,
  T,
  assertError,
  assertOk,
  authorizeAndReturn,
  authorizeUrl,
  call,
  client,
  concurrently,
  eventTypes,
  fault,
  freshStart,
  goto,
  launch,
  log,
  ready,
  recordEvents,
  requestsTo,
  sessionStorageLength,
  standaloneOptions,
  tokenRequests,
  useBrowser,
} from "./helpers.mjs";

useBrowser();

test("every OAuth error on the redirect is typed", T, async () => {
  // spec #35: the RFC 6749 §4.1.2.1 codes, and an unknown one, each typed; no exchange.
  const codes = [
    ["access_denied", "authorization_denied"],
    ["invalid_request", "authorization_failed"],
    ["unauthorized_client", "authorization_failed"],
    ["unsupported_response_type", "authorization_failed"],
    ["invalid_scope", "authorization_failed"],
    ["server_error", "authorization_failed"],
    ["temporarily_unavailable", "authorization_failed"],
    ["some_future_code", "authorization_failed"],
  ];
  for (const [oauth, code] of codes) {
    const page = await freshStart();
    const { state } = assertOk(await authorizeUrl(page, standaloneOptions()));
    await goto(page, `${APP}/callback.html?error=${oauth}&state=${state}`);
    const err = assertError(await ready(page), code, oauth);
    assert.equal(err.oauthError, oauth);
    assert.deepEqual(await requestsTo("/token"), [], oauth);
  }
});

test("a foreign iss on the callback is a mix-up", T, async () => {
  // spec #38, #14: RFC 9207. The sandbox sends its issuer as `iss`; another value
  // means the response came from another authorization server: no exchange.
  const page = await freshStart();
  const { callback } = await authorizeAndReturn(page);
  const forged = new URL(callback);
  assert.ok(forged.searchParams.has("iss"), `the sandbox sends RFC 9207 iss: ${callback}`);
  forged.searchParams.set("iss", "https://evil.example");
  await goto(page, forged.href);
  assertError(await ready(page), "issuer_mismatch", "mix-up");
  assert.deepEqual(await requestsTo("/token"), []);
});

test("a slow discovery times out", T, async () => {
  // Requests are bounded (AbortController): a server that never answers in time
  // gives `timeout`, and no transaction is left behind.
  const page = await freshStart();
  await fault({ target: "discovery", kind: "delay", ms: 3000 });
  assertError(await authorizeUrl(page, standaloneOptions(undefined, { timeoutMs: 500 })), "timeout");
  assert.equal(await sessionStorageLength(page), 0);
});

test("FHIR server errors and slowness are typed", T, async () => {
  const page = await freshStart();
  const { client: c } = await launch(page, { readyOptions: { timeoutMs: 1000 } });
  const path = `Patient/${c.patientId}`;

  await fault({ target: "fhir", kind: "status", status: 500, times: 1 });
  const err = assertError(await call(page, "request", path), "fhir_request_failed", "500");
  assert.equal(err.status, 500);

  await fault({ target: "fhir", kind: "delay", ms: 3000, times: 1 });
  assertError(await call(page, "request", path), "timeout", "slow");

  // Neither failure touched the session: the next request works, with no refresh.
  assertOk(await call(page, "request", path), "healthy again");
  assert.equal((await tokenRequests("refresh_token")).length, 0);
});

test("a transient refresh failure keeps the session", T, async () => {
  // spec #63, #65: five waiting callers share the one failing request; a 5xx is not
  // the end of the session, and the next refresh uses the same, unspent token.
  const page = await freshStart();
  await launch(page);
  await recordEvents(page);
  await fault({ target: "refresh", kind: "status", status: 503, times: 1 });
  for (const outcome of await concurrently(page, 5, "refresh")) {
    assertError(outcome, "token_server_error", "503");
  }
  assert.equal((await tokenRequests("refresh_token")).length, 1);
  assert.deepEqual(await eventTypes(page), ["refreshFailed"]);
  assert.ok((await client(page)).accessToken.length > 0);

  assertOk(await call(page, "refresh"), "recovered");
  const sent = (await requestsTo("/token")).map((e) => e.form?.refresh_token).filter(Boolean);
  assert.equal(sent.length, 2);
  assert.equal(sent[0], sent[1], "the refused request did not spend the token");
});

test("a refresh without CORS is a network error", T, async () => {
  // The browser hides a CORS failure: it is a network error, not an ended session.
  const page = await freshStart();
  await launch(page);
  await fault({ target: "refresh", kind: "no_cors", times: 1 });
  assertError(await call(page, "refresh"), "network_error", "no cors");
  assert.equal((await client(page)).hasRefreshToken, true);
});

test("a paging link off the base gets no token", T, async () => {
  // spec #57: an absolute link on the same host but outside the FHIR base (a
  // `Bundle.link` a server could hand out) is fetched without the bearer token.
  const page = await freshStart();
  await launch(page);
  await call(page, "request", `${SANDBOX}/fhir2/Observation?page=2`);
  const entries = (await log()).filter((e) => e.path === "/fhir2/Observation");
  assert.ok(entries.length > 0, "the request was not sent at all");
  for (const e of entries) assert.equal(e.headers.authorization, undefined);
});

test("unknown options fail as configuration errors", T, async () => {
  // Configuration errors refuse, naming the option, before any request.
  const page = await freshStart();
  const cases = [
    ["target", "_blank", "target"],
    ["scope", 'patient/Obs "x"', "scope"],
    ["issuers", "not a list", "issuers"],
  ];
  for (const [key, value, field] of cases) {
    const options = standaloneOptions(undefined, { [key]: value });
    const err = assertError(await authorizeUrl(page, options), "invalid_options", key);
    assert.equal(err.field, field, key);
  }
  assertError(await authorizeUrl(page, undefined), "invalid_options", "no options");
  // The scope case is refused after discovery (the builder checks it); the others
  // before any request.
  const requests = await log();
  assert.ok(requests.length <= 1, `${requests.length} requests`);
});

test("every token fault during a refresh reaches every waiter", T, async () => {
  // spec #63, #65: three callers wait on the one refresh; each fault gives all of
  // them the same typed error from one request. A terminal answer ends the session
  // (tokens wiped); a transient one keeps it.
  const cases = [
    [{ target: "refresh", kind: "oauth_error", status: 401, error: "invalid_client" }, "invalid_client", true],
    [{ target: "refresh", kind: "status", status: 500 }, "token_server_error", false],
    [{ target: "refresh", kind: "html" }, "token_response_invalid", true],
    [{ target: "refresh", kind: "drop_field", field: "access_token" }, "token_response_invalid", true],
    [{ target: "refresh", kind: "set_field", field: "token_type", value: "mac" }, "unsupported_token_type", true],
    [{ target: "refresh", kind: "set_field", field: "expires_in", value: "3600" }, "token_response_invalid", true],
    [{ target: "refresh", kind: "no_cors" }, "network_error", false],
  ];
  for (const [spec, code, ends] of cases) {
    const name = JSON.stringify(spec);
    const page = await freshStart();
    await launch(page);
    await fault(spec);
    for (const outcome of await concurrently(page, 3, "refresh")) assertError(outcome, code, name);
    assert.equal((await tokenRequests("refresh_token")).length, 1, name);
    const token = (await client(page)).accessToken;
    assert.equal(token === "", ends, `${name}: session ended = ${token === ""}`);
  }
});
