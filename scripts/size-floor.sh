#!/usr/bin/env bash
# `make size-floor`: the protocol core of smart-launch alone (bench/size-floor: the crate
# without its `browser` feature, one export per protocol step), through the same steps as
# the package (scripts/build-pkg.sh: wasm-bindgen, wasm-opt, short import names, minified
# glue). Prints its gzip -9 size: the floor under the size budget while the protocol
# checks are done in Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in node_modules/.bin/wasm-opt node_modules/.bin/esbuild; do
  [ -x "$tool" ] || { echo "size-floor: $tool missing: run 'npm ci' (make setup)" >&2; exit 1; }
done
target_dir=target/size-floor
CARGO_TARGET_DIR=$target_dir cargo build -q --release --target wasm32-unknown-unknown \
  --manifest-path bench/size-floor/Cargo.toml
out=$target_dir/web
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" --out-name floor \
  --remove-name-section --remove-producers-section \
  "$target_dir/wasm32-unknown-unknown/release/smart_launch_size_floor.wasm"
node_modules/.bin/wasm-opt -Oz --strip-debug --strip-producers \
  "$out/floor_bg.wasm" -o "$out/floor_bg.wasm"
node scripts/short-import-names.mjs "$out/floor_bg.wasm" "$out/floor.js"
node_modules/.bin/esbuild --log-level=warning --minify --format=esm "$out/floor.js" \
  --outfile="$out/floor.js" --allow-overwrite
wasm=$(gzip -9 -c -n "$out/floor_bg.wasm" | wc -c)
glue=$(gzip -9 -c -n "$out/floor.js" | wc -c)
echo "protocol core alone: wasm $wasm + glue $glue = $((wasm + glue)) bytes gzip -9"
