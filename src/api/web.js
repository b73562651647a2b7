// The `web` flavour: the API, and the wasm's init (`await init()` first).
export * from "./index.js";
export { default, initSync } from "smart-launch-wasm";
