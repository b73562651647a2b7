#!/usr/bin/env bash
# Builds the npm package into pkg/ and packs it (pkg/smart-launch-<version>.tgz), for
# each flavour: `web` (plain <script type="module"> pages and bundlers without wasm
# support: `await init()`) and `bundler` (bundlers with WebAssembly ESM integration):
#   - the release wasm (src/steps/ and the protocol), shrunk by wasm-opt from npm's
#     binaryen (Debian's wasm-opt 108 breaks the output: never use it), as
#     pkg/<flavour>/smart_launch_bg.wasm; it imports nothing and exports plain functions
#     (src/steps/abi.rs), so no binding generator runs;
#   - the JS API (src/api/*.js, src/browser/*.js) bundled into one minified
#     pkg/<flavour>/smart_launch.js by esbuild: src/api/web.js with its loader `init()`,
#     or src/api/bundler.js, which imports the wasm as a module;
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
mkdir -p pkg/web pkg/bundler
# --flatten --rereloop between -Oz passes: 0.7 KB gz less than -Oz alone, measured (37.7
# against 38.4 KB); an -Oz before them and -Os -Oz after took 42-51 B gz more off than
# --flatten --rereloop -Oz -Oz, on two builds; other pass lists measured within 0.1 KB.
# --strip-target-features: the features section only tells tools which wasm features the
# code uses; browsers and bundlers ignore it. 151 B raw, 107 B gz (26,049 -> 25,942).
"$wasm_opt" -Oz --flatten --rereloop -Os -Oz --strip-debug --strip-producers --strip-target-features "$wasm" -o pkg/web/smart_launch_bg.wasm
cp pkg/web/smart_launch_bg.wasm pkg/bundler/smart_launch_bg.wasm
for flavour in web bundler; do
  out="pkg/$flavour"
  # One file of JS, minified as fhirclient's build is. Exports and properties keep their
  # names (esbuild mangles neither).
  "$esbuild" "src/api/$flavour.js" --bundle --format=esm --minify --log-level=warning \
    --external:./smart_launch_bg.wasm --outfile="$out/smart_launch.js"
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

# Each file gzipped on its own, as a server sends them and as `make bench` counts them.
gz() { gzip -9 -n <"$1" | wc -c; }
for flavour in web bundler; do
  wasm_gz=$(gz "pkg/$flavour/smart_launch_bg.wasm")
  js_gz=$(gz "pkg/$flavour/smart_launch.js")
  echo "pkg/$flavour: wasm $wasm_gz + JS $js_gz = $((wasm_gz + js_gz)) bytes gzip -9"
done
echo "$tarball: $(wc -c <"$tarball") bytes"
