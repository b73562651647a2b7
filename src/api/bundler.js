// The default flavour, for bundlers with WebAssembly ESM integration: the bundler loads
// the wasm as a module, and with it the one module it imports, the browser's URL parser
// (src/browser/url.js, shipped beside it as smart_launch_url.js); the API is ready at
// once.
import * as wasm from "./smart_launch_bg.wasm";
import { bindUrl } from "./smart_launch_url.js";
import { attach } from "./core.js";

bindUrl(wasm);
attach(wasm);

export * from "./index.js";
