// SmartClient: the launched session. Tokens live here and in its wasm Grant, in
// memory and nowhere else (spec #72). The timing policy (events, auto-refresh,
// single-flight) is the wasm's (src/session.rs through src/steps/); this class
// carries out its steps in the browser.
import { Grant } from "./core.js";
import { verifySignature } from "./launch.js";
import * as http from "../browser/fetch.js";
import * as storage from "../browser/storage.js";
import { later, onWake } from "../browser/timers.js";
import { SmartError, invalidOptions } from "../js/smart_error.js";

// Only the launch makes clients: the key of the constructor.
export const LAUNCH = Symbol("launch");

/** The fhirContext items (spec #50): the wasm's normalised members over the item's
 *  own members (identifier, extensions) from the response that carried them. */
function contextItems(items, response) {
  // The wasm read its items out of this same text's fhirContext array, so with any
  // item it is an array; no Array.isArray (14 B gz). (Only a body naming fhirContext
  // twice, an array first, could differ: the wasm reads the first, JSON.parse the last;
  // ?. keeps a null there from throwing.)
  const raw = response.fhirContext;
  // A 2.0 item is a string: it has no members to add (spread, it would give its
  // characters). Spreading null or false adds nothing.
  return items.map(({ i, ...item }) => ({ ...(typeof raw?.[i] === "object" && raw[i]), ...item }));
}

export class SmartClient {
  #grant;
  #record; // the transaction record's text: the endpoints, client id, issuer
  #values; // the getters' values, as the wasm last answered them
  #response; // every member of the token responses so far (spec #52)
  #context = [];
  #listeners = [];
  // The one refresh in flight, shared by every caller (spec #63): the last one started.
  // The wasm answers "join" only while it is in flight, so it is never cleared.
  #refreshing;
  #stopTimer; // undefined until the first step: ?.() skips it as it does null
  #stopWake;
  #timeoutMs;
  #verifyIdToken;

  /** The client of a completed code exchange (`answer`: its HTTP answer); `key` is
   *  LAUNCH. */
  constructor(key, answer, exchange, options, listener) {
    if (key !== LAUNCH) throw new TypeError("SmartClient comes from ready() or authorizePopup()");
    const grant = new Grant();
    let launched;
    try {
      launched = grant.step(
        "launch",
        answer.status,
        answer.body,
        exchange.record,
        exchange.requestedAt,
        Date.now(),
        options.expiringLeadMs,
        options.autoRefresh,
      );
    } catch (e) {
      grant.free();
      throw e;
    }
    this.#grant = grant;
    this.#record = exchange.record;
    this.#values = launched.client;
    this.#response = JSON.parse(answer.body);
    this.#context = contextItems(launched.fhirContext, this.#response);
    this.#timeoutMs = options.timeoutMs;
    this.#verifyIdToken = options.verifyIdToken;
    if (listener) this.#listeners.push(listener);
    this.#stopWake = onWake(this.#tick);
    this.#apply(launched.step);
  }

