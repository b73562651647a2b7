#!/usr/bin/env bash
# Builds the npm package into pkg/ and packs it (pkg/smart-launch-<version>.tgz), for
# each flavour: `web` (plain <script type="module"> pages and bundlers without wasm
# support: `await init()`) and `bundler` (bundlers with WebAssembly ESM integration):
#   - the release wasm (src/steps/ and the protocol) through wasm-bindgen, into
#     target/pkg-build/<flavour>/, then shrunk by wasm-opt from npm's binaryen (Debian's
#     wasm-opt 108 breaks the output: never use it) into pkg/<flavour>/;
#   - the JS API (src/api/*.js, src/browser/*.js) bundled with wasm-bindgen's glue into
#     one minified pkg/<flavour>/smart_launch.js by esbuild (the bundler flavour keeps the
#     glue's smart_launch_bg.js beside it: the wasm imports it by that name);
#   - the hand-written types of pkg-template/ as smart_launch.d.ts;
#   - package.json and README.md of pkg-template/, the repository's LICENSE.
# Then `npm pack`. Prints the gzip size of each flavour.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
wasm_opt=node_modules/.bin/wasm-opt
[ -x node_modules/.bin/esbuild ] || { echo "build-pkg: node_modules/.bin/esbuild missing: run 'npm ci' (make setup)" >&2; exit 1; }
[ -x "$wasm_opt" ] || { echo "build-pkg: $wasm_opt missing: run 'npm ci' (make setup)" >&2; exit 1; }

# One build of pkg/ at a time (make test, the demo and the benchmarks may overlap).
mkdir -p target
exec 9>target/.build-pkg.lock
flock 9

# Panic locations embed source paths: map the build machine's folders to neutral names
# so no path of the machine that built it ships in the package.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$cargo_home=cargo --remap-path-prefix=$rustup_home=rustup --remap-path-prefix=$PWD=smart-launch" \
  cargo build -q --release --target wasm32-unknown-unknown --lib
wasm="$target_dir/wasm32-unknown-unknown/release/smart_launch.wasm"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

tarball="pkg/smart-launch-$version.tgz"
# Up to date: nothing that goes into the package is newer than its tarball.
if [ -f "$tarball" ] && [ -z "$(find "$wasm" Cargo.toml LICENSE pkg-template src/api src/browser src/js \
      scripts/build-pkg.sh -newer "$tarball" -print -quit)" ]; then
  echo "$tarball is up to date"
  exit 0
fi

rm -rf pkg
esbuild=node_modules/.bin/esbuild
for flavour in web bundler; do
  gen="$target_dir/pkg-build/$flavour"
  out="pkg/$flavour"
  rm -rf "$gen" && mkdir -p "$out"
  wasm-bindgen --target "$flavour" --out-dir "$gen" --out-name smart_launch \
    --remove-name-section --remove-producers-section "$wasm"
  "$wasm_opt" -Oz --strip-debug --strip-producers \
    "$gen/smart_launch_bg.wasm" -o "$out/smart_launch_bg.wasm"

  # One file of JS, minified as fhirclient's build is: the API modules and the glue
  # (the `web` glue finds the wasm through import.meta.url, beside itself). Exports
  # and properties keep their names (esbuild mangles neither).
  glue="$gen/smart_launch.js"
  case $glue in /*) ;; *) glue="./$glue" ;; esac
  entry=src/api/index.js
  [ "$flavour" = web ] && entry=src/api/web.js
  "$esbuild" "$entry" --bundle --format=esm --minify --log-level=warning \
    --alias:smart-launch-wasm="$glue" \
    --external:./smart_launch_bg.wasm --external:./smart_launch_bg.js \
    --outfile="$out/smart_launch.js"
  if [ "$flavour" = bundler ]; then
    "$esbuild" "$gen/smart_launch_bg.js" --minify --format=esm --log-level=warning \
      --outfile="$out/smart_launch_bg.js"
  fi

  cp pkg-template/smart_launch.d.ts "$out/smart_launch.d.ts"
  [ "$flavour" = web ] && cat pkg-template/web-init.d.ts >>"$out/smart_launch.d.ts"
done

cp pkg-template/package.json pkg-template/README.md pkg/
cp LICENSE pkg/
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("pkg/package.json", "utf8"));
  p.version = process.argv[1];
  fs.writeFileSync("pkg/package.json", JSON.stringify(p, null, 2) + "\n");
' "$version"
(cd pkg && npm pack --silent >/dev/null)
[ -f "$tarball" ] || { echo "build-pkg: npm pack made no tarball" >&2; exit 1; }

for flavour in web bundler; do
  # shellcheck disable=SC2086
  gz=$(cat pkg/$flavour/*.wasm pkg/$flavour/*.js | gzip -9 | wc -c)
  echo "pkg/$flavour: wasm + JS = $gz bytes gzip -9"
done
echo "$tarball: $(wc -c <"$tarball") bytes"
