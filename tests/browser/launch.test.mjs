// Browser tests of the launch: the built package (pkg/web) in a real page, through its
// public JS API only, against the real sandbox over loopback (`make test-browser`,
// scripts/browser-tests.sh). The test app's origin is registered with the sandbox as
// client `smart-launch-test`, redirect URI `<app>/callback.html`.
//
// The authorization step is a real navigation: the page goes to the sandbox's
// authorization endpoint, which approves at once and redirects to the callback page,
// where the test calls ready(). A reload or a replayed URL is a new page load.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  APP,
  CLIENT_ID,
  FHIR,
  REDIRECT_URI,
  SANDBOX,
  T,
  assertError,
  assertNoTokenStored,
  assertOk,
  authorizeAndReturn,
  authorizeUrl,
  call,
  client,
  concurrently,
  eventTypes,
  events,
  eventually,
  fault,
  followAuthorization,
  freshStart,
  goto,
  launch,
  log,
  openPage,
  ready,
  recordEvents,
  requestsTo,
  resetSandbox,
  sandbox,
  secretsOf,
  sessionStorageLength,
  standaloneOptions,
  tokenRequests,
  useBrowser,
} from "./helpers.mjs";

useBrowser();

test("standalone launch reaches the patient", T, async () => {
  const page = await freshStart();
  const { client: c } = await launch(page);
  // spec #39: code and state are gone from the address bar.
  const href = page.url();
  assert.ok(!href.includes("code=") && !href.includes("state="), href);
  assert.ok(c.accessToken.length > 0);
  assert.equal(c.serverUrl, FHIR);
  assert.equal(c.hasRefreshToken, true);
  const patient = c.patientId;
  assert.ok(patient, "patient in context");
  assert.ok(c.grantedScopes.includes("patient/*.rs"), `${c.grantedScopes}`);
  // spec #69: fhirUser from the validated id_token, absolute under the base.
  assert.ok(c.fhirUser?.startsWith(`${FHIR}/`), c.fhirUser);

  const resource = assertOk(await call(page, "request", `Patient/${patient}`), "FHIR read");
  assert.equal(resource.resourceType, "Patient");
  assert.equal(resource.id, patient);

  // spec #40, #41, #42, #43: one form POST with the public-client parameters, no
  // Authorization header and no cookie.
  const posts = await requestsTo("/token");
  assert.equal(posts.length, 1);
  const [post] = posts;
  assert.equal(post.form?.grant_type, "authorization_code");
  assert.equal(post.form.client_id, CLIENT_ID);
  assert.equal(post.form.redirect_uri, REDIRECT_URI);
  assert.equal(post.form.code_verifier?.length, 43);
  assert.equal(post.headers.authorization, undefined);
  assert.equal(post.headers.cookie, undefined);
  // spec #39: the token request leaves before the address bar is cleaned, so it must
  // not carry the page's address (with the code in it) as a Referer.
  assert.equal(post.headers.referer, undefined);

  // spec #2: discovery is a GET asking for JSON.
  const discovery = await requestsTo("/fhir/.well-known/smart-configuration");
  assert.equal(discovery.length, 1);
  assert.equal(discovery[0].method, "GET");
  assert.match(discovery[0].headers.accept ?? "", /application\/json/);

  // spec #56: the access token travels in the Authorization header, never the URL.
  // (The Authorization header makes the browser send a CORS preflight first.)
  const reads = (await requestsTo(`/fhir/Patient/${resource.id}`)).filter((e) => e.method === "GET");
  assert.equal(reads.length, 1);
  assert.equal(reads[0].headers.authorization, `Bearer ${c.accessToken}`);
  for (const entry of await log()) {
    assert.ok(!JSON.stringify(entry.query).includes(c.accessToken), "token in a URL");
  }

  // spec #72, #73: only memory holds the tokens; the transaction record is gone.
  assert.equal(await sessionStorageLength(page), 0);
  await assertNoTokenStored(page, secretsOf(c));

  // The control for the Referer check above: a plain fetch from this page does send one.
  await page.evaluate((u) => fetch(u).then(() => null), `${FHIR}/metadata`);
  const [metadata] = await requestsTo("/fhir/metadata");
  assert.ok(metadata.headers.referer?.startsWith(APP), "this page sends a Referer by default");
});

