// The sandbox's test hooks (/_log, /_faults; sandbox/README.md), shared by the browser
// tests (tests/browser) and the end-to-end tests (tests/e2e).
import assert from "node:assert/strict";

/** The hooks of the sandbox at `base` (its origin). */
export function sandboxHooks(base) {
  /** One call of a hook: its JSON answer, or null for an empty one. */
  async function sandbox(method, path, body) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: HTTP ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  const clearFaults = () => sandbox("DELETE", "/_faults");
  const clearLog = () => sandbox("DELETE", "/_log");
  return {
    sandbox,
    clearFaults,
    clearLog,
    /** Every request the sandbox received since the last reset. */
    log: () => sandbox("GET", "/_log"),
    /** Makes the sandbox misbehave (a fault spec: sandbox/README.md). */
    fault: (spec) => sandbox("POST", "/_faults", spec),
    /** Fresh sandbox state for a test: no faults, an empty log. */
    async reset() {
      await clearFaults();
      await clearLog();
    },
  };
}
