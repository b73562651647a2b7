#!/usr/bin/env bash
# `make test-types`: the package as a consumer sees it. Installs the packed tarball into
# a scratch project (test-output/ts-consumer) with `npm install ./smart-launch-*.tgz`,
# then checks, printing TAP lines and "# pass N" / "# fail N" for the test summary:
#   1. tests/ts-consumer/consumer.ts (every API entry point, every TokenEvent variant)
#      compiles against the installed types with `tsc --noEmit --strict`;
#   2. the web build loads (initSync, and init() from each form of input) and exports
#      the API and SmartError;
#   3. the bundler build loads under WebAssembly ESM integration (as bundlers do it);
#   4. every error code the library reports is documented in the package README.
set -uo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
tarball="smart-launch-$version.tgz"
scratch=test-output/ts-consumer
pass=0 fail=0 n=0
check() { # check NAME COMMAND...
  local name=$1; shift
  n=$((n + 1))
  if "$@"; then pass=$((pass + 1)); echo "ok $n - $name"; else fail=$((fail + 1)); echo "not ok $n - $name"; fi
}
finish() { echo "1..$n"; echo "# tests $n"; echo "# pass $pass"; echo "# fail $fail"; [ "$fail" = 0 ]; exit $?; }

install() {
  [ -f "pkg/$tarball" ] || { echo "no pkg/$tarball: run make pkg"; return 1; }
  rm -rf "$scratch" && mkdir -p "$scratch"
  cp "pkg/$tarball" tests/ts-consumer/consumer.ts tests/ts-consumer/tsconfig.json "$scratch/"
  printf '{ "name": "ts-consumer", "private": true, "type": "module" }\n' >"$scratch/package.json"
  (cd "$scratch" && npm install --no-audit --no-fund --prefer-offline "./$tarball")
}
check "npm install ./$tarball into a clean folder" install || finish

types() { node_modules/.bin/tsc --noEmit --strict -p "$scratch"; }
check "consumer.ts type-checks (tsc --noEmit --strict)" types

web() {
  (cd "$scratch" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const m = await import("smart-launch/web");
    m.initSync({ module: readFileSync("node_modules/smart-launch/web/smart_launch_bg.wasm") });
    for (const f of ["authorize", "authorizeUrl", "authorizePopup", "ready", "errorCodes"])
      if (typeof m[f] !== "function") throw new Error(`no ${f}`);
    if (typeof m.SmartClient !== "function") throw new Error("no SmartClient");
    if (!(new m.SmartError("x", "y") instanceof Error)) throw new Error("SmartError is not an Error");
    // The message Display gives the Rust error (src/protocol/error.rs, the same string).
    const e = new m.SmartError("token_request_failed",
      { field: "code", status: 400, oauthError: "invalid_request", description: "bad code" });
    if (e.message !== "token_request_failed (field `code`) HTTP 400 error=invalid_request: bad code")
      throw new Error(`SmartError message: ${e.message}`);
    if (!m.errorCodes().includes("session_lost")) throw new Error("errorCodes()");
  ')
}
check "web build: initSync, the API and SmartError are exported" web

# init() as src/browser/wasm.js takes its input: a Response (compiled while it streams
# when served as application/wasm, read first otherwise), bytes, or a compiled module;
# and a call before init() says so.
init_forms() {
  (cd "$scratch" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const bytes = readFileSync("node_modules/smart-launch/web/smart_launch_bg.wasm");
    const forms = [
      new Response(bytes, { headers: { "content-type": "application/wasm" } }),
      new Response(bytes, { headers: { "content-type": "application/octet-stream" } }),
      { module_or_path: bytes },
      new WebAssembly.Module(bytes),
    ];
    for (const [i, form] of forms.entries()) {
      const m = await import(`${import.meta.resolve("smart-launch/web")}?fresh=${i}`);
      let message = "";
      try { m.errorCodes(); } catch (e) { message = e.message; }
      if (!message.includes("init()")) throw new Error(`a call before init(): ${message || "no error"}`);
      const exports = await m.default(form);
      if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error(`form ${i}: no memory`);
      if (!m.errorCodes().includes("session_lost")) throw new Error(`form ${i}: errorCodes()`);
    }
  ')
}
check "web build: init() takes a Response, bytes or a module; a call before it is refused" init_forms

bundler() {
  (cd "$scratch" && node --no-warnings --experimental-wasm-modules --input-type=module -e '
    const m = await import("smart-launch");
    if (typeof m.ready !== "function" || typeof m.SmartError !== "function") throw new Error("exports");
    if (!m.errorCodes().includes("session_lost")) throw new Error("errorCodes()");
  ')
}
check "bundler build: loads under WebAssembly ESM integration" bundler

# A launch step in each flavour: a redirectUri with credentials is refused by the plan,
# a good one gets as far as the discovery request (no server here: network_error).
plan_step() {
  (cd "$scratch" && node --no-warnings --experimental-wasm-modules --input-type=module -e '
    import { readFileSync } from "node:fs";
    globalThis.location = { href: "https://app.example/launch.html", search: "", origin: "https://app.example" };
    globalThis.fetch = async () => { throw new TypeError("offline"); };
    const web = await import("smart-launch/web");
    web.initSync({ module: readFileSync("node_modules/smart-launch/web/smart_launch_bg.wasm") });
    const bundler = await import("smart-launch");
    for (const [name, m] of [["web", web], ["bundler", bundler]]) {
      const launch = (redirectUri) =>
        m.authorizeUrl({ iss: "https://ehr.example/fhir", clientId: "c", scope: "launch/patient", redirectUri })
          .then(() => "no error", (e) => `${e.code} ${e.field ?? ""}`.trim());
      const refused = await launch("https://user:pw@app.example/cb.html");
      if (refused !== "invalid_options redirectUri") throw new Error(`${name}: credentials: ${refused}`);
      const good = await launch("cb.html");
      if (good !== "network_error") throw new Error(`${name}: a good redirectUri: ${good}`);
    }
  ')
}
check "both builds: the plan checks the redirectUri, then discovery is requested" plan_step

# The wasm's stack (build.rs) holds the JSON reader at its nesting limit: options nested
# 64 deep are read (and refused as options), not a trap of the wasm.
deep_json() {
  (cd "$scratch" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    globalThis.location = { href: "https://app.example/launch.html", search: "", origin: "https://app.example" };
    const m = await import("smart-launch/web");
    m.initSync({ module: readFileSync("node_modules/smart-launch/web/smart_launch_bg.wasm") });
    let deep = [];
    for (let i = 1; i < 63; i++) deep = [deep];
    const options = { iss: "https://ehr.example/fhir", clientId: "c", scope: "openid", redirectUri: "cb.html", iss2: deep };
    const outcome = await m.authorizeUrl(options).then(() => "no error", (e) => e);
    if (!(outcome instanceof m.SmartError)) throw new Error(`options 64 deep: ${outcome}`);
  ')
}
check "web build: JSON as deep as the reader allows fits the wasm's stack" deep_json

documented() {
  (cd "$scratch" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    const m = await import("smart-launch/web");
    m.initSync({ module: readFileSync("node_modules/smart-launch/web/smart_launch_bg.wasm") });
    const readme = readFileSync("node_modules/smart-launch/README.md", "utf8");
    const missing = m.errorCodes().filter((c) => !readme.includes(`| \`${c}\` |`));
    if (missing.length) throw new Error(`README lacks error codes: ${missing.join(", ")}`);
  ')
}
check "every error code is in the package README's table" documented
finish
