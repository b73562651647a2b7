// The address bar, history and top-level navigation.
import { invalidOptions } from "../js/smart_error.js";

/** The page's full URL. */
export const href = () => location.href;

/** The page's origin, e.g. `https://app.example`. */
export const origin = () => location.origin;

/** The query string without its leading `?`. */
export const query = () => location.search.replace(/^\?+/, "");

/** Replaces the current history entry's URL without loading anything (spec #39). */
export function replaceUrl(url) {
  try {
    history.replaceState(null, "", url);
  } catch {}
}

/** Navigates `target` ("_self", "_top" or "_parent") to `url`. */
export function navigate(url, target) {
  // The plan's target is one of the three (src/steps/launch.rs): top or parent by
  // name, 6 B gz less than comparing with both. (Not self: a page's global `var self`
  // replaces window.self.)
  const frame = target === "_self" ? window : window[target.slice(1)];
  try {
    // A cross-origin top or parent can be navigated, though not read: of its Location
    // only the href setter and replace() are reachable.
    frame.location.href = url;
  } catch {
    throw invalidOptions("target");
  }
}
