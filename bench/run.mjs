// The driver of `make bench` (scripts/bench.sh starts the sandbox and prepares the apps):
// sizes, launch-to-ready and steady state of smart-launch against fhirclient, in one
// headless Chromium, against the sandbox on loopback. Prints a Markdown table and writes
// bench/results.json.
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS as HEADLESS_ARGS } from "../tests/support/chromium.mjs";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const SANDBOX = env.BENCH_SANDBOX ?? "http://127.0.0.1:9450";
const APP = env.BENCH_APP ?? "http://127.0.0.1:9451";
const FHIR = `${SANDBOX}/fhir`;
const PAIRS = intEnv("BENCH_PAIRS", 25);
const WARMUP = intEnv("BENCH_WARMUP", 2);
const CALLS = intEnv("BENCH_CALLS", 1000);
const CHUNK = Math.min(100, CALLS);
const FC_VERSION = env.BENCH_FHIRCLIENT_VERSION ?? "?";
const LAUNCH_TIMEOUT_MS = 60_000;

const SL = { key: "sl", name: "smart-launch", clientId: "smart-launch-bench" };
const FC = { key: "fc", name: `fhirclient ${FC_VERSION}`, clientId: "fhirclient-bench" };
// No library: the browser calls a launch cannot avoid, with no checks (bench/apps/bare).
const FLOOR = { key: "bare", name: "no library", clientId: "bare-bench" };

function intEnv(name, fallback) {
  const v = Number.parseInt(env[name] ?? "", 10);
  return Number.isFinite(v) && v >= 0 ? v : fallback;
}

// ----------------------------------------------------------------------------- stats

function quantile(sorted, q) {
  if (!sorted.length) return null;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

function stats(values) {
  const v = values.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return {
    n: v.length,
    median: quantile(v, 0.5),
    p10: quantile(v, 0.1),
    p90: quantile(v, 0.9),
    min: v[0],
    max: v[v.length - 1],
  };
}

// ------------------------------------------------------------------------------ size

function gzipSize(file) {
  // gzip -9 as the budget states it (DESIGN.md), through the gzip program itself.
  return execFileSync("gzip", ["-9", "-c", "-n", file], { maxBuffer: 64 << 20 }).length;
}

function listFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? listFiles(p) : [p];
  });
}

function sizes() {
  // The copy of pkg/web that the bench app serves (scripts/bench.sh), named as in pkg/web.
  const web = path.join(ROOT, "bench/apps/dist/sl/lib");
  // Every file of the web flavour: the wasm and the one JS file (API and glue).
  const ours = listFiles(web).filter((f) => /\.(wasm|js)$/.test(f));
  const fcDir = path.join(ROOT, "bench/.cache/fhirclient");
  const file = (f, base) => ({
    file: path.relative(base, f),
    raw: fs.statSync(f).size,
    gzip: gzipSize(f),
  });
  const ourFiles = ours.map((f) => ({ ...file(f, web), file: `web/${path.relative(web, f)}` }));
  const total = {
    raw: ourFiles.reduce((s, f) => s + f.raw, 0),
    gzip: ourFiles.reduce((s, f) => s + f.gzip, 0),
  };
  const pure = file(path.join(fcDir, "fhir-client.pure.min.js"), fcDir);
  const full = file(path.join(fcDir, "fhir-client.min.js"), fcDir);
  return {
    note: "each file gzip -9 on its own (as a server sends it); total = sum",
    smartLaunch: { files: ourFiles, total },
    fhirclient: { version: FC_VERSION, pure, full },
    ratioToPure: { raw: total.raw / pure.raw, gzip: total.gzip / pure.gzip },
    ratioToFull: { raw: total.raw / full.raw, gzip: total.gzip / full.gzip },
  };
}

// --------------------------------------------------------------------------- machine

function machine(browserVersion) {
  let cpu = "?";
  try {
    const m = fs.readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m);
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  let git = null;
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"], { cwd: ROOT })
      .toString()
      .trim();
    git = dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    // not a checkout
  }
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    chromium: browserVersion,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    git,
  };
}

// ------------------------------------------------------------------------- launching

