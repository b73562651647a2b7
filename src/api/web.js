// The `web` flavour: the API, and the wasm's loader (`await init()` first).
export * from "./index.js";
export { default, initSync } from "../browser/wasm.js";
