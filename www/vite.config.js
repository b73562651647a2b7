// The demo is three plain pages; Vite bundles their modules and copies the wasm of
// smart-launch/web next to them (found through `new URL(..., import.meta.url)`).
import { defineConfig } from "vite";

// Only the app's own scripts run, plus WebAssembly compilation; data goes to the
// page's origin and to the FHIR servers (https, or loopback for the sandbox). Added
// to the built pages only: `vite dev` injects inline styles. (frame-ancestors cannot
// be set by a meta tag: the server that hosts the app must send it, spec #78.)
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

const contentSecurityPolicy = {
  name: "content-security-policy",
  apply: "build",
  transformIndexHtml: () => [
    { tag: "meta", attrs: { "http-equiv": "Content-Security-Policy", content: CSP }, injectTo: "head-prepend" },
  ],
};

export default defineConfig({
  base: "./",
  plugins: [contentSecurityPolicy],
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
