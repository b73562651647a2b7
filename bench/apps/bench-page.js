// Shared by the bench apps (bench/apps/sl: smart-launch, bench/apps/fc: fhirclient,
// bench/apps/bare: no library): the launch settings and the measuring, identical for
// each, and all of it outside the measured spans. Each app itself does only: load its
// library, (init), authorize on the launch page; (init), ready on the callback page.
//
// The launch page is opened as launch.html?fhir=<FHIR base>&client=<client id>. (Not
// `iss`: both libraries would take an `iss` in the page URL for an EHR launch.)

export const SCOPE = "launch/patient openid fhirUser patient/*.rs offline_access";

export function launchParams() {
  const q = new URLSearchParams(location.search);
  return { fhir: q.get("fhir"), clientId: q.get("client") };
}

const KEY = "bench.launch";

/** The no-library app's transaction record (bench/apps/bare), written by its launch page
 *  and read by its callback page. */
export const BARE_RECORD = "bench.bare.record";

/** Launch page: remembers its navigation start and marks, and on leaving its resource timings. */
export function recordLaunch(marks) {
  const record = { timeOrigin: performance.timeOrigin, ...marks };
  sessionStorage.setItem(KEY, JSON.stringify(record));
  addEventListener("pagehide", () => {
    record.leftAt = performance.now();
    record.resources = resources(performance.getEntriesByType("resource"));
    sessionStorage.setItem(KEY, JSON.stringify(record));
  });
}

function resources(entries) {
  return entries.map((e) => ({
    name: e.name,
    initiatorType: e.initiatorType,
    startTime: e.startTime,
    duration: e.duration,
    transferSize: e.transferSize,
  }));
}

/** Total length of the union of the intervals [startTime, startTime + duration]. */
export function busyTime(entries, from, to) {
  const iv = entries
    .map((e) => [Math.max(from, e.startTime), Math.min(to, e.startTime + e.duration)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of iv) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/**
 * Callback page: `m` holds performance.now() marks: moduleStart, initEnd, readyStart,
 * readyEnd. Reports to the driver (the `benchReady` binding) and window.benchResult.
 */
export function reportReady(lib, m, extra = {}) {
  const launch = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
  sessionStorage.removeItem(KEY);
  const all = resources(performance.getEntriesByType("resource"));
  const inReady = all.filter((e) => e.startTime >= m.readyStart && e.startTime < m.readyEnd);
  const token = inReady.filter((e) => new URL(e.name).pathname === "/token");
  const nav = performance.getEntriesByType("navigation")[0];
  const readyMs = m.readyEnd - m.readyStart;
  const readyNetMs = busyTime(inReady, m.readyStart, m.readyEnd);
  const result = {
    lib,
    ok: true,
    // navigation start of the launch page -> client ready, in page clocks (epoch ms)
    totalMs: launch ? performance.timeOrigin + m.readyEnd - launch.timeOrigin : null,
    launchPageMs: launch ? performance.timeOrigin - launch.timeOrigin : null,
    launchInitMs: launch?.initMs ?? null,
    launchModuleStart: launch?.moduleStart ?? null,
    discoveryMs: launch?.resources
      ? launch.resources
          .filter((e) => e.name.includes("/.well-known/smart-configuration") || e.name.endsWith("/metadata"))
          .reduce((s, e) => s + e.duration, 0)
      : null,
    authorizeToLeaveMs: launch?.leftAt != null ? launch.leftAt - launch.authorizeStart : null,
    // the callback page (its navigation started on the launch page: redirects included)
    redirectsMs: nav ? nav.redirectEnd - nav.redirectStart : null,
    callbackResponseEnd: nav ? nav.responseEnd : null,
    callbackModuleStart: m.moduleStart,
    initMs: m.initEnd - m.moduleStart,
    readyMs,
    tokenRequestMs: token.reduce((s, e) => s + e.duration, 0),
    readyRequests: inReady.map((e) => new URL(e.name).pathname),
    readyNetMs,
    readyOverheadMs: readyMs - readyNetMs,
    readyAt: m.readyEnd,
    ...extra,
  };
  window.benchResult = result;
  window.benchReady?.(result);
}

export function reportError(lib, error) {
  const result = { lib, ok: false, error: String(error?.message ?? error), code: error?.code ?? null };
  window.benchResult = result;
  window.benchReady?.(result);
}
