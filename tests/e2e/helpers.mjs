// Shared parts of the end-to-end tests: Debian's Chromium through playwright-core, the
// sandbox's test hooks (/_log, /_faults), token capture and the storage audit.
//
// scripts/e2e.sh starts the sandbox (SANDBOX) serving the built demo app on a second
// origin (APP) before `node --test` runs these files.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { launchPersistentChromium } from "../support/chromium.mjs";
import { sandboxHooks } from "../support/sandbox.mjs";

export const SANDBOX = process.env.E2E_SANDBOX ?? "http://127.0.0.1:9420";
export const APP = process.env.E2E_APP ?? "http://127.0.0.1:9421";
export const FHIR = `${SANDBOX}/fhir`;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const OUT = join(root, "test-output", "e2e");
mkdirSync(OUT, { recursive: true });

/** Debian's Chromium with a fresh profile folder (removed by `close`). */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "smart-launch-e2e-"));
  const context = await launchPersistentChromium(profile, { viewport: { width: 1280, height: 960 } });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A browser session that records what the audit needs: every token the sandbox issued
 * (read from the token endpoint's responses), every URL requested or navigated to, and
 * page errors.
 */
export async function startSession() {
  const browser = await launchBrowser();
  const { context } = browser;
  const issued = []; // { grant, access_token, refresh_token, id_token }
  const urls = [];
  const errors = [];
  const pending = new Set();
  context.on("request", (request) => urls.push(request.url()));
  context.on("response", (response) => {
    const request = response.request();
    if (request.method() !== "POST" || response.url() !== `${SANDBOX}/token`) return;
    const grant = new URLSearchParams(request.postData() ?? "").get("grant_type");
    const read = response
      .json()
      .then((body) => {
        if (body?.access_token) issued.push({ grant, ...body });
      })
      .catch(() => {});
    pending.add(read);
    read.finally(() => pending.delete(read));
  });
  const watch = (page) => {
    page.on("framenavigated", (frame) => urls.push(frame.url()));
    page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  };
  context.pages().forEach(watch);
  context.on("page", watch);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    issued,
    urls,
    errors,
    /** Token values issued so far (waits for response bodies still being read). */
    async tokens() {
      await Promise.all([...pending]);
      return issued.flatMap((t) => [t.access_token, t.refresh_token, t.id_token]).filter(Boolean);
    },
    close: browser.close,
  };
}

// ------------------------------------------------------------------ sandbox hooks

const hooks = sandboxHooks(SANDBOX);
export const { sandbox, clearLog, clearFaults } = hooks;
export const getLog = hooks.log;
export const addFault = hooks.fault;
export const resetSandbox = hooks.reset;

/** The POST /token requests in the sandbox's log, with their grant type. */
export async function tokenRequests(grant) {
  const log = await getLog();
  return log.filter(
    (e) => e.method === "POST" && e.path === "/token" && (!grant || e.form?.grant_type === grant),
  );
}

// ------------------------------------------------------------------------- flows

/** Asserts the number of POST /token requests (of a grant type) in the sandbox's log. */
export async function assertTokenRequests(expected, grant, message) {
  const entries = await tokenRequests(grant);
  const seen = entries.map((e) => ({ seq: e.seq, grant: e.form?.grant_type, status: e.status, referer: e.headers.referer }));
  assert.equal(entries.length, expected, `${message}: ${JSON.stringify(seen)}`);
  return entries;
}

/** Standalone launch from index.html to the rendered app. */
export async function standaloneLaunch(page) {
  await page.goto(`${APP}/index.html`);
  await page.locator("#sign-in").click();
  await page.waitForURL(`${APP}/callback.html`);
  await waitForPatient(page);
}

/** Waits until the app (in `scope`: a page or a frame locator) shows its patient. */
export async function waitForPatient(scope, name = "Amy Rivera") {
  const banner = scope.locator("#patient-name");
  await banner.waitFor({ timeout: 30_000 });
  assert.equal((await banner.textContent()).trim(), name);
  await scope.locator("#observations-table td.value").first().waitFor({ timeout: 30_000 });
}

/** The app's visible error card: its code, title, advice and server text. */
export async function readError(scope) {
  const card = scope.locator("#error");
  await card.waitFor({ timeout: 30_000 });
  return {
    code: await card.getAttribute("data-code"),
    title: (await card.locator("h2").textContent()).trim(),
    advice: (await card.locator("#error-advice").textContent()).trim(),
    description: (await card.locator("#error-description").count())
      ? await card.locator("#error-description").textContent()
      : undefined,
  };
}

// ------------------------------------------------------------------ storage audit

/** Everything one frame can see of its origin's storage, its URL and history state. */
async function dumpFrame(frame) {
  return frame.evaluate(async () => {
    const out = { url: location.href, historyState: null, cookie: "", local: {}, session: {}, idb: [] };
    try {
      out.historyState = JSON.stringify(history.state);
      out.historyLength = history.length;
    } catch {}
    try {
      out.cookie = document.cookie;
    } catch {}
    for (const [name, store] of [["local", () => localStorage], ["session", () => sessionStorage]]) {
      try {
        const s = store();
        for (let i = 0; i < s.length; i++) out[name][s.key(i)] = s.getItem(s.key(i));
      } catch {}
    }
    try {
      for (const info of await indexedDB.databases()) {
        const db = await new Promise((ok, fail) => {
          const r = indexedDB.open(info.name);
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
        for (const storeName of db.objectStoreNames) {
          const values = await new Promise((ok) => {
            const r = db.transaction(storeName).objectStore(storeName).getAll();
            r.onsuccess = () => ok(r.result);
            r.onerror = () => ok([]);
          });
          out.idb.push({ db: info.name, store: storeName, values: JSON.stringify(values) });
        }
        db.close();
      }
    } catch {}
    try {
      const names = await caches.keys();
      out.caches = names;
    } catch {}
    return out;
  });
}

/**
 * Spec #72 and DESIGN.md: no access, refresh or id token in localStorage,
 * sessionStorage, IndexedDB, cookies, the URL or history state of any open frame, nor
 * in any URL requested during the flow. Returns the frames' dumps for further checks.
 */
export async function auditStorage(session, { expectTokens = true } = {}) {
  const tokens = await session.tokens();
  if (expectTokens) assert.ok(tokens.length >= 2, "the flow issued tokens (access + refresh)");
  const dumps = [];
  for (const page of session.context.pages()) {
    for (const frame of page.frames()) {
      try {
        dumps.push(await dumpFrame(frame));
      } catch {
        // A frame that navigated away meanwhile.
      }
    }
  }
  const state = await session.context.storageState({ indexedDB: true }).catch(() => null);
  const cookies = await session.context.cookies();
  const places = {
    frames: JSON.stringify(dumps),
    storageState: JSON.stringify(state),
    cookies: JSON.stringify(cookies),
    urls: JSON.stringify(session.urls),
  };
  for (const token of tokens) {
    for (const [place, text] of Object.entries(places)) {
      assert.ok(!text.includes(token), `a token value was found in ${place}`);
    }
  }
  return dumps;
}

/** The dump of the app's frames (origin APP). */
export function appFrames(dumps) {
  return dumps.filter((d) => d.url.startsWith(APP));
}

export async function screenshot(page, name) {
  const path = join(OUT, name);
  await page.screenshot({ path });
  return path;
}
