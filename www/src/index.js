// index.html: the standalone launch. The user picks a FHIR server (the local sandbox by
// default) and signs in there; the server asks for a patient (launch/patient).
import { authorize } from "smart-launch/web";
import { APP_NAME, STANDALONE_SCOPE, h, initLibrary, loadConfig, mainElement, renderError, showStatus } from "./app.js";

function showForm(config) {
  const input = h("input", {
    type: "url",
    id: "fhir-server",
    name: "iss",
    required: true,
    value: config.defaultServer,
    spellcheck: "false",
    autocomplete: "url",
  });
  const button = h("button", { type: "submit", id: "sign-in" }, "Sign in");
  const status = h("p", { class: "muted", id: "signin-status" });
  const form = h(
    "form",
    { id: "standalone-form" },
    h("label", { for: "fhir-server" }, "FHIR server"),
    h("div", { class: "inline" }, input, button),
    h("p", { class: "hint" }, "The FHIR base URL (the local sandbox by default). The server's sign-in page asks which patient to open."),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "Connecting…";
    try {
      await authorize({
        iss: input.value.trim(),
        clientId: config.clientId,
        scope: STANDALONE_SCOPE,
        redirectUri: "callback.html",
        allowInsecureLocalhost: config.allowInsecureLocalhost === true,
      });
    } catch (error) {
      renderError(error, { actions: [h("a", { class: "button", href: "index.html" }, "Try again")] });
    }
  });

  let ehr = null;
  try {
    const url = new URL(config.defaultServer);
    ehr = new URL("/ehr", url.origin).href;
  } catch {
    // No EHR simulator link.
  }
  mainElement().replaceChildren(
    h(
      "section",
      { class: "card narrow", id: "standalone" },
      h("h2", null, `Open ${APP_NAME}`),
      h("p", null, `${APP_NAME} shows a patient's latest observations. Sign in at your FHIR server to choose a patient.`),
      form,
    ),
    ehr
      ? h(
          "section",
          { class: "card narrow" },
          h("h2", null, "Or launch from the EHR"),
          h("p", null, "The sandbox's EHR simulator opens the app from a patient's chart, inside its own window: "),
          h("p", null, h("a", { href: ehr, id: "ehr-link" }, ehr)),
        )
      : null,
  );
}

try {
  showStatus("Loading…");
  const [config] = await Promise.all([loadConfig(), initLibrary()]);
  showForm(config);
} catch (error) {
  renderError(error);
}
