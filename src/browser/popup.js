// The authorization popup: the way out when the EHR frames the app and the
// authorization server refuses to be framed (spec #79). Results travel by postMessage
// with an exact target origin, and the opener checks the origin and the source window
// of every message (spec #77).
import { SmartError } from "../js/smart_error.js";

// The type of the message the callback page sends to its opener.
const MESSAGE_TYPE = "smart-launch:callback";
// How often the opener looks whether the user closed the popup.
const CLOSED_POLL_MS = 400;
// The name of the popup window. It outlives the navigations to the authorization
// server and back, while the popup's sessionStorage (a copy taken when the window
// opened, before the transaction record existed) cannot tell.
const WINDOW_NAME = "smart-launch-authorize";

/** Whether this page runs in the popup of authorizePopup: opened by another window,
 *  under the popup's name (an EHR that opens the app in a new window gives it an
 *  opener too, but not this name). The name first: reading `opener` costs milliseconds
 *  on a page's first access, and most pages are not the popup. */
export const isAuthorizationPopup = () => window.name === WINDOW_NAME && window.opener; // truthy or not: its one caller tests it (2 B gz)

/** Opens an empty popup of the given size; call it inside the click (popup blockers). */
export function open(width, height) {
  try {
    const popup = window.open("about:blank", WINDOW_NAME, `popup=yes,width=${width},height=${height}`);
    if (popup) return popup;
  } catch {}
  throw new SmartError("popup_blocked");
}

/** Sends the open popup to `url` (the authorization endpoint). */
export function navigate(popup, url) {
  if (popup.closed) throw new SmartError("popup_closed");
  try {
    popup.location.href = url;
  } catch {
    throw new SmartError("popup_blocked");
  }
}

/**
 * Waits for the callback page in `popup` to post its query string for `state`.
 * Messages from another origin or another window are ignored (spec #77); a closed
 * popup rejects with popup_closed.
 */
export function waitForCallback(popup, expectedOrigin, state) {
  return new Promise((resolve, reject) => {
    let timer; // the poll's interval
    const settle = (outcome, value) => {
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      outcome(value);
    };
    const onMessage = (event) => {
      if (event.origin !== expectedOrigin || event.source !== popup) return;
      const data = event.data;
      if (data?.type !== MESSAGE_TYPE || data.state !== state) return;
      settle(resolve, typeof data.query === "string" ? data.query : "");
    };
    window.addEventListener("message", onMessage);
    // No event tells the opener that the user closed the window: poll `closed`. An
    // interval, which settle's clearTimeout clears as well (HTML keeps one list of
    // timers): 3 B gz less than a chain of timeouts.
    timer = setInterval(() => popup.closed && settle(reject, new SmartError("popup_closed")), CLOSED_POLL_MS);
  });
}

/**
 * On the callback page in the popup: hands the callback to the opener, which holds the
 * live page and the transaction record, and closes. The message goes to this page's own
 * origin only, so an attacker that opens the callback URL under the popup's name learns
 * nothing.
 */
export function handToOpener(state, query) {
  try {
    window.opener.postMessage({ type: MESSAGE_TYPE, state, query }, location.origin);
  } catch {
    return false;
  }
  window.close();
  return true;
}
