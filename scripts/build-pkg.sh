#!/usr/bin/env bash
# Builds the npm package into pkg/: the release wasm through wasm-bindgen (web and bundler
# targets), shrunk by wasm-opt from npm's binaryen (Debian's wasm-opt 108 breaks the
# output), plus the files of pkg-template/. Then `npm pack` makes the tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
cargo build -q --release --target wasm32-unknown-unknown --lib
wasm="$target_dir/wasm32-unknown-unknown/release/smart_launch.wasm"

rm -rf pkg
for flavour in web bundler; do
  wasm-bindgen --target "$flavour" --out-dir "pkg/$flavour" --out-name smart_launch "$wasm"
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals \
    "pkg/$flavour/smart_launch_bg.wasm" -o "pkg/$flavour/smart_launch_bg.wasm"
done
if [ -d pkg-template ] && [ -n "$(ls -A pkg-template)" ]; then
  cp -r pkg-template/. pkg/
fi
cp LICENSE pkg/
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
if [ -f pkg/package.json ]; then
  sed -i "s/\"version\": \"[^\"]*\"/\"version\": \"$version\"/" pkg/package.json
  (cd pkg && npm pack --silent >/dev/null)
fi
gz=$(cat pkg/web/smart_launch_bg.wasm pkg/web/smart_launch.js | gzip -9 | wc -c)
echo "pkg/: wasm + web glue = $gz bytes gzip -9"
