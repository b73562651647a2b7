#!/usr/bin/env bash
# Builds the npm package into pkg/ and packs it (pkg/smart-launch-<version>.tgz):
#   - the release wasm through wasm-bindgen, for the `web` target (plain
#     <script type="module"> pages and bundlers without wasm support: `await init()`)
#     and the `bundler` target (bundlers with WebAssembly ESM integration);
#   - each wasm shrunk by wasm-opt from npm's binaryen (Debian's wasm-opt 108 breaks
#     the output: never use it);
#   - `SmartError` (a wasm-bindgen snippet) re-exported from each flavour's entry;
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
RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$cargo_home=cargo --remap-path-prefix=$PWD=smart-launch" \
  cargo build -q --release --target wasm32-unknown-unknown --lib
wasm="$target_dir/wasm32-unknown-unknown/release/smart_launch.wasm"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

tarball="pkg/smart-launch-$version.tgz"
# Up to date: nothing that goes into the package is newer than its tarball.
if [ -f "$tarball" ] && [ -z "$(find "$wasm" Cargo.toml LICENSE pkg-template scripts/build-pkg.sh \
      -newer "$tarball" -print -quit)" ]; then
  echo "$tarball is up to date"
  exit 0
fi

rm -rf pkg
for flavour in web bundler; do
  out="pkg/$flavour"
  wasm-bindgen --target "$flavour" --out-dir "$out" --out-name smart_launch \
    --remove-name-section --remove-producers-section "$wasm"
  "$wasm_opt" -Oz --strip-debug --strip-producers \
    "$out/smart_launch_bg.wasm" -o "$out/smart_launch_bg.wasm"
  # Short import names in the wasm and the glue (the script says why).
  glue_names="$out/smart_launch.js"
  [ "$flavour" = bundler ] && glue_names="$out/smart_launch_bg.js"
  node scripts/short-import-names.mjs "$out/smart_launch_bg.wasm" "$glue_names"

  # SmartError is defined in a wasm-bindgen snippet (src/js/smart_error.js); the
  # .d.ts declares it (typescript_custom_section), so the entry must export it.
  snippet=$(cd "$out" && ls snippets/smart-launch-*/src/js/smart_error.js)
  [ "$(echo "$snippet" | wc -l)" = 1 ] || { echo "build-pkg: expected one smart_error.js snippet in $out" >&2; exit 1; }
  line="export { SmartError } from './$snippet';"
  grep -qxF "$line" "$out/smart_launch.js" || echo "$line" >>"$out/smart_launch.js"
  n=$(grep -c '^export .*\bSmartError\b' "$out/smart_launch.js" || true)
  [ "$n" = 1 ] || { echo "build-pkg: $out/smart_launch.js exports SmartError $n times" >&2; exit 1; }
  n=$(grep -c '^export class SmartError\b' "$out/smart_launch.d.ts" || true)
  [ "$n" = 1 ] || { echo "build-pkg: $out/smart_launch.d.ts declares SmartError $n times" >&2; exit 1; }

  # The glue ships minified, as fhirclient's build does: wasm-bindgen writes it with
  # every doc comment and long local names, and an app that serves the package as is
  # (a plain <script type="module">) downloads all of it. 7.2 -> 5.0 KB gz, measured.
  # Exports keep their names (esbuild mangles no export and no property); the types
  # and the docs are in the .d.ts.
  for js in "$out"/smart_launch.js "$out"/smart_launch_bg.js "$out"/snippets/*/src/js/*.js; do
    [ -f "$js" ] || continue
    node_modules/.bin/esbuild --log-level=warning --minify --format=esm "$js" \
      --outfile="$js" --allow-overwrite
  done
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
  glue=pkg/$flavour/smart_launch.js
  [ "$flavour" = bundler ] && glue="$glue pkg/$flavour/smart_launch_bg.js"
  # shellcheck disable=SC2086
  gz=$(cat "pkg/$flavour/smart_launch_bg.wasm" $glue | gzip -9 | wc -c)
  echo "pkg/$flavour: wasm + JS glue = $gz bytes gzip -9"
done
echo "$tarball: $(wc -c <"$tarball") bytes"
