// callback.html: the redirect_uri. ready() takes `code` and `state` out of the address
// bar first, checks them against this tab's launch record and exchanges the code once.
import { ready } from "smart-launch/web";
import { EventLog, initLibrary, loadConfig, readyOptions, renderApp, renderError, showStatus, h, mainElement } from "./app.js";

// Read before ready() strips the URL: was this page opened with an authorization answer?
const hadCallbackParams = /[?&](code|state|error)=/.test(location.search);
const inPopup = window.opener != null && window.opener !== window;

showStatus("Completing sign-in…");
try {
  const [config] = await Promise.all([loadConfig(), initLibrary()]);
  const log = new EventLog();
  const client = await ready(readyOptions(config, log));
  log.add("launched", `signed in; ${client.grantedScopes.length} scopes granted`);
  const ehr = client.grantedScopes.includes("launch");
  renderApp(client, log, { launchType: ehr ? "EHR launch" : "Standalone launch" });
} catch (error) {
  if (inPopup && error?.code === "popup_closed" && error?.field === "popup") {
    // The popup of authorizePopup: the result went to the app in the EHR's window.
    mainElement().replaceChildren(
      h("section", { class: "card narrow", id: "popup-done" }, h("h2", null, "Signed in"), h("p", null, "You can close this window and return to the EHR.")),
    );
  } else if (!hadCallbackParams && (error?.code === "state_missing" || error?.code === "session_lost")) {
    // A reload (or a bookmark) of the app page: the tokens were only in memory.
    renderError(error, {
      notice: true,
      title: "Launch the app again",
      advice:
        "This page was reloaded or the launch expired: launch the app again from the EHR " +
        "(or sign in again for a standalone launch). The app keeps its access only in memory, " +
        "so a reload ends the session.",
    });
  } else {
    renderError(error);
  }
}
