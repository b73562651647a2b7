#!/usr/bin/env bash
# Runs every cargo-fuzz target (or those named as arguments) for FUZZ_SECONDS (default
# 60) and reports executions and coverage.
# A crash stops the run with the failing input saved under fuzz/artifacts/.
set -euo pipefail
seconds=${FUZZ_SECONDS:-60}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
cd "$(dirname "$0")/../fuzz"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for target in "${targets[@]}"; do
  echo "== fuzz $target for $seconds s"
  log=$(mktemp)
  if ! cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -40 "$log"
    exit 1
  fi
  grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1
  grep -E '^Done [0-9]+ runs' "$log" || true
  rm -f "$log"
done
