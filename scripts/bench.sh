#!/usr/bin/env bash
# `make bench` (issue #6, after `make pkg`): smart-launch against fhirclient.
#   1. fhirclient at the version pinned in bench/package.json, fetched with `npm pack`
#      and checked against the integrity in bench/package-lock.json (only its browser
#      builds are used, so its 700 node dependencies are never installed);
#   2. the two bench apps (bench/apps/{sl,fc}) with their libraries into bench/apps/dist;
#   3. a smart-sandbox on 127.0.0.1:$BENCH_SANDBOX_PORT serving bench/apps/dist on
#      $BENCH_APP_PORT, and bench/run.mjs (headless Chromium), which prints the table
#      and writes bench/results.json.
# Knobs (environment): BENCH_PAIRS (25), BENCH_WARMUP (2), BENCH_CALLS (1000).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${BENCH_SANDBOX_PORT:-9450}
app_port=${BENCH_APP_PORT:-9451}

for f in pkg/web/smart_launch.js pkg/web/smart_launch_bg.wasm; do
  [ -f "$f" ] || { echo "bench: $f missing: run make pkg" >&2; exit 1; }
done
[ -d node_modules/playwright-core ] || { echo "bench: node_modules/playwright-core missing: run make setup" >&2; exit 1; }

# 1. fhirclient
fc_version=$(node -p 'require("./bench/package.json").dependencies.fhirclient')
fc_integrity=$(node -p 'require("./bench/package-lock.json").packages["node_modules/fhirclient"].integrity')
cache=bench/.cache
tgz="$cache/fhirclient-$fc_version.tgz"
sri() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | openssl base64 -A)"; }
mkdir -p "$cache"
if [ ! -f "$tgz" ] || [ "$(sri "$tgz")" != "$fc_integrity" ]; then
  rm -f "$tgz"
  (cd "$cache" && npm pack "fhirclient@$fc_version" --silent >/dev/null)
fi
[ "$(sri "$tgz")" = "$fc_integrity" ] \
  || { echo "bench: $tgz does not match the integrity in bench/package-lock.json" >&2; exit 1; }
rm -rf "$cache/fhirclient" && mkdir -p "$cache/fhirclient"
tar -xzf "$tgz" -C "$cache/fhirclient" --strip-components=2 \
  package/build/fhir-client.pure.min.js package/build/fhir-client.min.js

# 2. the apps: each gets the files its library ships for the browser, as an app serves them
dist=bench/apps/dist
rm -rf "$dist" && mkdir -p "$dist/sl/lib" "$dist/fc/lib" "$dist/bare"
cp bench/apps/bench-page.js "$dist/"
cp bench/apps/sl/*.html bench/apps/sl/*.js "$dist/sl/"
cp bench/apps/fc/*.html bench/apps/fc/*.js "$dist/fc/"
cp bench/apps/bare/*.html bench/apps/bare/*.js "$dist/bare/"
# Under build-pkg.sh's lock, so a concurrent `make pkg` cannot hand us a half-built package;
# the size is measured on these copies, the very bytes the launches load.
mkdir -p target
(
  flock 9
  cp pkg/web/*.js pkg/web/*.wasm "$dist/sl/lib/"
) 9>target/.build-pkg.lock
cp "$cache/fhirclient/fhir-client.pure.min.js" "$dist/fc/lib/"

# 3. the sandbox and the driver
for p in "$port" "$app_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "bench: port $p is in use; set BENCH_SANDBOX_PORT / BENCH_APP_PORT" >&2
    exit 1
  fi
done
app="http://127.0.0.1:$app_port"
export BENCH_SANDBOX="http://127.0.0.1:$port" BENCH_APP="$app" BENCH_FHIRCLIENT_VERSION="$fc_version"
export BENCH_COMMAND="${BENCH_COMMAND:-make bench}"
scripts/with-sandbox.sh "$port" --no-demo-client \
  --client "smart-launch-bench=$app/sl/callback.html" \
  --client "fhirclient-bench=$app/fc/callback.html" \
  --client "bare-bench=$app/bare/callback.html" \
  --serve-app "$dist" --app-port "$app_port" \
  -- node bench/run.mjs
