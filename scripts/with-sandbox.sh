#!/usr/bin/env bash
# Runs a command while a smart-sandbox listens on 127.0.0.1:PORT, then stops it.
#   scripts/with-sandbox.sh PORT [sandbox flags...] -- command [args...]
set -euo pipefail
port=$1; shift
flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift

# Another server on the port would answer the readiness check below and take the
# tests' requests: refuse to start instead.
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
  echo "with-sandbox: port $port is busy; stop what listens there or choose another port" >&2
  exit 1
fi

cargo build -q -p smart-sandbox
bin="${CARGO_TARGET_DIR:-target}/debug/smart-sandbox"
mkdir -p test-output
"$bin" --port "$port" "${flags[@]}" >"test-output/sandbox-$port.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/fhir/.well-known/smart-configuration" >/dev/null 2>&1; then
    break
  fi
  kill -0 $pid 2>/dev/null || { echo "smart-sandbox exited:"; cat "test-output/sandbox-$port.log"; exit 1; }
  sleep 0.1
done
"$@"
