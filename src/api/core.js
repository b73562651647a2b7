// The wasm module (src/steps/): the calls into it, and the one place their answers are
// unwrapped. The calling convention is that of src/steps/abi.rs: the inputs go into the
// wasm's one input buffer, and the answer's text is read out of its memory at once,
// before the next call.
import { SmartError, invalidOptions } from "../js/smart_error.js";

let wasm;

export const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Takes the exports of an instantiated wasm (src/browser/wasm.js, the bundler entry);
 *  answers them. */
export const attach = (exports) => (wasm = exports);

/** A view of `length` bytes at `at` of the wasm's memory as it is now (it may have
 *  grown since the last call). Made afresh each time, which costs nanoseconds: a cached
 *  view and its check cost 15 B gz. */
const bytes = (at, length) => new Uint8Array(wasm.memory.buffer, at, length);

/** Writes the texts (and then the bytes, if any) into the wasm's input buffer, with
 *  `room` bytes for the texts; their lengths, or undefined when the texts need more. */
function write(texts, data, room) {
  const at = wasm.input(room + (data?.length ?? 0));
  if (!at) throw new Error("smart-launch: the wasm is out of memory");
  let end = at;
  const lengths = [];
  for (const text of texts) {
    const { read, written } = encoder.encodeInto(text, bytes(end, at + room - end));
    if (read < text.length) return undefined;
    lengths.push(written);
    end += written;
  }
  if (data) {
    bytes(end, data.length).set(data);
    lengths.push(data.length);
  }
  return lengths;
}

/** Calls the export `fn` with `head` (numbers), then the lengths of `texts` and of
 *  `data` (if given) in the input buffer; the value of its answer (`{"ok": value}`), or
 *  its error thrown as a SmartError. */
function call(fn, head, texts, data) {
  if (!wasm) throw new Error("smart-launch: await init() before any other call");
  const chars = texts.join("").length; // a copy of a few KB at most; 7 B gz less than a sum
  // Room for ASCII first (one byte a UTF-16 unit); at most three bytes a unit otherwise.
  const lengths = write(texts, data, chars) ?? write(texts, data, chars * 3);
  const length = wasm[fn](...head, ...lengths);
  const at = wasm.answer();
  const { ok, error } = JSON.parse(decoder.decode(bytes(at, length)));
  if (error) throw new SmartError(error.code, error);
  return ok;
}

/** Runs the wasm step `name` with `args` (strings, numbers, booleans, undefined); no
 *  bytes (an empty array reads as none; through stepWithBytes, 1 B gz). */
export const step = (name, ...args) => stepWithBytes(name, [], ...args);

/** Runs a step that also takes bytes (random bytes, a digest). */
export const stepWithBytes = (name, data, ...args) => call("step", [], [name, JSON.stringify(args)], data);

/** Has V8 compile the grant's export now, with a call on no grant (which answers
 *  session_ended at once and changes nothing). V8 compiles each wasm function on its
 *  first call: for grant_call, with the grant's steps inlined into it, that took most
 *  of the launch step's 1-3 ms after the token response (1.65 -> 1.25 ms median, bench
 *  pages with marks). ready() calls this while the token request is in flight, where
 *  the compile costs no wait. (Opening sessionStorage while the wasm compiles was tried
 *  as well: on a fast machine it made init() 1.6 ms longer for no clear gain in
 *  ready(), so it went.) */
export const compileGrant = () => wasm.grant_call(0, 0, 0);

// A grant that the app drops without logout() is freed when it is collected.
const unreachable = new FinalizationRegistry((grant) => wasm.grant_free(grant));

/** A launched session in the wasm: its tokens and timing policy (`Grant` of src/steps/grant.rs). */
export class Grant {
  #grant;

  // Only a launch makes grants, after its steps ran: the wasm is there.
  constructor() {
    this.#grant = wasm.grant_new();
    unreachable.register(this, this.#grant, this);
  }

  /** Runs the grant's step `name` with `args`. */
  step(name, ...args) {
    return call("grant_call", [this.#grant], [name, JSON.stringify(args)]);
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
    throw invalidOptions("options");
  }
}
