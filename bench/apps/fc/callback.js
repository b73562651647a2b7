// fhirclient, callback page: ready(). The client stays on window for the steady-state
// part of the bench.
import { reportError, reportReady } from "../bench-page.js";

// fhirclient leaves client_id out of refresh requests by default; SMART public clients
// send it (docs/smart-spec.md #60) and the sandbox, like many servers, requires it.
FHIR.oauth2.settings.refreshTokenWithClientId = true;

const m = { moduleStart: performance.now() };
try {
  m.initEnd = m.readyStart = performance.now();
  const client = await FHIR.oauth2.ready();
  m.readyEnd = performance.now();
  window.benchClient = client;
  reportReady("fhirclient", m, { patientId: client.patient.id });
} catch (error) {
  reportError("fhirclient", error);
}
