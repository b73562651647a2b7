// No library, launch page: the least a standalone PKCE launch must do in the browser
// (discovery, a verifier and its S256 challenge, the record in sessionStorage, the
// redirect), with no checks at all. Not a client to copy: it validates nothing. It is
// the floor the two libraries are measured against (bench/README.md).
import { BARE_RECORD, SCOPE, launchParams, recordLaunch, reportError } from "../bench-page.js";

const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

const moduleStart = performance.now();
try {
  const { fhir, clientId } = launchParams();
  recordLaunch({ moduleStart, initMs: 0, authorizeStart: performance.now() });
  const config = await (await fetch(`${fhir}/.well-known/smart-configuration`)).json();
  const verifier = random(32);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const state = random(16);
  const redirectUri = new URL("callback.html", location.href).href;
  sessionStorage.setItem(BARE_RECORD, JSON.stringify({ state, verifier, clientId, redirectUri, tokenEndpoint: config.token_endpoint }));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: SCOPE,
    state,
    aud: fhir,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.href = url.href;
} catch (error) {
  reportError("no library", error);
}