test("token requests never carry cookies", T, async () => {
  // spec #43: a cookie of this host (cookies ignore ports) must not reach the server.
  const page = await freshStart();
  await page.evaluate(() => {
    document.cookie = "tracker=1; path=/";
  });
  await launch(page);
  const entries = await log();
  // The browser's own navigation to the authorization endpoint does carry the cookie
  // (a real server may use its cookies there): proof that the sandbox would see it.
  const navigation = entries.find((e) => e.path === "/authorize");
  assert.equal(navigation?.headers.cookie, "tracker=1");
  const fromLibrary = entries.filter((e) => e.path !== "/authorize");
  assert.ok(fromLibrary.some((e) => e.path === "/token"), "the launch reached the token endpoint");
  for (const entry of fromLibrary) {
    assert.equal(entry.headers.cookie, undefined, entry.path);
  }
});

test("EHR launch uses the allowlist entry", T, async () => {
  await resetSandbox();
  const handle = await sandbox("POST", "/_test/launch", { patient: "smart-2", client_id: CLIENT_ID });
  const { iss, launch: launchHandle } = handle;
  assert.ok(iss && launchHandle, JSON.stringify(handle));
  const query = `?iss=${encodeURIComponent(iss)}&launch=${encodeURIComponent(launchHandle)}`;
  const page = await openPage(`/index.html${query}`);
  const options = {
    issuers: [{ iss, clientId: CLIENT_ID, scope: "launch openid fhirUser patient/*.rs" }],
    redirectUri: REDIRECT_URI,
    allowInsecureLocalhost: true,
  };
  const { url } = assertOk(await authorizeUrl(page, options), "authorize");
  // spec #13, #19, #22: launch verbatim, the launch scope, aud = iss.
  const params = new URL(url).searchParams;
  assert.equal(params.get("launch"), launchHandle);
  assert.equal(params.get("aud"), iss);
  assert.ok(params.get("scope").split(" ").includes("launch"));
  await followAuthorization(page, url);
  const c = assertOk(await ready(page), "ready");
  assert.equal(c.patientId, "smart-2");
  assert.ok(c.encounterId);
  // spec #72
  await assertNoTokenStored(page, secretsOf(c));
});

test("forged EHR launch is refused before any request", T, async () => {
  // spec #12: an iss off the allowlist is refused with no network call at all.
  const page = await freshStart("/index.html?iss=https%3A%2F%2Fevil.example%2Ffhir&launch=abc");
  const options = {
    issuers: [{ iss: FHIR, clientId: CLIENT_ID }],
    scope: "launch patient/*.rs",
    redirectUri: REDIRECT_URI,
  };
  const err = assertError(await authorizeUrl(page, options), "issuer_not_allowed");
  assert.equal(err.name, "SmartError");
  assert.equal(err.isSmartError, true, "an instance of the exported SmartError");
  assert.deepEqual(await log(), [], "a request was made");
});

test("ready twice exchanges the code once", T, async () => {
  // spec #40: the same page asking twice gets the same client.
  const page = await freshStart();
  await authorizeAndReturn(page);
  const [a, b] = await page.evaluate(async () => {
    const first = window.smart.ready();
    const second = window.smart.ready();
    return [(await first).accessToken, (await second).accessToken];
  });
  assert.ok(a);
  assert.equal(a, b);
  assert.equal((await requestsTo("/token")).length, 1);
});

test("replayed callback sends no token request", T, async () => {
  // spec #32, #33: the record is single-use; a reload or replay is session_lost.
  const page = await freshStart();
  const { callback } = await launch(page);
  await goto(page, callback);
  assertError(await ready(page), "session_lost", "replay refused");
  assert.equal((await requestsTo("/token")).length, 1);
});

