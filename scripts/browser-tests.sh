#!/usr/bin/env bash
# `make test-browser`: the browser tests (tests/browser, node --test + playwright-core +
# Debian's Chromium). They test the package as `make pkg` built it (pkg/web), through
# its public JS API only. Builds nothing of the package: copies the test app
# (tests/browser/app) and pkg/web next to it into test-output/browser/app, starts a
# sandbox that serves that folder on a second origin with the test client registered,
# runs the tests, stops the sandbox.
#   scripts/browser-tests.sh [test files...]   (default: every tests/browser/*.test.mjs)
#   BROWSER_TEST_SANDBOX_PORT (default 9440), BROWSER_TEST_APP_PORT (default 9441)
set -euo pipefail
cd "$(dirname "$0")/.."
port=${BROWSER_TEST_SANDBOX_PORT:-9440}
app_port=${BROWSER_TEST_APP_PORT:-9441}

[ -f pkg/web/smart_launch.js ] || { echo "browser-tests: pkg/web is missing: run 'make pkg'" >&2; exit 1; }
for p in "$port" "$app_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "browser-tests: port $p is in use (another run?); set BROWSER_TEST_SANDBOX_PORT / BROWSER_TEST_APP_PORT" >&2
    exit 1
  fi
done
app=test-output/browser/app
rm -rf "$app" && mkdir -p test-output/browser
cp -r tests/browser/app "$app"
cp -r pkg/web "$app/smart-launch"

[ $# -gt 0 ] || set -- tests/browser/*.test.mjs
origin="http://127.0.0.1:$app_port"
export BROWSER_TEST_SANDBOX="http://127.0.0.1:$port" BROWSER_TEST_APP="$origin"
scripts/with-sandbox.sh "$port" --serve-app "$app" --app-port "$app_port" \
  --client "smart-launch-test=$origin/callback.html" -- \
  node --test --test-reporter=tap --test-concurrency=1 "$@"
