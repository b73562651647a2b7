// smart-launch, launch page: init, then the standalone authorize (redirect).
import init, { authorize } from "./lib/smart_launch.js";
import { SCOPE, launchParams, recordLaunch, reportError } from "../bench-page.js";

const moduleStart = performance.now();
try {
  await init();
  const initEnd = performance.now();
  const { fhir, clientId } = launchParams();
  recordLaunch({ moduleStart, initMs: initEnd - moduleStart, authorizeStart: performance.now() });
  await authorize({
    iss: fhir,
    clientId,
    scope: SCOPE,
    redirectUri: "callback.html",
    allowInsecureLocalhost: true, // the sandbox is plain http on loopback
  });
} catch (error) {
  reportError("smart-launch", error);
}
