// No library, callback page: the browser calls that any client's ready() makes (read
// the address and the record, POST the code exchange, clean the address bar, read the
// token response), in the order smart-launch makes them, with no checks at all. Its
// ready() minus network time is the floor under both libraries' "library work".
import { BARE_RECORD, reportError, reportReady } from "../bench-page.js";

async function ready() {
  const query = new URLSearchParams(location.search);
  const record = JSON.parse(sessionStorage.getItem(BARE_RECORD));
  sessionStorage.removeItem(BARE_RECORD);
  if (query.get("state") !== record.state) throw new Error("state mismatch");
  const answer = fetch(record.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: query.get("code"),
      redirect_uri: record.redirectUri,
      client_id: record.clientId,
      code_verifier: record.verifier,
    }),
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  history.replaceState(null, "", location.pathname);
  const response = await answer;
  const token = JSON.parse(await response.text());
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return { token, patientId: token.patient };
}

const m = { moduleStart: performance.now() };
try {
  m.initEnd = m.readyStart = performance.now();
  const client = await ready();
  m.readyEnd = performance.now();
  reportReady("no library", m, { patientId: client.patientId });
} catch (error) {
  reportError("no library", error);
}
