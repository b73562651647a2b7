// launch.html: the EHR launch URL (`?iss=...&launch=...`).
//
// - Top-level window: authorize() redirects to the EHR's authorization page at once.
// - In the EHR's iframe: the authorization server refuses to be framed, so the user
//   signs in through a popup (authorizePopup; a popup needs a click) and the app then
//   renders here, in the iframe. With `&target=_top` in the launch URL the primary
//   button leaves the frame instead: authorize({ target: "_top" }), which comes back
//   to callback.html as the whole window. Never a hidden iframe (spec #79).
import { authorize, authorizePopup } from "smart-launch/web";
import {
  APP_NAME,
  EHR_SCOPE,
  EventLog,
  h,
  initLibrary,
  loadConfig,
  mainElement,
  readyOptions,
  renderApp,
  renderError,
  showStatus,
} from "./app.js";

const params = new URLSearchParams(location.search);
const framed = window.top !== window;
const preferTop = params.get("target") === "_top";

function ehrOptions(config, target) {
  return {
    // Only these EHRs may launch the app (spec #12): a launch URL can be forged.
    issuers: config.ehrIssuers.map((iss) => ({ iss })),
    clientId: config.clientId,
    scope: EHR_SCOPE,
    redirectUri: "callback.html",
    allowInsecureLocalhost: config.allowInsecureLocalhost === true,
    target,
  };
}

async function signInWithPopup(config, buttons) {
  buttons.forEach((b) => (b.disabled = true));
  const status = document.getElementById("signin-status");
  status.textContent = "Waiting for the sign-in window…";
  const log = new EventLog();
  try {
    const client = await authorizePopup(ehrOptions(config), readyOptions(config, log));
    log.add("launched", `signed in (popup); ${client.grantedScopes.length} scopes granted`);
    renderApp(client, log, { launchType: "EHR launch (popup sign-in, app in the EHR's frame)" });
  } catch (error) {
    if (error?.code === "popup_blocked" || error?.code === "popup_closed") {
      // Recoverable here: the user can try again (or leave the frame).
      status.textContent = "";
      const problem = document.getElementById("signin-problem");
      problem.replaceChildren(h("strong", null, `${error.code}: `), error.code === "popup_blocked"
        ? "the sign-in window was blocked. Allow pop-ups for this app, or open the app in the full window."
        : "the sign-in window was closed before the sign-in finished. Sign in again.");
      buttons.forEach((b) => (b.disabled = false));
    } else {
      renderError(error);
    }
  }
}

async function signInAtTop(config, buttons) {
  buttons.forEach((b) => (b.disabled = true));
  document.getElementById("signin-status").textContent = "Opening the sign-in page…";
  try {
    await authorize(ehrOptions(config, "_top"));
  } catch (error) {
    renderError(error);
  }
}

function showFramedSignIn(config) {
  const popupButton = h("button", { type: "button", id: "sign-in" }, "Sign in");
  const topButton = h("button", { type: "button", id: "open-full-window", class: "secondary" }, "Open in full window");
  const buttons = [popupButton, topButton];
  popupButton.addEventListener("click", () => signInWithPopup(config, buttons));
  topButton.addEventListener("click", () => signInAtTop(config, buttons));
  const primary = preferTop ? [topButton, popupButton] : buttons;
  let server;
  try {
    server = new URL(params.get("iss")).host;
  } catch {
    server = "the EHR";
  }
  mainElement().replaceChildren(
    h(
      "section",
      { class: "card narrow", id: "signin" },
      h("h2", null, `Sign in to ${APP_NAME}`),
      h(
        "p",
        null,
        preferTop
          ? `The app will leave the EHR's frame to sign in at ${server}, then open in the whole window.`
          : `The EHR opened ${APP_NAME} inside its window. Sign in at ${server} in a small window; the app then appears here.`,
      ),
      h("p", { class: "actions" }, primary),
      h("p", { class: "muted", id: "signin-status" }),
      h("p", { class: "error-text", id: "signin-problem" }),
    ),
  );
}

try {
  showStatus("Connecting to the EHR…");
  const [config] = await Promise.all([loadConfig(), initLibrary()]);
  if (!params.get("iss") || !params.get("launch")) {
    renderError({ code: "launch_params_missing", message: "launch.html needs ?iss=...&launch=..." });
  } else if (framed) {
    showFramedSignIn(config);
  } else {
    await authorize(ehrOptions(config, preferTop ? "_top" : undefined));
  }
} catch (error) {
  renderError(error);
}
