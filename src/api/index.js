// The JS API of smart-launch (README "Using it"; types in pkg-template/smart_launch.d.ts).
import { compileGrant, optionsText, step } from "./core.js";
import { LAUNCH, SmartClient } from "./client.js";
import { begin, cleanAddressBar, plan, prepare, verifySignature } from "./launch.js";
import * as location from "../browser/location.js";
import * as popup from "../browser/popup.js";
import * as storage from "../browser/storage.js";
import { SmartError, invalidOptions } from "../js/smart_error.js";

export { SmartClient, SmartError };

/** Starts the launch: discovery, then the authorization redirect (EHR or standalone). */
export async function authorize(options) {
  const p = plan(options);
  location.navigate((await prepare(p)).url, p.target);
}

/** Like authorize, but returns the authorization URL and its state instead of going
 *  there. */
export async function authorizeUrl(options) {
  const { url, state } = await prepare(plan(options));
  return { url, state };
}

/** ReadyOptions: `onTokenEvent` here (a function is not JSON), the rest in the wasm. */
function readyOptions(options) {
  const o = options !== null && typeof options === "object" ? options : {};
  const listener = o.onTokenEvent; // null reads as undefined in the client too
  if (listener != null && typeof listener !== "function") {
    throw invalidOptions("onTokenEvent");
  }
  return { options: step("ready_options", optionsText(o)), listener };
}

/** The token response of a code exchange `begin` sent (spec #44-#55), as a client;
 *  with verifyIdToken, only once the id_token's signature checks out (spec #68). */
async function finish(exchange, { options, listener }) {
  compileGrant();
  const answer = await exchange.request.answer;
  if (options.verifyIdToken) await verifySignature(answer, exchange.record, options.timeoutMs);
  return new SmartClient(LAUNCH, answer, exchange, options, listener);
}

/**
 * Runs the authorization in a popup; this page never unloads. Resolves to the client.
 * The window opens now, empty, while the click that called us still counts as a user
 * gesture: popup blockers allow nothing later, and discovery may take longer.
 */
export async function authorizePopup(options, readyOpts) {
  // An async function runs synchronously up to its first await: the popup opens within
  // the click's task, and a failure before it still rejects the promise.
  const p = plan(options);
  // The callback page hands its answer to this page by postMessage to its own origin
  // only (spec #77): a redirect URI on another origin could never be heard.
  if (p.redirectOrigin !== location.origin()) throw invalidOptions("redirectUri");
  const opened = popup.open(p.width, p.height);
  let ready;
  let authorization;
  try {
    ready = readyOptions(readyOpts);
    authorization = await prepare(p);
  } catch (e) {
    opened.close();
    throw e;
  }
  let query;
  try {
    popup.navigate(opened, authorization.url);
    query = await popup.waitForCallback(opened, p.redirectOrigin, authorization.state);
  } catch (e) {
    try {
      storage.remove(authorization.state);
    } catch {}
    throw e;
  }
  const state = step("callback_state", query);
  return finish(begin(query, state, p.timeoutMs), ready);
}

// ready() on one page always answers with the same promise: the code is exchanged once
// (spec #40).
let readyPromise;

/**
 * On the redirect_uri page: validates the callback, exchanges the code once and
 * resolves to the client. `code` and `state` leave the address bar as the token request
 * leaves, before ready() returns (spec #39).
 */
export function ready(options) {
  return (readyPromise ??= startReady(options));
}

async function startReady(options) {
  let ready;
  let exchange;
  try {
    const query = location.query();
    const state = step("callback_state", query);
    ready = readyOptions(options);
    // In the popup: hand the callback to the opener, which holds the live page and the
    // transaction record.
    if (!(state && popup.isAuthorizationPopup() && popup.handToOpener(state, query))) {
      exchange = begin(query, state, ready.options.timeoutMs);
    }
  } finally {
    // code and state leave the address bar (spec #39) whatever the outcome, right after
    // the token request left (it sends no Referer): no other code ran before. (An async
    // function runs synchronously to its first await: this is still ready()'s call.)
    cleanAddressBar();
  }
  // This page is the popup and handed the callback over: it never settles.
  return exchange ? finish(exchange, ready) : new Promise(() => {});
}

/** The stable error codes, for apps that switch on them. */
export const errorCodes = () => step("error_codes");