test("wrong or missing state sends no token request", T, async () => {
  const page = await freshStart();
  const { state, callback } = await authorizeAndReturn(page);

  // spec #34: a case variant of the state is another state.
  const tampered = callback.replace(state, state.toUpperCase());
  assert.notEqual(tampered, callback);
  await goto(page, tampered);
  assertError(await ready(page), "state_mismatch", "tampered");

  // spec #33: a code without state.
  await goto(page, `${APP}/callback.html?code=abc`);
  assertError(await ready(page), "state_missing", "no state");
  assert.deepEqual(await requestsTo("/token"), []);

  // The genuine callback still works afterwards: nothing was consumed.
  await goto(page, callback);
  assertOk(await ready(page), "genuine callback");
});

test("error redirect is typed and kept as text", T, async () => {
  // spec #35, #36
  const page = await freshStart();
  const { state } = assertOk(await authorizeUrl(page, standaloneOptions()));
  await goto(
    page,
    `${APP}/callback.html?error=access_denied&error_description=%3Cimg%20src%3Dx%3E%20denied&state=${state}`,
  );
  const err = assertError(await ready(page), "authorization_denied", "denied");
  assert.equal(err.oauthError, "access_denied");
  assert.equal(err.description, "<img src=x> denied");
  assert.deepEqual(await requestsTo("/token"), []);
});

test("discovery faults fail closed", T, async () => {
  // spec #3, #4, #6: each defect is a typed error and no authorization URL.
  const cases = [
    [{ target: "discovery", kind: "status", status: 500 }, "discovery_failed"],
    [{ target: "discovery", kind: "status", status: 404 }, "discovery_failed"],
    [{ target: "discovery", kind: "html" }, "discovery_invalid"],
    [{ target: "discovery", kind: "drop_field", field: "token_endpoint" }, "discovery_invalid"],
    [
      { target: "discovery", kind: "set_field", field: "code_challenge_methods_supported", value: ["plain"] },
      "pkce_not_supported",
    ],
    [
      { target: "discovery", kind: "set_field", field: "token_endpoint", value: "http://evil.example/token" },
      "insecure_endpoint",
    ],
  ];
  for (const [spec, code] of cases) {
    const name = JSON.stringify(spec);
    const page = await freshStart();
    await fault(spec);
    assertError(await authorizeUrl(page, standaloneOptions()), code, name);
    assert.equal(await sessionStorageLength(page), 0, `a record was left for ${name}`);
  }
});

test("token endpoint errors are typed", T, async () => {
  // spec #44, #45, #55: each answer maps to its code; the code is never retried.
  const cases = [
    [{ target: "token", kind: "oauth_error", status: 400, error: "invalid_grant" }, "invalid_grant", 400],
    [{ target: "token", kind: "oauth_error", status: 401, error: "invalid_client" }, "invalid_client", 401],
    [{ target: "token", kind: "oauth_error", status: 400, error: "invalid_request" }, "token_request_failed", 400],
    [{ target: "token", kind: "status", status: 500 }, "token_server_error", 500],
    [{ target: "token", kind: "html" }, "token_response_invalid"],
    [{ target: "token", kind: "drop_field", field: "access_token" }, "token_response_invalid"],
    [{ target: "token", kind: "set_field", field: "token_type", value: "mac" }, "unsupported_token_type"],
    [{ target: "token", kind: "set_field", field: "expires_in", value: "3600" }, "token_response_invalid"],
    [{ target: "token", kind: "no_cors" }, "network_error"],
  ];
  for (const [spec, code, status] of cases) {
    const name = JSON.stringify(spec);
    const page = await freshStart();
    await authorizeAndReturn(page);
    await fault(spec);
    const err = assertError(await ready(page), code, name);
    if (status !== undefined) assert.equal(err.status, status, name);
    assert.equal((await requestsTo("/token")).length, 1, name);
  }
});

test("unreachable token endpoint is a network error", T, async () => {
  const page = await freshStart();
  await fault({ target: "discovery", kind: "set_field", field: "token_endpoint", value: "http://127.0.0.1:9/token" });
  await authorizeAndReturn(page);
  assertError(await ready(page), "network_error", "refused connection");
});

