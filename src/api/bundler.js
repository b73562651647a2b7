// The default flavour, for bundlers with WebAssembly ESM integration: the bundler loads
// the wasm as a module (it imports nothing), and the API is ready at once.
import * as wasm from "./smart_launch_bg.wasm";
import { attach } from "./core.js";

attach(wasm);

export * from "./index.js";
