// The wasm module (src/steps/): the calls into it, and the one place their answers are
// unwrapped. The calling convention is that of src/steps/abi.rs: each input goes into a
// buffer from the wasm's `alloc`, and the answer's text is read out of its memory at
// once, before the next call.
import { SmartError } from "../js/smart_error.js";

let wasm;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Takes the exports of an instantiated wasm (src/browser/wasm.js, the bundler entry). */
export function attach(exports) {
  wasm = exports;
  return exports;
}

/** An input's (pointer, length) in the wasm's memory: text as UTF-8, or bytes. */
function put(input) {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const at = wasm.alloc(bytes.length);
  if (!at) throw new Error("smart-launch: the wasm is out of memory");
  new Uint8Array(wasm.memory.buffer, at, bytes.length).set(bytes);
  return [at, bytes.length];
}

/** Calls the export `fn` with `head` (numbers) and `inputs`; the value of its answer
 *  (`{"ok": value}`), or its error thrown as a SmartError. */
function call(fn, head, ...inputs) {
  if (!wasm) throw new Error("smart-launch: await init() before any other call");
  const length = wasm[fn](...head, ...inputs.flatMap(put));
  const { ok, error } = JSON.parse(decoder.decode(new Uint8Array(wasm.memory.buffer, wasm.answer(), length)));
  if (error) throw new SmartError(error.code, error);
  return ok;
}

const NO_BYTES = new Uint8Array(0);

/** Runs the wasm step `name` with `args` (strings, numbers, booleans, undefined). */
export const step = (name, ...args) => call("step", [], name, JSON.stringify(args), NO_BYTES);

/** Runs a step that also takes bytes (random bytes, a digest). */
export const stepWithBytes = (name, bytes, ...args) => call("step", [], name, JSON.stringify(args), bytes);

// A grant that the app drops without logout() is freed when it is collected.
const unreachable = new FinalizationRegistry((grant) => wasm.grant_free(grant));

/** A launched session in the wasm: its tokens and timing policy (`Grant` of src/steps/grant.rs). */
export class Grant {
  #grant;

  constructor() {
    if (!wasm) throw new Error("smart-launch: await init() before any other call");
    this.#grant = wasm.grant_new();
    unreachable.register(this, this.#grant, this);
  }

  /** Runs the grant's step `name` with `args`. */
  step(name, ...args) {
    return call("grant_call", [this.#grant], name, JSON.stringify(args));
  }

  /** Gives the wasm's memory back (a launch that failed). A freed grant answers
   *  session_ended. */
  free() {
    unreachable.unregister(this);
    wasm.grant_free(this.#grant);
    this.#grant = 0;
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
