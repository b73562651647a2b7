// HTTP through the browser's fetch, with a timeout (AbortController).
//
// Every request is CORS mode (fetch's default) with `credentials: "omit"`: SMART
// endpoints are reached cross-origin, and cookies must never ride along (spec #43;
// client-js #82). None sends a Referer: on the callback page the address may still hold
// the authorization code when the token request leaves.
import { SmartError, invalidOptions } from "../js/smart_error.js";
import { later } from "./timers.js";

/**
 * Sends one request now, so that the caller can do other work while it is in flight.
 * `init` is an app's own RequestInit (SmartClient.request): its method, headers and
 * body are kept; mode, credentials and referrer policy are always ours. `bearer` goes
 * in the Authorization header (spec #56); the caller decides where (spec #57).
 * @returns {{ answer: Promise<{ status: number, body: string, wwwAuthenticate: string | null }>,
 *            abort(): void }}
 */
export function start({ method = "GET", url, accept = "application/json", form, bearer, init, timeoutMs }) {
  let headers;
  try {
    headers = new Headers(init?.headers ?? undefined);
  } catch {
    throw invalidOptions("init.headers");
  }
  if (!headers.has("accept")) headers.set("accept", accept);
  if (form !== undefined) headers.set("content-type", "application/x-www-form-urlencoded");
  if (bearer !== undefined) headers.set("authorization", `Bearer ${bearer}`);
  const controller = new AbortController();
  const options = {
    method: typeof init?.method === "string" ? init.method : method,
    headers,
    // A form is ours (the token endpoint); an undefined body is no body (WebIDL).
    body: form ?? init?.body,
    // mode: fetch's default for a URL is "cors" (Fetch, new Request): 7 B gz less unsaid.
    credentials: "omit",
    referrerPolicy: "no-referrer",
    signal: controller.signal,
  };
  const abort = () => controller.abort(); // for the timer and the caller alike (1 B gz)
  const stopTimer = later(timeoutMs, abort);
  // A promise chain, not an async function with try/catch/finally: 8 B gz less.
  const answer = fetch(url, options)
    .then(async (response) => ({
      status: response.status,
      body: await response.text(),
      wwwAuthenticate: response.headers.get("www-authenticate"),
    }))
    .catch((e) => {
      const aborted = controller.signal.aborted || e?.name === "AbortError" || e?.name === "TimeoutError";
      throw new SmartError(aborted ? "timeout" : "network_error");
    })
    .finally(stopTimer);
  // A request whose caller gave up on it (another step failed first) must not surface
  // as an unhandled rejection; the caller that awaits it still gets the error.
  answer.catch(() => {});
  return { answer, abort };
}

/** Starts the form POST of a wasm step's `{ url, body }` (token, refresh, revocation). */
export const post = ({ url, body }, timeoutMs) => start({ method: "POST", url, form: body, timeoutMs });

/** Sends the request and reads the whole answer. */
export const send = (request) => start(request).answer;
