// The demo is three plain pages; Vite bundles their modules and copies the wasm of
// smart-launch/web next to them (found through `new URL(..., import.meta.url)`).
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    target: "es2022", // top-level await
    modulePreload: { polyfill: false }, // no inline script: CSP script-src 'self'
    rollupOptions: {
      input: {
        index: "index.html",
        launch: "launch.html",
        callback: "callback.html",
      },
    },
  },
  // Pre-bundling would separate the glue from its .wasm in `vite dev`.
  optimizeDeps: { exclude: ["smart-launch"] },
});
