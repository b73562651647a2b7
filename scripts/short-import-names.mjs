// Renames the wasm's imports from the JS glue to short names, in the wasm and in the
// glue alike: wasm-bindgen names each import after its JS function plus a 16-digit hash
// (`__wbg_fetch_21015a0a4570ab44`), and those names ship twice, once in each file, where
// the hashes do not compress. Run by build-pkg.sh before the glue is minified.
//
// usage: node scripts/short-import-names.mjs <wasm> <glue.js>...
// The glue files are those that name the imports: the `web` flavour's smart_launch.js
// (keys of the imports object), the `bundler` flavour's smart_launch_bg.js (its exports,
// which the wasm imports by name). An old name that is not found in the glue is an
// error: the two files would no longer match.
import fs from "node:fs";

const [wasmPath, ...gluePaths] = process.argv.slice(2);
if (!wasmPath || gluePaths.length === 0) {
  console.error("usage: short-import-names.mjs <wasm> <glue.js>...");
  process.exit(2);
}
// wasm-bindgen's module of the glue: "./<out-name>_bg.js".
const isGlueModule = (module) => /^\.\/[\w-]+_bg\.js$/.test(module);

const bytes = fs.readFileSync(wasmPath);
let pos = 8; // magic + version

function readU32(buf, at) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[at++];
    result |= (b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) return [result >>> 0, at];
  }
}

function u32(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

function name(s) {
  const b = Buffer.from(s, "utf8");
  return Buffer.concat([u32(b.length), b]);
}

// Short, valid JS identifiers that no wasm-bindgen name looks like: _0, _1, ... _z, _10...
const shortName = (i) => `_${i.toString(36)}`;

const renames = new Map();
const parts = [bytes.subarray(0, 8)];
while (pos < bytes.length) {
  const id = bytes[pos];
  const [size, start] = readU32(bytes, pos + 1);
  const end = start + size;
  if (id !== 2) {
    parts.push(bytes.subarray(pos, end));
    pos = end;
    continue;
  }
  // The import section: module name, field name, then the import's description, which
  // is copied as is (its length depends on its kind).
  let at = start;
  let count;
  [count, at] = readU32(bytes, at);
  const body = [u32(count)];
  for (let i = 0; i < count; i++) {
    let len;
    [len, at] = readU32(bytes, at);
    const module = bytes.toString("utf8", at, at + len);
    at += len;
    [len, at] = readU32(bytes, at);
    const field = bytes.toString("utf8", at, at + len);
    at += len;
    const descStart = at;
    const kind = bytes[at++];
    if (kind === 0) [, at] = readU32(bytes, at); // function: type index
    else if (kind === 1) { // table: reftype, limits
      at++;
      const flags = bytes[at++];
      [, at] = readU32(bytes, at);
      if (flags & 1) [, at] = readU32(bytes, at);
    } else if (kind === 2) { // memory: limits
      const flags = bytes[at++];
      [, at] = readU32(bytes, at);
      if (flags & 1) [, at] = readU32(bytes, at);
    } else if (kind === 3) at += 2; // global: valtype, mutability
    else throw new Error(`import ${module}/${field}: unknown kind ${kind}`);
    let newField = field;
    if (isGlueModule(module)) {
      newField = shortName(renames.size);
      renames.set(field, newField);
    }
    body.push(name(module), name(newField), bytes.subarray(descStart, at));
  }
  if (at !== end) throw new Error("import section: unexpected length");
  const section = Buffer.concat(body);
  parts.push(Buffer.from([2]), u32(section.length), section);
  pos = end;
}
fs.writeFileSync(wasmPath, Buffer.concat(parts));

const found = new Set();
for (const gluePath of gluePaths) {
  let js = fs.readFileSync(gluePath, "utf8");
  for (const [from, to] of renames) {
    js = js.replace(new RegExp(`\\b${from.replace(/\$/g, "\\$")}\\b`, "g"), () => {
      found.add(from);
      return to;
    });
  }
  fs.writeFileSync(gluePath, js);
}
// Every import must have been named in the glue, or the two files no longer match.
const missing = [...renames.keys()].filter((from) => !found.has(from));
if (missing.length) {
  console.error(`short-import-names: not in the glue: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(`short-import-names: ${renames.size} imports renamed`);
