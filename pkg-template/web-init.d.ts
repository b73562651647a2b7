
// The `web` flavour: the wasm is fetched and instantiated by `init()`, before any other
// call (bundlers with WebAssembly ESM integration use the default flavour instead).
export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
export type SyncInitInput = BufferSource | WebAssembly.Module;

/** What `init` resolves to: the wasm instance's exports (its `memory` among them). */
export interface InitOutput {
  readonly memory: WebAssembly.Memory;
}

/**
 * Fetches and instantiates the wasm (`smart_launch_bg.wasm` beside this file unless
 * `module_or_path` says otherwise). Call once, before any other function.
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/** Instantiates the wasm synchronously from its bytes or a compiled module. */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;