const CHROMIUM_ARGS = [
  ...HEADLESS_ARGS,
  "--enable-precise-memory-info",
  "--js-flags=--expose-gc",
  // extra flags for experiments, e.g. BENCH_CHROMIUM_ARGS="--js-flags=--expose-gc,--no-wasm-lazy-compilation"
  ...(env.BENCH_CHROMIUM_ARGS ? env.BENCH_CHROMIUM_ARGS.split(" ").filter(Boolean) : []),
];

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One standalone launch in a fresh browser context: launch.html -> sandbox -> callback.html. */
async function launch(browser, lib, { keep = false } = {}) {
  const context = await browser.newContext();
  let resolve;
  const done = new Promise((r) => {
    resolve = r;
  });
  await context.exposeBinding("benchReady", (_source, result) => resolve({ result, at: performance.now() }));
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const url = `${APP}/${lib.key}/launch.html?fhir=${encodeURIComponent(FHIR)}&client=${encodeURIComponent(lib.clientId)}`;
  const t0 = performance.now();
  // The launch page navigates away by itself: wait for the callback's report, not for load.
  page.goto(url, { waitUntil: "commit" }).catch(() => {});
  let outcome;
  try {
    outcome = await withTimeout(done, LAUNCH_TIMEOUT_MS, `${lib.name} launch`);
  } catch (error) {
    await context.close();
    throw new Error(`${error.message} (page at ${page.url()}; ${pageErrors.join("; ")})`);
  }
  const { result, at } = outcome;
  if (!result.ok) {
    await context.close();
    throw new Error(`${lib.name} launch failed: ${result.code ?? ""} ${result.error}`);
  }
  result.wallMs = at - t0;
  if (!keep) {
    await context.close();
    return { result };
  }
  return { result, context, page };
}

const LAUNCH_MEASURES = [
  ["wallMs", "page.goto(launch) → ready (Playwright clock)"],
  ["totalMs", "navigation start of launch page → ready (in page)"],
  ["launchPageMs", "  launch page: navigation start → navigation to /authorize"],
  ["launchInitMs", "    of which init() on the launch page"],
  ["discoveryMs", "    of which discovery request(s)"],
  ["callbackModuleStart", "  callback page: navigation start (incl. /authorize redirect) → app script runs"],
  ["initMs", "  init(): wasm compile + instantiate"],
  ["readyMs", "  ready()"],
  ["tokenRequestMs", "    of which the token request (resource timing)"],
  ["readyOverheadMs", "    ready() minus its network time: library work"],
];

async function launchPairs(browser) {
  const pairs = [];
  for (let i = 0; i < WARMUP + PAIRS; i++) {
    const a = (await launch(browser, SL)).result;
    const b = (await launch(browser, FC)).result;
    const c = (await launch(browser, FLOOR)).result;
    if (i >= WARMUP) pairs.push({ smartLaunch: a, fhirclient: b, floor: c });
    process.stderr.write(`\rbench: launch pair ${i + 1}/${WARMUP + PAIRS}${i < WARMUP ? " (warm-up)" : ""}   `);
  }
  process.stderr.write("\n");
  const summary = {};
  for (const [key] of LAUNCH_MEASURES) {
    const ratios = pairs
      .map((p) => (p.fhirclient[key] > 0 ? p.smartLaunch[key] / p.fhirclient[key] : null))
      .filter((x) => x != null);
    summary[key] = {
      smartLaunch: stats(pairs.map((p) => p.smartLaunch[key])),
      fhirclient: stats(pairs.map((p) => p.fhirclient[key])),
      floor: stats(pairs.map((p) => p.floor[key])),
      pairRatio: stats(ratios),
    };
  }
  return { pairs: pairs.length, warmup: WARMUP, order: "smart-launch, fhirclient, no library, in turn", summary, raw: pairs };
}

/** Did both clients really use PKCE S256 at /authorize and send a verifier to /token? */
async function checkPkce() {
  const out = {};
  const authorize = await (await fetch(`${SANDBOX}/_log?path=/authorize`)).json();
  const token = await (await fetch(`${SANDBOX}/_log?path=/token`)).json();
  for (const lib of [SL, FC, FLOOR]) {
    const a = authorize.filter((r) => r.query?.client_id === lib.clientId);
    const t = token.filter((r) => r.form?.client_id === lib.clientId && r.form?.grant_type === "authorization_code");
    out[lib.key] = {
      authorizeRequests: a.length,
      s256: a.filter((r) => r.query?.code_challenge_method === "S256" && r.query?.code_challenge).length,
      scopes: [...new Set(a.map((r) => r.query?.scope))],
      codeExchanges: t.length,
      withVerifier: t.filter((r) => r.form?.code_verifier).length,
      exchangeStatus: [...new Set(t.map((r) => r.status))],
    };
  }
  return out;
}

