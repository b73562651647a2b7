// The test app's only script. It loads the package's `web` build and gives the tests
// (tests/browser/*.test.mjs, through Playwright's page.evaluate) a few helpers around
// the package's public API: nothing here reaches into the library, only its exports.
// Outcomes cross to the test as plain data: { ok: true, value } or { ok: false, error }.
import init, * as smart from "./smart-launch/smart_launch.js";

const loaded = init();

const CLIENT_GETTERS = [
  "accessToken", "tokenType", "scope", "grantedScopes", "expiresAt", "serverUrl",
  "patientId", "encounterId", "fhirContext", "needPatientBanner", "smartStyleUrl",
  "intent", "tenant", "idToken", "idTokenClaims", "fhirUser", "hasRefreshToken",
  "tokenResponse",
];

function describeError(e) {
  if (!(e instanceof Error)) return { notAnError: String(e) };
  return {
    name: e.name,
    message: e.message,
    code: e.code,
    status: e.status,
    oauthError: e.oauthError,
    description: e.description,
    field: e.field,
    isSmartError: e instanceof smart.SmartError,
  };
}

async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (e) {
    return { ok: false, error: describeError(e) };
  }
}

function describeClient(client) {
  const out = {};
  for (const name of CLIENT_GETTERS) out[name] = client[name];
  return out;
}

function describeEvent(event) {
  const out = { ...event };
  if (event.error) out.error = describeError(event.error);
  return out;
}

const events = [];
const record = (event) => events.push(describeEvent(event));

const harness = {
  loaded,
  /** The client of the last ready() or authorizePopup() of this page. */
  client: null,
  /** Token events, from `recordEvents` on ready() or from record(). */
  events,
  /** Every `smart-launch:callback` message this window received (popup tests). */
  messages: [],
  /** What the #popup button passes to authorizePopup, and its outcome. */
  popupOptions: undefined,
  popupReadyOptions: undefined,
  popup: null,
  popupSettled: false,

  async authorize(options) {
    await loaded;
    return settle(smart.authorize(options));
  },
  async authorizeUrl(options) {
    await loaded;
    return settle(smart.authorizeUrl(options));
  },
  /** ready(options); with `recordEvents`, options.onTokenEvent records into `events`. */
  async ready(options, { recordEvents = false } = {}) {
    await loaded;
    const opts = recordEvents ? { ...options, onTokenEvent: record } : options;
    return settle(smart.ready(opts).then((client) => this.keep(client)));
  },
  keep(client) {
    this.client = client;
    return describeClient(client);
  },
  describe() {
    return describeClient(this.client);
  },
  /** Subscribes to the client's token events (client.onTokenEvent). */
  record() {
    this.client.onTokenEvent(record);
  },
  /** A method of the client, e.g. call("request", "Patient/smart-1"). */
  call(method, ...args) {
    return settle(this.client[method](...args));
  },
  /** `n` calls of a method, all started before any of them settles. */
  concurrently(n, method, ...args) {
    const started = Array.from({ length: n }, () => this.client[method](...args));
    return Promise.all(started.map(settle));
  },
  /** What this page keeps where a token must never be (spec #72). */
  async stored() {
    const entries = (storage) =>
      Array.from({ length: storage.length }, (_, i) => {
        const key = storage.key(i);
        return `${key}=${storage.getItem(key)}`;
      });
    return {
      local: entries(localStorage),
      session: entries(sessionStorage),
      cookie: document.cookie,
      href: location.href,
      historyState: JSON.stringify(history.state),
      indexedDbNames: (await indexedDB.databases()).map((d) => d.name),
    };
  },
  errorCodes: () => smart.errorCodes(),
};

window.smart = smart;
window.harness = harness;

window.addEventListener("message", (event) => {
  if (event.data?.type === "smart-launch:callback") {
    harness.messages.push({ origin: event.origin, state: event.data.state });
  }
});

document.getElementById("popup")?.addEventListener("click", () => {
  const started = smart.authorizePopup(harness.popupOptions, harness.popupReadyOptions);
  harness.popup = settle(started.then((client) => harness.keep(client))).finally(() => {
    harness.popupSettled = true;
  });
});

// The callback page in the popup of authorizePopup: as an app's callback page does,
// call ready(), which hands the answer to the opener.
if (location.pathname.endsWith("/callback.html") && window.opener) {
  loaded.then(() => smart.ready());
}