test("bearer goes only under the server URL", T, async () => {
  // spec #57: same host, but outside the base at a segment boundary.
  const page = await freshStart();
  await launch(page);
  await call(page, "request", `${SANDBOX}/fhir-other/Patient/1`);
  await call(page, "request", `${SANDBOX}/_log`);
  const entries = await log();
  assert.ok(entries.some((e) => e.path === "/fhir-other/Patient/1"), "the request was not sent at all");
  for (const entry of entries) {
    if (!entry.path.startsWith("/fhir/")) {
      assert.equal(entry.headers.authorization, undefined, `bearer sent to ${entry.path}`);
    }
  }
});

test("concurrent refreshes share one request", T, async () => {
  // spec #62, #63: ten callers, one refresh POST; the rotated token is used next.
  const page = await freshStart();
  await launch(page);
  // All ten are in flight before the first answer comes back.
  for (const outcome of await concurrently(page, 10, "refresh")) assertOk(outcome, "refresh");
  assert.equal((await tokenRequests("refresh_token")).length, 1);
  assertOk(await call(page, "refresh"), "second refresh");
  const sent = (await requestsTo("/token")).map((e) => e.form?.refresh_token).filter(Boolean);
  assert.equal(sent.length, 2);
  assert.notEqual(sent[0], sent[1], "the rotated refresh token was not used");
  // spec #60: client_id on a public refresh.
  const last = (await requestsTo("/token")).pop();
  assert.equal(last.form.client_id, CLIENT_ID);
});

test("the wasm's memory stops growing over a long session", T, async () => {
  // The wasm's allocator (src/heap.rs) reuses freed blocks by size class: once the
  // first calls have reached each class's peak, refreshes and requests allocate and
  // free without growing the memory. A block that was never freed would show here:
  // 300 refreshes and 300 requests allocate far more than the memory's free room.
  const page = await freshStart();
  await launch(page);
  const cycles = (n) =>
    page.evaluate(async (k) => {
      const client = window.harness.client;
      for (let i = 0; i < k; i++) {
        await client.refresh();
        await client.request(`Patient/${client.patientId}`);
      }
      return (await window.harness.loaded).memory.buffer.byteLength;
    }, n);
  const warm = await cycles(20);
  assert.equal(await cycles(300), warm, "the memory grew after the first 20 cycles");
});

test("rejected refresh ends the session", T, async () => {
  // spec #65: invalid_grant ends the session, one event, no retry.
  const page = await freshStart();
  await launch(page);
  await recordEvents(page);
  await fault({ target: "refresh", kind: "oauth_error", status: 400, error: "invalid_grant" });
  assertError(await call(page, "refresh"), "invalid_grant", "rejected");
  assert.deepEqual(await eventTypes(page), ["refreshFailed", "ended"]);
  assert.equal((await client(page)).accessToken, "");
  assertError(await call(page, "refresh"), "session_ended", "ended");
  assert.equal((await tokenRequests("refresh_token")).length, 1);
});

test("expired token on FHIR refreshes once and retries", T, async () => {
  // spec #58: 401 invalid_token -> one refresh, one retry.
  const page = await freshStart();
  const { client: c } = await launch(page);
  await fault({ target: "fhir", kind: "status", status: 401, times: 1 });
  const resource = assertOk(await call(page, "request", `Patient/${c.patientId}`), "retried after refresh");
  assert.equal(resource.resourceType, "Patient");
  assert.equal((await tokenRequests("refresh_token")).length, 1);
});

test("out-of-scope read reports insufficient_scope without refresh", T, async () => {
  // spec #58: 403 leads to no refresh.
  const page = await freshStart();
  const { client: c } = await launch(page, { scope: "launch/patient patient/Patient.rs offline_access" });
  const err = assertError(await call(page, "request", `Observation?patient=${c.patientId}`), "insufficient_scope");
  assert.equal(err.status, 403);
  assert.equal((await requestsTo("/token")).length, 1);
});