// ----------------------------------------------------------------------- steady state

/** In the page: `n` sequential calls; per call its duration and its network time. */
function callsInPage({ kind, n, first }) {
  const client = window.benchClient;
  const mem = () => window.benchWasm?.memory.buffer.byteLength ?? null;
  const path = `Patient/${window.benchResult.patientId}`;
  return (async () => {
    performance.clearResourceTimings();
    performance.setResourceTimingBufferSize(n * 4 + 50);
    const spans = [];
    let memAfterFirst = null;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      if (kind === "refresh") await client.refresh();
      else await client.request(path);
      spans.push([t0, performance.now()]);
      if (first && i === 0) memAfterFirst = mem();
    }
    const entries = performance
      .getEntriesByType("resource")
      .map((e) => [e.startTime, e.startTime + e.duration])
      .sort((x, y) => x[0] - y[0]);
    performance.clearResourceTimings();
    const total = [];
    const net = [];
    let j = 0;
    for (const [a, b] of spans) {
      while (j < entries.length && entries[j][0] < a) j++;
      let busy = 0;
      let end = a;
      for (let k = j; k < entries.length && entries[k][0] < b; k++) {
        const s = Math.max(entries[k][0], end);
        const e = Math.min(entries[k][1], b);
        if (e > s) {
          busy += e - s;
          end = e;
        }
      }
      total.push(b - a);
      net.push(busy);
    }
    return { total, net, memAfterFirst, memAfter: mem() };
  })();
}

async function heap(page) {
  return page.evaluate(() => {
    if (typeof gc === "function") gc();
    return performance.memory?.usedJSHeapSize ?? null;
  });
}

async function steadyState(browser) {
  const a = await launch(browser, SL, { keep: true });
  const b = await launch(browser, FC, { keep: true });
  const libs = [
    { lib: SL, page: a.page },
    { lib: FC, page: b.page },
  ];
  const out = {};
  for (const { lib, page } of libs) {
    out[lib.key] = {
      wasmMemory: [{ at: "after ready()", bytes: await page.evaluate(() => window.benchWasm?.memory.buffer.byteLength ?? null) }],
      jsHeapAfterGc: [{ at: "after ready()", bytes: await heap(page) }],
    };
  }
  for (const kind of ["refresh", "request"]) {
    const acc = { sl: { total: [], net: [] }, fc: { total: [], net: [] } };
    for (let done = 0, c = 0; done < CALLS; c++) {
      const n = Math.min(CHUNK, CALLS - done);
      // alternate which library goes first in each chunk
      const order = c % 2 === 0 ? libs : [...libs].reverse();
      for (const { lib, page } of order) {
        const r = await page.evaluate(callsInPage, { kind, n, first: done === 0 });
        acc[lib.key].total.push(...r.total);
        acc[lib.key].net.push(...r.net);
        if (done === 0 && lib === SL) out.sl.wasmMemory.push({ at: `after the first ${kind}()`, bytes: r.memAfterFirst });
        if (done + n >= CALLS && lib === SL) out.sl.wasmMemory.push({ at: `after ${CALLS} ${kind}()`, bytes: r.memAfter });
      }
      done += n;
      process.stderr.write(`\rbench: ${kind} ${done}/${CALLS}   `);
    }
    process.stderr.write("\n");
    for (const { lib, page } of libs) {
      const t = acc[lib.key].total;
      const net = acc[lib.key].net;
      out[lib.key][kind] = {
        calls: t.length,
        perCallMs: stats(t),
        networkMs: stats(net),
        overheadMs: stats(t.map((x, i) => x - net[i])),
      };
      out[lib.key].jsHeapAfterGc.push({ at: `after ${CALLS} ${kind}()`, bytes: await heap(page) });
    }
  }
  const mem = out.sl.wasmMemory.map((m) => m.bytes);
  const firstAlloc = out.sl.wasmMemory.find((m) => m.at.startsWith("after the first"))?.bytes ?? mem[0];
  out.sl.wasmMemoryGrowthAfterFirstCall = Math.max(...mem.slice(1)) - firstAlloc;
  for (const kind of ["refresh", "request"]) {
    out[`${kind}Ratio`] = {
      perCallMedian: out.sl[kind].perCallMs.median / out.fc[kind].perCallMs.median,
      overheadMedian: out.sl[kind].overheadMs.median / out.fc[kind].overheadMs.median,
    };
  }
  await a.context.close();
  await b.context.close();
  return { calls: CALLS, chunk: CHUNK, order: "chunks of 100 calls, libraries alternating", ...out };
}

