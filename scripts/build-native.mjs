#!/usr/bin/env node
// `npm install` step: builds the native addons (native/, node-addon-api: shared memory, the tile
// interpreter, GEMM) with node-gyp against the Node headers on this machine (nodedir from .npmrc /
// npm_config_nodedir, else /usr when /usr/include/node/node.h exists), never downloading headers. It never
// fails the install: without a compiler, on another OS, or with TESSERA_NO_NATIVE=1, it says so and each
// addon's loader falls back (src/transport/shm-addon.ts: WebSockets; src/kernels/native.ts: the wasm
// kernels; src/kernels/native-gemm.ts: the wasm GEMM kernel).
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const native = join(root, "native");
const say = (line) => process.stderr.write(`tessera: ${line}\n`);
const fallback = (why) => {
  say(`native addons not built (${why}): ranks on one host will talk over WebSockets, programs and matmul run on the wasm kernels`);
  process.exit(0);
};

if (process.env.TESSERA_NO_NATIVE === "1") fallback("TESSERA_NO_NATIVE=1");
if (process.platform !== "linux") fallback(`platform ${process.platform}: the addons are built for Linux (futexes, x86-64 kernels)`);

function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(join(root, "package.json")).resolve("node-gyp/bin/node-gyp.js"));
  } catch {}
  // npm's own copy, beside the node binary (/usr/bin/node -> /usr/lib/node_modules/npm/...)
  candidates.push(join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
  return candidates.find((p) => p && existsSync(p));
}

const gyp = findNodeGyp();
if (!gyp) fallback("node-gyp not found");
let nodedir = process.env.npm_config_nodedir;
if (!nodedir && existsSync("/usr/include/node/node.h")) nodedir = "/usr";
if (!nodedir) fallback("no Node headers on this machine (set nodedir in .npmrc); node-gyp would download them");
// configure once, then build each addon on its own: one that fails to compile (an old compiler without
// AVX-512 flags, say) leaves the others built, and what it would have done falls back on its own
const env = { ...process.env, npm_config_nodedir: nodedir };
const tailOf = (r) => `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-6).join("\n  ");
const configure = spawnSync(process.execPath, [gyp, "configure", `--nodedir=${nodedir}`], { cwd: native, encoding: "utf8", env });
if (configure.status !== 0) fallback(`node-gyp configure failed${configure.error ? `: ${configure.error.message}` : ""}\n  ${tailOf(configure)}`);
const ADDONS = [
  // [target, built, not built]
  ["tessera_shm", "shared-memory addon built: ranks on one host talk through shared memory", "shared-memory addon not built: ranks on one host will talk over WebSockets"],
  ["tessera_kernels", "native kernels built: programs run natively (AVX-512 / AVX2 / SSE2), TESSERA_KERNELS=wasm for the wasm kernels", "native kernels not built: programs run on the wasm kernels"],
  ["tessera_gemm", "GEMM addon built: matmul uses OpenBLAS where it is installed, else the native canonical kernel", "GEMM addon not built: matmul runs on the wasm GEMM kernel"],
  ["tessera_codecs", "zstd reader built: zstd chunks decode with the system's libzstd", "zstd reader not built: zstd chunks decode with the wasm decoder"],
];
const jobs = String(Math.max(1, Math.min(4, availableParallelism())));
for (const [target, built, missing] of ADDONS) {
  const node = join(native, "build", "Release", `${target}.node`);
  rmSync(node, { force: true }); // never report a stale build as this one
  const r = spawnSync("make", ["-C", "build", "BUILDTYPE=Release", `-j${jobs}`, target], { cwd: native, encoding: "utf8", env });
  if (r.status === 0 && existsSync(node)) say(`${built} (native/build/Release/${target}.node)`);
  else say(`${missing} (${r.error ? r.error.message : `make ${target} failed`})${r.status !== 0 && !r.error ? `\n  ${tailOf(r)}` : ""}`);
}
