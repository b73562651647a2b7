// End-to-end: the demo app (www/, installed from the packed tarball) against the real
// sandbox, driven as a user would in Debian's Chromium, with real redirects. Every
// test ends with the storage audit (spec #72): no token value in any storage, cookie,
// URL or history state. Run by `make test-e2e` (scripts/e2e.sh).
import assert from "node:assert/strict";
import { after, afterEach, beforeEach, test } from "node:test";
import {
  APP,
  FHIR,
  SANDBOX,
  addFault,
  assertTokenRequests,
  appFrames,
  auditStorage,
  clearFaults,
  getLog,
  readError,
  resetSandbox,
  screenshot,
  standaloneLaunch,
  startSession,
  tokenRequests,
  waitForPatient,
} from "./helpers.mjs";

let session;

beforeEach(async () => {
  await resetSandbox();
  session = await startSession();
});

afterEach(async () => {
  if (session?.errors.length) console.log(`# page errors: ${session.errors.join(" | ")}`);
  await session?.close();
  session = null;
});

after(async () => {
  await clearFaults().catch(() => {});
});

/** Nothing of the launch is left in the app's sessionStorage (spec #73). */
function assertNoTransactionRecord(dumps) {
  for (const frame of appFrames(dumps)) {
    assert.deepEqual(Object.keys(frame.session), [], `sessionStorage of ${frame.url} is empty`);
  }
}

test("0. the callback page: no referrer, no third-party resources, a CSP (spec #76)", async () => {
  const response = await fetch(`${APP}/callback.html`);
  const html = await response.text();
  assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  assert.match(html, /<meta name="referrer" content="no-referrer">/);
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src &#39;self&#39;; script-src &#39;self&#39; &#39;wasm-unsafe-eval&#39;/);
  const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assert.ok(refs.length >= 2);
  for (const ref of refs) assert.ok(!/^(https?:)?\/\//.test(ref), `callback.html loads only its own files: ${ref}`);
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(html), "no inline script");
});

test("1. standalone launch: patient banner and observations", { timeout: 90_000 }, async () => {
  const { page } = session;
  await page.goto(`${APP}/index.html`);
  assert.equal(await page.locator("#fhir-server").inputValue(), FHIR);
  await page.locator("#sign-in").click();
  await page.waitForURL(`${APP}/callback.html`); // code and state left the address bar
  await waitForPatient(page);

  assert.match(await page.locator("#patient-banner").textContent(), /1987-02-20/);
  const scopes = await page.locator("#granted-scopes li").allTextContents();
  assert.ok(scopes.includes("launch/patient") && scopes.includes("patient/*.rs"), `granted: ${scopes}`);
  assert.equal(await page.locator("#context-patient").textContent(), "smart-1");
  assert.match(await page.locator("#fhir-user").textContent(), /Practitioner\/practitioner-1/);
  assert.match(await page.locator("#token-countdown").textContent(), /expires in \d\d:\d\d/);
  assert.ok((await page.locator("#observations-table tbody tr").count()) >= 1);
  await screenshot(page, "1-standalone.png");

  const exchanges = await assertTokenRequests(1, "authorization_code", "one code exchange");
  assert.equal(exchanges[0].form.code_verifier.length >= 43, true);
  assert.equal(exchanges[0].headers.cookie, undefined, "no cookie sent to the token endpoint");
  const dumps = await auditStorage(session);
  assertNoTransactionRecord(dumps);
});

test("2. EHR launch in the EHR's iframe, sign-in in a popup, app rendered in the iframe", { timeout: 90_000 }, async () => {
  const { page, context } = session;
  await page.goto(`${SANDBOX}/ehr`);
  await page.locator("a.launch").first().click();
  const app = page.frameLocator("#app");
  // The authorization server refuses framing (X-Frame-Options: DENY): the app asks
  // for a click and opens a popup (spec #79), never a hidden iframe.
  await app.locator("#sign-in").waitFor();
  const popupOpened = context.waitForEvent("page");
  await app.locator("#sign-in").click();
  const popup = await popupOpened;
  // The callback page in the popup hands the result to the app and closes itself.
  const closed = popup.isClosed() ? Promise.resolve() : popup.waitForEvent("close", { timeout: 30_000 });
  await waitForPatient(app);
  await closed;
  assert.match(await app.locator("#context-encounter").textContent(), /enc-1/);
  assert.ok((await app.locator("#granted-scopes li").allTextContents()).includes("launch"));
  assert.equal(page.url(), `${SANDBOX}/ehr/launch?` + new URL(page.url()).search.slice(1));
  await screenshot(page, "2-ehr-iframe-popup.png");

  const log = await getLog();
  const authorize = log.filter((e) => e.path === "/authorize");
  assert.equal(authorize.length, 1, "one authorization request");
  assert.equal(authorize[0].query.client_id, "smart-launch-demo");
  assert.ok(authorize[0].query.launch, "EHR launch sends the launch handle");
  assert.equal(authorize[0].query.aud, FHIR);
  // Only the popup loaded /authorize: no frame of the EHR page did.
  for (const frame of page.frames()) assert.ok(!frame.url().startsWith(`${SANDBOX}/authorize`));
  await assertTokenRequests(1, "authorization_code", "one code exchange");
  const dumps = await auditStorage(session);
  assertNoTransactionRecord(dumps);
});