  /** The access token ("" once the session has ended). */
  get accessToken() { return this.#values.accessToken ?? ""; }
  get tokenType() { return this.#values.tokenType ?? "Bearer"; }
  /** What the server granted, not what was asked (spec #46). */
  get scope() { return this.#values.scope; }
  get grantedScopes() { return this.scope.split(" ").filter(Boolean); }
  /** Epoch milliseconds, from expires_in and the local clock (spec #47). */
  get expiresAt() { return this.#values.expiresAt; }
  /** The FHIR base (= aud). */
  get serverUrl() { return this.#values.serverUrl; }
  get patientId() { return this.#values.patientId; }
  get encounterId() { return this.#values.encounterId; }
  get fhirContext() { return structuredClone(this.#context); }
  get needPatientBanner() { return this.#values.needPatientBanner; }
  get smartStyleUrl() { return this.#values.smartStyleUrl; }
  get intent() { return this.#values.intent; }
  get tenant() { return this.#values.tenant; }
  get idToken() { return this.#values.idToken; }
  get idTokenClaims() { return structuredClone(this.#values.idTokenClaims); }
  /** The user's FHIR resource URL, absolute (spec #69). */
  get fhirUser() { return this.#values.fhirUser; }
  get hasRefreshToken() { return this.#values.hasRefreshToken ?? false; }
  /** Every member of the last token response, extensions included (spec #52). */
  get tokenResponse() { return structuredClone(this.#response); }

  /** Subscribes to token events; returns the function that unsubscribes. */
  onTokenEvent(listener) {
    if (typeof listener !== "function") throw invalidOptions("listener");
    // Its own entry, so that unsubscribing drops this subscription only, not every
    // subscription of the same function.
    const entry = (event) => listener(event);
    this.#listeners.push(entry);
    return () => {
      this.#listeners = this.#listeners.filter((e) => e !== entry);
    };
  }

  /** Refreshes the access token now. Concurrent calls share one request (spec #63). */
  async refresh(options) {
    const scope = options !== null && typeof options === "object" ? options.scope : undefined;
    if (scope != null && typeof scope !== "string") throw invalidOptions("scope");
    await this.#refresh(scope);
  }

  /** Fetches a FHIR resource; the bearer token goes only to URLs under serverUrl. */
  async request(pathOrUrl, init) {
    if (typeof pathOrUrl !== "string") throw invalidOptions("pathOrUrl");
    // Timers may have slept: re-check the clock before each request (spec #66).
    this.#tick();
    if (this.#grant.step("needs_refresh", Date.now())) {
      // A failed refresh is reported through refreshFailed; the request then meets the
      // server's 401 and reports that.
      await this.#refresh().catch(() => {});
    }
    const target = this.#grant.step("fhir_request", pathOrUrl);
    const withToken = target.bearer !== undefined;
    for (let retried = false; ; retried = true) {
      // After a refresh, the new token.
      const bearer = withToken ? this.#values.accessToken : undefined;
      if (withToken && !bearer) throw new SmartError("session_ended");
      const answer = await http.send({
        url: target.url,
        accept: "application/fhir+json, application/json",
        bearer,
        init,
        timeoutMs: this.#timeoutMs,
      });
      const verdict = (done) =>
        this.#grant.step("fhir_answer", answer.status, answer.wwwAuthenticate, answer.body, withToken, done);
      if (verdict(retried) === "done") {
        if (answer.body === "") return null;
        try {
          return JSON.parse(answer.body);
        } catch {
          return answer.body;
        }
      }
      // "retry", spec #58: one refresh and one retry on an expired or revoked token;
      // if the refresh fails, the 401 is the answer.
      await this.#refresh().catch(() => verdict(true));
    }
  }

  /** Ends the session: revokes the refresh token if the server offers revocation,
   *  wipes the tokens from memory and fires `ended` (spec #80). */
  async logout() {
    const revocation = this.#grant.step("revocation");
    if (revocation) {
      // Logout goes on whatever the answer: the memory is wiped either way.
      await http.post(revocation, this.#timeoutMs).answer.catch(() => {});
    }
    try {
      for (const [state] of storage.pending()) storage.remove(state);
    } catch {}
    this.#apply(this.#grant.step("logout"));
  }

  // An arrow field, so that the timer and the page events call it as it is (1 B gz).
  #tick = () => this.#apply(this.#grant.step("tick", Date.now()));

  /** Carries out a session step: the timer, the events (after the new state is in),
   *  and the automatic refresh. `error`: the full error of a refreshFailed event. */
  #apply(step, error) {
    this.#stopTimer?.();
    this.#stopTimer = null;
    if (step.events.some((e) => e.type === "ended")) {
      // The session is over: nothing of it stays in memory (spec #65, #80).
      this.#values = this.#grant.step("snapshot");
      this.#response = {};
      this.#context = [];
      this.#stopWake?.();
      this.#stopWake = null;
    } else if (step.wake !== null) {
      this.#stopTimer = later(step.wake - Date.now(), this.#tick);
    }
    const listeners = this.#listeners.slice();
    for (const e of step.events) {
      const event = e.type === "refreshFailed" ? { type: e.type, error: error ?? new SmartError(e.code) } : e;
      for (const listener of listeners) {
        // A throwing listener must not keep the others from hearing the event.
        try {
          listener(event);
        } catch {}
      }
    }
    // The session counts this refresh as in flight already; its failure is reported
    // through refreshFailed, so the promise's own rejection is not needed here.
    if (step.refresh) this.#startRefresh().catch(() => {});
  }

  /** Asks for a fresh token: starts the one refresh, or joins the one in flight. */
  async #refresh(scope) {
    const ticket = this.#grant.step("begin_refresh");
    if (ticket === "start") return this.#startRefresh(scope);
    return this.#refreshing;
  }

  /** Sends the one refresh request (spec #60-#62, #64, #70); its promise is kept for
   *  joiners (returned as it is assigned: 6 B gz less than a const). It starts a
   *  microtask later, so that the promise is in place first. */
  #startRefresh(scope) {
    return (this.#refreshing = (async () => {
      await undefined; // the microtask after which the promise is in place
      try {
        const answer = await http.post(this.#grant.step("refresh_request", scope), this.#timeoutMs).answer;
        if (this.#verifyIdToken) await verifySignature(answer, this.#record, this.#timeoutMs);
        const refreshed = this.#grant.step("refresh_response", answer.status, answer.body, Date.now());
        const fresh = JSON.parse(answer.body);
        this.#values = refreshed.client;
        this.#response = { ...this.#response, ...fresh };
        if (refreshed.fhirContext) this.#context = contextItems(refreshed.fhirContext, fresh);
        this.#apply(refreshed.step);
      } catch (e) {
        this.#apply(this.#grant.step("refresh_failed", e.code ?? "network_error", Date.now()), e);
        throw e;
      }
    })());
  }
}