test("logout revokes and wipes", T, async () => {
  // spec #80
  const page = await freshStart();
  await launch(page);
  await recordEvents(page);
  assertOk(await call(page, "logout"), "logout");
  const revokes = await requestsTo("/revoke");
  assert.equal(revokes.length, 1);
  assert.equal(revokes[0].form?.token_type_hint, "refresh_token");
  const c = await client(page);
  assert.equal(c.accessToken, "");
  assert.equal(c.hasRefreshToken, false);
  const recorded = await events(page);
  assert.deepEqual(recorded.map((e) => e.type), ["ended"]);
  assert.equal(recorded[0].reason, "logout");
});

test("short-lived token warns and refreshes itself", T, async () => {
  // spec #66: expiring fires before expiry, auto-refresh follows, once per token.
  const page = await freshStart();
  await fault({ target: "token", kind: "token_lifetime", seconds: 4 });
  const { client: first } = await launch(page, { readyOptions: { expiringLeadSeconds: 2 }, recordEvents: true });
  // expiring is due at 2 s; the refresh follows at once. Poll with a deadline rather
  // than sleep a fixed time, so a loaded machine does not fail the test.
  await eventually(async () => (await eventTypes(page)).includes("refreshed"), {
    ms: 20_000,
    message: "the automatic refresh",
  });
  const types = await eventTypes(page);
  assert.equal(types[0], "expiring", `${types}`);
  assert.ok(types.includes("refreshed"), `${types}`);
  assert.equal(types.filter((t) => t === "expiring").length, 1, `${types}`);
  const now = await client(page);
  assert.notEqual(now.accessToken, first.accessToken);
  // spec #72
  await assertNoTokenStored(page, [...secretsOf(now), ...secretsOf(first)]);
});

test("no CSPRNG, no launch", T, async () => {
  // spec #74: a stubbed getRandomValues gives a hard error, never a fallback. (The stub
  // is in place before any script of the page runs.)
  const page = await freshStart("/index.html", {
    initScript: () => {
      crypto.getRandomValues = (a) => a;
    },
  });
  assertError(await authorizeUrl(page, standaloneOptions()), "crypto_unavailable", "no randomness");
});

test("no subtle crypto, no launch", T, async () => {
  // spec #24, #25, #74: the S256 challenge needs crypto.subtle (absent outside a
  // secure context); without it the launch fails, never falling back to `plain`, and
  // leaves no transaction record behind.
  const page = await freshStart("/index.html", {
    initScript: () => {
      Object.defineProperty(crypto, "subtle", { value: undefined, configurable: true });
    },
  });
  assert.equal(await page.evaluate(() => crypto.subtle), undefined);
  assertError(await authorizeUrl(page, standaloneOptions()), "crypto_unavailable", "no SHA-256");
  assert.equal(await sessionStorageLength(page), 0);
});

test("verified id_token uses the discovered JWKS", T, async () => {
  // spec #68: with verifyIdToken the signature is checked with the discovered JWKS.
  const page = await freshStart();
  const { client: c } = await launch(page, { readyOptions: { verifyIdToken: true } });
  assert.ok(c.fhirUser);
  const fetched = (await requestsTo("/.well-known/jwks.json")).filter((e) => e.method === "GET");
  assert.equal(fetched.length, 1);
});

test("forged id_token signature is refused", T, async () => {
  // spec #68: a genuine id_token with a changed signature does not pass.
  const { client: genuine } = await launch(await freshStart());
  assert.ok(genuine.idToken, "an id_token");
  const dot = genuine.idToken.lastIndexOf(".");
  const signature = genuine.idToken.slice(dot + 1);
  const forged = `${genuine.idToken.slice(0, dot)}.${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;

  const page = await freshStart();
  await authorizeAndReturn(page);
  await fault({ target: "token", kind: "set_field", field: "id_token", value: forged });
  const err = assertError(await ready(page, { verifyIdToken: true }), "id_token_invalid", "forged signature");
  assert.equal(err.field, "signature");
});
