// fhirclient, launch page: the standalone authorize (redirect), PKCE required.
import { SCOPE, launchParams, recordLaunch, reportError } from "../bench-page.js";

const moduleStart = performance.now();
try {
  const { fhir, clientId } = launchParams();
  recordLaunch({ moduleStart, initMs: 0, authorizeStart: performance.now() });
  await FHIR.oauth2.authorize({
    iss: fhir,
    clientId,
    scope: SCOPE,
    redirectUri: "callback.html",
    pkceMode: "required",
  });
} catch (error) {
  reportError("fhirclient", error);
}