// ----------------------------------------------------------------------------- table

const kb = (n) => (n / 1024).toFixed(1) + " KB";
const ms = (x, d = 1) => (x == null ? "–" : x.toFixed(d));
const spread = (s, d = 1) => (s ? `${ms(s.median, d)} [${ms(s.p10, d)}–${ms(s.p90, d)}]` : "–");
const ratio = (x) => (x == null || !Number.isFinite(x) ? "–" : x.toFixed(2));

function table(r) {
  const L = [];
  const m = r.machine;
  L.push(`## smart-launch vs fhirclient ${FC_VERSION}`);
  L.push("");
  L.push(`\`${r.command}\`, ${r.date}; ${m.nproc} cores (${m.cpu}), ${m.chromium} headless, Node ${m.node}; git ${m.git ?? "?"}.`);
  L.push(`Sandbox on loopback (debug build). One run: medians and ratios, absolute times are noisy on a shared machine.`);
  L.push("");
  L.push(`### Size: what an app downloads (each file gzip -9)`);
  L.push("");
  L.push(`| file | raw | gzip -9 |`);
  L.push(`|---|---:|---:|`);
  for (const f of r.size.smartLaunch.files) L.push(`| smart-launch \`${f.file}\` | ${kb(f.raw)} | ${kb(f.gzip)} |`);
  const t = r.size.smartLaunch.total;
  L.push(`| **smart-launch total** | **${kb(t.raw)}** | **${kb(t.gzip)}** |`);
  const fc = r.size.fhirclient;
  L.push(`| fhirclient \`${fc.pure.file}\` | ${kb(fc.pure.raw)} | ${kb(fc.pure.gzip)} |`);
  L.push(`| fhirclient \`${fc.full.file}\` | ${kb(fc.full.raw)} | ${kb(fc.full.gzip)} |`);
  L.push(`| ratio smart-launch / fhirclient pure | ${ratio(r.size.ratioToPure.raw)} | ${ratio(r.size.ratioToPure.gzip)} |`);
  L.push("");
  const lp = r.launch;
  L.push(`### Launch to ready: standalone launch, ${lp.pairs} pairs after ${lp.warmup} warm-up, alternating, fresh browser context each`);
  L.push("");
  L.push(`ms, median [p10–p90]; ratios smart-launch / fhirclient: the median of the per-pair ratios, and the ratio of the medians.`);
  L.push(`"No library" is a third launch in each pair that makes only the browser calls (discovery, PKCE, sessionStorage, the`);
  L.push(`redirect, the code exchange, history.replaceState) with no checks: the floor under both libraries (bench/apps/bare).`);
  L.push("");
  L.push(`| measure | smart-launch | fhirclient | no library | per-pair ratio | ratio of medians |`);
  L.push(`|---|---:|---:|---:|---:|---:|`);
  for (const [key, label] of LAUNCH_MEASURES) {
    const s = lp.summary[key];
    const fcCell = key === "initMs" || key === "launchInitMs" ? "(no init)" : spread(s.fhirclient);
    const noInit = key === "initMs" || key === "launchInitMs";
    const rCell = noInit ? "" : ratio(s.pairRatio?.median);
    const mCell = noInit || !s.fhirclient ? "" : ratio(s.smartLaunch.median / s.fhirclient.median);
    const floorCell = noInit ? "(no init)" : spread(s.floor);
    L.push(`| ${label.replace(/^ +/, (sp) => "&nbsp;".repeat(sp.length))} | ${spread(s.smartLaunch)} | ${fcCell} | ${floorCell} | ${rCell} | ${mCell} |`);
  }
  L.push("");
  const ss = r.steady;
  L.push(`### Steady state: ${ss.calls} calls of each, against the sandbox (${ss.order})`);
  L.push("");
  L.push(`| per call (ms, median [p10–p90]) | smart-launch | fhirclient | ratio of medians |`);
  L.push(`|---|---:|---:|---:|`);
  for (const kind of ["refresh", "request"]) {
    const name = kind === "refresh" ? "`refresh()`" : "`request(\"Patient/<id>\")`";
    L.push(`| ${name} | ${spread(ss.sl[kind].perCallMs, 2)} | ${spread(ss.fc[kind].perCallMs, 2)} | ${ratio(ss[`${kind}Ratio`].perCallMedian)} |`);
    L.push(`| ${name} minus its network time | ${spread(ss.sl[kind].overheadMs, 2)} | ${spread(ss.fc[kind].overheadMs, 2)} | ${ratio(ss[`${kind}Ratio`].overheadMedian)} |`);
  }
  L.push("");
  L.push(`| smart-launch wasm memory | bytes |`);
  L.push(`|---|---:|`);
  for (const w of ss.sl.wasmMemory) L.push(`| ${w.at} | ${w.bytes} |`);
  L.push(`| growth after the first call | ${ss.sl.wasmMemoryGrowthAfterFirstCall} |`);
  L.push("");
  L.push(`| JS heap after GC (bytes) | smart-launch | fhirclient |`);
  L.push(`|---|---:|---:|`);
  ss.sl.jsHeapAfterGc.forEach((h, i) => L.push(`| ${h.at} | ${h.bytes ?? "–"} | ${ss.fc.jsHeapAfterGc[i]?.bytes ?? "–"} |`));
  L.push("");
  L.push(`### Against the budgets of DESIGN.md`);
  L.push("");
  const gz = r.size.smartLaunch.total.gzip;
  const launchRatio = lp.summary.totalMs.pairRatio?.median;
  const work = lp.summary.readyOverheadMs.smartLaunch?.median;
  L.push(`| budget | measured | met |`);
  L.push(`|---|---:|---|`);
  L.push(`| wasm + JS glue ≤ 30 KB gzip -9 | ${kb(gz)} | ${gz <= 30 * 1024 ? "yes" : "no"} |`);
  L.push(`| goal: under fhirclient pure (${kb(fc.pure.gzip)}) | ${ratio(r.size.ratioToPure.gzip)}× | ${gz < fc.pure.gzip ? "yes" : "no"} |`);
  L.push(`| launch-to-ready at least as fast as fhirclient (median per-pair ratio ≤ 1) | ${ratio(launchRatio)} | ${launchRatio <= 1 ? "yes" : "no"} |`);
  L.push(`| library work in ready() apart from the network < 5 ms | ${ms(work)} ms | ${work < 5 ? "yes" : "no"} |`);
  const floor = lp.summary.readyOverheadMs.floor?.median;
  L.push(`| (the same with no library, the browser calls alone: ${ms(floor)} ms) | | |`);
  L.push("");
  const p = r.pkceCheck;
  L.push(
    `PKCE check (sandbox log): smart-launch ${p.sl.s256}/${p.sl.authorizeRequests} S256 authorize requests, ` +
      `${p.sl.withVerifier}/${p.sl.codeExchanges} code exchanges with a verifier; fhirclient ${p.fc.s256}/${p.fc.authorizeRequests}, ` +
      `${p.fc.withVerifier}/${p.fc.codeExchanges}; no library ${p.bare.s256}/${p.bare.authorizeRequests}, ` +
      `${p.bare.withVerifier}/${p.bare.codeExchanges}. Scope: \`${p.sl.scopes.join(" | ")}\`.`,
  );
  return L.join("\n");
}

// ------------------------------------------------------------------------------ main

async function main() {
  const started = Date.now();
  const size = sizes();
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${APP}/sl/launch.html`)).ok) break;
    } catch {
      // not yet
    }
    if (i > 50) throw new Error(`the app origin ${APP} does not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: env.BENCH_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const result = {
      command: env.BENCH_COMMAND ?? "node bench/run.mjs",
      date: new Date().toISOString(),
      machine: machine(`Chromium ${browser.version()}`),
      settings: { sandbox: SANDBOX, app: APP, pairs: PAIRS, warmup: WARMUP, calls: CALLS, chromiumArgs: CHROMIUM_ARGS },
      size,
    };
    result.launch = await launchPairs(browser);
    result.pkceCheck = await checkPkce();
    result.steady = await steadyState(browser);
    result.durationSeconds = Math.round((Date.now() - started) / 1000);
    const text = table(result);
    result.table = text;
    fs.writeFileSync(path.join(ROOT, "bench/results.json"), JSON.stringify(result, null, 2) + "\n");
    console.log(text);
    console.log(`\n(bench/results.json written; ${result.durationSeconds} s)`);
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(`bench: ${error.stack ?? error}`);
  process.exit(1);
});