test("2b. EHR launch in a new window: launch.html redirects at once, the app shows its own banner", { timeout: 90_000 }, async () => {
  const { page, context } = session;
  await page.goto(`${SANDBOX}/ehr`);
  const opened = context.waitForEvent("page");
  await page.locator("a.launch-window").nth(2).click();
  const win = await opened;
  await win.waitForURL(`${APP}/callback.html`, { timeout: 30_000 });
  await waitForPatient(win, "Maja Lindqvist");
  assert.match(await win.locator("#launch-context").textContent(), /shown by the app/);
  await assertTokenRequests(1, "authorization_code", "one code exchange");
  const dumps = await auditStorage(session);
  assertNoTransactionRecord(dumps);
});

test("3. EHR launch with target=_top: the app leaves the frame and runs as the whole window", { timeout: 90_000 }, async () => {
  const { page } = session;
  // A launch URL with &target=_top, embedded by an EHR page (the sandbox's origin).
  const { launch_url: launchUrl } = await (
    await fetch(`${SANDBOX}/_test/launch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ patient: "smart-2", client_id: "smart-launch-demo", need_patient_banner: false }),
    })
  ).json();
  await page.goto(`${SANDBOX}/ehr`);
  await page.evaluate((src) => {
    const frame = document.createElement("iframe");
    frame.id = "app";
    frame.src = src;
    frame.style.cssText = "width:100%;height:600px";
    document.body.replaceChildren(frame);
  }, `${launchUrl}&target=_top`);
  const app = page.frameLocator("#app");
  await app.locator("#open-full-window").click(); // the primary button with target=_top
  await page.waitForURL(`${APP}/callback.html`, { timeout: 30_000 });
  await waitForPatient(page, "Daniel Okafor");
  assert.equal(page.frames().length, 1, "the app is the top-level window");
  assert.match(await page.locator("#context-encounter").textContent(), /enc-2/);
  const dumps = await auditStorage(session);
  assertNoTransactionRecord(dumps);
});

test("4. user denial: typed error, server text rendered as text, no token request", { timeout: 90_000 }, async () => {
  const { page } = session;
  const markup = '<img src=x onerror="window.__injected=1"><b>Denied</b> by the patient\'s policy';
  await addFault({ target: "authorize", kind: "oauth_error", error: "access_denied", error_description: markup, times: 1 });
  await page.goto(`${APP}/index.html`);
  await page.locator("#sign-in").click();
  const error = await readError(page);
  assert.equal(error.code, "authorization_denied");
  assert.equal(error.title, "Access was not granted");
  assert.match(error.advice, /approve/);
  assert.equal(error.description, markup, "error_description is shown as text (spec #36)");
  assert.equal(await page.locator("#error img, #error b").count(), 0, "no markup was interpreted");
  assert.equal(await page.evaluate(() => window.__injected), undefined);
  assert.equal(new URL(page.url()).search, "", "the callback parameters left the address bar");
  await assertTokenRequests(0, undefined, "no token request after a denial");
  await screenshot(page, "4-denied.png");
  await auditStorage(session, { expectTokens: false });
});

test("5. replayed and tampered callback URLs make no token request", { timeout: 120_000 }, async () => {
  const { page, context } = session;
  // a) Replay: a complete launch, then its callback URL again (same tab, then a new tab).
  await standaloneLaunch(page);
  const callbackUrl = session.urls.find((u) => u.startsWith(`${APP}/callback.html?`) && u.includes("code="));
  assert.ok(callbackUrl, "the callback URL was seen");
  await assertTokenRequests(1, undefined, "one code exchange");
  await page.goto(callbackUrl);
  assert.equal((await readError(page)).code, "session_lost");
  const other = await context.newPage();
  await other.goto(callbackUrl);
  assert.equal((await readError(other)).code, "session_lost");
  await other.close();
  await assertTokenRequests(1, undefined, "the replayed code was never sent again");
  await auditStorage(session);

  // b) Tampered state: rewrite the authorization server's redirect on its way back.
  await page.route(`${SANDBOX}/authorize?**`, async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    const location = new URL(response.headers().location);
    const state = location.searchParams.get("state");
    location.searchParams.set("state", `${state.slice(0, -4)}AAAA`);
    await route.fulfill({ status: 302, headers: { location: location.href } });
  });
  await page.goto(`${APP}/index.html`);
  await page.locator("#sign-in").click();
  assert.equal((await readError(page)).code, "state_mismatch");
  await assertTokenRequests(1, undefined, "no token request for a tampered state");
  await auditStorage(session);
});

test("6. short token lifetime: expiring, auto-refresh, requests after expiry, rotated refresh token", { timeout: 150_000 }, async () => {
  const { page, issued } = session;
  const lifetime = 20;
  await addFault({ target: "token", kind: "token_lifetime", seconds: lifetime, times: 1 });
  await standaloneLaunch(page);
  await session.tokens();
  const first = issued.find((t) => t.grant === "authorization_code");
  assert.equal(first.expires_in, lifetime);
  const expiry = Date.now() + lifetime * 1000;

  // app-config.json of the e2e run: expiringLeadSeconds 10.
  await page.locator('#events li[data-type="expiring"]').first().waitFor({ timeout: 30_000 });
  await page.locator('#events li[data-type="refreshed"]').first().waitFor({ timeout: 30_000 });
  const refreshes = await assertTokenRequests(1, "refresh_token", "one automatic refresh");
  assert.equal(refreshes[0].form.refresh_token, first.refresh_token);

  // After the original access token's expiry, FHIR requests still succeed.
  await new Promise((r) => setTimeout(r, Math.max(0, expiry - Date.now()) + 1500));
  const stale = await fetch(`${FHIR}/Patient/smart-1`, { headers: { authorization: `Bearer ${first.access_token}` } });
  assert.equal(stale.status, 401, "the original access token has expired at the sandbox");
  const before = (await getLog()).length;
  await page.locator("#reload-observations").click();
  await page.locator("#observations-status").filter({ hasText: /results/ }).waitFor();
  const fhirAfter = (await getLog()).slice(before).filter((e) => e.path === "/fhir/Observation");
  assert.equal(fhirAfter.length, 1);
  assert.equal(fhirAfter[0].status, 200);
  await session.tokens();
  const second = issued.find((t) => t.grant === "refresh_token");
  assert.equal(fhirAfter[0].headers.authorization, `Bearer ${second.access_token}`);

  // The rotated refresh token is the one sent next.
  assert.ok(second.refresh_token && second.refresh_token !== first.refresh_token, "the sandbox rotated it");
  await page.locator("#refresh-now").click();
  await page.locator('#events li[data-type="refreshed"]').nth(1).waitFor({ timeout: 30_000 });
  const all = await assertTokenRequests(2, "refresh_token", "the automatic and the manual refresh");
  assert.equal(all[1].form.refresh_token, second.refresh_token);
  assert.ok(all.every((r) => r.status === 200));
  await screenshot(page, "6-refreshed.png");
  await auditStorage(session);
});

test("7. reload after launch: relaunch prompt, nothing recoverable from storage", { timeout: 90_000 }, async () => {
  const { page } = session;
  await standaloneLaunch(page);
  const exchanges = (await tokenRequests()).length;
  await page.reload();
  const error = await readError(page);
  assert.equal(error.title, "Launch the app again");
  assert.match(error.advice, /reloaded or the launch expired: launch the app again from the EHR/);
  assert.equal(await page.locator("#patient-name").count(), 0);
  await assertTokenRequests(exchanges, undefined, "no token request after the reload");
  await screenshot(page, "7-reloaded.png");
  const dumps = await auditStorage(session);
  assertNoTransactionRecord(dumps);
});

test("8. logout revokes, wipes and leaves nothing behind", { timeout: 90_000 }, async () => {
  const { page } = session;
  await standaloneLaunch(page);
  await page.locator("#logout").click();
  await page.locator("#signed-out").waitFor();
  const revoke = (await getLog()).filter((e) => e.method === "POST" && e.path === "/revoke");
  assert.equal(revoke.length, 1, "the refresh token was revoked");
  assert.equal(revoke[0].form.token_type_hint, "refresh_token");
  await auditStorage(session);
});
