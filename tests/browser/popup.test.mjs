// The popup hand-off of authorizePopup: the opener accepts the callback only from its
// own popup window at the redirect URI's exact origin, and notices a closed popup.
// The popup opens from a real click (popup blockers allow nothing else); the callback
// page in it calls ready(), which hands the answer to the opener.
//
// To speak from the popup while the opener waits, the sandbox's authorization endpoint
// first answers with a sign-in page (an injected `html` fault) instead of redirecting:
// the popup then sits on another origin of the same host.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  APP,
  FHIR,
  SANDBOX,
  T,
  assertError,
  assertOk,
  eventually,
  fault,
  freshStart,
  requestsTo,
  standaloneOptions,
  tokenRequests,
  useBrowser,
} from "./helpers.mjs";

useBrowser();

const MESSAGE_TYPE = "smart-launch:callback";

/** Clicks the page's button that calls authorizePopup(options); returns the popup,
 *  once it shows the authorization server's page. */
async function openPopup(page, options = standaloneOptions()) {
  await page.evaluate((o) => {
    window.harness.popupOptions = o;
  }, options);
  const opened = page.context().waitForEvent("page");
  await page.click("#popup");
  const popup = await opened;
  await popup.waitForURL((u) => u.href.startsWith(`${SANDBOX}/authorize?`));
  return popup;
}

const messages = (page) => page.evaluate(() => window.harness.messages);

test("only the popup at the exact origin is heard", T, async () => {
  // spec #77: origin and source window are both checked. Each forged message below
  // fails exactly one of the checks (origin, source window, state) and carries a code
  // of its own: had the opener accepted it, that code would reach the token endpoint
  // (and the sandbox would refuse it), instead of the code of the real answer.
  const { issuer } = await (await fetch(`${FHIR}/.well-known/smart-configuration`)).json();
  const page = await freshStart();
  await fault({ target: "authorize", kind: "html", times: 1 });
  const popup = await openPopup(page);
  const authorizeUrl = popup.url();
  const state = new URL(authorizeUrl).searchParams.get("state");
  assert.ok(state);
  const forged = (code, s = state) => ({
    type: MESSAGE_TYPE,
    state: s,
    query: `code=${code}&state=${encodeURIComponent(s)}&iss=${encodeURIComponent(issuer)}`,
  });

  // The popup itself, at another origin (the authorization server's: same host,
  // another port), with the right state: ignored.
  await popup.evaluate((m) => window.opener.postMessage(m, "*"), forged("forged-foreign-origin"));
  // The opener itself (the right origin, not the popup): ignored.
  await page.evaluate((m) => window.postMessage(m, location.origin), forged("forged-same-window"));
  // Another window at the right origin (a frame of the opener): ignored.
  await page.evaluate(() => {
    const frame = document.createElement("iframe");
    frame.id = "other-window";
    document.body.append(frame);
  });
  const frame = await (await page.$("#other-window")).contentFrame();
  await frame.evaluate((m) => window.parent.postMessage(m, "*"), forged("forged-other-window"));
  // The popup at the right origin, with another state: ignored.
  await popup.goto(`${APP}/index.html`);
  await popup.evaluate((m) => window.opener.postMessage(m, location.origin), forged("forged-state", "another-state"));

  // All four reached the opener (in any order: they come from three windows), and the
  // launch still waits.
  await eventually(async () => (await messages(page)).length >= 4, { message: "the forged messages" });
  assert.deepEqual((await messages(page)).map((m) => m.origin).sort(), [APP, APP, APP, SANDBOX].sort());
  assert.equal(await page.evaluate(() => window.harness.popupSettled), false);
  assert.deepEqual(await requestsTo("/token"), []);

  // The popup goes on to the real answer at the redirect URI: heard.
  await popup.evaluate((u) => {
    location.href = u;
  }, authorizeUrl);
  const client = assertOk(await page.evaluate(() => window.harness.popup), "authorizePopup");
  assert.ok(client.accessToken.length > 0);
  assert.equal(client.serverUrl, FHIR);
  const exchanges = await tokenRequests("authorization_code");
  assert.equal(exchanges.length, 1);
  assert.ok(!exchanges[0].form.code.startsWith("forged"), "a forged code was exchanged");
  // The callback page in the popup closed itself after the hand-off.
  await eventually(() => popup.isClosed(), { message: "the popup closes" });
});

test("a closed popup is popup_closed", T, async () => {
  // spec #79: the popup flow notices a user who closes the window.
  const page = await freshStart();
  await fault({ target: "authorize", kind: "html" });
  const popup = await openPopup(page);
  await popup.close();
  assertError(await page.evaluate(() => window.harness.popup), "popup_closed", "closed");
  assert.deepEqual(await requestsTo("/token"), []);
});

test("a redirect URI on another origin is refused before the popup opens", T, async () => {
  // spec #77: the hand-off goes to the callback page's own origin only, so a popup
  // launch whose redirect URI is elsewhere could never be heard: a configuration error.
  const page = await freshStart();
  const options = { ...standaloneOptions(), redirectUri: `${SANDBOX}/callback.html` };
  await page.evaluate((o) => {
    window.harness.popupOptions = o;
  }, options);
  const pages = page.context().pages().length;
  await page.click("#popup");
  const outcome = await page.evaluate(() => window.harness.popup);
  assertError(outcome, "invalid_options", "another origin");
  assert.equal(outcome.error.field, "redirectUri");
  assert.equal(page.context().pages().length, pages, "a popup opened");
  assert.deepEqual(await requestsTo("/fhir/.well-known/smart-configuration"), []);
});
