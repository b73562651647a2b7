// callback.html: the redirect_uri. ready() takes `code` and `state` out of the address
// bar first, checks them against this tab's launch record and exchanges the code once.
import { ready } from "smart-launch/web";
import { EventLog, initLibrary, loadConfig, readyOptions, renderApp, renderError, showStatus } from "./app.js";

// Read before ready() strips the URL: was this page opened with an authorization answer?
const hadCallbackParams = /[?&](code|state|error)=/.test(location.search);

showStatus("Completing sign-in…");
try {
  const [config] = await Promise.all([loadConfig(), initLibrary()]);
  const log = new EventLog();
  const client = await ready(readyOptions(config, log));
  log.add("launched", `signed in; ${client.grantedScopes.length} scopes granted`);
  const ehr = client.grantedScopes.includes("launch");
  renderApp(client, log, { launchType: ehr ? "EHR launch" : "Standalone launch" });
} catch (error) {
  // (In the popup of authorizePopup, ready() hands the answer to the app in the EHR's
  // window and closes this one; it never settles there.)
  if (!hadCallbackParams && error?.code === "session_lost") {
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
