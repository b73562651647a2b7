// Shared parts of the browser tests: the built package (pkg/web) in a real page of the
// test app (tests/browser/app, see harness.js there), driven through its public JS API
// only, against the real sandbox over loopback.
//
// scripts/browser-tests.sh starts the sandbox (SANDBOX), which also serves the test app
// on a second origin (APP) and knows the test client, before `node --test` runs these
// files. Each test starts clean: an empty sandbox log, no faults, and a fresh browser
// context (new storage, new pages, so a fresh instance of the library).
import assert from "node:assert/strict";
import { after, afterEach, before } from "node:test";
import { launchChromium } from "../support/chromium.mjs";
import { sandboxHooks } from "../support/sandbox.mjs";

export const SANDBOX = process.env.BROWSER_TEST_SANDBOX ?? "http://127.0.0.1:9440";
export const APP = process.env.BROWSER_TEST_APP ?? "http://127.0.0.1:9441";
export const FHIR = `${SANDBOX}/fhir`;
export const CLIENT_ID = "smart-launch-test";
export const SCOPE = "launch/patient openid fhirUser patient/*.rs offline_access";
export const REDIRECT_URI = `${APP}/callback.html`;
/** Test options of node:test: a launch takes a second, a loaded machine more. */
export const T = { timeout: 120_000 };

// ------------------------------------------------------------------ browser

let browser = null;
const contexts = [];
const pageErrors = [];

/** Registers the hooks of a test file: one Chromium per file, contexts closed per test. */
export function useBrowser() {
  before(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    if (pageErrors.length) console.log(`# page errors: ${pageErrors.join(" | ")}`);
    pageErrors.length = 0;
    await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
  });
  after(async () => {
    await clearFaults().catch(() => {});
    await browser?.close();
  });
}

/**
 * A fresh browser context with one page on `path` of the test app, the package loaded.
 * `initScript` runs in every page of the context before any of its scripts.
 */
