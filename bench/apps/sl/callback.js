// smart-launch, callback page: init, then ready(). The client and the wasm exports
// stay on window for the steady-state part of the bench.
import init, { ready } from "./lib/smart_launch.js";
import { reportError, reportReady } from "../bench-page.js";

const m = { moduleStart: performance.now() };
try {
  const wasm = await init();
  m.initEnd = m.readyStart = performance.now();
  const client = await ready();
  m.readyEnd = performance.now();
  window.benchClient = client;
  window.benchWasm = wasm;
  reportReady("smart-launch", m, { patientId: client.patientId });
} catch (error) {
  reportError("smart-launch", error);
}
