#!/usr/bin/env bash
# The TypeScript consumer check: installs the packed tarball into a scratch project
# (test-output/ts-consumer) as an app would, and compiles tests/ts-consumer/consumer.ts
# against it with `tsc --noEmit --strict`. Prints "# pass 1" or "# fail 1" for the
# test summary.
set -uo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
tarball="pkg/smart-launch-$version.tgz"
scratch=test-output/ts-consumer
result() { echo "# tests 1"; echo "# $1 1"; [ "$1" = pass ]; exit $?; }

[ -f "$tarball" ] || { echo "no $tarball: run make pkg"; result fail; }
rm -rf "$scratch" && mkdir -p "$scratch"
cp tests/ts-consumer/consumer.ts tests/ts-consumer/tsconfig.json "$scratch/"
printf '{ "name": "ts-consumer", "private": true, "type": "module" }\n' >"$scratch/package.json"
(cd "$scratch" && npm install --no-audit --no-fund --prefer-offline "../../$tarball") \
  || { echo "npm install of $tarball failed"; result fail; }
echo "tsc --noEmit --strict -p $scratch"
if node_modules/.bin/tsc --noEmit --strict -p "$scratch"; then
  echo "ok 1 - consumer.ts type-checks against the installed package"
  result pass
else
  echo "not ok 1 - consumer.ts does not type-check against the installed package"
  result fail
fi
