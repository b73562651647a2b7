#!/usr/bin/env bash
# `make test-e2e`: the end-to-end tests (tests/e2e, node --test + playwright-core +
# Debian's Chromium). Builds the demo app if needed, serves a copy of it whose
# app-config.json points at a sandbox on its own ports (so a running `make demo` is
# no obstacle), starts that sandbox, runs the tests, stops the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${E2E_SANDBOX_PORT:-9420}
app_port=${E2E_APP_PORT:-9421}

for p in "$port" "$app_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "e2e: port $p is in use (another e2e run?); set E2E_SANDBOX_PORT / E2E_APP_PORT" >&2
    exit 1
  fi
done
scripts/build-www.sh
app=test-output/e2e/app
rm -rf "$app" && mkdir -p test-output/e2e && cp -r www/dist "$app"
node -e '
  const [port, appPort, file] = process.argv.slice(1);
  const fhir = `http://127.0.0.1:${port}/fhir`;
  require("fs").writeFileSync(file, JSON.stringify({
    clientId: "smart-launch-demo",
    defaultServer: fhir,
    ehrIssuers: [fhir],
    allowInsecureLocalhost: true,
    expiringLeadSeconds: 10,
  }, null, 2) + "\n");
' "$port" "$app_port" "$app/app-config.json"

origin="http://127.0.0.1:$app_port"
export E2E_SANDBOX="http://127.0.0.1:$port" E2E_APP="$origin"
scripts/with-sandbox.sh "$port" --serve-app "$app" --app-port "$app_port" \
  --client "smart-launch-demo=$origin/callback.html" \
  --client-launch-url "smart-launch-demo=$origin/launch.html" -- \
  node --test --test-reporter=tap --test-concurrency=1 tests/e2e/*.test.mjs
