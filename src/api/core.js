// The wasm module (src/steps/): its steps, and the one place their answers are
// unwrapped.
import { Grant as WasmGrant, step as runStep } from "smart-launch-wasm";
import { SmartError } from "../js/smart_error.js";

const NO_BYTES = new Uint8Array(0);

/** The value of a wasm answer (`{"ok": value}`), or its error thrown as a SmartError. */
function unwrap(answer) {
  const { ok, error } = JSON.parse(answer);
  if (error) throw new SmartError(error.code, error);
  return ok;
}

/** Runs the wasm step `name` with `args` (strings, numbers, booleans, undefined). */
export const step = (name, ...args) => unwrap(runStep(name, JSON.stringify(args), NO_BYTES));

/** Runs a step that also takes bytes (random bytes, a digest). */
export const stepWithBytes = (name, bytes, ...args) => unwrap(runStep(name, JSON.stringify(args), bytes));

/** A launched session in the wasm: its tokens and timing policy (`Grant` of src/steps/grant.rs). */
export class Grant {
  #grant = new WasmGrant();

  /** Runs the grant's step `name` with `args`. */
  step(name, ...args) {
    return unwrap(this.#grant.call(name, JSON.stringify(args)));
  }

  /** Gives the wasm's memory back (a launch that failed). */
  free() {
    this.#grant.free();
  }
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
