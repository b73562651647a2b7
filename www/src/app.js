// Shared parts of the demo pages: configuration, the library's start-up, and the views
// (the launched app, errors). Everything is built with DOM nodes and textContent, never
// innerHTML: server text such as error_description is data, not markup (spec #36).
import init from "smart-launch/web";
import "./style.css";

export const APP_NAME = "Chart Snapshot";
export const EHR_SCOPE = "launch openid fhirUser patient/*.rs offline_access";
export const STANDALONE_SCOPE = "launch/patient openid fhirUser patient/*.rs offline_access";

let started;
/** `smart-launch/web` fetches and instantiates its wasm once, before any other call. */
export function initLibrary() {
  started ??= init();
  return started;
}

/** The deployment's settings (public/app-config.json): client id, trusted EHRs, ... */
export async function loadConfig() {
  const response = await fetch("app-config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`app-config.json: HTTP ${response.status}`);
  return response.json();
}

/** `h("p", { class: "x" }, "text", child)`: an element; strings become text nodes. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function mainElement() {
  return document.getElementById("main");
}

export function showStatus(text) {
  mainElement().replaceChildren(h("p", { class: "status", id: "status" }, text));
}

// ---------------------------------------------------------------------------- errors

const RELAUNCH =
  "This page was reloaded or the launch expired: launch the app again from the EHR " +
  "(or sign in again for a standalone launch).";

/** What a user can do about each error code of smart-launch. */
const ADVICE = {
  invalid_options: ["The app is misconfigured", "An option of the app is wrong; tell the app's administrator."],
  issuer_not_allowed: ["Unknown EHR", "This app was opened by an EHR it does not trust. Open it from your own EHR; if this is your EHR, ask for it to be added to the app's list."],
  launch_params_missing: ["Open the app from the EHR", "This is the EHR launch page: open the app from a patient's chart in the EHR, or use the standalone launch."],
  discovery_failed: ["The EHR cannot be reached", "The app could not reach the EHR's SMART configuration. Check the server address and try again."],
  discovery_invalid: ["The EHR's configuration is not valid", "The server's SMART configuration is broken; tell its administrator."],
  pkce_not_supported: ["The EHR is not safe to use", "The server does not support PKCE (S256); the app refuses to sign in there."],
  insecure_endpoint: ["Insecure server", "The server does not use https; the app refuses to send credentials there."],
  unsupported_server: ["The server lacks a feature", "The server does not support this kind of launch."],
  callback_invalid: ["Incomplete sign-in", "The sign-in answer was incomplete: launch the app again."],
  state_missing: ["Launch the app again", RELAUNCH],
  state_mismatch: ["This sign-in does not belong to this window", "The answer does not match a sign-in started here (another tab, or a forged link). Launch the app again."],
  session_lost: ["Launch the app again", RELAUNCH],
  transaction_expired: ["The sign-in took too long", "Launch the app again and complete the sign-in within a few minutes."],
  issuer_mismatch: ["Unexpected sign-in server", "The answer came from another server than the one the app asked. Launch the app again from your EHR."],
  authorization_denied: ["Access was not granted", "You (or the server) declined access to the record. Launch the app again and approve access to use it."],
  authorization_failed: ["Sign-in failed", "The server refused the sign-in. Launch the app again; if it keeps failing, tell the EHR's administrator."],
  invalid_grant: ["The sign-in is no longer valid", "The authorization expired or was already used. Launch the app again."],
  invalid_client: ["The app is not registered", "The EHR does not know this app; tell the EHR's administrator."],
  token_request_failed: ["Sign-in failed", "The server refused to issue access. Launch the app again."],
  token_server_error: ["The server had a problem", "The EHR's server failed. Try again in a moment."],
  token_response_invalid: ["The server's answer was not valid", "Tell the EHR's administrator."],
  unsupported_token_type: ["The server's answer was not valid", "The server issued an unsupported token type."],
  scope_not_granted: ["More access is needed", "Launch the app again to grant the access it needs."],
  no_refresh_token: ["Cannot renew access", "The server gave no refresh token; launch the app again when access expires."],
  id_token_invalid: ["Identity check failed", "The server's identity token failed validation. Launch the app again."],
  fhir_user_invalid: ["Identity check failed", "The signed-in user is not a valid FHIR user."],
  context_missing: ["No patient selected", "The launch did not include a patient. Launch the app again and choose a patient."],
  network_error: ["Connection problem", "The server could not be reached. Check the connection and try again."],
  timeout: ["The server is slow", "The server did not answer in time. Try again."],
  fhir_request_failed: ["Data could not be loaded", "The FHIR server refused the request."],
  insufficient_scope: ["No access to this data", "The access granted does not cover this data."],
  invalid_token: ["Access has expired", "Access could not be renewed. Launch the app again."],
  session_ended: ["The session has ended", "Launch the app again to continue."],
  crypto_unavailable: ["Browser not supported", "This browser has no secure random generator. Use a current browser."],
  storage_unavailable: ["Browser storage is blocked", "Allow site data for this app (session storage is needed during sign-in)."],
  popup_blocked: ["The sign-in window was blocked", "Allow pop-ups for this app, or open the app in the full window."],
  popup_closed: ["The sign-in window was closed", "Sign in again and complete the sign-in in the window that opens."],
};

/** The title and advice for an error (a SmartError, or any Error). */
export function adviceFor(error) {
  return ADVICE[error?.code] ?? ["Something went wrong", "Reload the launch page or launch the app again."];
}

/** Replaces the page's content with an error card. `actions`: extra nodes (buttons). */
export function renderError(error, { title, advice, actions, notice = false } = {}) {
  const [defaultTitle, defaultAdvice] = adviceFor(error);
  const code = error?.code ?? "unexpected_error";
  const card = h(
    "section",
    { class: notice ? "card error-card notice" : "card error-card", id: "error", role: "alert", "data-code": code },
    h("h2", null, title ?? defaultTitle),
    h("p", { class: "advice", id: "error-advice" }, advice ?? defaultAdvice),
    h(
      "p",
      { class: "meta" },
      "Error code ",
      h("code", { id: "error-code" }, code),
      error?.status ? ` · HTTP ${error.status}` : null,
      error?.oauthError ? ` · OAuth error ${error.oauthError}` : null,
    ),
    error?.description
      ? h(
          "div",
          { class: "server-text" },
          h("p", { class: "label" }, "Message from the server"),
          // Untrusted text: textContent only (spec #36).
          h("p", { id: "error-description" }, error.description),
        )
      : null,
    error?.message ? h("details", null, h("summary", null, "Technical details"), h("pre", null, error.message)) : null,
    h("p", { class: "actions" }, actions ?? [], h("a", { class: "button secondary", href: "index.html" }, "Standalone launch")),
  );
  mainElement().replaceChildren(card);
  document.title = `${title ?? defaultTitle} · ${APP_NAME}`;
  return card;
}

// ------------------------------------------------------------------------ event log

function clock(ms) {
  return new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
}

/** The token event log: the library's TokenEvents and the app's own actions. */
export class EventLog {
  constructor() {
    this.list = h("ol", { class: "events", id: "events", "aria-live": "polite" });
    this.listeners = [];
  }

  add(type, detail = "") {
    const item = h(
      "li",
      { class: `event event-${type}`, "data-type": type },
      h("time", null, clock(Date.now())),
      h("span", { class: "event-type" }, type),
      h("span", { class: "event-detail" }, detail),
    );
    this.list.prepend(item);
  }

  /** The `onTokenEvent` listener: registered through ready()'s options, so no event is missed. */
  onTokenEvent = (event) => {
    switch (event.type) {
      case "expiring":
        this.add("expiring", `${Math.round(event.secondsLeft)} s left, expires ${clock(event.expiresAt)}`);
        break;
      case "refreshed":
        this.add("refreshed", event.expiresAt ? `new access token, expires ${clock(event.expiresAt)}` : "new access token");
        break;
      case "refreshFailed":
        this.add("refreshFailed", `${event.error.code}: ${adviceFor(event.error)[1]}`);
        break;
      case "expired":
        this.add("expired", "the access token has expired");
        break;
      case "ended":
        this.add("ended", `session ended (${event.reason}); tokens wiped from memory`);
        break;
      default:
        this.add(String(event.type));
    }
    for (const listener of this.listeners) listener(event);
  };
}

/** ReadyOptions of the demo. */
export function readyOptions(config, log) {
  return {
    onTokenEvent: log.onTokenEvent,
    expiringLeadSeconds: config.expiringLeadSeconds ?? 60,
    autoRefresh: true,
  };
}

// ------------------------------------------------------------------- the launched app

function humanName(resource) {
  const names = resource?.name ?? [];
  const name = names.find((n) => n.use === "official") ?? names[0];
  if (!name) return resource?.id ?? "Unknown";
  if (name.text) return name.text;
  return [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(" ");
}

function age(birthDate) {
  const born = new Date(birthDate);
  if (Number.isNaN(born.getTime())) return null;
  const now = new Date();
  let years = now.getFullYear() - born.getFullYear();
  const m = now.getMonth() - born.getMonth();
  if (m < 0 || (m === 0 && now.getDate() < born.getDate())) years -= 1;
  return years;
}

function mrn(patient) {
  const ids = patient?.identifier ?? [];
  const mr = ids.find((i) => i.type?.coding?.some((c) => c.code === "MR")) ?? ids[0];
  return mr?.value ?? null;
}

function codeText(concept) {
  return concept?.text ?? concept?.coding?.[0]?.display ?? concept?.coding?.[0]?.code ?? "";
}

/** How a clinician writes a few common UCUM units. */
const UNITS = { Cel: "°C", "[degF]": "°F", "10*3/uL": "×10³/µL", "10*9/L": "×10⁹/L", "mm[Hg]": "mmHg", "kg/m2": "kg/m²", "/min": "/min" };

function quantity(q) {
  if (!q || q.value == null) return "";
  const unit = q.unit ?? q.code ?? "";
  return `${q.value} ${UNITS[unit] ?? unit}`.trim();
}

function observationValue(obs) {
  if (obs.valueQuantity) return quantity(obs.valueQuantity);
  if (obs.valueString != null) return obs.valueString;
  if (obs.valueCodeableConcept) return codeText(obs.valueCodeableConcept);
  if (obs.valueBoolean != null) return String(obs.valueBoolean);
  if (obs.component?.length) {
    const parts = obs.component.map((c) => c.valueQuantity?.value).filter((v) => v != null);
    const unit = obs.component[0]?.valueQuantity?.unit ?? "";
    return `${parts.join("/")} ${UNITS[unit] ?? unit}`.trim();
  }
  return "";
}

function formatDate(value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleString("en-GB", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function countdownText(ms) {
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

function row(label, ...value) {
  return h("div", { class: "row" }, h("dt", null, label), h("dd", null, ...value));
}

/** Renders the launched app for `client`; `log` is the EventLog passed to ready(). */
export function renderApp(client, log, { launchType } = {}) {
  const main = mainElement();
  const patientId = client.patientId;

  const banner = h(
    "section",
    { class: "patient-banner", id: "patient-banner", "aria-label": "Patient" },
    h("span", { class: "muted" }, patientId ? "Loading patient…" : "No patient in the launch context"),
  );

  // Session: who, what access, which context, how long.
  const countdown = h("span", { class: "countdown", id: "token-countdown" }, "");
  const bar = h("span", { class: "bar-fill" });
  const refreshState = h("span", { id: "refresh-token-state" }, "");
  const sessionNote = h("p", { class: "note", id: "session-note" });
  const fhirUserCell = h("span", { id: "fhir-user" }, client.fhirUser ?? "not provided");
  const refreshButton = h("button", { type: "button", id: "refresh-now" }, "Refresh now");
  const logoutButton = h("button", { type: "button", id: "logout", class: "secondary" }, "Log out");

  const context = h(
    "dl",
    { class: "facts", id: "launch-context" },
    row("Patient", h("code", { id: "context-patient" }, patientId ?? "none")),
    row("Encounter", h("code", { id: "context-encounter" }, client.encounterId ?? "none")),
    row(
      "fhirContext",
      client.fhirContext.length
        ? h(
            "ul",
            { class: "plain", id: "context-fhir" },
            client.fhirContext.map((item) =>
              h("li", null, h("code", null, item.reference ?? item.canonical ?? JSON.stringify(item.identifier ?? {})), ` (${item.role})`),
            ),
          )
        : h("span", { id: "context-fhir", class: "muted" }, "none"),
    ),
    client.intent ? row("Intent", client.intent) : null,
    client.tenant ? row("Tenant", client.tenant) : null,
    client.needPatientBanner != null
      ? row("Patient banner", client.needPatientBanner ? "shown by the app" : "shown by the EHR")
      : null,
  );

  const session = h(
    "section",
    { class: "card", id: "session" },
    h("h2", null, "Session"),
    h(
      "dl",
      { class: "facts" },
      row("Signed in as", fhirUserCell),
      row("FHIR server", h("code", { id: "server-url" }, client.serverUrl)),
      row("Launch", launchType ?? "SMART launch"),
      row("Access token", countdown, h("span", { class: "bar", "aria-hidden": "true" }, bar)),
      row("Refresh token", refreshState),
    ),
    h("h3", null, "Granted scopes"),
    h("ul", { class: "chips", id: "granted-scopes" }, client.grantedScopes.map((s) => h("li", null, s))),
    h("h3", null, "Launch context"),
    context,
    sessionNote,
    h("p", { class: "actions" }, refreshButton, logoutButton),
  );

  const events = h("section", { class: "card", id: "token-events" }, h("h2", null, "Token events"), log.list);

  const obsBody = h("tbody", null, h("tr", null, h("td", { colspan: 4, class: "muted" }, "Loading observations…")));
  const reloadObs = h("button", { type: "button", id: "reload-observations", class: "secondary small" }, "Reload");
  const obsStatus = h("span", { class: "muted", id: "observations-status" });
  const observations = h(
    "section",
    { class: "card wide", id: "observations" },
    h("div", { class: "card-head" }, h("h2", null, "Observations"), obsStatus, reloadObs),
    h(
      "table",
      { id: "observations-table" },
      h("thead", null, h("tr", null, h("th", null, "Date"), h("th", null, "Observation"), h("th", null, "Value"), h("th", null, "Category"))),
      obsBody,
    ),
  );

  main.replaceChildren(
    banner,
    h("div", { class: "grid" }, h("div", { class: "column" }, observations, events), h("div", { class: "column" }, session)),
  );

  // The live countdown (the library fires `expiring` itself; this is only a display).
  const lifetime = client.expiresAt ? client.expiresAt - Date.now() : 0;
  let total = Math.max(lifetime, 1);
  let lastExpiry = client.expiresAt;
  let ended = false;
  const tick = () => {
    const at = client.expiresAt;
    if (ended) {
      countdown.textContent = "none (session ended)";
      bar.style.width = "0%";
      refreshState.textContent = "none";
      return;
    }
    if (at !== lastExpiry && at) {
      total = Math.max(at - Date.now(), 1);
      lastExpiry = at;
    }
    refreshState.textContent = client.hasRefreshToken ? "held in memory (automatic refresh on)" : "none";
    if (!at) {
      countdown.textContent = "no expiry given";
      bar.style.width = "100%";
      return;
    }
    const left = at - Date.now();
    countdown.textContent = left > 0 ? `expires in ${countdownText(left)}` : "expired";
    countdown.classList.toggle("warn", left < 60_000);
    bar.style.width = `${Math.max(0, Math.min(100, (left / total) * 100)).toFixed(1)}%`;
    bar.classList.toggle("warn", left < 60_000);
  };
  tick();
  const timer = setInterval(tick, 1000);

  log.listeners.push((event) => {
    if (event.type === "ended") {
      ended = true;
      tick();
      clearInterval(timer);
      refreshButton.disabled = true;
      sessionNote.textContent = "The session has ended. Launch the app again to continue.";
    }
  });

  refreshButton.addEventListener("click", async () => {
    refreshButton.disabled = true;
    log.add("refresh", "refresh requested");
    try {
      await client.refresh();
    } catch (e) {
      log.add("error", `${e.code ?? "error"}: ${adviceFor(e)[1]}`);
    } finally {
      refreshButton.disabled = ended;
      tick();
    }
  });

  logoutButton.addEventListener("click", async () => {
    logoutButton.disabled = true;
    refreshButton.disabled = true;
    await client.logout().catch(() => {});
    clearInterval(timer);
    renderSignedOut();
  });

  // The data.
  const loadObservations = async () => {
    if (!patientId) {
      obsBody.replaceChildren(h("tr", null, h("td", { colspan: 4, class: "muted" }, "No patient in context.")));
      return;
    }
    obsStatus.textContent = "loading…";
    try {
      const bundle = await client.request(`Observation?patient=${encodeURIComponent(patientId)}&_count=100`);
      const list = (bundle?.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === "Observation");
      list.sort((a, b) => String(b.effectiveDateTime ?? "").localeCompare(String(a.effectiveDateTime ?? "")));
      obsBody.replaceChildren(
        ...(list.length
          ? list.map((o) =>
              h(
                "tr",
                null,
                h("td", { class: "date" }, formatDate(o.effectiveDateTime ?? o.issued)),
                h("td", null, codeText(o.code)),
                h("td", { class: "value" }, observationValue(o)),
                h("td", null, (o.category ?? []).map(codeText).join(", ")),
              ),
            )
          : [h("tr", null, h("td", { colspan: 4, class: "muted" }, "No observations."))]),
      );
      obsStatus.textContent = `${list.length} results, loaded ${clock(Date.now())}`;
    } catch (e) {
      obsStatus.textContent = "";
      obsBody.replaceChildren(
        h("tr", null, h("td", { colspan: 4, class: "error-text", id: "observations-error" }, `${e.code ?? "error"}: ${adviceFor(e)[1]}`)),
      );
    }
  };
  reloadObs.addEventListener("click", loadObservations);

  const loadPatient = async () => {
    if (!patientId) return;
    try {
      const p = await client.request(`Patient/${encodeURIComponent(patientId)}`);
      const name = humanName(p);
      const years = p.birthDate ? age(p.birthDate) : null;
      banner.replaceChildren(
        h("span", { class: "patient-name", id: "patient-name" }, name),
        h("span", { class: "fact" }, h("span", { class: "label" }, "Born "), h("span", { id: "patient-birth-date" }, p.birthDate ?? "unknown"), years != null ? ` (${years} y)` : null),
        h("span", { class: "fact" }, h("span", { class: "label" }, "Sex "), p.gender ?? "unknown"),
        mrn(p) ? h("span", { class: "fact" }, h("span", { class: "label" }, "MRN "), mrn(p)) : null,
        h("span", { class: "fact muted" }, `Patient/${patientId}`),
      );
      document.title = `${name} · ${APP_NAME}`;
    } catch (e) {
      banner.replaceChildren(h("span", { class: "error-text", id: "patient-error" }, `Patient could not be loaded: ${e.code ?? "error"}: ${adviceFor(e)[1]}`));
    }
  };

  const loadUser = async () => {
    if (!client.fhirUser) return;
    try {
      const user = await client.request(client.fhirUser);
      fhirUserCell.replaceChildren(h("span", null, humanName(user)), h("br"), h("code", null, `${user.resourceType}/${user.id}`));
    } catch {
      // The URL stays shown.
    }
  };

  loadPatient();
  loadObservations();
  loadUser();
}

export function renderSignedOut() {
  mainElement().replaceChildren(
    h(
      "section",
      { class: "card narrow", id: "signed-out" },
      h("h2", null, "Signed out"),
      h("p", null, "The app has ended the session: the refresh token was revoked and every token was wiped from memory."),
      h("p", null, "Launch the app again from the EHR to continue, or start a standalone launch."),
      h("p", { class: "actions" }, h("a", { class: "button", href: "index.html" }, "Standalone launch")),
    ),
  );
  document.title = `Signed out · ${APP_NAME}`;
}
