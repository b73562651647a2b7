// Loading the wasm in the `web` flavour: `init()` fetches and instantiates
// smart_launch_bg.wasm (beside this file unless told otherwise), `initSync()` takes its
// bytes or a compiled module. The signatures are those wasm-bindgen's loader had. The
// wasm imports nothing (src/steps/abi.rs).
import { attach } from "../api/core.js";

let loading;

/** Fetches (or takes) and instantiates the wasm, once; resolves to its exports. */
export default function init(input) {
  loading ??= load(input);
  loading.catch(() => (loading = undefined));
  return loading;
}

async function load(input) {
  if (isOptions(input)) ({ module_or_path: input } = input);
  let source = await (input ?? new URL("smart_launch_bg.wasm", import.meta.url));
  if (typeof source === "string" || source instanceof URL || source instanceof Request) {
    source = await fetch(source);
  }
  if (source instanceof Response) {
    if (!source.ok) throw new Error(`smart-launch: fetching the wasm answered ${source.status} (${source.url})`);
    // Compiled below while the bytes arrive; a server that sends another Content-Type
    // than application/wasm makes the browser refuse that, so read the bytes first there.
    if (!source.headers.get("content-type")?.startsWith("application/wasm")) source = await source.arrayBuffer();
  }
  // One instantiate call for the three sources (1 B gz).
  const result = await (source instanceof Response
    ? WebAssembly.instantiateStreaming(source)
    : WebAssembly.instantiate(source));
  return attach((result.instance ?? result).exports);
}

/** Instantiates the wasm from its bytes or a compiled module; returns its exports. */
export function initSync(input) {
  if (isOptions(input)) ({ module: input } = input);
  const module = input instanceof WebAssembly.Module ? input : new WebAssembly.Module(input);
  return attach(new WebAssembly.Instance(module).exports);
}

const isOptions = (input) => input != null && Object.getPrototypeOf(input) === Object.prototype;
