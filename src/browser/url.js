// The browser's URL parser, which the wasm imports (src/protocol/url.rs): the URL a
// check looks at is the one the browser then fetches or navigates to. The wasm gets the
// parts of `new URL(input, base)` one per line: scheme, "1" when there are credentials,
// host, port, path, "?query" and "#fragment" (each empty when absent).
let wasm;

/** Takes the exports of the instantiated wasm (src/browser/wasm.js, the bundler entry). */
export const bindUrl = (exports) => {
  wasm = exports;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const read = (at, length) => decoder.decode(new Uint8Array(wasm.memory.buffer, at, length));

function parts(input, base) {
  try {
    const u = new URL(input, base);
    const [beforeHash] = u.href.split("#");
    return [
      u.protocol.slice(0, -1),
      u.username || u.password ? "1" : "",
      u.hostname,
      u.port,
      u.pathname,
      // `search` and `hash` are "" both for none and for a bare "?" or "#".
      beforeHash.includes("?") ? `?${u.search.slice(1)}` : "",
      u.href.includes("#") ? `#${u.hash.slice(1)}` : "",
    ].join("\n");
  } catch {
    return "";
  }
}

/** The wasm's import: writes the parts into a buffer from its `alloc`, the buffer's
 *  address at `out`; returns their length (0: the browser refused the input). */
export function parse_url(input, inputLength, base, baseLength, out) {
  const bytes = encoder.encode(parts(read(input, inputLength), baseLength ? read(base, baseLength) : undefined));
  if (!bytes.length) return 0;
  const at = wasm.alloc(bytes.length);
  if (!at) return 0;
  new Uint8Array(wasm.memory.buffer, at, bytes.length).set(bytes);
  new DataView(wasm.memory.buffer).setUint32(out, at, true);
  return bytes.length;
}