export async function openPage(path = "/index.html", { initScript } = {}) {
  const context = await browser.newContext();
  contexts.push(context);
  if (initScript) await context.addInitScript(initScript);
  context.on("page", (p) => p.on("pageerror", (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
  const page = await context.newPage();
  await goto(page, `${APP}${path}`);
  return page;
}

/** Loads `url` in `page` (a new page load: a fresh instance of the library). */
export async function goto(page, url) {
  await page.goto(url);
  await page.evaluate(() => window.harness.loaded);
}

/** A clean start: empty sandbox log, no faults, and a fresh page of the test app. */
export async function freshStart(path, options) {
  await resetSandbox();
  return openPage(path, options);
}

// ------------------------------------------------------------------ sandbox hooks

const hooks = sandboxHooks(SANDBOX);
export const { sandbox, clearFaults, fault, log } = hooks;
export const resetSandbox = hooks.reset;

export async function requestsTo(path) {
  return (await log()).filter((e) => e.path === path);
}

/** The token requests of one grant type (`authorization_code`, `refresh_token`). */
export async function tokenRequests(grant) {
  return (await requestsTo("/token")).filter((e) => e.form?.grant_type === grant);
}

// ------------------------------------------------------------------ the library

export function standaloneOptions(scope = SCOPE, extra = {}) {
  return {
    clientId: CLIENT_ID,
    scope,
    redirectUri: REDIRECT_URI,
    iss: FHIR,
    allowInsecureLocalhost: true,
    ...extra,
  };
}

/** Asserts that an outcome of the harness is a SmartError with `code`; returns it. */
export function assertError(outcome, code, message = code) {
  assert.equal(outcome.ok, false, `${message}: expected ${code}, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.error.code, code, `${message}: ${JSON.stringify(outcome.error)}`);
  return outcome.error;
}

/** Asserts that an outcome of the harness succeeded; returns its value. */
export function assertOk(outcome, message = "call") {
  assert.equal(outcome.ok, true, `${message} failed: ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

/** authorizeUrl(options) in the page: the outcome, { url, state } as its value. */
export function authorizeUrl(page, options) {
  return page.evaluate((o) => window.harness.authorizeUrl(o), options);
}

/** ready(options) in the page; `recordEvents` passes an onTokenEvent that records. */
export function ready(page, options, { recordEvents = false } = {}) {
  return page.evaluate(([o, r]) => window.harness.ready(o, r), [options, { recordEvents }]);
}

/** A method of the page's client: call(page, "request", "Patient/smart-1"). */
export function call(page, method, ...args) {
  return page.evaluate(([m, a]) => window.harness.call(m, ...a), [method, args]);
}

/** `n` calls of a method of the page's client, all in flight before any settles. */
export function concurrently(page, n, method, ...args) {
  return page.evaluate(([k, m, a]) => window.harness.concurrently(k, m, ...a), [n, method, args]);
}

/** The page's client as plain data (every getter). */
export const client = (page) => page.evaluate(() => window.harness.describe());

/** Records the token events of the page's client (client.onTokenEvent). */
export const recordEvents = (page) => page.evaluate(() => window.harness.record());

export const events = (page) => page.evaluate(() => window.harness.events);

export async function eventTypes(page) {
  return (await events(page)).map((e) => e.type);
}

function assertOnCallbackPage(page) {
  const url = new URL(page.url());
  assert.equal(`${url.origin}${url.pathname}`, REDIRECT_URI, `on the callback page: ${url}`);
}

/**
 * Sends the page through the authorization URL `url`: a real navigation to the
 * sandbox's authorization endpoint, which approves at once and redirects to the
 * callback page. Returns the callback URL (code, state, iss), not yet consumed.
 */
export async function followAuthorization(page, url) {
  await goto(page, url);
  assertOnCallbackPage(page);
  return page.url();
}

/** authorizeUrl(options), then the real redirect to the callback page. */
export async function authorizeAndReturn(page, options = standaloneOptions()) {
  const { url, state } = assertOk(await authorizeUrl(page, options), "authorizeUrl");
  return { url, state, callback: await followAuthorization(page, url) };
}

/**
 * A full standalone launch with the library's own redirect: authorize() on the page,
 * the sandbox's authorization endpoint, the callback page, ready(readyOptions).
 * Returns the client (plain data) and the callback URL it consumed.
 */
export async function launch(page, { scope = SCOPE, readyOptions, recordEvents: rec = false } = {}) {
  const isCallback = (u) => `${u.origin}${u.pathname}` === REDIRECT_URI;
  const landed = page.waitForURL(isCallback, { timeout: 30_000 });
  // authorize() navigates away: its evaluation may end with the page it ran in.
  const started = await page
    .evaluate((o) => window.harness.authorize(o), standaloneOptions(scope))
    .catch(() => ({ ok: true }));
  if (!started.ok) {
    landed.catch(() => {});
    assert.fail(`authorize: ${JSON.stringify(started.error)}`);
  }
  await landed;
  await page.evaluate(() => window.harness.loaded);
  const callback = page.url();
  const value = assertOk(await ready(page, readyOptions, { recordEvents: rec }), "ready");
  return { client: value, callback };
}

/** The access, refresh and id token values of a client. */
export function secretsOf(client) {
  const r = client.tokenResponse ?? {};
  return [r.access_token, r.refresh_token, r.id_token].filter(Boolean);
}

/** No token value anywhere but memory: Web Storage, cookies, the URL, history state,
 *  IndexedDB (the library never opens a database). */
export async function assertNoTokenStored(page, secrets) {
  assert.ok(secrets.length > 0, "no token to look for");
  const stored = await page.evaluate(() => window.harness.stored());
  assert.deepEqual(stored.indexedDbNames, [], "an IndexedDB database exists");
  const places = [...stored.local, ...stored.session, stored.cookie, stored.href, stored.historyState];
  for (const secret of secrets) {
    for (const place of places) {
      assert.ok(!place.includes(secret), "a token value was found in storage");
    }
  }
}

export async function sessionStorageLength(page) {
  return page.evaluate(() => sessionStorage.length);
}

/** Polls `check` (async, truthy when done) until it holds or `ms` pass. */
export async function eventually(check, { ms = 15_000, every = 100, message = "condition" } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`${message}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}
