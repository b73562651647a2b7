#!/usr/bin/env bash
# Builds the demo app (www/dist) from the packed tarball, as a user's app installs it:
# `npm ci` when the tarball or the lockfile changed, `vite build` when a source did.
# Needs pkg/smart-launch-<version>.tgz (make pkg).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
tarball="pkg/smart-launch-$version.tgz"
[ -f "$tarball" ] || { echo "build-www: no $tarball (run make pkg)" >&2; exit 1; }
grep -q "\"file:../$tarball\"" www/package.json \
  || { echo "build-www: www/package.json must depend on file:../$tarball" >&2; exit 1; }

cd www
# The tarball is rebuilt with every library change: an integrity hash in the lockfile
# would make npm ci install a stale copy from its cache (or fail), so keep none.
node -e '
  const fs = require("fs");
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
  const entry = lock.packages && lock.packages["node_modules/smart-launch"];
  if (entry && entry.integrity) {
    delete entry.integrity;
    fs.writeFileSync("package-lock.json", JSON.stringify(lock, null, 2) + "\n");
  }
'
sum=$(sha256sum "../$tarball" | cut -d' ' -f1)
stamp=node_modules/.smart-launch-tarball.sha256
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
  npm ci --no-audit --no-fund
  echo "$sum" >"$stamp"
fi
if [ ! -f dist/index.html ] || [ -n "$(find index.html launch.html callback.html src public \
      vite.config.js package.json "$stamp" -newer dist/index.html -print -quit)" ]; then
  node_modules/.bin/vite build --logLevel warn
  echo "www/dist built"
else
  echo "www/dist is up to date"
fi
