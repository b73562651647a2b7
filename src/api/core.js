// The wasm module (src/steps.rs) and the one place its answers are unwrapped.
import * as wasm from "smart-launch-wasm";
import { SmartError } from "../js/smart_error.js";

export { wasm };

/** The value of a wasm answer (`{"ok": value}`), or its error thrown as a SmartError. */
export function unwrap(answer) {
  const { ok, error } = JSON.parse(answer);
  if (error) throw new SmartError(error.code, error);
  return ok;
}

/** An app's options as JSON text for the wasm (functions and undefined members drop
 *  out); what JSON cannot say (a BigInt, a cycle) is invalid_options. */
export function optionsText(options) {
  try {
    return JSON.stringify(options) ?? "null";
  } catch {
    throw new SmartError("invalid_options", { field: "options" });
  }
}
