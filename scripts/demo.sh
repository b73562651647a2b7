#!/usr/bin/env bash
# `make demo`: builds the demo app if needed, then runs the sandbox SMART server with
# the app on a second origin, and prints the two URLs to open. Ctrl-C stops it.
#   sandbox (FHIR base, authorization server, EHR simulator): http://127.0.0.1:9400
#   the demo app (www/dist):                                   http://127.0.0.1:9401
set -euo pipefail
cd "$(dirname "$0")/.."
port=9400
app_port=9401

scripts/build-www.sh
cargo build -q -p smart-sandbox
bin="${CARGO_TARGET_DIR:-target}/debug/smart-sandbox"

for p in $port $app_port; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "demo: port $p is in use (another 'make demo'?); stop that first." >&2
    exit 1
  fi
done

mkdir -p test-output
log=test-output/demo-sandbox.log
"$bin" --port "$port" --serve-app www/dist --app-port "$app_port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; echo; echo "demo stopped"' EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/fhir/.well-known/smart-configuration" >/dev/null 2>&1 \
    && curl -fsS "http://127.0.0.1:$app_port/index.html" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "smart-sandbox exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done

cat <<MSG

  smart-launch demo is running.

  EHR launch:        http://127.0.0.1:$port/ehr
                     the sandbox's EHR simulator: pick a patient, "Open smart-launch-demo";
                     the app opens in the EHR's frame and signs in through a popup.
  Standalone launch: http://127.0.0.1:$app_port/index.html

  FHIR base: http://127.0.0.1:$port/fhir   (sandbox log: $log)
  Press Ctrl-C to stop.

MSG
wait "$pid"
